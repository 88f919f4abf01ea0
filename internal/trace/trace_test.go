package trace_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/meshdoctor/meshdoctor/internal/analysis"
	"github.com/meshdoctor/meshdoctor/internal/catalog"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/trace"
)

// root is the repository root, where cases name their inputs.
const root = "../.."

type traceCase struct {
	Name         string   `json:"name"`
	Input        []string `json:"input"`
	IstioVersion string   `json:"istioVersion"`
	From         string   `json:"from"`
	URL          string   `json:"url"`
	Headers      []string `json:"headers"`
	HTTPVersion  string   `json:"httpVersion"`
	Resolve      []string `json:"resolve"`
	Want         struct {
		Status  int    `json:"status"`
		Flag    string `json:"flag"`
		Rule    string `json:"rule"`
		Reason  string `json:"reason"`
		Cluster string `json:"cluster"`
		Success bool   `json:"success"`
	} `json:"want"`
	Notes []string `json:"notes"`
	// FixContains are texts the outcome's fix must hold.
	FixContains []string `json:"fixContains"`
	// Source cites the Istio test a case is ported from; Skip says why
	// trace cannot pose it (the case is listed, not run).
	Source string `json:"source"`
	Skip   string `json:"skip"`
}

// analyze runs the analysis on inputs, as the CLI does.
func analyze(t testing.TB, inputs []string, version string) *analysis.Result {
	t.Helper()
	var paths []string
	for _, in := range inputs {
		paths = append(paths, filepath.Join(root, in))
	}
	loaded, err := manifest.Load(paths, manifest.Options{DefaultNamespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	return analysis.Run(loaded, analysis.Options{Rules: catalog.All(), Mesh: mesh.Options{IstioVersion: mesh.VersionOf(version), IstioVersionSource: "--istio-version"}})
}

// TestCases runs testdata/trace/cases.yaml: the seeds' requests and the
// behaviours of Istio's outbound traffic policy, each with the outcome the
// client sees.
func TestCases(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(root, "testdata/trace/*cases.yaml"))
	var cases []traceCase
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var cs []traceCase
		if err := yaml.UnmarshalStrict(b, &cs); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		cases = append(cases, cs...)
	}
	if len(cases) < 10 {
		t.Fatalf("only %d cases parsed", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			if tc.Skip != "" {
				t.Skipf("not posed: %s (%s)", tc.Skip, tc.Source)
			}
			res := analyze(t, tc.Input, tc.IstioVersion)
			p, err := trace.Parse(trace.Spec{From: tc.From, URL: tc.URL, Headers: tc.Headers, HTTPVersion: tc.HTTPVersion, Resolve: tc.Resolve, DefaultNamespace: "default"})
			if err != nil {
				t.Fatal(err)
			}
			tr, err := trace.Run(res.Model, p, res.Findings)
			if err != nil {
				t.Fatal(err)
			}
			o := tr.Outcome
			w := tc.Want
			failing := ""
			var reasons []string
			for _, h := range tr.Hops {
				reasons = append(reasons, string(h.Reason))
				for _, c := range h.Considered {
					reasons = append(reasons, string(c.Reason))
				}
				if h.Fails {
					failing = string(h.Reason)
					for _, c := range h.Considered {
						if string(c.Reason) == w.Reason {
							failing = w.Reason
						}
					}
				}
			}
			if o.Status != w.Status || o.Success != w.Success || (w.Flag != "" && o.Flag != w.Flag) || o.Rule != w.Rule ||
				(w.Cluster != "" && o.Cluster != w.Cluster) || (w.Reason != "" && failing != w.Reason) {
				var buf writer
				_ = trace.Write(&buf, "text", tr, false)
				t.Errorf("got status %d flag %q rule %q failing reason %q cluster %q success %v; want %+v\n%s", o.Status, o.Flag, o.Rule, failing, o.Cluster, o.Success, w, buf)
			}
			if !o.Success && !o.Unknown && o.Fix == "" {
				t.Errorf("a failure without a fix")
			}
			for _, want := range tc.FixContains {
				if !strings.Contains(o.Fix, want) {
					t.Errorf("the fix lacks %q:\n%s", want, o.Fix)
				}
			}
			for _, n := range tc.Notes {
				if !slices.Contains(reasons, n) {
					t.Errorf("no hop or candidate with reason %q; reasons: %v", n, reasons)
				}
			}
		})
	}
}

type writer []byte

func (w *writer) Write(p []byte) (int, error) { *w = append(*w, p...); return len(p), nil }
func (w writer) String() string               { return string(w) }

// FuzzParse: any --from/--url/-H/--resolve either parses into a request
// that trace can pose or is refused with an error; never a panic.
func FuzzParse(f *testing.F) {
	f.Add("workload:shop/sleep", "http://reviews:9080/a?b=c", "end-user: jason", "reviews:9080:10.0.0.5", "1.1")
	f.Add("gateway:istio-system/istio-ingressgateway", "https://[::1]:443/", "Host: x", "x:443:[::1]", "2")
	f.Add("external", "tcp://db:3306", ":", "::", "1.0")
	f.Fuzz(func(t *testing.T, from, url, header, resolve, version string) {
		p, err := trace.Parse(trace.Spec{From: from, URL: url, Headers: []string{header}, Resolve: []string{resolve}, HTTPVersion: version, DefaultNamespace: "default"})
		if err != nil {
			return
		}
		r := p.Request
		if r.Port == 0 || r.Host == "" || (r.Scheme != "http" && r.Scheme != "https" && r.Scheme != "tcp" && r.Scheme != "tls") {
			t.Errorf("accepted an unusable request: %+v", r)
		}
		if p.Kind != "external" && (p.Namespace == "" || p.Name == "") {
			t.Errorf("accepted --from %q without a name", from)
		}
	})
}
