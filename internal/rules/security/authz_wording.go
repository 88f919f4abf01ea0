package security

import (
	"fmt"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// What the AuthorizationPolicy rules say about a denied call, shared so
// that every RBAC finding words the decision the same way.

// rbacSymptom is what a denied HTTP or TCP client sees, and what the
// server's proxy logs (Envoy's RBAC filter: the matched policy, or none).
func rbacSymptom(ca mesh.CallAuthz) string {
	logged := "rbac_access_denied_matched_policy[none]"
	if d := ca.Decision; d.Outcome == mesh.AuthzDenied {
		logged = fmt.Sprintf("rbac_access_denied_matched_policy[ns[%s]-policy[%s]-rule[%d]]", d.Policy.Namespace, d.Policy.Name, d.Rule)
	}
	if ca.Request.HTTP {
		return "HTTP 403 with body \"RBAC: access denied\"; the server's istio-proxy access log shows 403 " + logged
	}
	return "the TCP connection is accepted and closed at once (\"connection reset by peer\" / EOF); the server's istio-proxy access log shows " + logged
}

// decisionText says which policy denied the call and why.
func decisionText(d mesh.AuthzDecision) string {
	p := d.Policy
	name := "AuthorizationPolicy " + p.Namespace + "/" + p.Name
	switch d.Outcome {
	case mesh.AuthzDenied:
		return fmt.Sprintf("DENY %s rule %d matches it", name, d.Rule)
	case mesh.AuthzNoAllowMatch:
		var names []string
		for _, a := range d.Allow {
			names = append(names, a.Namespace+"/"+a.Name+" ("+allowSummary(a)+")")
		}
		s := "no rule of the ALLOW policies " + rules.ListUpTo(names, 3) + " matches it"
		if len(d.Dropped) > 0 {
			s += fmt.Sprintf("; %d ALLOW rule(s) with HTTP-only fields are dropped on this TCP port", len(d.Dropped))
		}
		return s
	}
	return name
}

// allowSummary says whom an ALLOW policy lets in, from its sources.
func allowSummary(p *mesh.AuthorizationPolicy) string {
	if len(p.Spec.GetRules()) == 0 {
		return "no rules: allows nothing"
	}
	var parts []string
	for _, r := range p.Spec.GetRules() {
		for _, f := range r.GetFrom() {
			s := f.GetSource()
			for _, kv := range []struct {
				k string
				v []string
			}{{"principals", s.GetPrincipals()}, {"namespaces", s.GetNamespaces()}, {"serviceAccounts", s.GetServiceAccounts()}, {"requestPrincipals", s.GetRequestPrincipals()}, {"ipBlocks", s.GetIpBlocks()}} {
				if len(kv.v) > 0 {
					parts = append(parts, kv.k+" "+strings.Join(kv.v, ","))
				}
			}
		}
	}
	if len(parts) == 0 {
		return "no source restriction"
	}
	return "from " + rules.ListUpTo(parts, 3)
}

// rbacFinding places a finding on the deciding field of the policy.
func rbacFinding(d mesh.AuthzDecision) finding.Finding {
	return finding.Finding{Resource: d.Policy.Ref(), Origin: d.Policy.Pos(d.Path...)}
}

// identityText names the identity the server sees.
func identityText(id mesh.Identity) string {
	if !id.MTLS {
		return "no peer identity (plaintext)"
	}
	return "peer identity " + id.Principal() + " (namespace " + id.Namespace + ")"
}

// allowRuleYAML is an ALLOW rule for one principal, as a fix.
func allowRuleYAML(p *mesh.AuthorizationPolicy, principal string) string {
	return fmt.Sprintf("# add to spec.rules of AuthorizationPolicy %s/%s:\n- from:\n  - source:\n      principals: [\"%s\"]", p.Namespace, p.Name, principal)
}
