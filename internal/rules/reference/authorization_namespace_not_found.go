package reference

import (
	"fmt"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/rules"
	"github.com/meshdoctor/meshdoctor/internal/spelling"
)

// AuthorizationNamespaceNotFound: an AuthorizationPolicy source names a
// namespace that does not exist, while one a typo away does.
var AuthorizationNamespaceNotFound = &rules.Rule{
	Code: "MD5013", Name: "authorization-namespace-not-found", Severity: finding.Error, Area: "reference",
	Summary: "An AuthorizationPolicy source names a namespace that is not in the input while one a typo away is.",
	Needs:   []string{"AuthorizationPolicy"},
	Since:   "0.3.0",
	IST:     []string{"IST0101"},
	Doc: rules.Doc{
		Mechanism: "An AuthorizationPolicy rule's from.source.namespaces and notNamespaces match the namespace in the caller's mTLS identity (spiffe://<trust domain>/ns/<namespace>/sa/<account>) exactly, case included; \"prefix*\" and \"*suffix\" are the only patterns. A misspelled namespace matches no caller and Istio does not reject it. istioctl analyze reports every namespace that is not in the cluster (IST0101); manifests rarely hold every namespace of a cluster, so meshdoctor reports a namespace only when it is absent from the input and one that is present differs from it by a typo (at most two edits, case ignored): the policy's author most likely meant that one.",
		Symptom:   "For an ALLOW policy, callers from the intended namespace are denied with HTTP 403 \"RBAC: access denied\"; for a DENY policy, they are not denied; a notNamespaces entry inverts either.",
		Fix:       "Correct the namespace to the existing one.",
		Before:    "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: payments\n  namespace: payments\nspec:\n  action: ALLOW\n  rules:\n  - from:\n    - source:\n        namespaces: [chekout]     # namespace checkout\n",
		After:     "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: payments\n  namespace: payments\nspec:\n  action: ALLOW\n  rules:\n  - from:\n    - source:\n        namespaces: [checkout]\n",
		Sources: []string{
			"https://istio.io/latest/docs/reference/config/security/authorization-policy/#Source",
			"https://istio.io/latest/docs/reference/config/analysis/ist0101/",
		},
	},
	Run: runAuthorizationNamespaceNotFound,
}

func runAuthorizationNamespaceNotFound(p *rules.Pass) {
	m := p.Model
	aps := m.AuthorizationPolicies()
	if len(aps) == 0 {
		return
	}
	known := m.InputNamespaces()
	exists := map[string]bool{}
	for _, ns := range known {
		exists[ns] = true
	}
	for _, ap := range aps {
		action := ap.Action().String()
		for i, r := range ap.Spec.GetRules() {
			for j, from := range r.GetFrom() {
				src := from.GetSource()
				for _, list := range []struct {
					field string
					names []string
				}{{"namespaces", src.GetNamespaces()}, {"notNamespaces", src.GetNotNamespaces()}} {
					for k, ns := range list.names {
						if ns == "" || exists[ns] || strings.ContainsRune(ns, '*') {
							continue
						}
						want := spelling.ClosestFold(ns, known, 2)
						if want == "" || spelling.Distance(strings.ToLower(ns), want)*3 > len(want) || siblings(strings.ToLower(ns), want) {
							continue // not a typo of anything here: a namespace outside the input
						}
						f := rules.At(ap.Object, "spec", "rules", i, "from", j, "source", list.field, k)
						f.Message = fmt.Sprintf("AuthorizationPolicy %s/%s %s rule %d source.%s names namespace %q, which is not in the input; did you mean %q?", ap.Object.Namespace, ap.Object.Name, action, i, list.field, ns, want)
						f.Symptom = namespaceSymptom(action, list.field == "notNamespaces", want)
						f.Fix = fmt.Sprintf("correct the namespace:\n    source:\n      %s: [%s]", list.field, want)
						p.Report(f)
					}
				}
			}
		}
	}
}

func namespaceSymptom(action string, not bool, want string) string {
	switch {
	case action != "ALLOW" && action != "" && action != "DENY":
		return fmt.Sprintf("the rule treats callers from namespace %s the opposite way it was written to (%s)", want, action)
	case (action == "DENY") == not:
		// ALLOW namespaces, or DENY notNamespaces: callers from want
		// are left out of what is allowed.
		return fmt.Sprintf("callers from namespace %s are not allowed by this rule: unless another rule allows them they get HTTP 403 \"RBAC: access denied\"", want)
	}
	return fmt.Sprintf("callers from namespace %s are not excluded as written: requests the policy should deny from there go through", want)
}

// siblings reports whether two namespace names look like members of one
// family rather than a typo: team-a and team-b, shop1 and shop2, differing
// only in a short last segment or a trailing number. A policy naming the
// sibling that is not in the input is most likely right.
func siblings(a, b string) bool {
	sa, sb := strings.Split(a, "-"), strings.Split(b, "-")
	if len(sa) == len(sb) && len(sa) > 1 {
		diff := -1
		for i := range sa {
			if sa[i] != sb[i] {
				if diff >= 0 {
					return false
				}
				diff = i
			}
		}
		if diff == len(sa)-1 && len(sa[diff]) <= 3 && len(sb[diff]) <= 3 {
			return true
		}
	}
	ta, tb := strings.TrimRight(a, "0123456789"), strings.TrimRight(b, "0123456789")
	return ta == tb && ta != a && tb != b
}
