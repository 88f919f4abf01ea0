package cluster_test

import (
	"bytes"
	"io"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/meshdoctor/meshdoctor/internal/cluster"
	"github.com/meshdoctor/meshdoctor/internal/meshgen"
)

// benchMesh is ~20k objects: 20 namespaces x 200 services.
var benchMesh = meshgen.Config{Namespaces: 20, Services: 200}

// benchHeavyMesh is the findings-heavy shape at ~20k objects: 20
// namespaces x 250 services of 4 objects, a third of them with findings.
var benchHeavyMesh = meshgen.Config{Namespaces: 20, Services: 250}

var (
	benchOnce    sync.Once
	benchApplied string
)

// applyBenchMesh creates one generated mesh through the API once per
// process: both shapes use the same namespace names, so a process holds
// one of them. istio-system is left to the examples (their istiod stays).
func applyBenchMesh(b *testing.B, shape string) {
	benchOnce.Do(func() {
		benchApplied = shape
		generate := meshgen.Generate
		cfg := benchMesh
		if shape == "findings-heavy" {
			generate, cfg = meshgen.GenerateFindingsHeavy, benchHeavyMesh
		}
		streams := map[string]*bytes.Buffer{}
		err := generate(cfg, func(name string) (io.WriteCloser, error) {
			buf := &bytes.Buffer{}
			streams[name] = buf
			return nopCloser{buf}, nil
		})
		if err != nil {
			b.Fatal(err)
		}
		delete(streams, "istio-system.yaml")
		var nss, rest []*unstructured.Unstructured
		for _, s := range streams {
			docs, err := splitYAML(s.Bytes())
			if err != nil {
				b.Fatal(err)
			}
			for _, d := range docs {
				if d.GetKind() == "Namespace" {
					nss = append(nss, d)
				} else {
					rest = append(rest, d)
				}
			}
		}
		if err := createAll(testCtx, k8sClient, nss); err != nil {
			b.Fatal(err)
		}
		// Create in parallel: the API server, not the test, should be
		// the limit.
		const workers = 16
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				var mine []*unstructured.Unstructured
				for i := w; i < len(rest); i += workers {
					mine = append(mine, rest[i])
				}
				if err := createAll(testCtx, k8sClient, mine); err != nil {
					errs <- err
				}
			}(w)
		}
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
		b.Logf("applied %d objects (%s)", len(nss)+len(rest), shape)
	})
	if benchApplied != shape {
		b.Skipf("the %s mesh is already applied in this process; run this benchmark alone (-bench '%s')", benchApplied, b.Name())
	}
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// BenchmarkLoad20k lists every known kind from the local API server with
// ~20k objects in it (plus the examples).
func BenchmarkLoad20k(b *testing.B) { benchmarkLoad(b, "clean") }

// BenchmarkLoad20kFindingsHeavy is the same on the findings-heavy mesh:
// listing must cost the same whatever the objects say.
func BenchmarkLoad20kFindingsHeavy(b *testing.B) { benchmarkLoad(b, "findings-heavy") }

func benchmarkLoad(b *testing.B, shape string) {
	requireAPIServer(b)
	applyBenchMesh(b, shape)
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		res, err := cluster.Load(testCtx, cfg, cluster.Options{Secrets: true})
		if err != nil {
			b.Fatal(err)
		}
		n = len(res.Objects)
	}
	b.ReportMetric(float64(n), "objects")
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "objects/s")
}
