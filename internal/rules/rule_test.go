package rules

import (
	"strings"
	"testing"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
)

// A panic in one rule becomes an internal-error finding; the others run.
func TestPanicBecomesFinding(t *testing.T) {
	boom := &Rule{Code: "MD9998", Name: "boom", Severity: finding.Error, Run: func(*Pass) {
		var w *mesh.Workload
		_ = w.Name // panics: nil pointer dereference
	}}
	ok := &Rule{Code: "MD9999", Name: "ok", Severity: finding.Warning, Run: func(p *Pass) {
		p.Report(finding.Finding{Message: "still ran", Symptom: "s", Fix: "f"})
	}}
	fs := Analyze(mesh.Build(nil, mesh.Options{}), []*Rule{boom, ok})
	var internal, ran bool
	for _, f := range fs {
		switch f.Rule {
		case InternalError.Name:
			internal = strings.Contains(f.Message, "rule boom crashed") && f.Severity == finding.Error
		case "ok":
			ran = f.Message == "still ran"
		}
	}
	if !internal || !ran {
		t.Fatalf("want an internal-error finding for boom and ok's finding, got %+v", fs)
	}
}
