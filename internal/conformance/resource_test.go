package conformance

import (
	"testing"

	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

// An Istio origin without a namespace names an object the input left
// unnamespaced: meshdoctor places it in default (or it is cluster-scoped).
func TestResourceNames(t *testing.T) {
	for _, tc := range []struct {
		origin string
		ref    manifest.Ref
		want   bool
	}{
		{"Service httpbin", manifest.Ref{Kind: "Service", Namespace: "default", Name: "httpbin"}, true},
		{"Namespace staging", manifest.Ref{Kind: "Namespace", Name: "staging"}, true},
		{"Service httpbin", manifest.Ref{Kind: "Service", Namespace: "other", Name: "httpbin"}, false},
		{"VirtualService foo/productpage", manifest.Ref{Kind: "VirtualService", Namespace: "foo", Name: "productpage"}, true},
		{"VirtualService foo/productpage", manifest.Ref{Kind: "VirtualService", Namespace: "default", Name: "productpage"}, false},
		{"Gateway foo/gw", manifest.Ref{Kind: "DestinationRule", Namespace: "foo", Name: "gw"}, false},
	} {
		r, err := parseResource(tc.origin)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.names(tc.ref); got != tc.want {
			t.Errorf("%q names %v: %v, want %v", tc.origin, tc.ref, got, tc.want)
		}
	}
	if _, err := parseResource("httpbin"); err == nil {
		t.Error("an origin without a kind parsed")
	}
}
