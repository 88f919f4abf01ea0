package mesh

import (
	"reflect"
	"testing"
)

// Where istiod's secret controller looks for TLS credentials
// (pilot/pkg/credentials/kube: a gateway reads Secrets from its own
// namespace; <name>-cacert holds the CA for MUTUAL), so the live loader
// GETs exactly those.
func TestCredentialSecrets(t *testing.T) {
	m := buildYAML(t, Options{},
		deploy("istio-ingressgateway", "istio-system", "{istio: ingressgateway}", ""),
		`apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: web, namespace: shop}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [shop.example.com]
    tls: {mode: SIMPLE, credentialName: kubernetes://shop-cert}
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [shop.example.com]
`,
		`apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: local, namespace: edge}
spec:
  selector: {app: edge-gateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [edge.example.com]
    tls: {mode: MUTUAL, credentialName: edge-cert}
`,
		`apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: upstream, namespace: shop}
spec:
  host: api.example.com
  subsets:
  - name: v1
    trafficPolicy:
      portLevelSettings:
      - port: {number: 443}
        tls: {mode: MUTUAL, credentialName: client-cert}
`,
		`apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: api, namespace: apps}
spec:
  gatewayClassName: istio
  listeners:
  - name: https
    port: 443
    protocol: HTTPS
    tls:
      certificateRefs:
      - name: api-cert
      - name: shared-cert
        namespace: certs
`,
	)
	var got []string
	for _, r := range m.CredentialSecrets() {
		got = append(got, r.Namespace+"/"+r.Name)
	}
	want := []string{
		"apps/api-cert", "apps/api-cert-cacert",
		"certs/shared-cert", "certs/shared-cert-cacert",
		// No gateway workload of edge in the input: its own namespace.
		"edge/client-cert", "edge/client-cert-cacert",
		"edge/edge-cert", "edge/edge-cert-cacert",
		// The gateway pods' namespace, not the Gateway's.
		"istio-system/client-cert", "istio-system/client-cert-cacert",
		"istio-system/shop-cert", "istio-system/shop-cert-cacert",
		// A DestinationRule's credential also from its own namespace.
		"shop/client-cert", "shop/client-cert-cacert",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("CredentialSecrets:\n got %v\nwant %v", got, want)
	}
}
