package meshgen_test

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/meshdoctor/meshdoctor/internal/analysis"
	"github.com/meshdoctor/meshdoctor/internal/catalog"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
	"github.com/meshdoctor/meshdoctor/internal/meshgen"
)

func generate(t *testing.T, cfg meshgen.Config) string {
	dir := t.TempDir()
	err := meshgen.Generate(cfg, func(name string) (io.WriteCloser, error) {
		return os.Create(filepath.Join(dir, name))
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func analyze(t *testing.T, dir string) map[string]int {
	loaded, err := manifest.Load([]string{dir}, manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res := analysis.Run(loaded, analysis.Options{Rules: catalog.All()})
	got := map[string]int{}
	for _, f := range res.Findings {
		got[f.Rule]++
		if f.Rule == "invalid-manifest" {
			t.Errorf("generated mesh is invalid: %s: %s", f.Origin, f.Message)
		}
	}
	return got
}

// TestHealthyGeneratedMesh: a fully wired mesh must produce no finding at
// all, and exactly the expected object count.
func TestHealthyGeneratedMesh(t *testing.T) {
	cfg := meshgen.Config{Namespaces: 5, Services: 12}
	dir := generate(t, cfg)
	loaded, _ := manifest.Load([]string{dir}, manifest.Options{})
	if len(loaded.Objects) != meshgen.Objects(cfg) {
		t.Errorf("objects = %d, want %d", len(loaded.Objects), meshgen.Objects(cfg))
	}
	res := analysis.Run(loaded, analysis.Options{Rules: catalog.All()})
	for _, f := range res.Findings {
		t.Errorf("healthy generated mesh: %s: %s %s: %s", f.Origin, f.Severity, f.Rule, f.Message)
	}
}

// TestPlantedMisconfigurations: every planted misconfiguration is found,
// exactly as often as planted, and nothing else is.
func TestPlantedMisconfigurations(t *testing.T) {
	plants := map[string]int{}
	for i, r := range meshgen.Plantable() {
		plants[r] = 1 + i%3
	}
	dir := generate(t, meshgen.Config{Namespaces: 7, Services: 10, Plants: plants})
	got := analyze(t, dir)
	want := meshgen.Expected(plants)
	for r, n := range want {
		if got[r] != n {
			t.Errorf("%s: %d findings, want %d", r, got[r], n)
		}
	}
	for r, n := range got {
		if _, ok := want[r]; !ok {
			t.Errorf("unplanted finding %s ×%d", r, n)
		}
	}
}

func TestUnknownPlant(t *testing.T) {
	err := meshgen.Generate(meshgen.Config{Namespaces: 1, Services: 3, Plants: map[string]int{"no-such-rule": 1}}, func(string) (io.WriteCloser, error) { return nil, nil })
	if err == nil {
		t.Fatal("planting an unknown rule must fail")
	}
}

// TestFindingsHeavyMesh: the findings-heavy mesh yields exactly the
// findings its shape plants, rule by rule, so a faster path for findings
// (positions, output) cannot drop or add one.
func TestFindingsHeavyMesh(t *testing.T) {
	cfg := meshgen.Config{Namespaces: 4, Services: 20}
	dir := t.TempDir()
	err := meshgen.GenerateFindingsHeavy(cfg, func(name string) (io.WriteCloser, error) {
		return os.Create(filepath.Join(dir, name))
	})
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := manifest.Load([]string{dir}, manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(loaded.Objects) != meshgen.FindingsHeavyObjects(cfg) {
		t.Errorf("objects = %d, want %d", len(loaded.Objects), meshgen.FindingsHeavyObjects(cfg))
	}
	got := analyze(t, dir)
	want := meshgen.FindingsHeavyExpected(cfg)
	for r, n := range want {
		if got[r] != n {
			t.Errorf("%s: %d findings, want %d", r, got[r], n)
		}
	}
	for r, n := range got {
		if _, ok := want[r]; !ok {
			t.Errorf("unplanted finding %s ×%d", r, n)
		}
	}
}
