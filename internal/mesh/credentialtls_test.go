package mesh

import (
	"strings"
	"testing"
)

// Sidecars build no TLS for SIMPLE/MUTUAL settings with a credentialName
// unless the DestinationRule has a workloadSelector
// (buildUpstreamClusterTLSContext, pilot/pkg/networking/core/cluster_tls.go).
func TestSidecarDropsTLS(t *testing.T) {
	dr := func(selector, tls string) string {
		s := "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: api, namespace: shop}\nspec:\n  host: api.example.com\n"
		if selector != "" {
			s += "  workloadSelector: {matchLabels: {app: " + selector + "}}\n"
		}
		return s + "  trafficPolicy:\n    tls: " + tls + "\n"
	}
	for _, tc := range []struct {
		name, selector, tls string
		want                bool
	}{
		{"mutual with a Secret", "", "{mode: MUTUAL, credentialName: api-client}", true},
		{"simple with a Secret", "", "{mode: SIMPLE, credentialName: api-ca}", true},
		{"with a workloadSelector", "web", "{mode: MUTUAL, credentialName: api-client}", false},
		{"a ConfigMap CA", "", "{mode: SIMPLE, credentialName: \"configmap://api-ca\"}", false},
		{"file paths", "", "{mode: MUTUAL, clientCertificate: /etc/c.pem, privateKey: /etc/k.pem}", false},
		{"Istio mTLS", "", "{mode: ISTIO_MUTUAL, credentialName: api-client}", false},
		{"DISABLE", "", "{mode: DISABLE, credentialName: api-client}", false},
	} {
		m := buildYAML(t, Options{}, dr(tc.selector, tc.tls))
		r := m.DestinationRules[0]
		ct := m.ClientTLSFor([]*DestinationRule{r}, 443, "")
		if got := SidecarDropsTLS(ct); got != tc.want {
			t.Errorf("%s: SidecarDropsTLS = %v, want %v", tc.name, got, tc.want)
		}
	}
	if SidecarDropsTLS(ClientTLS{}) {
		t.Error("no DestinationRule: nothing dropped")
	}
}

// A DestinationRule with a workloadSelector takes the place of the others
// for the sidecars it selects, in its own namespace only
// (SidecarScope.DestinationRule, pilot/pkg/model/sidecar.go).
func TestWorkloadDestinationRules(t *testing.T) {
	m := buildYAML(t, Options{},
		"apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: all, namespace: shop}\nspec:\n  host: api.example.com\n",
		"apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: checkout, namespace: shop}\nspec:\n  host: api.example.com\n  workloadSelector: {matchLabels: {app: checkout}}\n",
		"apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: any-example, namespace: shop}\nspec:\n  host: \"*.example.com\"\n  workloadSelector: {matchLabels: {app: web}}\n",
	)
	names := func(drs []*DestinationRule) string {
		var out []string
		for _, dr := range drs {
			out = append(out, dr.Name)
		}
		return strings.Join(out, ",")
	}
	for _, tc := range []struct{ ns, host, want string }{
		{"shop", "api.example.com", "checkout,any-example"},
		{"shop", "web.example.com", "any-example"},
		{"billing", "api.example.com", ""},
	} {
		if got := names(m.WorkloadDestinationRules(tc.ns, tc.host)); got != tc.want {
			t.Errorf("WorkloadDestinationRules(%q, %q) = %q, want %q", tc.ns, tc.host, got, tc.want)
		}
	}
}
