package upgrade

import (
	"strings"
	"testing"

	"github.com/meshdoctor/meshdoctor/internal/mesh"
)

// TestKubernetesSupport: a cluster older or newer than the target
// release supports is a problem; one inside the range, an unknown
// version and a release without a row are not.
func TestKubernetesSupport(t *testing.T) {
	kube := func(s string) *mesh.Version { k := v(s); return &k }
	for _, tc := range []struct {
		to      string
		kube    *mesh.Version
		problem string // "" for none
	}{
		{"1.24.2", kube("1.27.3"), "upgrade Kubernetes to 1.28 or newer first"},
		{"1.20.1", kube("1.30.0"), "supports Kubernetes up to 1.29"},
		{"1.24.2", kube("1.28.0"), ""},
		{"1.24.2", kube("1.31.9"), ""},
		{"1.30.0", kube("1.36.1"), ""},
		{"1.24.2", nil, ""},
		{"1.19.0", kube("1.20.0"), ""}, // no row: not judged
	} {
		k := CheckKubernetes(v(tc.to), tc.kube, "test")
		if tc.problem == "" && k.Problem != "" || tc.problem != "" && !strings.Contains(k.Problem, tc.problem) {
			t.Errorf("Istio %s on Kubernetes %v: problem %q, want %q", tc.to, tc.kube, k.Problem, tc.problem)
		}
	}
	// The table covers every release the catalog reviews.
	for minor := 20; minor <= 30; minor++ {
		if _, _, ok := KubernetesRange(mesh.Version{Major: 1, Minor: minor}); !ok {
			t.Errorf("no Kubernetes range for Istio 1.%d", minor)
		}
	}
	if k := CheckKubernetes(v("1.24.2"), nil, ""); k.Note == "" || k.Supported != "1.28 to 1.31" {
		t.Errorf("unknown Kubernetes version: %+v", k)
	}
}
