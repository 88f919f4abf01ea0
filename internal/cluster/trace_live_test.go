package cluster_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/meshdoctor/meshdoctor/internal/cli"
)

// TestTraceLive: trace reads the live cluster as analyze does (the
// examples are applied to it), and --kube traces the cluster with files
// applied: seed 003's plaintext DestinationRule fails with 503 UC live,
// and the fixed rule, overlaid, lets the request through.
func TestTraceLive(t *testing.T) {
	requireAPIServer(t)
	kc := adminKubeconfig(t)
	outcome := func(args ...string) (int, map[string]any) {
		t.Helper()
		code, out, errOut := runCLI(t, append([]string{"trace", "--kubeconfig", kc, "-o", "json"}, args...)...)
		var res struct {
			Outcome map[string]any `json:"outcome"`
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("exit %d, stderr %q: %v", code, errOut, err)
		}
		return code, res.Outcome
	}
	code, o := outcome("--from", "workload:default/frontend", "--url", "http://httpbin:8000/")
	if code != cli.ExitFindings || o["status"] != float64(503) || o["flag"] != "UC" || o["rule"] != "mtls-mode-conflict" {
		t.Errorf("live: exit %d, outcome %v", code, o)
	}
	fixed := filepath.Join(t.TempDir(), "dr.yaml")
	if err := os.WriteFile(fixed, []byte(`apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: httpbin, namespace: default}
spec:
  host: httpbin.default.svc.cluster.local
  trafficPolicy:
    tls: {mode: ISTIO_MUTUAL}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, o = outcome("--kube", fixed, "--from", "workload:default/frontend", "--url", "http://httpbin:8000/")
	if code != cli.ExitOK || o["success"] != true {
		t.Errorf("--kube with the fix: exit %d, outcome %v", code, o)
	}
	if code, _, errOut := runCLI(t, "trace", "--kubeconfig", kc, "--from", "workload:default/nothing", "--url", "http://httpbin:8000/"); code != cli.ExitUsage {
		t.Errorf("unknown workload: exit %d, %s", code, errOut)
	}
}

// TestPlanLive: plan --kube orders the files against the live cluster;
// seed 003's missing subset v3 is added by a DestinationRule step.
func TestPlanLive(t *testing.T) {
	requireAPIServer(t)
	kc := adminKubeconfig(t)
	desired := filepath.Join(t.TempDir(), "dr.yaml")
	if err := os.WriteFile(desired, []byte(`apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  trafficPolicy:
    tls: {mode: ISTIO_MUTUAL}
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v3, labels: {version: v3}}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "plan", "--kubeconfig", kc, "--kube", desired, "-o", "json")
	var p struct {
		Steps []struct {
			Action    string
			Resources []struct{ Kind, Namespace, Name string }
		}
	}
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("exit %d, stderr %q: %v", code, errOut, err)
	}
	if code != cli.ExitOK || len(p.Steps) != 1 || p.Steps[0].Resources[0].Kind != "DestinationRule" {
		t.Errorf("exit %d, steps %+v", code, p.Steps)
	}
}
