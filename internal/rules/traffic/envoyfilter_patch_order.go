package traffic

import (
	"fmt"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// EnvoyFilterPatchOrder: an EnvoyFilter patch placed relative to a filter
// that another EnvoyFilter adds, without a priority that makes the other
// one apply first.
var EnvoyFilterPatchOrder = &rules.Rule{
	Code: "MD1007", Name: "envoyfilter-patch-order", Severity: finding.Warning, Area: "traffic",
	Summary: "An EnvoyFilter inserts before/after, replaces, merges or removes a filter that another EnvoyFilter adds, and nothing but creation order makes that one apply first.",
	Needs:   []string{"EnvoyFilter"},
	Since:   "0.2.0",
	IST:     []string{"IST0151", "IST0155"},
	Doc: rules.Doc{
		Mechanism: "INSERT_BEFORE, INSERT_AFTER, REPLACE, MERGE and REMOVE act on a filter matched by name; when the filter is not in the proxy's chain at that moment, the patch is skipped. istiod applies the EnvoyFilters that reach a proxy (its namespace's and the root namespace's) in order of priority, then root namespace first, then creation time, then name. A patch relative to a filter that another EnvoyFilter adds therefore works only if that one comes first: with equal priorities that is decided by creationTimestamp, which changes when the objects are deleted and re-created (a GitOps re-sync, a restore, a reinstall during an upgrade). istioctl analyze warns about every relative operation without priority (IST0151), and IST0155 when a proxyVersion match is involved; meshdoctor reports only patches whose filter another EnvoyFilter adds (an error when that one applies later, a warning when only creation order decides), describes those relative to a filter no EnvoyFilter in the input adds, and keeps quiet about filters istiod itself generates (router, http_connection_manager, …).",
		Symptom:   "The filter (Lua, rate limit, ext_authz…) is missing from some proxies or disappears after the EnvoyFilters are re-applied; nothing reports it, and istioctl proxy-config listeners shows the chain without it.",
		Fix:       "Give the EnvoyFilter that adds the filter a lower priority than the one that patches relative to it (priority: -10 on the adder, or a positive priority on the dependent one), or anchor on a filter istiod generates (INSERT_BEFORE envoy.filters.http.router).",
		Before:    "apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata:\n  name: add-lua\nspec:\n  configPatches:\n  - applyTo: HTTP_FILTER\n    match:\n      listener:\n        filterChain:\n          filter:\n            name: envoy.filters.network.http_connection_manager\n            subFilter: {name: envoy.filters.http.router}\n    patch:\n      operation: INSERT_BEFORE\n      value: {name: envoy.filters.http.lua, typed_config: {...}}\n---\napiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata:\n  name: ratelimit-after-lua\nspec:\n  configPatches:\n  - applyTo: HTTP_FILTER\n    match:\n      listener:\n        filterChain:\n          filter:\n            name: envoy.filters.network.http_connection_manager\n            subFilter: {name: envoy.filters.http.lua}\n    patch:\n      operation: INSERT_AFTER\n      value: {name: envoy.filters.http.local_ratelimit, typed_config: {...}}\n",
		After:     "apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata:\n  name: ratelimit-after-lua\nspec:\n  priority: 10   # after add-lua (priority 0)\n  configPatches:\n  - applyTo: HTTP_FILTER\n    match:\n      listener:\n        filterChain:\n          filter:\n            name: envoy.filters.network.http_connection_manager\n            subFilter: {name: envoy.filters.http.lua}\n    patch:\n      operation: INSERT_AFTER\n      value: {name: envoy.filters.http.local_ratelimit, typed_config: {...}}\n",
		Sources: []string{
			"https://istio.io/latest/docs/reference/config/networking/envoy-filter/#EnvoyFilter-priority",
			"https://istio.io/latest/docs/reference/config/analysis/ist0151/",
			"https://istio.io/latest/docs/reference/config/analysis/ist0155/",
		},
	},
	Run: runEnvoyFilterPatchOrder,
}

func runEnvoyFilterPatchOrder(p *rules.Pass) {
	m := p.Model
	efs := m.EnvoyFilters()
	adders := mesh.FilterAdders(efs)
	for _, ef := range efs {
		for _, fp := range mesh.FilterPatches(ef) {
			if !mesh.RelativeOperation(fp.Op) || fp.Anchor == "" || mesh.IstioGeneratedFilter(fp.Anchor) {
				continue
			}
			if _, deprecated := mesh.DeprecatedFilterName(fp.Anchor); deprecated {
				continue // envoyfilter-legacy-envoy-api: the name itself never matches
			}
			var other *mesh.FilterPatch
			own := false
			for _, a := range adders[fp.Anchor] {
				switch {
				case a.Filter == ef:
					own = own || a.Index < fp.Index
				case other == nil && m.EnvoyFiltersMeet(ef, a.Filter):
					other = &a
				}
			}
			if own {
				continue // the same EnvoyFilter adds it in an earlier patch
			}
			f := rules.At(ef.Object, fp.AnchorPath...)
			subject := fmt.Sprintf("%s (%s %s) is relative to filter %s", fp.Ref(), fp.Op, fp.ApplyTo, fp.Anchor)
			if other == nil {
				f.Severity = finding.Info
				f.Message = subject + ", which istiod does not generate and no EnvoyFilter in the input adds"
				f.Symptom = "the patch applies only on proxies where another EnvoyFilter (or extension) added " + fp.Anchor + " before it; elsewhere it is skipped"
				f.Fix = "give this EnvoyFilter a priority higher than that of the EnvoyFilter adding " + fp.Anchor + ", or anchor on a filter istiod generates (e.g. subFilter envoy.filters.http.router)"
				p.Report(f)
				continue
			}
			b := other.Filter
			pa, pb := ef.Spec.GetPriority(), b.Spec.GetPriority()
			first, by := m.EnvoyFilterOrder(ef, b)
			switch {
			case !first && by != "" && by != "creation time":
				continue // a priority or the root namespace orders them for good
			case first && by != "":
				f.Severity = finding.Error
				f.Message = fmt.Sprintf("%s, which %s adds, but EnvoyFilter %s/%s applies first (decided by %s; priorities %d and %d)", subject, other.Ref(), ef.Namespace, ef.Name, by, pa, pb)
				f.Symptom = "the patch never finds " + fp.Anchor + " and is skipped on every proxy both reach"
			default:
				f.Message = fmt.Sprintf("%s, which %s adds; both have priority %d, so only their creation order makes it work", subject, other.Ref(), pa)
				f.Symptom = "the patch is skipped whenever EnvoyFilter " + ef.Namespace + "/" + ef.Name + " is created before " + b.Namespace + "/" + b.Name + " (re-sync, restore, reinstall)"
			}
			if v := firstNonEmpty(fp.ProxyVersionMatch(), other.ProxyVersionMatch()); v != "" {
				f.Message += fmt.Sprintf("; a proxyVersion match (%q) limits one of them to some proxy versions, so during an upgrade the pair differs per proxy", v)
			}
			f.Fix = fmt.Sprintf("set spec.priority on EnvoyFilter %s/%s higher than %s/%s's (e.g. priority: %d)", ef.Namespace, ef.Name, b.Namespace, b.Name, pb+10)
			p.Report(f)
		}
	}
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
