package analysis_test

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/meshdoctor/meshdoctor/internal/analysis"
	"github.com/meshdoctor/meshdoctor/internal/catalog"
	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/meshgen"
	"github.com/meshdoctor/meshdoctor/internal/report"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// Sizes for the benchmarks: ~1k, ~10k and ~100k objects.
var sizes = []struct {
	name         string
	ns, services int
}{
	{"1k", 4, 48},
	{"10k", 20, 100},
	{"100k", 100, 200},
}

var generated sync.Map

// meshDir generates a clean mesh once per size per process.
func meshDir(b *testing.B, ns, services int) string {
	return shapeDir(b, "", meshgen.Generate, ns, services)
}

// findingsDir generates the findings-heavy mesh of a size (5/4 as many
// services as the clean one, for about as many objects).
func findingsDir(b *testing.B, ns, services int) string {
	return shapeDir(b, "findings-", meshgen.GenerateFindingsHeavy, ns, services*5/4)
}

func shapeDir(b *testing.B, shape string, generate func(meshgen.Config, func(string) (io.WriteCloser, error)) error, ns, services int) string {
	key := fmt.Sprintf("%s%dx%d", shape, ns, services)
	if d, ok := generated.Load(key); ok {
		return d.(string)
	}
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("meshdoctor-bench-v%d-%s", meshgen.Version, key))
	if _, err := os.Stat(filepath.Join(dir, "istio-system.yaml")); err != nil {
		os.MkdirAll(dir, 0o755)
		err := generate(meshgen.Config{Namespaces: ns, Services: services}, func(name string) (io.WriteCloser, error) {
			return os.Create(filepath.Join(dir, name))
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	generated.Store(key, dir)
	return dir
}

func BenchmarkLoad(b *testing.B) {
	for _, s := range sizes {
		dir := meshDir(b, s.ns, s.services)
		b.Run(s.name, func(b *testing.B) {
			b.ReportAllocs()
			var n int
			for i := 0; i < b.N; i++ {
				res, err := manifest.Load([]string{dir}, manifest.Options{})
				if err != nil {
					b.Fatal(err)
				}
				n = len(res.Objects)
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "objects/s")
		})
	}
}

// BenchmarkLoadFindings is BenchmarkLoad on the findings-heavy mesh, half
// of whose objects are DestinationRules and VirtualServices (Istio specs
// decode apart from Kubernetes objects).
func BenchmarkLoadFindings(b *testing.B) {
	for _, s := range sizes {
		dir := findingsDir(b, s.ns, s.services)
		b.Run(s.name, func(b *testing.B) {
			b.ReportAllocs()
			var n int
			for i := 0; i < b.N; i++ {
				res, err := manifest.Load([]string{dir}, manifest.Options{})
				if err != nil {
					b.Fatal(err)
				}
				n = len(res.Objects)
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "objects/s")
		})
	}
}

func loaded(b *testing.B, ns, services int) *manifest.Result {
	return loadDir(b, meshDir(b, ns, services))
}

func loadDir(b *testing.B, dir string) *manifest.Result {
	res, err := manifest.Load([]string{dir}, manifest.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return res
}

func BenchmarkModel(b *testing.B) {
	for _, s := range sizes {
		l := loaded(b, s.ns, s.services)
		b.Run(s.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				mesh.Build(l.Objects, mesh.Options{})
			}
			b.ReportMetric(float64(len(l.Objects))*float64(b.N)/b.Elapsed().Seconds(), "objects/s")
		})
	}
}

// BenchmarkRules times every rule on its own at the largest size, so a
// superlinear rule stands out.
func BenchmarkRules(b *testing.B) {
	s := sizes[len(sizes)-1]
	if testing.Short() {
		s = sizes[1]
	}
	m := mesh.Build(loaded(b, s.ns, s.services).Objects, mesh.Options{})
	for _, r := range catalog.All() {
		if r.Run == nil {
			continue
		}
		b.Run(r.Name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				rules.RunRule(m, r)
			}
		})
	}
}

