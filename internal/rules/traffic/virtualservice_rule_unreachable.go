package traffic

import (
	"fmt"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// VirtualServiceRuleUnreachable: a VirtualService rule that no request
// reaches, because an earlier rule of the same VirtualService matches
// everything it matches.
var VirtualServiceRuleUnreachable = &rules.Rule{
	Code: "MD1004", Name: "virtualservice-rule-unreachable", Severity: finding.Warning, Area: "traffic",
	Summary: "A VirtualService rule is never used: an earlier rule (a catch-all, the same match, or a broader one) takes all its requests.",
	Needs:   []string{"VirtualService"},
	Since:   "0.2.0",
	IST:     []string{"IST0130", "IST0131"},
	Doc: rules.Doc{
		Mechanism: "The proxy tries a VirtualService's http (tcp, tls) rules in the order written and the first rule whose match fits decides; the rules after it are not consulted. A rule is dead when an earlier one matches every request it would: an earlier rule without match (a catch-all), or earlier match blocks that are the same condition or broader (uri prefix /api before /api/v2, fewer headers, no method). istioctl analyze (IST0130) reports catch-alls and identical matches; meshdoctor also finds broader earlier matches, comparing exact, prefix and regex conditions, headers, query parameters, ports, source labels and gateways. It does not compare rules of different VirtualServices merged on a gateway.",
		Symptom:   "The rule's destination, subset, rewrite, retries or fault never apply: its requests get the earlier rule's behaviour (canary or header routing seems ignored).",
		Fix:       "Put the specific rule before the broader one (most specific first, the catch-all last), narrow the earlier match, or delete the dead rule.",
		Before:    "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\nspec:\n  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews, subset: v1}\n  - match:\n    - headers:\n        end-user: {exact: jason}\n    route:\n    - destination: {host: reviews, subset: v2}\n",
		After:     "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\nspec:\n  hosts: [reviews]\n  http:\n  - match:\n    - headers:\n        end-user: {exact: jason}\n    route:\n    - destination: {host: reviews, subset: v2}\n  - route:\n    - destination: {host: reviews, subset: v1}\n",
		Sources: []string{
			"https://istio.io/latest/docs/reference/config/analysis/ist0130/",
			"https://istio.io/latest/docs/concepts/traffic-management/#routing-rule-precedence",
			"https://istio.io/latest/docs/reference/config/networking/virtual-service/#HTTPRoute",
		},
	},
	Run: runVirtualServiceRuleUnreachable,
}

func runVirtualServiceRuleUnreachable(p *rules.Pass) {
	for _, vs := range p.Model.VirtualServices {
		for _, s := range p.Model.ShadowedRoutes(vs) {
			if s.Match >= 0 {
				continue // virtualservice-match-ineffective
			}
			f := rules.At(vs.Object, s.Path()...)
			f.Message = fmt.Sprintf("VirtualService %s/%s rule %s[%d]%s is never used: %s", vs.Namespace, vs.Name, s.Kind, s.Rule, ruleName(vs, s), shadowReason(s))
			f.Symptom = fmt.Sprintf("requests this rule was written for are decided by %s instead: its destinations and settings never apply", s.ByName())
			f.Fix = fmt.Sprintf("move %s[%d] before %s[%d] (specific rules first, the catch-all last), narrow %s, or delete %s[%d]", s.Kind, s.Rule, s.Kind, s.By, s.ByName(), s.Kind, s.Rule)
			p.Report(f)
		}
	}
}

// shadowReason says why the earlier rule takes the requests.
func shadowReason(s mesh.Shadow) string {
	switch {
	case s.ByMatch < 0:
		return fmt.Sprintf("the earlier rule %s[%d] has no match and takes every request", s.Kind, s.By)
	case s.Match < 0 && s.Duplicate:
		return fmt.Sprintf("earlier rules already match the same conditions (first: %s)", s.ByName())
	case s.Match < 0:
		return fmt.Sprintf("earlier matches are broader and take all its requests (first: %s)", s.ByName())
	case s.Duplicate:
		return fmt.Sprintf("the earlier %s is the same condition", s.ByName())
	}
	return fmt.Sprintf("the earlier %s is broader and matches every request it matches", s.ByName())
}

// ruleName is " (name)" for a named http rule.
func ruleName(vs *mesh.VirtualService, s mesh.Shadow) string {
	if s.Kind == "http" && s.Rule < len(vs.Spec.Http) && vs.Spec.Http[s.Rule].GetName() != "" {
		return " (" + vs.Spec.Http[s.Rule].GetName() + ")"
	}
	return ""
}
