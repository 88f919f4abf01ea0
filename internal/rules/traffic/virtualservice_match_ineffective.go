package traffic

import (
	"fmt"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// VirtualServiceMatchIneffective: one match block of a VirtualService rule
// never matches, because an earlier rule takes its requests; the rule's
// other match blocks still work.
var VirtualServiceMatchIneffective = &rules.Rule{
	Code: "MD1005", Name: "virtualservice-match-ineffective", Severity: finding.Info, Area: "traffic",
	Summary: "A match block of a VirtualService rule never decides: an earlier rule has the same or a broader match.",
	Needs:   []string{"VirtualService"},
	Since:   "0.2.0",
	IST:     []string{"IST0131"},
	Doc: rules.Doc{
		Mechanism: "A rule's match blocks are alternatives (OR) and rules are tried in order, first match wins. A match block whose requests all match an earlier rule (the same condition, or a broader one such as a shorter uri prefix) is never what selects its rule; the rule still applies through its other match blocks. istioctl analyze (IST0131) reports identical matches and overlapping uri prefixes; meshdoctor compares all conditions (exact, prefix and regex values, headers, query parameters, ports, sources, gateways). When every match block of a rule is shadowed the whole rule is dead, and virtualservice-rule-unreachable reports it instead. Match blocks of one rule that overlap each other (istioctl reports a block under a broader one of the same rule) are not reported: either sends the request to the same route, so no request goes anywhere but where it was meant to.",
		Symptom:   "Requests meant for this match block get the earlier rule's destination and settings; usually a copy-paste leftover or a route added below a broader one.",
		Fix:       "Remove the redundant match block, or move the rule above the broader one if it should win for those requests.",
		Before:    "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: shop\nspec:\n  hosts: [shop]\n  http:\n  - match:\n    - uri: {prefix: /api}\n    route:\n    - destination: {host: api}\n  - match:\n    - uri: {prefix: /api/v2}\n    - uri: {prefix: /v2}\n    route:\n    - destination: {host: api-v2}\n",
		After:     "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: shop\nspec:\n  hosts: [shop]\n  http:\n  - match:\n    - uri: {prefix: /api/v2}\n    - uri: {prefix: /v2}\n    route:\n    - destination: {host: api-v2}\n  - match:\n    - uri: {prefix: /api}\n    route:\n    - destination: {host: api}\n",
		Sources: []string{
			"https://istio.io/latest/docs/reference/config/analysis/ist0131/",
			"https://istio.io/latest/docs/concepts/traffic-management/#routing-rule-precedence",
		},
	},
	Run: runVirtualServiceMatchIneffective,
}

func runVirtualServiceMatchIneffective(p *rules.Pass) {
	for _, vs := range p.Model.VirtualServices {
		for _, s := range p.Model.ShadowedRoutes(vs) {
			if s.Match < 0 {
				continue // virtualservice-rule-unreachable
			}
			f := rules.At(vs.Object, s.Path()...)
			f.Message = fmt.Sprintf("VirtualService %s/%s %s[%d]%s match[%d] never decides: %s", vs.Namespace, vs.Name, s.Kind, s.Rule, ruleName(vs, s), s.Match, shadowReason(s))
			f.Symptom = fmt.Sprintf("requests fitting this match block are routed by %s, not by %s[%d]", s.ByName(), s.Kind, s.Rule)
			f.Fix = fmt.Sprintf("delete %s[%d].match[%d], or move %s[%d] before %s[%d] if it should win for these requests", s.Kind, s.Rule, s.Match, s.Kind, s.Rule, s.Kind, s.By)
			p.Report(f)
		}
	}
}
