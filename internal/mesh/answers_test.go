package mesh

import (
	"fmt"
	"testing"

	istioapi "istio.io/api/networking/v1alpha3"
)

// deploy is a Deployment in ns with pod labels (flow YAML, e.g.
// `{app: web}`) and optional pod annotations.
func deploy(name, ns, labels, annotations string) string {
	s := fmt.Sprintf("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: %s, namespace: %s}\nspec:\n  selector: {matchLabels: %s}\n  template:\n    metadata:\n      labels: %s\n", name, ns, labels, labels)
	if annotations != "" {
		s += "      annotations: " + annotations + "\n"
	}
	return s + "    spec:\n      containers: [{name: app, image: example/app:1, ports: [{containerPort: 8080}]}]\n"
}

func namespace(name, labels string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata: {name: %s, labels: %s}\n", name, labels)
}

func workload(t *testing.T, m *Model, ns, name string) *Workload {
	t.Helper()
	for _, w := range m.WorkloadsIn(ns) {
		if w.Name == name {
			return w
		}
	}
	t.Fatalf("no workload %s/%s", ns, name)
	return nil
}

// The sidecar injector's webhooks and policy
// (manifests/charts/istio-control/istio-discovery/templates/mutatingwebhook.yaml,
// pkg/kube/inject/webhook.go injectRequired).
func TestInjection(t *testing.T) {
	m := buildYAML(t, Options{},
		namespace("on", "{istio-injection: enabled}"),
		namespace("off", "{istio-injection: disabled}"),
		namespace("rev", "{istio.io/rev: canary}"),
		namespace("plain", "{team: a}"),
		namespace("amb", "{istio.io/dataplane-mode: ambient}"),
		deploy("a", "on", "{app: a}", ""),
		deploy("optout", "on", "{app: b, sidecar.istio.io/inject: \"false\"}", ""),
		deploy("optout-anno", "on", "{app: c}", "{sidecar.istio.io/inject: \"false\"}"),
		deploy("optin", "off", "{app: d, sidecar.istio.io/inject: \"true\"}", ""),
		deploy("r", "rev", "{app: e}", ""),
		deploy("optin", "plain", "{app: f, sidecar.istio.io/inject: \"true\"}", ""),
		deploy("optin-anno", "plain", "{app: g}", "{sidecar.istio.io/inject: \"true\"}"),
		deploy("none", "plain", "{app: h}", ""),
		deploy("z", "amb", "{app: i}", ""),
		deploy("sys", "kube-system", "{app: j, sidecar.istio.io/inject: \"true\"}", ""),
		deploy("unknown", "elsewhere", "{app: k}", ""),
	)
	for _, tc := range []struct {
		ns, name string
		want     Dataplane
		rule     string
	}{
		{"on", "a", DataplaneSidecar, "namespace istio-injection=enabled injects"},
		{"on", "optout", DataplaneNone, "pod label sidecar.istio.io/inject=false always wins"},
		{"on", "optout-anno", DataplaneNone, "the deprecated annotation false is still honoured"},
		{"off", "optin", DataplaneNone, "istio-injection=disabled: no webhook matches, whatever the pod says"},
		{"rev", "r", DataplaneSidecar, "istio.io/rev on the namespace selects that revision's webhook"},
		{"plain", "optin", DataplaneSidecar, "pod label true in an unlabelled namespace (object selector webhook)"},
		{"plain", "optin-anno", DataplaneNone, "an annotation true matches no webhook selector (labels only)"},
		{"plain", "none", DataplaneNone, "nothing selects injection"},
		{"amb", "z", DataplaneAmbient, "ambient namespace: ztunnel, no sidecar"},
		{"kube-system", "sys", DataplaneNone, "never injected into kube-system"},
		{"elsewhere", "unknown", DataplaneUnknown, "namespace not in the input: cannot tell"},
	} {
		if got, why := m.Injection(workload(t, m, tc.ns, tc.name)); got != tc.want {
			t.Errorf("%s (%s/%s): Injection = %v (%s), want %v", tc.rule, tc.ns, tc.name, got, why, tc.want)
		}
	}
}

func peerAuth(name, ns, selector, mode, portLevel string) string {
	s := fmt.Sprintf("apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: %s, namespace: %s}\nspec:\n", name, ns)
	if selector != "" {
		s += "  selector: {matchLabels: " + selector + "}\n"
	}
	if mode != "" {
		s += "  mtls: {mode: " + mode + "}\n"
	}
	if portLevel != "" {
		s += "  portLevelMtls: " + portLevel + "\n"
	}
	return s
}

