package upgrade

import (
	"fmt"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// coveredByRule are catalog changes an analyze rule already reports under
// --upgrade-to (with the exact fix): their findings would repeat it.
var coveredByRule = map[string]string{
	"auto-sni":                     "auto-sni-san-mismatch",
	"verify-certificate-at-client": "auto-sni-san-mismatch",
	"envoyfilter-legacy-names":     "envoyfilter-legacy-envoy-api",
}

// Findings turns the affected changes of an evaluation into findings, one
// per change and resource, for analyze --upgrade-to.
func Findings(results []Result) []finding.Finding {
	var out []finding.Finding
	for _, r := range results {
		if !r.Affected || coveredByRule[r.Change.ID] != "" {
			continue
		}
		ch := r.Change
		for _, res := range r.Resources {
			f := finding.Finding{Code: rules.UpgradeChange.Code, Rule: rules.UpgradeChange.Name, Severity: rules.UpgradeChange.Severity, Resource: res.Resource, Origin: res.Origin}
			if sev, err := finding.ParseSeverity(ch.Severity); ch.Severity != "" && err == nil {
				f.Severity = sev
			}
			what := ch.Title
			if ch.Flag != "" {
				what += " (" + ch.Flag + ")"
			}
			f.Message = fmt.Sprintf("Istio %s: %s; %s %s: %s", ch.Release, what, res.Resource.Kind, refName(res), res.Detail)
			f.Symptom = strings.TrimSpace(ch.Symptom)
			f.Fix = strings.TrimSpace(ch.Fix)
			if len(ch.Sources) > 0 {
				f.Fix += " (" + ch.Sources[0] + ")"
			}
			out = append(out, f)
		}
	}
	return out
}

func refName(r Resource) string {
	if r.Resource.Namespace == "" {
		return r.Resource.Name
	}
	return r.Resource.Namespace + "/" + r.Resource.Name
}
