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

// meshDir generates a mesh once per size per process.
func meshDir(b *testing.B, ns, services int) string {
	key := fmt.Sprintf("%dx%d", ns, services)
	if d, ok := generated.Load(key); ok {
		return d.(string)
	}
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("meshdoctor-bench-v%d-%s", meshgen.Version, key))
	if _, err := os.Stat(filepath.Join(dir, "istio-system.yaml")); err != nil {
		os.MkdirAll(dir, 0o755)
		err := meshgen.Generate(meshgen.Config{Namespaces: ns, Services: services}, func(name string) (io.WriteCloser, error) {
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

func loaded(b *testing.B, ns, services int) *manifest.Result {
	res, err := manifest.Load([]string{meshDir(b, ns, services)}, manifest.Options{})
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
		res := analysis.Run(loaded(b, s.ns, s.services), analysis.Options{Rules: catalog.All()})
		for _, format := range []string{"text", "json", "sarif"} {
			b.Run(s.name+"/"+format, func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					report.Write(io.Discard, format, res, report.Options{Rules: catalog.All()})
				}
			})
		}
	}
}