// PeerAuthentication precedence (pilot/pkg/security/authn/policy_applier.go,
// https://istio.io/latest/docs/reference/config/security/peer_authentication/):
// workload selector (its portLevelMtls first) > namespace > root namespace;
// UNSET inherits from the next level; PERMISSIVE when nothing is set.
func TestEffectiveMTLS(t *testing.T) {
	base := []string{
		namespace("shop", "{istio-injection: enabled}"),
		deploy("web", "shop", "{app: web}", ""),
	}
	for _, tc := range []struct {
		rule string
		pas  []string
		port uint32
		want MTLSMode
	}{
		{"nothing set: PERMISSIVE", nil, 8080, ModePermissive},
		{"the mesh-wide policy in the root namespace", []string{peerAuth("default", "istio-system", "", "STRICT", "")}, 8080, ModeStrict},
		{"a namespace policy overrides the mesh's", []string{peerAuth("default", "istio-system", "", "STRICT", ""), peerAuth("ns", "shop", "", "PERMISSIVE", "")}, 8080, ModePermissive},
		{"a workload policy overrides the namespace's", []string{peerAuth("ns", "shop", "", "STRICT", ""), peerAuth("web", "shop", "{app: web}", "DISABLE", "")}, 8080, ModeDisable},
		{"portLevelMtls for the port wins", []string{peerAuth("web", "shop", "{app: web}", "STRICT", "{8080: {mode: PERMISSIVE}}")}, 8080, ModePermissive},
		{"portLevelMtls for another port does not apply", []string{peerAuth("web", "shop", "{app: web}", "STRICT", "{9090: {mode: PERMISSIVE}}")}, 8080, ModeStrict},
		{"UNSET inherits from the namespace", []string{peerAuth("ns", "shop", "", "STRICT", ""), peerAuth("web", "shop", "{app: web}", "UNSET", "")}, 8080, ModeStrict},
		{"a root-namespace policy with a selector is not mesh-wide", []string{peerAuth("sel", "istio-system", "{app: web}", "STRICT", "")}, 8080, ModePermissive},
		{"a selector policy in another namespace does not apply", []string{peerAuth("web", "other", "{app: web}", "STRICT", "")}, 8080, ModePermissive},
	} {
		m := buildYAML(t, Options{}, append(append([]string{}, base...), tc.pas...)...)
		if got := m.EffectiveMTLS(workload(t, m, "shop", "web"), tc.port); got.Mode != tc.want {
			t.Errorf("%s: EffectiveMTLS = %s, want %s", tc.rule, got.Mode, tc.want)
		}
	}
}

// Client TLS precedence within the DestinationRule that applies
// (https://istio.io/latest/docs/reference/config/networking/destination-rule/#TrafficPolicy):
// subset port-level, subset, top-level port-level, top-level; none set:
// auto mTLS decides.
func TestClientTLSFor(t *testing.T) {
	const host = "reviews.prod.svc.cluster.local"
	rule := `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: prod}
spec:
  host: reviews
  trafficPolicy:
    tls: {mode: ISTIO_MUTUAL}
    portLevelSettings:
    - port: {number: 9443}
      tls: {mode: SIMPLE}
  subsets:
  - name: v1
    labels: {version: v1}
    trafficPolicy:
      tls: {mode: DISABLE}
      portLevelSettings:
      - port: {number: 9080}
        tls: {mode: MUTUAL}
  - name: v2
    labels: {version: v2}
`
	m := buildYAML(t, Options{}, rule)
	drs := m.DestinationRuleFor("prod", host)
	for _, tc := range []struct {
		rule   string
		port   uint32
		subset string
		want   istioapi.ClientTLSSettings_TLSmode
	}{
		{"subset port-level first", 9080, "v1", istioapi.ClientTLSSettings_MUTUAL},
		{"then the subset's tls", 9443, "v1", istioapi.ClientTLSSettings_DISABLE},
		{"a subset without a policy: top-level port-level", 9443, "v2", istioapi.ClientTLSSettings_SIMPLE},
		{"then top-level tls", 9080, "v2", istioapi.ClientTLSSettings_ISTIO_MUTUAL},
		{"no subset: top-level", 9080, "", istioapi.ClientTLSSettings_ISTIO_MUTUAL},
	} {
		if got := m.ClientTLSFor(drs, tc.port, tc.subset); got.Mode != tc.want || got.Auto {
			t.Errorf("%s: ClientTLSFor(%d, %q) = %v (auto %v), want %v", tc.rule, tc.port, tc.subset, got.Mode, got.Auto, tc.want)
		}
	}
	if got := m.ClientTLSFor(nil, 9080, ""); !got.Auto || got.Rule != nil {
		t.Errorf("no DestinationRule: auto mTLS decides, got %+v", got)
	}
}

// VirtualService visibility: exportTo, else the mesh config's
// defaultVirtualServiceExportTo, else every namespace (Istio's default);
// without the mesh config in the input only the own namespace is certain.
func TestVirtualServiceVisibility(t *testing.T) {
	vs := func(name, exportTo string) string {
		s := "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: " + name + ", namespace: shop}\nspec:\n  hosts: [web]\n"
		if exportTo != "" {
			s += "  exportTo: " + exportTo + "\n"
		}
		return s + "  http:\n  - route:\n    - destination: {host: web}\n"
	}
	m := buildYAML(t, Options{}, vs("dot", `["."]`), vs("named", `[".", "web"]`), vs("all", `["*"]`), vs("none", ""))
	byName := map[string]*VirtualService{}
	for _, v := range m.VirtualServices {
		byName[v.Name] = v
	}
	if set, all, _ := m.VirtualServiceVisibility(byName["dot"]); all || len(set) != 1 || !set["shop"] {
		t.Errorf(`exportTo ["."]: own namespace only, got %v %v`, set, all)
	}
	if set, all, _ := m.VirtualServiceVisibility(byName["named"]); all || !set["shop"] || !set["web"] || len(set) != 2 {
		t.Errorf(`exportTo [".", "web"]: got %v %v`, set, all)
	}
	if _, all, _ := m.VirtualServiceVisibility(byName["all"]); !all {
		t.Error(`exportTo ["*"]: every namespace`)
	}
	if set, all, assumed := m.VirtualServiceVisibility(byName["none"]); all || !assumed || !set["shop"] {
		t.Errorf("no exportTo, no mesh config: own namespace, assumed; got %v %v %v", set, all, assumed)
	}
	m = buildYAML(t, Options{MeshConfig: []byte("defaultVirtualServiceExportTo: [\"*\"]\n")}, vs("none", ""))
	if _, all, assumed := m.VirtualServiceVisibility(m.VirtualServices[0]); !all || assumed {
		t.Error("no exportTo under a mesh default of *: every namespace")
	}
}