// BenchmarkRulesFindings is BenchmarkRules on the findings-heavy mesh,
// where a third of the objects have findings: a rule whose findings cost
// more than its checks stands out.
func BenchmarkRulesFindings(b *testing.B) {
	s := sizes[len(sizes)-1]
	if testing.Short() {
		s = sizes[1]
	}
	m := mesh.Build(loadDir(b, findingsDir(b, s.ns, s.services)).Objects, mesh.Options{})
	for _, r := range catalog.All() {
		if r.Run == nil {
			continue
		}
		b.Run(r.Name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				rules.RunRule(m, r)
			}
		})
	}
}

// BenchmarkAnalyzeFindings is BenchmarkAnalyze on the findings-heavy mesh;
// each iteration loads afresh, since positions are cached on the objects.
func BenchmarkAnalyzeFindings(b *testing.B) {
	for _, s := range sizes {
		dir := findingsDir(b, s.ns, s.services)
		b.Run(s.name, func(b *testing.B) {
			b.ReportAllocs()
			var objects, findings int
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				l := loadDir(b, dir)
				b.StartTimer()
				res := analysis.Run(l, analysis.Options{Rules: catalog.All()})
				objects, findings = len(l.Objects), len(res.Findings)
			}
			b.ReportMetric(float64(objects)*float64(b.N)/b.Elapsed().Seconds(), "objects/s")
			b.ReportMetric(float64(findings)*float64(b.N)/b.Elapsed().Seconds(), "findings/s")
		})
	}
}

func BenchmarkAnalyze(b *testing.B) {
	for _, s := range sizes {
		l := loaded(b, s.ns, s.services)
		b.Run(s.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				analysis.Run(l, analysis.Options{Rules: catalog.All()})
			}
			b.ReportMetric(float64(len(l.Objects))*float64(b.N)/b.Elapsed().Seconds(), "objects/s")
		})
	}
}

func BenchmarkReport(b *testing.B) {
	for _, s := range sizes {
		for _, shape := range []string{"clean", "findings"} {
			dir := meshDir(b, s.ns, s.services)
			if shape == "findings" {
				dir = findingsDir(b, s.ns, s.services)
			}
			benchmarkReport(b, s.name+"/"+shape, analysis.Run(loadDir(b, dir), analysis.Options{Rules: catalog.All()}))
		}
	}
}

func benchmarkReport(b *testing.B, name string, res *analysis.Result) {
	for _, format := range []string{"text", "json", "sarif"} {
		b.Run(name+"/"+format, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				report.Write(io.Discard, format, res, report.Options{Rules: catalog.All()})
			}
		})
	}
}

// BenchmarkRolloutHazards: the rollout view of the planner on a large
// cluster (the generated mesh plus seed 003's subset change): one
// analysis per planner state, with the one rule it checks.
func BenchmarkRolloutHazards(b *testing.B) {
	for _, s := range sizes[:2] {
		mesh := loaded(b, s.ns, s.services)
		from, err := manifest.Load([]string{"../../testdata/plan/add-subset/from"}, manifest.Options{})
		if err != nil {
			b.Fatal(err)
		}
		change, err := manifest.Load([]string{"../../testdata/plan/add-subset/to"}, manifest.Options{})
		if err != nil {
			b.Fatal(err)
		}
		live := &manifest.Result{Unknown: map[string]int{}, Objects: append(append([]*manifest.Object{}, mesh.Objects...), from.Objects...)}
		opts := analysis.Options{Rules: catalog.All()}
		final := overlayByID(live, change)
		after, before := analysis.Run(final, opts), analysis.Run(live, opts)
		b.Run(s.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				res := *after
				res.Findings = append([]finding.Finding{}, after.Findings...)
				analysis.AddRolloutHazards(&res, final, live, change, overlayByID, catalog.ByName("subset-not-found"), opts, before)
			}
		})
	}
}

// overlayByID applies files over live as the cluster overlay does.
func overlayByID(live, files *manifest.Result) *manifest.Result {
	replaced := map[manifest.ID]bool{}
	for _, o := range files.Objects {
		replaced[o.ID()] = true
	}
	out := &manifest.Result{Unknown: map[string]int{}}
	for _, o := range live.Objects {
		if !replaced[o.ID()] {
			out.Objects = append(out.Objects, o)
		}
	}
	out.Objects = append(out.Objects, files.Objects...)
	return out
}
