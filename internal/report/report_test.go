package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/meshdoctor/meshdoctor/internal/analysis"
	"github.com/meshdoctor/meshdoctor/internal/catalog"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
	"github.com/meshdoctor/meshdoctor/internal/meshgen"
	"github.com/meshdoctor/meshdoctor/internal/rules"
	"github.com/meshdoctor/meshdoctor/internal/rules/traffic"
)

var update = flag.Bool("update", false, "rewrite golden files")

// The golden input exercises every part of the output: a rule finding, an
// unknown-field warning, a parse error, a suppressed finding and a skipped
// unknown kind. Only one rule runs so new rules don't churn the goldens.
func result(t *testing.T) *analysis.Result {
	loaded, err := manifest.Load([]string{"testdata/input.yaml"}, manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return analysis.Run(loaded, analysis.Options{Rules: []*rules.Rule{traffic.SubsetNotFound}})
}

func TestGolden(t *testing.T) {
	res := result(t)
	cat := []*rules.Rule{rules.InvalidManifest, rules.InternalError, traffic.SubsetNotFound}
	for _, tc := range []struct {
		format, file string
		color        bool
	}{
		{"text", "output.txt", false},
		{"text", "output.color.txt", true},
		{"json", "output.json", false},
		{"yaml", "output.yaml", false},
		{"sarif", "output.sarif", false},
	} {
		t.Run(tc.file, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, tc.format, res, Options{Color: tc.color, Version: "test", Rules: cat}); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", tc.file)
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/report -update)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("%s differs from golden (run go test ./internal/report -update and review the diff):\n%s", tc.file, buf.String())
			}
		})
	}
}

// TestJSONShape pins the fields other tools parse.
func TestJSONShape(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, "json", result(t), Options{}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Findings []map[string]any `json:"findings"`
		Summary  map[string]any   `json:"summary"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Findings) == 0 || doc.Summary == nil {
		t.Fatalf("want findings and summary, got %s", buf.String())
	}
	for _, key := range []string{"code", "rule", "severity", "resource", "origin", "message", "symptom", "fix"} {
		if _, ok := doc.Findings[0][key]; !ok {
			t.Errorf("finding lacks %q: %v", key, doc.Findings[0])
		}
	}
	origin := doc.Findings[0]["origin"].(map[string]any)
	if _, ok := origin["line"]; !ok {
		t.Errorf("origin lacks line: %v", origin)
	}
	if sev := doc.Findings[0]["severity"]; sev != "error" && sev != "warning" && sev != "info" {
		t.Errorf("severity = %v", sev)
	}
}

// TestSARIFRegions checks what GitHub code scanning needs: a rule entry for
// every result and a region with the manifest line.
func TestSARIFRegions(t *testing.T) {
	var buf bytes.Buffer
	cat := []*rules.Rule{rules.InvalidManifest, rules.InternalError, traffic.SubsetNotFound}
	if err := Write(&buf, "sarif", result(t), Options{Rules: cat}); err != nil {
		t.Fatal(err)
	}
	var log sarifLog
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 {
		t.Fatalf("bad SARIF header: %+v", log)
	}
	run := log.Runs[0]
	for _, r := range run.Results {
		if r.RuleIndex >= len(run.Tool.Driver.Rules) || run.Tool.Driver.Rules[r.RuleIndex].ID != r.RuleID {
			t.Errorf("result %s: ruleIndex %d does not point at its rule", r.RuleID, r.RuleIndex)
		}
		p := r.Locations[0].Physical
		if p == nil || p.Region == nil || p.Region.StartLine == 0 || p.Artifact.URI != "testdata/input.yaml" {
			t.Errorf("result %s: want a region in testdata/input.yaml, got %+v", r.RuleID, p)
		}
	}
}

// TestStreamedOutputIsUnchanged: JSON and SARIF are written finding by
// finding; the bytes must be what encoding the whole document with
// json.Encoder (two-space indent) gave, on thousands of real findings and
// on none.
func TestStreamedOutputIsUnchanged(t *testing.T) {
	dir := t.TempDir()
	err := meshgen.GenerateFindingsHeavy(meshgen.Config{Namespaces: 4, Services: 30}, func(name string) (io.WriteCloser, error) {
		return os.Create(filepath.Join(dir, name))
	})
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := manifest.Load([]string{dir}, manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	many := analysis.Run(loaded, analysis.Options{Rules: catalog.All()})
	if len(many.Findings) < 100 {
		t.Fatalf("only %d findings", len(many.Findings))
	}
	none := &analysis.Result{}
	for name, res := range map[string]*analysis.Result{"many": many, "none": none, "golden": result(t)} {
		var got, want bytes.Buffer
		if err := Write(&got, "json", res, Options{}); err != nil {
			t.Fatal(err)
		}
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		if err := enc.Encode(document(res)); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("%s: streamed JSON differs from the encoded document", name)
		}

		got.Reset()
		want.Reset()
		if err := Write(&got, "sarif", res, Options{Version: "test", Rules: catalog.All()}); err != nil {
			t.Fatal(err)
		}
		// Decoding and encoding again gives json.Encoder's layout of
		// the same content.
		var log sarifLog
		if err := json.Unmarshal(got.Bytes(), &log); err != nil {
			t.Fatal(err)
		}
		enc = json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		if err := enc.Encode(log); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("%s: streamed SARIF differs from the encoded log", name)
		}
		if len(log.Runs) != 1 || len(log.Runs[0].Results) != len(res.Findings) {
			t.Errorf("%s: SARIF has %d runs, want 1 with %d results", name, len(log.Runs), len(res.Findings))
		}
	}
}
