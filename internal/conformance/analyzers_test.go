package conformance

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/meshdoctor/meshdoctor/internal/catalog"
)

var update = flag.Bool("update", false, "rewrite the statuses in testdata/conformance (reasons are kept)")

const analyzersFile = "../../testdata/conformance/istio-analyzers.yaml"

// Statuses of an expected message.
const (
	statusMatch   = "match"   // a finding of a rule covering the code names the resource
	statusDiffers = "differs" // meshdoctor deliberately reports otherwise (reason says why)
	statusMissing = "missing" // not covered yet
)

// analyzerExpectations is testdata/conformance/istio-analyzers.yaml.
type analyzerExpectations struct {
	Istio string        `yaml:"istio"`
	Cases []*caseExpect `yaml:"cases"`
}

type caseExpect struct {
	Case     string           `yaml:"case"`
	Analyzer string           `yaml:"analyzer,omitempty"`
	Files    []string         `yaml:"files,flow"`
	Messages []*messageExpect `yaml:"messages,omitempty"`
	// Flagged lists the errors and warnings meshdoctor reports on a case
	// that expects no message, each with why the problem is real.
	Flagged []*flaggedExpect `yaml:"flagged,omitempty"`
}

type messageExpect struct {
	Code     string `yaml:"code"`
	Message  string `yaml:"message"`
	Resource string `yaml:"resource"`
	Status   string `yaml:"status"`
	Reason   string `yaml:"reason,omitempty"`
	// Istioctl is istioctl analyze --use-kube=false's outcome on the same
	// files (match or missing), recorded by TestIstioctlConformance.
	Istioctl string `yaml:"istioctl,omitempty"`
}

type flaggedExpect struct {
	Rule     string `yaml:"rule"`
	Resource string `yaml:"resource"`
	Reason   string `yaml:"reason"`
}

func caseKey(name string, files []string) string { return name + " " + strings.Join(files, ",") }

func readAnalyzerExpectations(t *testing.T) *analyzerExpectations {
	t.Helper()
	b, err := os.ReadFile(analyzersFile)
	if err != nil {
		if *update && os.IsNotExist(err) {
			return &analyzerExpectations{}
		}
		t.Fatal(err)
	}
	var e analyzerExpectations
	if err := yaml.Unmarshal(b, &e); err != nil {
		t.Fatalf("%s: %v", analyzersFile, err)
	}
	return &e
}

const analyzersHeader = `# Istio's analyzer tests (pkg/config/analysis/analyzers/analyzers_test.go in
# the istio module below) as a conformance set for meshdoctor: each message
# istioctl analyze is expected to report, and whether meshdoctor reports it
# on the same resource from a rule that covers the IST code
# (internal/conformance, TestIstioAnalyzers):
#   match    a finding of a rule covering the code names the resource
#   differs  meshdoctor deliberately does not report it (reason: why)
#   missing  not covered yet
# Cases expecting no message list under flagged the errors and warnings
# meshdoctor reports there, each with why the problem is real.
# istioctl: istioctl analyze --use-kube=false's own outcome on the same
# files (TestIstioctlConformance, ISTIOCTL=path).
# go test ./internal/conformance -run Istio -update rewrites the statuses
# and keeps the reasons; a status that changed must be committed.
`

