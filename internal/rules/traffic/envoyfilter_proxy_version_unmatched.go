package traffic

import (
	"fmt"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// EnvoyFilterProxyVersionUnmatched: an EnvoyFilter patch pinned to proxy
// versions the install does not run (or will not run after the upgrade).
var EnvoyFilterProxyVersionUnmatched = &rules.Rule{
	Code: "MD1010", Name: "envoyfilter-proxy-version-unmatched", Severity: finding.Warning, Area: "traffic",
	Summary: "An EnvoyFilter patch's proxyVersion regex matches none of the proxy versions the install runs, or stops matching after the upgrade.",
	Needs:   []string{"EnvoyFilter"},
	Since:   "0.2.0",
	Doc: rules.Doc{
		Mechanism: "match.proxy.proxyVersion restricts a patch to proxies whose Istio version (1.24.2) the regex matches. Filters written against one release's Envoy are commonly pinned this way (^1\\.24.*), so that the next release's proxies skip a patch that may not fit them. The pin is silent: when the proxies move to a version the regex does not match, istiod stops applying the patch and nothing reports it. meshdoctor compares the regex with the versions the input runs (istiod's, which injected proxies follow, and explicit proxy images) and, with --upgrade-to, with the target version. istioctl analyze only warns about proxyVersion combined with relative operations (IST0155); envoyfilter-patch-order reports that part.",
		Symptom:   "After the upgrade (or already now) the Lua script, rate limit, header or tweak of this patch is gone from every proxy: requests behave as if the EnvoyFilter did not exist.",
		Fix:       "Before upgrading, add a patch (or widen the regex) for the target version after checking that the patch still fits its Envoy (filter names, typed_config types), or remove the pin.",
		Before:    "apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata:\n  name: lua-headers\nspec:\n  configPatches:\n  - applyTo: HTTP_FILTER\n    match:\n      proxy:\n        proxyVersion: ^1\\.24.*\n      listener: {filterChain: {filter: {name: envoy.filters.network.http_connection_manager}}}\n    patch:\n      operation: INSERT_FIRST\n      value: {name: envoy.filters.http.lua, typed_config: {...}}\n",
		After:     "apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata:\n  name: lua-headers\nspec:\n  configPatches:\n  - applyTo: HTTP_FILTER\n    match:\n      proxy:\n        proxyVersion: ^1\\.(24|25).*   # checked against 1.25's Envoy\n      listener: {filterChain: {filter: {name: envoy.filters.network.http_connection_manager}}}\n    patch:\n      operation: INSERT_FIRST\n      value: {name: envoy.filters.http.lua, typed_config: {...}}\n",
		Sources: []string{
			"https://istio.io/latest/docs/reference/config/networking/envoy-filter/#EnvoyFilter-ProxyMatch",
			"https://istio.io/latest/docs/reference/config/analysis/ist0155/",
			"https://istio.io/latest/docs/setup/upgrade/",
		},
	},
	Run: runEnvoyFilterProxyVersionUnmatched,
}

func runEnvoyFilterProxyVersionUnmatched(p *rules.Pass) {
	m := p.Model
	for _, ef := range m.EnvoyFilters() {
		for i, cp := range ef.Spec.GetConfigPatches() {
			re := cp.GetMatch().GetProxy().GetProxyVersion()
			if re == "" {
				continue
			}
			s := m.ProxyVersionSelection(re)
			if !s.Known || s.Invalid || len(s.Matched) > 0 {
				continue
			}
			f := rules.At(ef.Object, "spec", "configPatches", i, "match", "proxy", "proxyVersion")
			versions := strings.Join(s.Versions, ", ")
			if len(s.BeforeMatched) > 0 {
				f.Severity = finding.Error
				f.Message = fmt.Sprintf("EnvoyFilter %s/%s configPatches[%d] applies only to proxyVersion %s: it matches %s today but not %s after the upgrade (%s)", ef.Namespace, ef.Name, i, re, strings.Join(s.BeforeMatched, ", "), versions, s.Source)
				f.Symptom = "after the upgrade istiod stops applying the patch to every proxy, without a warning"
			} else {
				f.Message = fmt.Sprintf("EnvoyFilter %s/%s configPatches[%d] applies only to proxyVersion %s, which matches none of the proxy versions the install runs (%s; from %s)", ef.Namespace, ef.Name, i, re, versions, s.Source)
				f.Symptom = "istiod applies the patch to no proxy: it has no effect"
			}
			f.Fix = fmt.Sprintf("check the patch against the Envoy of Istio %s, then widen proxyVersion to match it (or drop the pin)", versions)
			p.Report(f)
		}
	}
}
