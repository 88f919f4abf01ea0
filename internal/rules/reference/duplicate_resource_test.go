package reference

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/meshdoctor/meshdoctor/internal/manifest"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// Cross-file duplicates cannot be expressed in single-file testdata: the
// directory layout decides whether two files are one app or two variants.
func TestDuplicateResourceAcrossFiles(t *testing.T) {
	doc := func(mode string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: shop\ndata:\n  mode: " + mode + "\n"
	}
	cases := []struct {
		name  string
		files map[string]string
		want  int
	}{
		{"same directory", map[string]string{"app/a.yaml": doc("fast"), "app/b.yaml": doc("safe")}, 1},
		{"same directory, identical", map[string]string{"app/a.yaml": doc("fast"), "app/b.yaml": doc("fast")}, 0},
		{"environment directories", map[string]string{"envs/dev/a.yaml": doc("fast"), "envs/prod/a.yaml": doc("safe")}, 0},
		{"kustomize patch", map[string]string{"app/kustomization.yaml": "resources: [a.yaml]\npatches: [{path: b.yaml}]\n", "app/a.yaml": doc("fast"), "app/b.yaml": doc("safe")}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			for name, text := range c.files {
				p := filepath.Join(root, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			loaded, err := manifest.Load([]string{root}, manifest.Options{})
			if err != nil {
				t.Fatal(err)
			}
			fs := rules.RunRule(mesh.Build(loaded.Objects, mesh.Options{}), DuplicateResource)
			if len(fs) != c.want {
				t.Fatalf("got %d findings, want %d: %+v", len(fs), c.want, fs)
			}
		})
	}
}
