package trace_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/meshdoctor/meshdoctor/internal/trace"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestGolden pins the text and JSON of a few traces: the story a user
// reads and the stable JSON shape. Run with -update after a deliberate
// change and review the diff.
func TestGolden(t *testing.T) {
	for _, g := range []struct {
		name, input, from, url string
	}{
		{"003-plaintext-to-strict", "examples/003-istio-network-issues", "workload:default/frontend", "http://httpbin:8000/"},
		{"003-gateway-bypasses-subset", "examples/003-istio-network-issues", "gateway:istio-system/istio-ingressgateway", "http://myapp.com/hello"},
		{"000-auto-sni", "examples/000-auto-sni-upgrade", "gateway:istio-system/istio-ingressgateway", "http://qa-pod1-mdm.upgrade.infaqa.com:8080/"},
		{"002-gke-502", "examples/002-gke-ingress-502", "external", "http://spacejam.com/"},
	} {
		t.Run(g.name, func(t *testing.T) {
			res := analyze(t, []string{g.input}, "")
			p, err := trace.Parse(trace.Spec{From: g.from, URL: g.url})
			if err != nil {
				t.Fatal(err)
			}
			tr, err := trace.Run(res.Model, p, res.Findings)
			if err != nil {
				t.Fatal(err)
			}
			for _, format := range []string{"text", "json"} {
				var buf bytes.Buffer
				if err := trace.Write(&buf, format, tr, false); err != nil {
					t.Fatal(err)
				}
				ext := map[string]string{"text": ".txt", "json": ".json"}[format]
				path := filepath.Join("testdata", g.name+ext)
				if *update {
					if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run with -update to create it)", err)
				}
				if !bytes.Equal(want, buf.Bytes()) {
					t.Errorf("%s differs from %s (run with -update after a deliberate change):\n%s", format, path, buf.String())
				}
			}
		})
	}
}
