package cluster_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/meshdoctor/meshdoctor/internal/analysis"
	"github.com/meshdoctor/meshdoctor/internal/catalog"
	"github.com/meshdoctor/meshdoctor/internal/cluster"
	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
	"github.com/meshdoctor/meshdoctor/internal/rules"
	"github.com/meshdoctor/meshdoctor/internal/rules/traffic"
	"github.com/meshdoctor/meshdoctor/internal/rules/workload"
)

// testNamespaces are created by the tests below; the examples comparison
// leaves them out.
const testPrefix = "mdtest-"

// liveOnly are rules that need live state (status, pods, endpoints) a
// manifest does not carry, and the built-ins that depend on the source.
var liveOnly = map[string]bool{
	workload.SidecarMissing.Name:         true,
	workload.ProxyVersionSkew.Name:       true,
	traffic.PodsNotReadyBehindRoute.Name: true,
	rules.PartialAccess.Name:             true,
	// Unknown-field warnings come from the file's text; the API server
	// prunes such fields before storing.
	rules.InvalidManifest.Name: true,
}

func keys(fs []finding.Finding, skipTestNS bool) []string {
	var out []string
	for _, f := range fs {
		if liveOnly[f.Rule] || skipTestNS && strings.HasPrefix(f.Resource.Namespace, testPrefix) {
			continue
		}
		out = append(out, fmt.Sprintf("%s %s: %s", f.Rule, f.Resource, f.Message))
	}
	sort.Strings(out)
	return out
}

func loadCluster(t testing.TB, opts cluster.Options) *cluster.Result {
	t.Helper()
	res, err := cluster.Load(testCtx, cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func analyze(loaded *manifest.Result, denied []cluster.Denied) *analysis.Result {
	opts := analysis.Options{Rules: catalog.All()}
	for _, d := range denied {
		opts.Denied = append(opts.Denied, analysis.Denied{Group: d.Group, Kind: d.Kind, Resource: d.Resource, Namespace: d.Namespace, Verb: d.Verb, Reason: d.Reason})
	}
	return analysis.Run(loaded, opts)
}

// TestExamplesFromCluster: the examples applied to a real API server give
// exactly the findings the same files give.
func TestExamplesFromCluster(t *testing.T) {
	requireAPIServer(t)
	files, err := manifest.Load([]string{examplesDir}, manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := keys(analyze(files, nil).Findings, false)
	if len(want) == 0 {
		t.Fatal("the examples should have findings")
	}
	live := loadCluster(t, cluster.Options{Secrets: true})
	if len(live.Denied) > 0 {
		t.Fatalf("admin was denied: %+v", live.Denied)
	}
	res := analyze(live.Result, nil)
	got := keys(res.Findings, true)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("cluster findings differ from file findings\n--- files\n%s\n--- cluster\n%s", strings.Join(want, "\n"), strings.Join(got, "\n"))
	}
	for _, f := range res.Findings {
		if !strings.HasPrefix(f.Origin.File, manifest.ClusterOriginPrefix) || f.Origin.Line != 0 {
			t.Errorf("%s: a cluster finding must name the resource, not a line: %v", f.Rule, f.Origin)
		}
	}
}

// TestNamespaceScope: -n reads one namespace, plus istiod from the root
// namespace (the Istio version decides findings there).
func TestNamespaceScope(t *testing.T) {
	requireAPIServer(t)
	live := loadCluster(t, cluster.Options{Namespace: "mdmnext-qa-upgr1", Secrets: true})
	sawIstiod := false
	for _, o := range live.Objects {
		switch {
		case o.Namespace == "istio-system" && o.Kind == "Deployment":
			sawIstiod = true
		case o.Namespace != "" && o.Namespace != "mdmnext-qa-upgr1" && o.Namespace != "istio-system":
			t.Errorf("object outside the namespace: %s", o.Ref())
		case o.Kind == "Namespace" && o.Name != "mdmnext-qa-upgr1":
			t.Errorf("only the asked namespace is read: %s", o.Ref())
		}
		if o.Namespace == "istio-system" && o.Kind == "ConfigMap" && !strings.HasPrefix(o.Name, "istio") {
			t.Errorf("only istio ConfigMaps are read from the root namespace: %s", o.Ref())
		}
	}
	if !sawIstiod {
		t.Error("istiod should be read from istio-system")
	}
	// Reading one namespace is partial input: it may miss findings that
	// need other namespaces (the gateway in istio-system), but must not
	// add any the whole cluster does not have.
	full := map[string]bool{}
	for _, k := range keys(analyze(loadCluster(t, cluster.Options{Secrets: true}).Result, nil).Findings, true) {
		full[k] = true
	}
	for _, k := range keys(analyze(live.Result, nil).Findings, true) {
		if !full[k] {
			t.Errorf("reading one namespace added a finding: %s", k)
		}
	}
}
