package conformance

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
)

const conformanceDoc = "../../docs/conformance.md"

// renderConformanceDoc writes docs/conformance.md from
// istio-analyzers.yaml: the scores, per code, and each deliberate
// difference with its reason.
func renderConformanceDoc(e *analyzerExpectations) string {
	type row struct {
		code, name                               string
		total, match, differs, missing, istioctl int
	}
	rows := map[string]*row{}
	var all row
	measured := false
	for _, c := range e.Cases {
		for _, m := range c.Messages {
			r := rows[m.Code]
			if r == nil {
				r = &row{code: m.Code, name: m.Message}
				rows[m.Code] = r
			}
			for _, x := range []*row{r, &all} {
				x.total++
				switch m.Status {
				case statusMatch:
					x.match++
				case statusDiffers:
					x.differs++
				default:
					x.missing++
				}
				measured = measured || m.Istioctl != ""
				if m.Istioctl == statusMatch {
					x.istioctl++
				}
			}
		}
	}
	codes := make([]string, 0, len(rows))
	for c := range rows {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	var b strings.Builder
	b.WriteString(`# Conformance with istioctl analyze

Generated from testdata/conformance/istio-analyzers.yaml by
` + "`go test ./internal/conformance -run 'TestIstio' -update`" + `; do not edit.

Istio's own analyzer tests (pkg/config/analysis/analyzers/analyzers_test.go
in ` + e.Istio + `) list, for each case's input files, the messages
istioctl analyze must report: a code and the resource it is reported on.
TestIstioAnalyzers runs ` + "`meshdoctor analyze`" + ` over each case's files (file mode, with
the case's mesh config) and counts a message as matched when a rule that
covers its IST code (` + "`meshdoctor rules IST0101`" + `) reports on the same resource.
Cases that expect no message must stay quiet (no error or warning) unless
the finding is listed as real. TestIstioctlConformance scores
` + "`istioctl analyze --use-kube=false`" + ` (every analyzer, as a user runs it; the union
of runs with and without -A) on the same files: ` + "`ISTIOCTL=$(hack/istioctl.sh) go test ./internal/conformance -run Istioctl -v`" + `.

`)
	fmt.Fprintf(&b, "| | matched | differs (deliberately) | missing |\n|---|---|---|---|\n")
	fmt.Fprintf(&b, "| meshdoctor | %d/%d | %d | %d |\n", all.match, all.total, all.differs, all.missing)
	istioctl := func(r *row) string {
		if !measured {
			return "not measured"
		}
		return fmt.Sprintf("%d/%d", r.istioctl, r.total)
	}
	fmt.Fprintf(&b, "| istioctl analyze --use-kube=false (with and without -A) | %s | | |\n\n", istioctl(&all))
	b.WriteString("## By code\n\n| code | message | expected | meshdoctor | differs | missing | istioctl |\n|---|---|---|---|---|---|---|\n")
	for _, c := range codes {
		r := rows[c]
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %d | %d | %s |\n", r.code, r.name, r.total, r.match, r.differs, r.missing, istioctl(r))
	}
	b.WriteString("\n## Deliberate differences\n\n")
	for _, c := range e.Cases {
		for _, m := range c.Messages {
			if m.Status == statusDiffers {
				fmt.Fprintf(&b, "- %s %s on %s (case %q): %s\n", m.Code, m.Message, m.Resource, c.Case, m.Reason)
			}
		}
	}
	var flagged []string
	for _, c := range e.Cases {
		for _, f := range c.Flagged {
			flagged = append(flagged, fmt.Sprintf("- %s on %s (case %q): %s\n", f.Rule, f.Resource, c.Case, f.Reason))
		}
	}
	if len(flagged) > 0 {
		b.WriteString("\n## Real findings on cases Istio expects nothing of\n\n")
		b.WriteString(strings.Join(flagged, ""))
	}
	return b.String()
}

func writeConformanceDoc(t *testing.T, e *analyzerExpectations) {
	t.Helper()
	if err := os.WriteFile(conformanceDoc, []byte(renderConformanceDoc(e)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestConformanceDocFresh keeps docs/conformance.md in step with the
// expectations it is generated from.
func TestConformanceDocFresh(t *testing.T) {
	e := readAnalyzerExpectations(t)
	b, err := os.ReadFile(conformanceDoc)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != renderConformanceDoc(e) {
		t.Errorf("%s is stale: go test ./internal/conformance -run TestIstioAnalyzers -update", conformanceDoc)
	}
}
