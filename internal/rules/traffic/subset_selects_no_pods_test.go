package traffic

import (
	"fmt"
	"testing"

	"github.com/meshdoctor/meshdoctor/internal/manifest"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
)

// TestActualLabels: what the pods carry instead, grouped by value and
// sorted, the same with few workloads (linear search) and many (index).
func TestActualLabels(t *testing.T) {
	wl := func(name string, labels map[string]string) *mesh.Workload {
		return &mesh.Workload{Object: &manifest.Object{Kind: "Deployment", Name: name}, Labels: labels}
	}
	ws := []*mesh.Workload{
		wl("b-v1", map[string]string{"app": "b", "version": "v1"}),
		wl("b-v1b", map[string]string{"app": "b", "version": "v1"}),
		wl("b-v3", map[string]string{"app": "b", "version": "v3"}),
		wl("b-x", map[string]string{"app": "b"}),
	}
	sel := map[string]string{"version": "v2", "track": "canary"}
	want := "no pod has label track; pods have version=v1 (Deployment b-v1, Deployment b-v1b), v3 (Deployment b-v3)"
	if got := actualLabels(sel, ws); got != want {
		t.Errorf("actualLabels = %q\nwant %q", got, want)
	}
	// Past 16 workloads the values are indexed; the text is built the same.
	var many []*mesh.Workload
	for i := range 20 {
		many = append(many, wl(fmt.Sprintf("w%02d", i), map[string]string{"version": fmt.Sprintf("v%d", i%3)}))
	}
	got := actualLabels(map[string]string{"version": "v9"}, many)
	want = "pods have version=v0 (Deployment w00, Deployment w03, Deployment w06, Deployment w09, Deployment w12, Deployment w15, Deployment w18), " +
		"v1 (Deployment w01, Deployment w04, Deployment w07, Deployment w10, Deployment w13, Deployment w16, Deployment w19), " +
		"v2 (Deployment w02, Deployment w05, Deployment w08, Deployment w11, Deployment w14, Deployment w17)"
	if got != want {
		t.Errorf("actualLabels (many) = %q\nwant %q", got, want)
	}
	if got, want := suggestLabels(map[string]string{"version": "v1", "app": "b"}, ws[:1]), "      app: b   # the value on the pods that should receive this subset\n      version: v1   # the value on the pods that should receive this subset"; got != want {
		t.Errorf("suggestLabels = %q\nwant %q", got, want)
	}
}
