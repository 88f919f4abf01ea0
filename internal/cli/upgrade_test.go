package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

const example000 = "../../examples/000-auto-sni-upgrade"

func TestUpgradeAutoSNISeed(t *testing.T) {
	code, out, errb := run(t, "", nil, "upgrade", "--to", "1.22.2", "--istio-version", "1.20.6", example000)
	if code != ExitFindings {
		t.Fatalf("exit %d, want %d\n%s%s", code, ExitFindings, out, errb)
	}
	for _, want := range []string{
		"Upgrade: Istio 1.20.6 → 1.22.2",
		"✗ 1.21 auto-sni",
		"mdm.yaml:58  (DestinationRule/mdmnext-qa-upgr1/datastore-service)",
		"sends SNI qa-pod1-mdm.upgrade.infaqa.com",
		"✓ 1.22 resolution-none-target-port", // the whole crossing, affected or not
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "1.24") && strings.Contains(out, "inbound-retry-policy") {
		t.Errorf("a 1.24 change listed on an upgrade to 1.22:\n%s", out)
	}
}

func TestUpgradeOnlyAffectedJSON(t *testing.T) {
	code, out, errb := run(t, "", nil, "upgrade", "--to", "1.22.2", "--istio-version", "1.20.6", "--only-affected", "-o", "json", example000)
	if code != ExitFindings {
		t.Fatalf("exit %d: %s", code, errb)
	}
	var doc struct {
		From, To string
		Changes  []struct {
			Change struct {
				ID, Release, Fix string
				Sources          []string
			}
			Affected  bool
			Resources []struct {
				Resource struct{ Kind, Namespace, Name string }
				Origin   struct {
					File string
					Line int
				}
				Detail string
			}
		}
		Summary struct{ Crossed, Affected int }
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if doc.From != "1.20.6" || doc.To != "1.22.2" || doc.Summary.Affected != 1 || doc.Summary.Crossed < 2 || len(doc.Changes) != 1 {
		t.Fatalf("unexpected report: %+v", doc)
	}
	c := doc.Changes[0]
	if c.Change.ID != "auto-sni" || !c.Affected || c.Change.Fix == "" || len(c.Change.Sources) == 0 || len(c.Resources) != 1 {
		t.Fatalf("unexpected change: %+v", c)
	}
	r := c.Resources[0]
	if r.Resource.Kind != "DestinationRule" || r.Resource.Namespace != "mdmnext-qa-upgr1" || r.Resource.Name != "datastore-service" || r.Origin.Line != 58 || !strings.HasSuffix(r.Origin.File, "mdm.yaml") {
		t.Errorf("unexpected resource: %+v", r)
	}
}

func TestUpgradeExitCodes(t *testing.T) {
	const dr = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: backend, namespace: shop}
spec:
  host: backend.shop.svc.cluster.local
  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}
`
	for _, tc := range []struct {
		stdin string
		args  []string
		code  int
		want  string // in stdout (exit 0/1) or stderr (exit 2)
	}{
		{dr, []string{"--to", "1.22.0", "--istio-version", "1.20.1", "-"}, ExitOK, "0 affect this configuration"},
		{dr, []string{"--to", "1.22.0", "--istio-version", "1.20.1", "--only-affected", "-"}, ExitOK, "behaviour changes crossed"},
		{dr, []string{"--to", "1.20.0", "--istio-version", "1.22.2", "-"}, ExitUsage, "older than the current Istio 1.22.2"},
		{dr, []string{"--to", "latest", "--istio-version", "1.22.2", "-"}, ExitUsage, "is not a version"},
		{dr, []string{"--istio-version", "1.22.2", "-"}, ExitUsage, "--to is required"},
		{dr, []string{"--to", "1.24.0", "-"}, ExitUsage, "set --istio-version"},
		{dr, []string{"--to", "1.24.0", "--istio-version", "x", "-"}, ExitUsage, "--istio-version"},
		{dr, []string{"--to", "1.24.0", "--istio-version", "1.22.2", "-o", "xml", "-"}, ExitUsage, "unknown output format"},
		{dr, []string{"--to", "1.40.0", "--istio-version", "1.31.0", "-"}, ExitOK, "knows changes up to Istio 1.31"},
		{"", []string{"--to", "1.24.0", "--istio-version", "1.22.2", "-"}, ExitUsage, "no Kubernetes objects"},
	} {
		args := append([]string{"upgrade"}, tc.args...)
		code, out, errb := run(t, tc.stdin, map[string]string{"NO_COLOR": "1"}, args...)
		text := out
		if tc.code == ExitUsage {
			text = errb
		}
		if code != tc.code || !strings.Contains(text, tc.want) {
			t.Errorf("%v: exit %d (want %d), output lacks %q:\n%s%s", tc.args, code, tc.code, tc.want, out, errb)
		}
		if tc.code == ExitOK && strings.Contains(out, "✗") {
			t.Errorf("%v: exit 0 with an affected change:\n%s", tc.args, out)
		}
	}
}

// From a release that already has a change, with its opt-out set, the
// upgrade that removes the opt-out reports it.
func TestUpgradeOptOutRemoved(t *testing.T) {
	const in = `apiVersion: apps/v1
