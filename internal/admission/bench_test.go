package admission_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/meshdoctor/meshdoctor/internal/admission"
	"github.com/meshdoctor/meshdoctor/internal/analysis"
	"github.com/meshdoctor/meshdoctor/internal/catalog"
	"github.com/meshdoctor/meshdoctor/internal/change"
	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
	"github.com/meshdoctor/meshdoctor/internal/meshgen"
)

// BenchmarkReview20k answers 1,000 admission reviews (VirtualService
// updates, every other one routing to a subset that does not exist)
// against a watch cache of ~20k objects (40 namespaces × 100 services, the
// control plane) and reports the decision latency percentiles through the
// HTTP handler: "warm" with the cluster unchanged between reviews (each
// scope's baseline analysis made once and reused), "changing" with a
// change recorded in the review's namespace before each review (the
// baseline is analyzed again every time: the worst case).
func BenchmarkReview20k(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "mesh")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	err := meshgen.Generate(meshgen.Config{Namespaces: 40, Services: 100}, func(name string) (io.WriteCloser, error) {
		return os.Create(filepath.Join(dir, name))
	})
	if err != nil {
		b.Fatal(err)
	}
	loaded, err := manifest.Load([]string{dir}, manifest.Options{})
	if err != nil {
		b.Fatal(err)
	}
	opts := analysis.Options{Rules: catalog.All()}
	state := change.NewState(opts, "")
	var routes []*manifest.Object
	for _, o := range loaded.Objects {
		if o.Kind == "Secret" {
			continue // serve does not watch Secrets
		}
		state.Put(o)
		if o.Kind == "VirtualService" && !strings.Contains(o.Name, "gateway") && len(routes) < 1000 && o.Name != "shop" {
			routes = append(routes, o)
		}
	}
	start := time.Now()
	state.Relate(analysis.Run(state.Snapshot(), opts).Model)
	b.Logf("%d objects cached; whole-cluster analysis %s", state.Len(), time.Since(start).Round(time.Millisecond))
	if len(routes) == 0 {
		b.Fatal("no VirtualServices in the generated mesh")
	}
	bodies := make([]string, 1000)
	for i := range bodies {
		o := routes[(i*37)%len(routes)] // spread over namespaces
		raw, err := json.Marshal(o.Typed)
		if err != nil {
			b.Fatal(err)
		}
		obj := string(raw)
		if i%2 == 1 {
			obj = strings.Replace(obj, `"subset":"v2"`, `"subset":"v9"`, 1)
		}
		bodies[i] = review("UPDATE", "VirtualService", "networking.istio.io", "virtualservices", o.Name, obj, string(raw), false)
		bodies[i] = strings.Replace(bodies[i], `"namespace":"shop"`, fmt.Sprintf("%q:%q", "namespace", o.Namespace), 1)
	}
	h := admission.NewHandler(state, admission.Options{MinSeverity: finding.Warning, Timeout: time.Minute})
	bump := &manifest.Object{APIVersion: "v1", Kind: "ConfigMap", Name: "bench"}
	for _, mode := range []string{"warm", "changing"} {
		b.Run(mode, func(b *testing.B) {
			if mode == "warm" {
				// Steady state: every scope's baseline analyzed once.
				for _, body := range bodies {
					h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/validate", strings.NewReader(body)))
				}
			}
			for n := 0; n < b.N; n++ {
				lat := make([]time.Duration, len(bodies))
				warned := 0
				cpu0 := cpuTime()
				for i, body := range bodies {
					if mode == "changing" {
						bump.Namespace = routes[(i*37)%len(routes)].Namespace
						state.Put(bump)
					}
					rec := httptest.NewRecorder()
					req := httptest.NewRequest(http.MethodPost, "/validate", strings.NewReader(body))
					t0 := time.Now()
					h.ServeHTTP(rec, req)
					lat[i] = time.Since(t0)
					if strings.Contains(rec.Body.String(), "subset-not-found") {
						warned++
					}
				}
				if warned != len(bodies)/2 {
					b.Fatalf("%d reviews warned about the missing subset, want %d", warned, len(bodies)/2)
				}
				cpu := (cpuTime() - cpu0) / time.Duration(len(bodies))
				slices.Sort(lat)
				pct := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1))] }
				b.ReportMetric(float64(pct(.50).Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(pct(.95).Microseconds())/1000, "p95-ms")
				b.ReportMetric(float64(pct(.99).Microseconds())/1000, "p99-ms")
				b.ReportMetric(float64(cpu.Microseconds())/1000, "cpu-ms/review")
				b.Logf("%s: %d reviews, p50 %s p95 %s p99 %s max %s; CPU %s per review (all threads, GC included)", mode, len(lat), pct(.50), pct(.95), pct(.99), lat[len(lat)-1], cpu)
			}
		})
	}
}
