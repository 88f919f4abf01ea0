package reference

import (
	"fmt"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// DestinationRuleHostNotFound: a DestinationRule's host matches nothing in
// the registry, so its policy is attached to no cluster.
var DestinationRuleHostNotFound = &rules.Rule{
	Code: "MD5002", Name: "destinationrule-host-not-found", Severity: finding.Warning, Area: "reference",
	Summary: "A DestinationRule's host matches no Service or ServiceEntry, so its policy never applies.",
	Needs:   []string{"DestinationRule"},
	Since:   "0.1.0",
	IST:     []string{"IST0174"},
	Doc: rules.Doc{
		Mechanism: "istiod applies a DestinationRule to the clusters it builds for the services whose host the rule's host matches. A short host (\"reviews\") is completed with the rule's namespace; a name with a dot (\"reviews.prod\") is taken literally and never matches reviews.prod.svc.cluster.local. A rule whose host matches no Service or ServiceEntry is accepted and does nothing. meshdoctor reports it only when the target namespace's Services (or the full Service name) are in the input; wildcard hosts are skipped.",
		Symptom:   "The rule's TLS settings, load balancing, connection pool, outlier detection and subsets silently never apply: mTLS or TLS origination is not what the rule says, and routes to its subsets fail with 503 NC.",
		Fix:       "Set spec.host to the Service's fully qualified name (name.namespace.svc.cluster.local), or create the missing Service or ServiceEntry.",
		Before:    "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: ratings\n  namespace: shop\nspec:\n  host: ratings.shop   # taken literally\n  trafficPolicy:\n    tls:\n      mode: ISTIO_MUTUAL\n",
		After:     "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: ratings\n  namespace: shop\nspec:\n  host: ratings.shop.svc.cluster.local\n  trafficPolicy:\n    tls:\n      mode: ISTIO_MUTUAL\n",
		Sources: []string{
			"https://istio.io/latest/docs/reference/config/networking/destination-rule/#DestinationRule",
			"https://istio.io/latest/docs/reference/config/analysis/ist0101/",
		},
	},
	Run: runDestinationRuleHostNotFound,
}

func runDestinationRuleHostNotFound(p *rules.Pass) {
	m := p.Model
	sc := newScope(m)
	for _, dr := range m.DestinationRules {
		// A rule applies wherever it is exported: the host existing for
		// any namespace is enough.
		miss, ok := sc.unresolved(dr.Spec.Host, dr.Host, nil)
		if !ok {
			continue
		}
		f := rules.At(dr.Object, "spec", "host")
		f.Message = fmt.Sprintf("DestinationRule %s/%s is for host %s, but no Service or ServiceEntry defines it", dr.Namespace, dr.Name, hostDesc(dr.Spec.Host, dr.Host))
		if miss.Suggest != "" {
			f.Message += fmt.Sprintf("; did you mean %s (%s)?", miss.Suggest, miss.Why)
			f.Fix = fmt.Sprintf("spec:\n  host: %s", miss.Suggest)
		} else {
			f.Message += " (" + miss.Why + ")"
			f.Fix = fmt.Sprintf("set spec.host to an existing Service's fully qualified name, or create Service %s", dr.Host)
		}
		f.Symptom = "the rule's traffic policy (TLS, load balancing, connection pool, outlier detection) and subsets never apply; routes to its subsets fail with 503 NC"
		p.Report(f)
	}
}
