package mesh

import (
	"testing"

	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

// The injector's leniencies and strictness, which users trip over: CIDR
// lists are not trimmed, port lists are; "*" only for include lists.
func TestValidateAnnotation(t *testing.T) {
	for _, c := range []struct {
		name, value string
		ok          bool
	}{
		{"traffic.sidecar.istio.io/excludeOutboundIPRanges", "10.0.0.0/8,172.16.0.0/12", true},
		{"traffic.sidecar.istio.io/excludeOutboundIPRanges", "10.0.0.0/8, 172.16.0.0/12", false},
		{"traffic.sidecar.istio.io/excludeOutboundIPRanges", "", true},
		{"traffic.sidecar.istio.io/excludeOutboundIPRanges", "*", false},
		{"traffic.sidecar.istio.io/includeOutboundIPRanges", "*", true},
		{"traffic.sidecar.istio.io/excludeInboundPorts", "8080, 9090", true},
		{"traffic.sidecar.istio.io/excludeInboundPorts", "8080,65536", false},
		{"traffic.sidecar.istio.io/includeInboundPorts", "*", true},
		{"sidecar.istio.io/interceptionMode", "TPROXY", true},
		{"sidecar.istio.io/interceptionMode", "tproxy", false},
		{"sidecar.istio.io/proxyMemory", "512Mi", true},
		{"sidecar.istio.io/proxyMemory", "512MB", false},
		{"traffic.sidecar.istio.io/excludeInterfaces", "eth1,net-2", true},
		{"traffic.sidecar.istio.io/excludeInterfaces", "1eth", false},
		{"proxy.istio.io/config", "holdApplicationUntilProxyStarts: true\nunknownField: 1", true},
		{"proxy.istio.io/config", "holdApplicationUntilProxyStarts: maybe", false},
		{"sidecar.istio.io/logLevel", "anything", true}, // not validated by the injector
	} {
		err := ValidateAnnotation(c.name, c.value)
		if (err == nil) != c.ok {
			t.Errorf("ValidateAnnotation(%s, %q) = %v, want ok=%v", c.name, c.value, err, c.ok)
		}
	}
}

func TestIsIstioAnnotationName(t *testing.T) {
	for name, want := range map[string]bool{
		"sidecar.istio.io/inject":     true,
		"istio.io/rev":                true,
		"traffic.sidecar.istio.io/x":  true,
		"example.com/istio.io":        false,
		"istio.io.example.com/x":      false,
		"notistio.io/x":               false,
		"kubernetes.io/ingress.class": false,
		"sidecar.istio.io":            false,
	} {
		if got := IsIstioAnnotationName(name); got != want {
			t.Errorf("IsIstioAnnotationName(%q) = %v, want %v", name, got, want)
		}
	}
}

// kubernetes.io/ingress.class is in Istio's annotation catalog (for Ingress
// only) and istioctl analyze checks it on Pods, Deployments and Namespaces;
// on a Service it is left to the ingress controllers that read Service
// annotations.
func TestIstioDocumentedIngressClass(t *testing.T) {
	for _, c := range []struct {
		apiVersion, kind string
		want             bool
	}{
		{"v1", "Pod", true},
		{"v1", "Namespace", true},
		{"apps/v1", "Deployment", true},
		{"v1", "Service", false},
	} {
		o := &manifest.Object{APIVersion: c.apiVersion, Kind: c.kind}
		if got := istioDocumented(IngressClassAnnotation, o); got != c.want {
			t.Errorf("istioDocumented(ingress.class, %s %s) = %v, want %v", c.apiVersion, c.kind, got, c.want)
		}
	}
	if istioDocumented("example.com/ingress.class", &manifest.Object{APIVersion: "v1", Kind: "Pod"}) {
		t.Error("another vendor's annotation is not Istio's")
	}
}
