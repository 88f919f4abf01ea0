package mesh

import "testing"

// A v1beta1 Ingress means what the API server converted it to in
// networking.k8s.io/v1: serviceName/servicePort become service.name and
// port.number or port.name, spec.backend becomes spec.defaultBackend, and a
// path without pathType is ImplementationSpecific.
func TestLegacyIngressAnalyzedAsV1(t *testing.T) {
	m := buildYAML(t, Options{},
		"apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: web, namespace: shop}\nspec:\n  backend: {serviceName: fallback, servicePort: 80}\n  tls: [{hosts: [a.example.com], secretName: a-tls}]\n  rules:\n  - host: a.example.com\n    http:\n      paths:\n      - path: /\n        backend: {serviceName: web, servicePort: http}\n",
		"apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: v1, namespace: shop}\nspec:\n  defaultBackend: {service: {name: web, port: {number: 80}}}\n",
	)
	if len(m.Ingresses) != 2 {
		t.Fatalf("got %d Ingresses", len(m.Ingresses))
	}
	old := m.Ingresses[0]
	if !old.Legacy || m.Ingresses[1].Legacy {
		t.Fatalf("Legacy = %v, %v; want true, false", old.Legacy, m.Ingresses[1].Legacy)
	}
	bs := IngressBackends(old)
	if len(bs) != 2 || bs[0].Service != "fallback" || bs[0].Port.Number != 80 || !bs[0].Default ||
		bs[1].Service != "web" || bs[1].Port.Name != "http" || bs[1].Host != "a.example.com" {
		t.Errorf("backends = %+v", bs)
	}
	if p := old.Spec.Rules[0].HTTP.Paths[0].PathType; p == nil || *p != "ImplementationSpecific" {
		t.Errorf("pathType = %v, want ImplementationSpecific", p)
	}
	if len(old.Spec.TLS) != 1 || old.Spec.TLS[0].SecretName != "a-tls" {
		t.Errorf("tls = %+v", old.Spec.TLS)
	}
	if r, ok := RemovedAPIOf(old.Object); !ok || r.Release != "1.22" || r.AnalyzedAs != "networking.k8s.io/v1" {
		t.Errorf("RemovedAPIOf = %+v, %v", r, ok)
	}
	if _, ok := RemovedAPIOf(m.Ingresses[1].Object); ok {
		t.Error("networking.k8s.io/v1 is served")
	}
	if !m.Has("Ingress") {
		t.Error("an extensions/v1beta1 Ingress counts as an Ingress")
	}
}
