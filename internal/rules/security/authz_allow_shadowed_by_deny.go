package security

import (
	"fmt"

	secapi "istio.io/api/security/v1beta1"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// AuthzAllowShadowedByDeny: an ALLOW rule names a caller that a DENY rule
// on the same workloads always rejects.
var AuthzAllowShadowedByDeny = &rules.Rule{
	Code: "MD2025", Name: "authz-allow-shadowed-by-deny", Severity: finding.Warning, Area: "security",
	Summary: "An ALLOW rule names a caller (principal or namespace) that a DENY rule applying to the same workloads rejects for every request: the ALLOW never takes effect and the caller gets 403.",
	Needs:   []string{"AuthorizationPolicy"},
	Reads:   []string{"Namespace"},
	Since:   "0.3.0",
	Doc: rules.Doc{
		Mechanism: "Istio evaluates CUSTOM, then DENY, then ALLOW policies: a request any DENY rule matches is rejected before ALLOW policies are looked at, whatever they say. A DENY in the root namespace (mesh-wide), the workload's namespace, or selecting the workload, whose source matches a caller for every path, method and port (from.source.namespaces, notNamespaces, notPrincipals …, no operation), therefore overrides an ALLOW rule written for that caller. meshdoctor reports ALLOW sources that name a caller exactly (a cluster.local principal, or a namespace) when, for every workload the ALLOW policy selects, a DENY rule matches that caller regardless of the request.",
		Symptom:   "The caller gets HTTP 403 \"RBAC: access denied\" (TCP: the connection closes at once) although an ALLOW policy lists it; the server's istio-proxy logs rbac_access_denied_matched_policy[ns[NS]-policy[DENY-POLICY]-rule[N]].",
		Fix:       "Narrow the DENY rule (exclude the caller with notPrincipals / notNamespaces, or restrict it to the operations it is meant for), or remove the caller from the ALLOW rule if the DENY is intended.",
		Before:    "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: deny-legacy, namespace: istio-system}\nspec:\n  action: DENY\n  rules:\n  - from:\n    - source:\n        namespaces: [legacy]\n---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: reports, namespace: shop}\nspec:\n  selector:\n    matchLabels: {app: reports}\n  rules:\n  - from:\n    - source:\n        namespaces: [legacy]   # denied mesh-wide first\n",
		After:     "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: deny-legacy, namespace: istio-system}\nspec:\n  action: DENY\n  rules:\n  - from:\n    - source:\n        namespaces: [legacy]\n    to:\n    - operation:\n        notPaths: [\"/reports/*\"]\n",
		Sources: []string{
			"https://istio.io/latest/docs/concepts/security/#authorization-policy-precedence",
			"https://istio.io/latest/docs/reference/config/security/authorization-policy/",
			"https://istio.io/latest/docs/tasks/security/authorization/authz-deny/",
		},
	},
	Run: runAuthzAllowShadowedByDeny,
}

func runAuthzAllowShadowedByDeny(p *rules.Pass) {
	m := p.Model
	for _, pol := range m.AuthorizationPolicies() {
		if pol.DryRun() || pol.Action() != secapi.AuthorizationPolicy_ALLOW {
			continue
		}
		var ws []*mesh.Workload
		for _, w := range m.PolicyWorkloads(pol) {
			if m.Meshed(w) {
				ws = append(ws, w)
			}
		}
		if len(ws) == 0 {
			continue
		}
		for i, rule := range pol.Spec.GetRules() {
			for _, src := range mesh.ExactSources(rule) {
				deny, denyRule, ok := shadowingDeny(m, ws, src)
				if !ok {
					continue
				}
				who := "namespace " + src.Identity.Namespace
				if !src.AnyServiceAccount {
					who = src.Identity.Principal()
				}
				f := rules.At(pol.Object, append([]any{"spec", "rules", i}, src.Path...)...)
				f.Message = fmt.Sprintf("rule %d of ALLOW AuthorizationPolicy %s/%s admits %s, but DENY AuthorizationPolicy %s/%s rule %d matches every request from it at %s: DENY is evaluated before ALLOW",
					i, pol.Namespace, pol.Name, who, deny.Namespace, deny.Name, denyRule, rules.WorkloadList(ws, 3))
				f.Symptom = fmt.Sprintf("requests from %s get HTTP 403 \"RBAC: access denied\" (TCP: connection closed); the server's istio-proxy logs rbac_access_denied_matched_policy[ns[%s]-policy[%s]-rule[%d]]", who, deny.Namespace, deny.Name, denyRule)
				f.Fix = fmt.Sprintf("narrow rule %d of DENY AuthorizationPolicy %s/%s so it does not match %s (e.g. add it to notNamespaces/notPrincipals, or restrict the rule's to.operation), or drop %s from this ALLOW rule if the DENY is intended", denyRule, deny.Namespace, deny.Name, who, who)
				p.Report(f)
			}
		}
	}
}

// shadowingDeny finds a DENY rule that always rejects src at every one of
// ws (the first workload's, named in the message).
func shadowingDeny(m *mesh.Model, ws []*mesh.Workload, src mesh.SourceIdentity) (*mesh.AuthorizationPolicy, int, bool) {
	var first *mesh.AuthorizationPolicy
	firstRule := -1
	for _, w := range ws {
		found := false
		for _, d := range m.AuthorizationPoliciesFor(w) {
			if d.Action() != secapi.AuthorizationPolicy_DENY {
				continue
			}
			for j, r := range d.Spec.GetRules() {
				if mesh.AlwaysDenies(r, src) {
					if first == nil {
						first, firstRule = d, j
					}
					found = true
					break
				}
			}
			if found {
				break
			}
		}
		if !found {
			return nil, -1, false
		}
	}
	return first, firstRule, first != nil
}
