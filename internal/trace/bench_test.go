package trace_test

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/meshdoctor/meshdoctor/internal/analysis"
	"github.com/meshdoctor/meshdoctor/internal/catalog"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
	"github.com/meshdoctor/meshdoctor/internal/meshgen"
	"github.com/meshdoctor/meshdoctor/internal/trace"
)

// BenchmarkTrace50k times one trace on a generated mesh of ~50k objects,
// beyond the load and the model (built once): the model's indexes answer
// each hop, so a trace costs what the request touches, not the mesh size.
//
//	go test ./internal/trace -run '^$' -bench Trace50k
func BenchmarkTrace50k(b *testing.B) {
	dir := b.TempDir()
	cfg := meshgen.Config{Namespaces: 100, Services: 100}
	if err := meshgen.Generate(cfg, func(name string) (io.WriteCloser, error) { return os.Create(filepath.Join(dir, name)) }); err != nil {
		b.Fatal(err)
	}
	loaded, err := manifest.Load([]string{dir}, manifest.Options{})
	if err != nil {
		b.Fatal(err)
	}
	res := analysis.Run(loaded, analysis.Options{Rules: catalog.All()})
	b.Logf("%d objects, %d findings", res.Objects, len(res.Findings))
	for _, r := range []struct{ name, from, url string }{
		{"sidecar", "workload:ns-042/svc-007-v1", "http://svc-011:8080/"},
		{"gateway", "gateway:istio-system/istio-ingressgateway", "https://ns-042.example.com/"},
	} {
		p, err := trace.Parse(trace.Spec{From: r.from, URL: r.url, Headers: []string{"x-canary: true"}})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(r.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := trace.Run(res.Model, p, res.Findings); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
