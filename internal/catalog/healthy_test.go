package catalog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshdoctor/meshdoctor/internal/analysis"
	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

// TestHealthy runs every rule over each scenario in testdata/healthy/ —
// configurations that work as written — and fails on any error or warning.
// Each file is also analyzed alone: a partial input of a healthy setup
// (a Gateway without its routes, routes without the workloads) must stay
// quiet too. Info findings are allowed: they describe, they do not warn.
func TestHealthy(t *testing.T) {
	root := filepath.Join("..", "..", "testdata", "healthy")
	dirs, _ := filepath.Glob(filepath.Join(root, "*"))
	n := 0
	for _, d := range dirs {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			continue
		}
		n++
		t.Run(filepath.Base(d), func(t *testing.T) {
			files := manifestFiles(t, d)
			if len(files) == 0 {
				t.Fatalf("scenario %s has no manifests", d)
			}
			expectQuiet(t, "together", []string{d})
			for _, f := range files {
				expectQuiet(t, filepath.Base(f)+" alone", []string{f})
			}
		})
	}
	if n == 0 {
		t.Fatalf("no scenarios in %s", root)
	}
}

func manifestFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		switch filepath.Ext(p) {
		case ".yaml", ".yml", ".json":
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// expectQuiet analyzes paths with all rules and reports every finding at
// warning or above.
func expectQuiet(t *testing.T, what string, paths []string) {
	t.Helper()
	loaded, err := manifest.Load(paths, manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res := analysis.Run(loaded, analysis.Options{Rules: All()})
	var bad []string
	for _, f := range res.Findings {
		if f.Severity >= finding.Warning {
			bad = append(bad, f.Origin.String()+": "+f.Severity.String()+" "+f.Rule+": "+f.Message)
		}
	}
	if len(bad) > 0 {
		t.Errorf("%s: a healthy configuration got %d finding(s) at warning or above:\n  %s", what, len(bad), strings.Join(bad, "\n  "))
	}
}
