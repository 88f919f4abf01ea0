package cluster_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshdoctor/meshdoctor/internal/analysis"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
	"github.com/meshdoctor/meshdoctor/internal/rules"
	"github.com/meshdoctor/meshdoctor/internal/rules/workload"
)

// TestPortProtocolAgreesWithAPIServer: the real API server rejects exactly
// the Services and workloads of port-protocol-unsupported's testdata that
// the rule reports (server-side dry run), with the "Unsupported value" the
// rule's message quotes.
func TestPortProtocolAgreesWithAPIServer(t *testing.T) {
	requireAPIServer(t)
	const ns = testPrefix + "protocol"
	apply(t, k8sClient, "apiVersion: v1\nkind: Namespace\nmetadata: {name: "+ns+"}\n")
	files, _ := filepath.Glob(filepath.Join(repoRoot, "testdata", "rules", workload.PortProtocolUnsupported.Name, "*.yaml"))
	checked, rejected := 0, 0
	for _, file := range files {
		loaded, err := manifest.Load([]string{file}, manifest.Options{})
		if err != nil {
			t.Fatal(err)
		}
		reported := map[string]bool{} // Kind/name
		for _, f := range analysis.Run(loaded, analysis.Options{Rules: []*rules.Rule{workload.PortProtocolUnsupported}}).Findings {
			if f.Rule == workload.PortProtocolUnsupported.Name {
				reported[f.Resource.Kind+"/"+f.Resource.Name] = true
			}
		}
		text, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		objs, err := splitYAML(text)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			if strings.Contains(o.GetAPIVersion(), "istio.io") || o.GetKind() == "Namespace" {
				continue // not validated by the Kubernetes API server
			}
			o.SetNamespace(ns)
			key := o.GetKind() + "/" + o.GetName()
			err := k8sClient.Create(testCtx, o, client.DryRunAll)
			switch {
			case reported[key] && err == nil:
				t.Errorf("%s: %s is reported, but the API server accepts it", filepath.Base(file), key)
			case reported[key] && !strings.Contains(err.Error(), "Unsupported value"):
				t.Errorf("%s: %s is reported, but the API server rejects it for another reason: %v", filepath.Base(file), key, err)
			case !reported[key] && err != nil:
				t.Errorf("%s: %s is not reported, but the API server rejects it: %v", filepath.Base(file), key, err)
			}
			if err != nil {
				t.Logf("%s: %v", key, err)
				rejected++
			}
			checked++
		}
	}
	if checked < 5 || rejected == 0 {
		t.Errorf("only %d objects dry-run, %d rejected: the testdata lost its cases", checked, rejected)
	}
}
