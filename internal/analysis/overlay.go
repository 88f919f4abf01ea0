package analysis

import (
	"fmt"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// deniedFindings turns kinds the credentials may not list into one
// partial-access finding each, naming the rules that read that kind.
func deniedFindings(ds []Denied, rs []*rules.Rule) []finding.Finding {
	var out []finding.Finding
	for _, d := range ds {
		var affected []string
		for _, r := range rs {
			for _, k := range append(r.Needs[:len(r.Needs):len(r.Needs)], r.Reads...) {
				if gk, known := mesh.ParseKind(k); gk.Kind == d.Kind && (!known || gk.Group == d.Group) {
					affected = append(affected, r.Name)
					break
				}
			}
		}
		kind := d.Kind
		resource := d.Resource
		if resource == "" {
			resource = strings.ToLower(d.Kind) + "s"
		}
		if d.Group != "" {
			kind += "." + d.Group
		}
		where := "in any namespace"
		if d.Namespace != "" {
			where = "in namespace " + d.Namespace
		}
		ref := manifest.Ref{Kind: d.Kind, Namespace: d.Namespace, Name: "*"}
		verb := d.Verb
		if verb == "" {
			verb = "list"
		}
		msg := fmt.Sprintf("cannot %s %s %s (%s): these resources were not analyzed", verb, kind, where, d.Reason)
		if len(affected) > 0 {
			msg += "; skipped or incomplete rules: " + strings.Join(affected, ", ")
		}
		out = append(out, finding.Finding{
			Code: rules.PartialAccess.Code, Rule: rules.PartialAccess.Name, Severity: rules.PartialAccess.Severity,
			Resource: ref, Origin: manifest.Position{File: manifest.ClusterOrigin(ref)},
			Message: msg,
			Symptom: "problems in " + d.Kind + " resources (and those that depend on them) are not reported: the result is incomplete, not clean",
			Fix: fmt.Sprintf("grant read access, e.g. a (Cluster)Role rule:\n  - apiGroups: [%q]\n    resources: [%q]\n    verbs: [get, list]\nor accept the gap with --ignore %s",
				d.Group, resource, rules.PartialAccess.Name),
		})
	}
	return out
}

// fallbackFinding says that only one namespace was read, and why.
func fallbackFinding(ns string) finding.Finding {
	ref := manifest.Ref{Kind: "Namespace", Name: ns}
	return finding.Finding{
		Code: rules.PartialAccess.Code, Rule: rules.PartialAccess.Name, Severity: finding.Info,
		Resource: ref, Origin: manifest.Position{File: manifest.ClusterOrigin(ref)},
		Message: fmt.Sprintf("cannot list resources across namespaces, so only namespace %s (the kubeconfig context's) was read, as kubectl does without -A", ns),
		Symptom: "problems in other namespaces, and references into them, are not reported",
		Fix:     "pass -n NAMESPACE for another namespace, or use credentials that may list across namespaces (a ClusterRole with get and list) for the whole cluster",
	}
}

// key identifies a finding across two runs regardless of where the
// resource came from (file or cluster).
type key struct {
	rule    string
	ref     manifest.Ref
	message string
}

// MarkPreExisting marks the findings of res that the baseline run (the
// cluster as it is, without the files applied) also has. A finding matches
// one of the baseline with the same rule, resource and message; then, as
// messages may quote objects the files changed ("defines only v1"), one
// with the same rule and resource that is still unmatched. What remains
// unmarked is what applying the files would introduce, even on a cluster
// resource the files did not touch.
func MarkPreExisting(res, baseline *Result) {
	exact := make(map[key]int, len(baseline.Findings))
	for _, f := range baseline.Findings {
		exact[key{f.Rule, f.Resource, f.Message}]++
	}
	// Baseline findings not matched exactly, by rule and resource.
	loose := map[key]int{}
	var pending []int
	for i := range res.Findings {
		k := key{res.Findings[i].Rule, res.Findings[i].Resource, res.Findings[i].Message}
		if exact[k] > 0 {
			exact[k]--
			res.Findings[i].PreExisting = true
			continue
		}
		pending = append(pending, i)
	}
	for k, n := range exact {
		loose[key{k.rule, k.ref, ""}] += n
	}
	for _, i := range pending {
		k := key{res.Findings[i].Rule, res.Findings[i].Resource, ""}
		if loose[k] > 0 {
			loose[k]--
			res.Findings[i].PreExisting = true
		}
	}
}

// DropPreExisting removes pre-existing findings (--only-new).
func (r *Result) DropPreExisting() {
	out := r.Findings[:0]
	for _, f := range r.Findings {
		if !f.PreExisting {
			out = append(out, f)
		}
	}
	r.Findings = out
}