func writeAnalyzerExpectations(t *testing.T, e *analyzerExpectations) {
	t.Helper()
	var buf bytes.Buffer
	buf.WriteString(analyzersHeader)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(e); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(analyzersFile, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestIstioAnalyzers runs meshdoctor over every case of Istio's analyzer
// tests and holds the outcome to istio-analyzers.yaml.
func TestIstioAnalyzers(t *testing.T) {
	dir := istioSource(t)
	cases := analyzerCases(t, dir)
	exp := readAnalyzerExpectations(t)
	old := map[string]*caseExpect{}
	for _, c := range exp.Cases {
		old[caseKey(c.Case, c.Files)] = c
	}
	testdata := filepath.Join(dir, "pkg", "config", "analysis", "analyzers")
	var next []*caseExpect
	var fails []string
	failf := func(format string, args ...any) { fails = append(fails, fmt.Sprintf(format, args...)) }
	score := map[string]*[2]int{} // code -> matched, total
	matched, total := 0, 0
	seen := map[string]bool{}
	for _, c := range cases {
		key := caseKey(c.Name, c.Files)
		if seen[key] {
			t.Fatalf("two Istio cases named %s on %v: the expectations cannot tell them apart", c.Name, c.Files)
		}
		seen[key] = true
		prev := old[key]
		delete(old, key)
		if prev == nil {
			failf("case %s %v is not in %s (run with -update)", c.Name, c.Files, analyzersFile)
			prev = &caseExpect{}
		}
		args := []string{}
		if c.MeshConfig != "" {
			args = append(args, "--mesh-config", filepath.Join(testdata, c.MeshConfig))
		}
		for _, f := range c.Files {
			args = append(args, filepath.Join(testdata, f))
		}
		found := analyze(t, args...)
		ce := &caseExpect{Case: c.Name, Analyzer: c.Analyzer, Files: c.Files}
		// Expected messages pair with the file's entries of the same code
		// and resource, in order (a table may expect one several times).
		prevMsgs := map[string][]*messageExpect{}
		for _, m := range prev.Messages {
			k := m.Code + " " + m.Resource
			prevMsgs[k] = append(prevMsgs[k], m)
		}
		for _, m := range c.Expected {
			k := m.Code + " " + m.Resource
			var pm *messageExpect
			if l := prevMsgs[k]; len(l) > 0 {
				pm, prevMsgs[k] = l[0], l[1:]
			} else if prev.Case != "" {
				failf("%s: message %s %s on %s is not in %s (run with -update)", c.Name, m.Code, m.Name, m.Resource, analyzersFile)
			}
			res, err := parseResource(m.Resource)
			if err != nil {
				t.Fatalf("%s: %v", c.Name, err)
			}
			ok := reportsCode(found, m.Code, res)
			me := &messageExpect{Code: m.Code, Message: m.Name, Resource: m.Resource}
			if pm != nil {
				me.Reason, me.Istioctl = pm.Reason, pm.Istioctl
			}
			switch {
			case ok:
				me.Status, me.Reason = statusMatch, ""
			case pm != nil && pm.Status == statusDiffers:
				me.Status = statusDiffers
			default:
				me.Status = statusMissing
			}
			if pm != nil && pm.Status != me.Status {
				switch {
				case pm.Status == statusMatch:
					failf("%s: %s %s on %s no longer matches (rules %s)%s", c.Name, m.Code, m.Name, m.Resource, ruleNames(m.Code), foundOn(found, res))
				case ok:
					failf("%s: %s %s on %s now matches: set its status to match (-update) so the score stays honest", c.Name, m.Code, m.Name, m.Resource)
				default:
					failf("%s: %s %s on %s: unknown status %q", c.Name, m.Code, m.Name, m.Resource, pm.Status)
				}
			}
			if me.Status == statusDiffers && strings.TrimSpace(me.Reason) == "" {
				failf("%s: %s on %s differs without a reason", c.Name, m.Code, m.Resource)
			}
			ce.Messages = append(ce.Messages, me)
			s := score[m.Code]
			if s == nil {
				s = &[2]int{}
				score[m.Code] = s
			}
			s[1]++
			total++
			if ok {
				s[0]++
				matched++
			}
		}
		for k, l := range prevMsgs {
			if len(l) > 0 {
				failf("%s: %s is not expected by Istio's table any more (run with -update)", c.Name, k)
			}
		}
		if len(c.Expected) == 0 {
			ce.Flagged = quietCheck(c.Name, found, prev.Flagged, failf)
		}
		next = append(next, ce)
	}
	for k := range old {
		failf("case %s is no longer in Istio's table (run with -update)", k)
	}
	logScore(t, "meshdoctor", matched, total, score)
	if *update {
		exp.Istio = istioModule
		exp.Cases = next
		writeAnalyzerExpectations(t, exp)
		writeConformanceDoc(t, exp)
		for _, f := range fails {
			t.Log("updated: " + f)
		}
		return
	}
	if exp.Istio != istioModule {
		failf("%s is for %s, the test reads %s (run with -update)", analyzersFile, exp.Istio, istioModule)
	}
	for _, f := range fails {
		t.Error(f)
	}
}

// quietCheck holds the errors and warnings meshdoctor reports on a case
// Istio expects nothing of to the listed ones, and returns them with their
// reasons (a new one gets none, which fails until someone writes why it
// is real or fixes the rule).
func quietCheck(name string, found []reported, listed []*flaggedExpect, failf func(string, ...any)) []*flaggedExpect {
	reasons := map[string]string{}
	for _, f := range listed {
		reasons[f.Rule+" "+f.Resource] = f.Reason
	}
	var out []*flaggedExpect
	dup := map[string]bool{}
	for _, f := range found {
		if !f.serious() {
			continue
		}
		res := resource{Kind: f.Resource.Kind, Namespace: f.Resource.Namespace, Name: f.Resource.Name}.String()
		k := f.Rule + " " + res
		if dup[k] {
			continue
		}
		dup[k] = true
		reason, ok := reasons[k]
		delete(reasons, k)
		if !ok {
			failf("%s: expects no message, meshdoctor reports %s %s on %s (%s): %s", name, f.Severity, f.Rule, res, f.Origin, f.Message)
		} else if strings.TrimSpace(reason) == "" {
			failf("%s: %s on %s is listed without a reason why it is real", name, f.Rule, res)
		}
		out = append(out, &flaggedExpect{Rule: f.Rule, Resource: res, Reason: reason})
	}
	for k := range reasons {
		failf("%s: listed finding %s is no longer reported (run with -update)", name, k)
	}
	return out
}

// reportsCode tells whether a rule covering an IST code reported on res.
func reportsCode(found []reported, code string, res resource) bool {
	rules := map[string]bool{}
	for _, r := range catalog.ByIST(code) {
		rules[r.Name] = true
	}
	for _, f := range found {
		if rules[f.Rule] && res.names(f.Resource) {
			return true
		}
	}
	return false
}

func ruleNames(code string) string {
	var names []string
	for _, r := range catalog.ByIST(code) {
		names = append(names, r.Name)
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// foundOn lists what meshdoctor did report on res, to help read a
// regression.
func foundOn(found []reported, res resource) string {
	var out []string
	for _, f := range found {
		if res.names(f.Resource) {
			out = append(out, f.Rule)
		}
	}
	if len(out) == 0 {
		return "; nothing reported on it"
	}
	return "; reported on it: " + strings.Join(out, ", ")
}

// logScore prints matched/total and the per-code breakdown (go test -v).
func logScore(t *testing.T, who string, matched, total int, score map[string]*[2]int) {
	t.Helper()
	codes := make([]string, 0, len(score))
	for c := range score {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	var b strings.Builder
	fmt.Fprintf(&b, "%s matches %d/%d of the messages Istio's analyzer tests expect\n", who, matched, total)
	for _, c := range codes {
		fmt.Fprintf(&b, "  %s %d/%d\n", c, score[c][0], score[c][1])
	}
	t.Log(b.String())
}
