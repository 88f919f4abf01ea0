package mesh

import "testing"

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