kind: Deployment
metadata: {name: istiod, namespace: istio-system}
spec:
  selector: {matchLabels: {app: istiod}}
  template:
    metadata: {labels: {app: istiod}}
    spec:
      containers:
      - name: discovery
        image: docker.io/istio/pilot:1.22.3
        env: [{name: VERIFY_CERTIFICATE_AT_CLIENT, value: "false"}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: backend, namespace: shop}
spec:
  host: backend.shop.svc.cluster.local
  trafficPolicy: {tls: {mode: SIMPLE}}
`
	code, out, errb := run(t, in, nil, "upgrade", "--to", "1.23.0", "-")
	if code != ExitOK || strings.Contains(out, "verify-certificate-at-client") {
		t.Errorf("1.22 to 1.23 crosses neither the change nor its removal: exit %d\n%s%s", code, out, errb)
	}
	code, out, errb = run(t, in, nil, "upgrade", "--to", "1.24.0", "--only-affected", "-")
	for _, want := range []string{"✗ 1.21 verify-certificate-at-client", "crossed:   the opt-out's removal in 1.24", "<stdin>"} {
		if code != ExitFindings || !strings.Contains(out, want) {
			t.Errorf("exit %d, output lacks %q:\n%s%s", code, want, out, errb)
		}
	}
}

// analyze --upgrade-to reports the catalog's changes that affect the
// configuration (upgrade-behaviour-change), except those an analyze rule
// already explains (auto SNI: auto-sni-san-mismatch).
func TestAnalyzeUpgradeToCatalog(t *testing.T) {
	code, out, errb := run(t, "", nil, "analyze", "--upgrade-to", "1.25.0", "--only-new", "-o", "json", "../../examples/000-auto-sni-upgrade")
	var res struct {
		Findings []struct{ Rule, Severity, Message string }
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("exit %d %s: %v", code, errb, err)
	}
	found := false
	for _, f := range res.Findings {
		if f.Rule != "upgrade-behaviour-change" {
			continue
		}
		if strings.Contains(f.Message, "ENABLE_AUTO_SNI") || strings.Contains(f.Message, "VERIFY_CERTIFICATE_AT_CLIENT") {
			t.Errorf("auto SNI is auto-sni-san-mismatch's to report: %s", f.Message)
		}
		if strings.Contains(f.Message, "EXCLUDE_UNSAFE_503_FROM_DEFAULT_RETRY") {
			found = true
			if f.Severity != "info" {
				t.Errorf("a retry no longer hiding 503s is info: %s", f.Severity)
			}
		}
	}
	if !found {
		t.Errorf("1.22 → 1.25 crosses 1.24's 503 retry change on the gateway route:\n%s", out)
	}
}

// TestUpgradeRevision: --revision adds the canary report (JSON canary)
// with the namespaces of the input's injector labels and the proxies left
// outside the supported skew (exit 1); a revision the input lacks moves
// nothing.
func TestUpgradeRevision(t *testing.T) {
	dir := "../../testdata/upgrade/canary"
	code, out, errb := run(t, "", nil, "upgrade", "--to", "1.24.2", "--revision", "1-24", "-o", "json", dir)
	if code != ExitFindings {
		t.Fatalf("exit %d, stderr %q", code, errb)
	}
	var rep struct {
		Canary *struct {
			Revision    string
			Unsupported int
			Namespaces  []struct {
				Namespace string
				Moves     bool
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Canary == nil {
		t.Fatalf("no canary report: %v\n%s", err, out)
	}
	if rep.Canary.Revision != "1-24" || rep.Canary.Unsupported != 1 || len(rep.Canary.Namespaces) != 5 {
		t.Errorf("canary: %+v", rep.Canary)
	}
	// Without --revision there is no canary section.
	_, out, _ = run(t, "", nil, "upgrade", "--to", "1.24.2", "-o", "json", dir)
	if strings.Contains(out, `"canary"`) {
		t.Errorf("canary report without --revision")
	}
	// A revision the input does not have: nothing moves, and the text
	// says to install it.
	_, out, _ = run(t, "", nil, "upgrade", "--to", "1.24.2", "--revision", "1-26", dir)
	if !strings.Contains(out, "Canary: revision 1-26") || !strings.Contains(out, "revision 1-26 is not in the input") || strings.Contains(out, "Namespaces that move") {
		t.Errorf("absent revision:\n%s", out)
	}
}

// TestUpgradeKubeVersion: --kube-version below what --to supports is
// exit 1 with the range; inside it is reported as supported; a bad value
// is exit 2.
func TestUpgradeKubeVersion(t *testing.T) {
	code, out, _ := run(t, "", nil, "upgrade", "--to", "1.22.2", "--istio-version", "1.22.1", "--kube-version", "1.26", example000)
	if code != ExitFindings || !strings.Contains(out, "Istio 1.22 supports Kubernetes 1.27 to 1.30") {
		t.Errorf("exit %d\n%s", code, out)
	}
	code, out, _ = run(t, "", nil, "upgrade", "--to", "1.22.2", "--istio-version", "1.22.1", "--kube-version", "v1.29.4-gke.100", example000)
	if code != ExitOK || !strings.Contains(out, "✓ Kubernetes 1.29 (--kube-version) is supported") {
		t.Errorf("exit %d\n%s", code, out)
	}
	if code, _, _ := run(t, "", nil, "upgrade", "--to", "1.22.2", "--kube-version", "latest", example000); code != ExitUsage {
		t.Errorf("--kube-version latest: exit %d, want %d", code, ExitUsage)
	}
}
