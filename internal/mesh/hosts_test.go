package mesh

import (
	"fmt"
	"testing"
)

// exportTo limits where a Service's or ServiceEntry's hosts exist
// (PushContext.IsServiceVisible, pilot/pkg/model/push_context.go).
func TestLookupHostFrom(t *testing.T) {
	m := buildYAML(t, Options{},
		"apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: any, namespace: egress}\nspec:\n  hosts: [\"*\"]\n  exportTo: [\".\"]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  resolution: NONE\n",
		"apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: api, namespace: egress}\nspec:\n  hosts: [api.example.com]\n  exportTo: [shop]\n  ports: [{number: 443, name: tls, protocol: TLS}]\n  resolution: DNS\n",
		"apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: hidden, namespace: egress}\nspec:\n  hosts: [hidden.example.com]\n  exportTo: [\"~\"]\n  ports: [{number: 443, name: tls, protocol: TLS}]\n  resolution: DNS\n",
		"apiVersion: v1\nkind: Service\nmetadata:\n  name: ledger\n  namespace: finance\n  annotations: {networking.istio.io/exportTo: \"., billing\"}\nspec:\n  ports: [{port: 80}]\n",
		"apiVersion: v1\nkind: Service\nmetadata: {name: reviews, namespace: shop}\nspec:\n  ports: [{port: 80}]\n",
	)
	for _, tc := range []struct {
		client, host string
		want         bool
	}{
		{"egress", "anything.example.org", true},              // hosts ["*"] exported to "." exists in its namespace
		{"shop", "anything.example.org", false},               // ... and nowhere else
		{"shop", "api.example.com", true},                     // exported to shop by name
		{"web", "api.example.com", false},                     // not to web
		{"egress", "api.example.com", true},                   // the wildcard entry covers it in egress
		{"shop", "hidden.example.com", false},                 // "~": no namespace
		{"finance", "ledger.finance.svc.cluster.local", true}, // annotation ".": its own namespace
		{"billing", "ledger.finance.svc.cluster.local", true}, // and billing
		{"shop", "ledger.finance.svc.cluster.local", false},
		{"web", "reviews.shop.svc.cluster.local", true}, // no exportTo: every namespace
	} {
		if got := m.LookupHostFrom(tc.client, tc.host).Found(); got != tc.want {
			t.Errorf("LookupHostFrom(%q, %q).Found() = %v, want %v", tc.client, tc.host, got, tc.want)
		}
	}
	if !m.LookupHost("anything.example.org").Found() {
		t.Error("LookupHost answers for the whole input and must find the wildcard entry")
	}
	// The mesh config's defaultServiceExportTo applies when neither sets one.
	m = buildYAML(t, Options{MeshConfig: []byte("defaultServiceExportTo: [\".\"]\n")},
		"apiVersion: v1\nkind: Service\nmetadata: {name: reviews, namespace: shop}\nspec:\n  ports: [{port: 80}]\n")
	if m.LookupHostFrom("web", "reviews.shop.svc.cluster.local").Found() || !m.LookupHostFrom("shop", "reviews.shop.svc.cluster.local").Found() {
		t.Error("defaultServiceExportTo [.] must limit the Service to its own namespace")
	}
}

// Kinds are keyed by group and kind: a Gateway API Gateway is not an Istio
// Gateway, and an extensions/v1beta1 Ingress is analyzed as an Ingress.
func TestHasByGroupAndKind(t *testing.T) {
	m := buildYAML(t, Options{},
		"apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: shop}\nspec:\n  gatewayClassName: istio\n  listeners: [{name: http, port: 80, protocol: HTTP}]\n",
		"apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec:\n  ports: [{port: 80}]\n",
	)
	for kind, want := range map[string]bool{
		"Gateway":                     false,
		"Gateway.networking.istio.io": false,
		KubeGatewayKind:               true,
		"Service":                     true,
		"Service.example.com":         false,
		"VirtualService":              false,
	} {
		if got := m.Has(kind); got != want {
			t.Errorf("Has(%q) = %v, want %v", kind, got, want)
		}
	}
	if !m.HasAny("Gateway", "Service") || m.HasAny("Gateway", "Ingress") {
		t.Error("HasAny must be Has for any of the kinds")
	}
	if gk, _ := ParseKind("Gateway"); gk.String() != "Gateway" || (GroupKind{"gateway.networking.k8s.io", "Gateway"}).String() != KubeGatewayKind {
		t.Error("GroupKind.String must round-trip ParseKind")
	}
}

// Sidecar virtual hosts collide by equal host, wildcard patterns included
// (computeWildcardHostVirtualServiceIndex, pilot/pkg/model/sidecar.go): the
// lookup is by the host as written and resolved, never by pattern cover.
func TestVirtualServicesWithHost(t *testing.T) {
	m := buildYAML(t, Options{},
		"apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: all, namespace: shop}\nspec:\n  hosts: [\"*.example.com\"]\n  http: [{route: [{destination: {host: web}}]}]\n",
		"apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: api, namespace: shop}\nspec:\n  hosts: [api.example.com, reviews]\n  http: [{route: [{destination: {host: web}}]}]\n",
	)
	names := func(vss []*VirtualService) []string {
		var out []string
		for _, vs := range vss {
			out = append(out, vs.Name)
		}
		return out
	}
	for host, want := range map[string]string{
		"*.example.com":                  "[all]",
		"api.example.com":                "[api]", // not "all": its pattern covers the host but is another virtual host
		"reviews.shop.svc.cluster.local": "[api]", // the short name, resolved
		"reviews":                        "[]",
		"*.api.example.com":              "[]",
	} {
		if got := fmt.Sprint(names(m.VirtualServicesWithHost(host))); got != want {
			t.Errorf("VirtualServicesWithHost(%q) = %s, want %s", host, got, want)
		}
	}
}
