package mesh

import (
	"strings"
	"testing"

	istioapi "istio.io/api/networking/v1alpha3"
)

// Envoy's safe_regex matches the whole value, Istio's prefix and exact
// matches are literal (pilot/pkg/networking/core/route: StringMatch to
// Envoy's StringMatcher).
func TestStringMatches(t *testing.T) {
	exact := &istioapi.StringMatch{MatchType: &istioapi.StringMatch_Exact{Exact: "/a"}}
	prefix := &istioapi.StringMatch{MatchType: &istioapi.StringMatch_Prefix{Prefix: "/a"}}
	regex := &istioapi.StringMatch{MatchType: &istioapi.StringMatch_Regex{Regex: "/a.*"}}
	for _, tc := range []struct {
		sm   *istioapi.StringMatch
		v    string
		want bool
	}{
		{exact, "/a", true}, {exact, "/ab", false},
		{prefix, "/ab", true}, {prefix, "/b", false},
		{regex, "/abc", true}, {regex, "x/abc", false}, // anchored at both ends
	} {
		if got := StringMatches(tc.sm, tc.v); got != tc.want {
			t.Errorf("%v on %q: %v", tc.sm, tc.v, got)
		}
	}
}

// A pod's resolver (ndots:5, search <ns>.svc.cluster.local svc.cluster.local
// cluster.local) expands short names before trying them as written.
func TestResolveClientHost(t *testing.T) {
	m := buildYAML(t, Options{}, `apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec: {ports: [{port: 80}]}`)
	for in, want := range map[string]string{
		"api":                        "api.shop.svc.cluster.local",
		"api.shop":                   "api.shop.svc.cluster.local",
		"api.shop.svc":               "api.shop.svc.cluster.local",
		"api.shop.svc.cluster.local": "api.shop.svc.cluster.local",
		"example.com":                "example.com",                        // a public name, no namespace "com"
		"reviews.bookinfo":           "reviews.bookinfo.svc.cluster.local", // service.namespace, even if not in the input
		"httpbin.org":                "httpbin.org",
	} {
		if got := m.ResolveClientHost(in, "shop"); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}

// Istio's cluster names: model.BuildSubsetKey(TrafficDirectionOutbound,
// subset, host, port).
func TestClusterName(t *testing.T) {
	if got := ClusterName(9080, "v1", "reviews.default.svc.cluster.local"); got != "outbound|9080|v1|reviews.default.svc.cluster.local" {
		t.Error(got)
	}
	if got := ClusterName(80, "", "httpbin.org"); got != "outbound|80||httpbin.org" {
		t.Error(got)
	}
}

// A workload's Sidecar: the one selecting it in its namespace, else its
// namespace's without selector, else the root namespace's.
// https://istio.io/latest/docs/reference/config/networking/sidecar/
func TestSidecarFor(t *testing.T) {
	sc := func(name, ns, sel string) string {
		s := "apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: " + name + ", namespace: " + ns + "}\nspec:\n"
		if sel != "" {
			s += "  workloadSelector: {labels: {app: " + sel + "}}\n"
		}
		return s + "  egress: [{hosts: [\"./*\"]}]\n"
	}
	dep := func(name, ns string) string {
		return "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: " + name + ", namespace: " + ns + "}\nspec:\n  selector: {matchLabels: {app: " + name + "}}\n  template:\n    metadata: {labels: {app: " + name + "}}\n    spec: {containers: [{name: c, image: x}]}\n"
	}
	m := buildYAML(t, Options{}, sc("root", "istio-system", ""), sc("ns", "shop", ""), sc("pay", "shop", "payments"),
		dep("payments", "shop"), dep("cart", "shop"), dep("batch", "jobs"))
	for name, want := range map[string]string{"shop/payments": "pay", "shop/cart": "ns", "jobs/batch": "root"} {
		ns, n, _ := strings.Cut(name, "/")
		got := m.SidecarFor(m.findWorkload(ns, n, false))
		if got == nil || got.Name != want {
			t.Errorf("%s: %v, want %s", name, got, want)
		}
	}
}

// From Istio 1.21 a DestinationRule without sni sends the request's Host
// as SNI and, without subjectAltNames, verifies the certificate against it;
// before, no SNI (1.21 upgrade notes: ENABLE_AUTO_SNI,
// VERIFY_CERTIFICATE_AT_CLIENT).
func TestOrigination(t *testing.T) {
	tls := &istioapi.ClientTLSSettings{Mode: istioapi.ClientTLSSettings_SIMPLE}
	for version, want := range map[string]OriginatedTLS{
		"1.20.6": {},
		"1.22.2": {SNI: "shop.example.com", AutoSNI: true, AutoSAN: true, Foreign: true},
	} {
		m := buildYAML(t, Options{IstioVersion: VersionOf(version)}, "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}")
		o := m.Origination(tls, "shop.example.com:443", "shop", "api.shop.svc.cluster.local", true)
		if o.SNI != want.SNI || o.AutoSNI != want.AutoSNI || o.AutoSAN != want.AutoSAN || o.Foreign != want.Foreign {
			t.Errorf("%s: %+v", version, o)
		}
	}
	m := buildYAML(t, Options{IstioVersion: VersionOf("1.22.2")}, "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}")
	withSNI := &istioapi.ClientTLSSettings{Mode: istioapi.ClientTLSSettings_SIMPLE, Sni: "api.shop.svc.cluster.local"}
	if o := m.Origination(withSNI, "shop.example.com", "shop", "api.shop.svc.cluster.local", true); o.AutoSNI || o.Foreign || o.SNI != withSNI.Sni {
		t.Errorf("explicit sni: %+v", o)
	}
	withSAN := &istioapi.ClientTLSSettings{Mode: istioapi.ClientTLSSettings_SIMPLE, SubjectAltNames: []string{"api.shop.svc.cluster.local"}}
	if o := m.Origination(withSAN, "shop.example.com", "shop", "api.shop.svc.cluster.local", true); !o.AutoSNI || o.AutoSAN {
		t.Errorf("subjectAltNames: auto SNI stays, auto SAN does not: %+v", o)
	}
	if o := m.Origination(tls, "api", "shop", "api.shop.svc.cluster.local", true); o.Foreign {
		t.Errorf("a short Host naming the destination is not foreign: %+v", o)
	}
}

// Server acceptance (auto mTLS, PeerAuthentication modes, no sidecar):
// https://istio.io/latest/docs/concepts/security/#auto-mutual-tls and the
// 503 of https://istio.io/latest/docs/ops/common-problems/network-issues/#503-errors-after-setting-destination-rule
func TestTLSAcceptance(t *testing.T) {
	m := buildYAML(t, Options{}, "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {istio-injection: enabled}}",
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: shop}\nspec:\n  selector: {matchLabels: {app: api}}\n  template:\n    metadata: {labels: {app: api}}\n    spec: {containers: [{name: c, image: x, ports: [{containerPort: 8080}]}]}")
	w := m.findWorkload("shop", "api", false)
	sidecar := func(mode MTLSMode) Backend {
		return Backend{Workload: w, ContainerPort: 8080, Dataplane: DataplaneSidecar, MTLS: ServerMTLS{Mode: mode}}
	}
	none := Backend{Workload: w, ContainerPort: 8080, Dataplane: DataplaneNone, MTLS: ServerMTLS{Mode: ModePermissive}}
	set := func(mode istioapi.ClientTLSSettings_TLSmode) ClientTLS {
		return ClientTLS{Mode: mode, Settings: &istioapi.ClientTLSSettings{Mode: mode}}
	}
	for _, tc := range []struct {
		name string
		ct   ClientTLS
		b    Backend
		want TLSConflict
	}{
		{"auto mTLS adapts", ClientTLS{Auto: true}, sidecar(ModeStrict), TLSAccepted},
		{"plaintext to STRICT", set(istioapi.ClientTLSSettings_DISABLE), sidecar(ModeStrict), PlaintextToStrict},
		{"plaintext to PERMISSIVE", set(istioapi.ClientTLSSettings_DISABLE), sidecar(ModePermissive), TLSAccepted},
		{"no tls, auto mTLS off, to STRICT", ClientTLS{}, sidecar(ModeStrict), PlaintextToStrict},
		{"ISTIO_MUTUAL to no sidecar", set(istioapi.ClientTLSSettings_ISTIO_MUTUAL), none, MTLSToNoSidecar},
		{"ISTIO_MUTUAL to DISABLE", set(istioapi.ClientTLSSettings_ISTIO_MUTUAL), sidecar(ModeDisable), MTLSToDisable},
		{"SIMPLE to STRICT", set(istioapi.ClientTLSSettings_SIMPLE), sidecar(ModeStrict), TLSToStrict},
		{"SIMPLE to no sidecar", set(istioapi.ClientTLSSettings_SIMPLE), none, TLSAccepted},
	} {
		if got := m.TLSAcceptance(tc.ct, nil, tc.b); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// Sidecar egress hosts are namespace/dnsName: "*", "." (the Sidecar's
// namespace), "~" (none), and a listener with a port imports that port
// only.
func TestEgressAllows(t *testing.T) {
	sc := &Sidecar{Spec: &istioapi.Sidecar{Egress: []*istioapi.IstioEgressListener{
		{Hosts: []string{"./*"}},
		{Port: &istioapi.SidecarPort{Number: 3306}, Hosts: []string{"data/*.data.svc.cluster.local"}},
		{Hosts: []string{"*/*.example.com", "~/*"}},
	}}}
	sc.Object = buildYAML(t, Options{}, "apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: s, namespace: shop}\nspec: {}").Sidecars[0].Object
	for _, tc := range []struct {
		host, ns string
		port     uint32
		want     bool
	}{
		{"api.shop.svc.cluster.local", "shop", 80, true},
		{"api.other.svc.cluster.local", "other", 80, false},
		{"db.data.svc.cluster.local", "data", 3306, true},
		{"db.data.svc.cluster.local", "data", 80, false},
		{"www.example.com", "web", 443, true},
	} {
		if _, got := egressAllows(sc, tc.host, tc.ns, tc.port); got != tc.want {
			t.Errorf("%s (%s) port %d: %v", tc.host, tc.ns, tc.port, got)
		}
	}
}

// A subset may select by labels the pods get outside their template
// (security.istio.io/tlsMode from the injector, pod-template-hash from the
// ReplicaSet): no manifest shows them, so they are not evidence of an empty
// subset (trace and subset-selects-no-pods agree).
func TestSubsetMayInclude(t *testing.T) {
	w := &Workload{Labels: map[string]string{"app": "web", "version": "v1"}}
	zoned := &Workload{Labels: map[string]string{"app": "web", "topology.kubernetes.io/zone": ""}}
	if !SubsetMayInclude(map[string]string{"topology.kubernetes.io/zone": ""}, zoned) {
		t.Error("a pod labelled zone \"\" itself is in a subset asking for zone \"\"")
	}
	for _, tc := range []struct {
		labels map[string]string
		want   bool
	}{
		{map[string]string{"version": "v1"}, true},
		{map[string]string{"version": "v2"}, false},
		{map[string]string{"security.istio.io/tlsMode": "istio"}, true},
		{map[string]string{"pod-template-hash": "5d8f"}, true},
		// istiod gives endpoints their node's region only when it is not
		// empty (AugmentLabels): region "" is never added, so only the
		// template could carry it.
		{map[string]string{"topology.kubernetes.io/region": "us-west1"}, true},
		{map[string]string{"topology.kubernetes.io/region": ""}, false},
		{map[string]string{"topology.istio.io/network": "", "version": "v1"}, false},
	} {
		if got := SubsetMayInclude(tc.labels, w); got != tc.want {
			t.Errorf("%v: %v", tc.labels, got)
		}
	}
}
