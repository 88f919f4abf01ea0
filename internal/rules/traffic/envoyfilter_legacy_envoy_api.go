package traffic

import (
	"fmt"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// EnvoyFilterLegacyEnvoyAPI: an EnvoyFilter written for an Envoy API that
// Istio has stopped accepting: deprecated filter names in matches,
// filters without typed_config, xDS v2 types.
var EnvoyFilterLegacyEnvoyAPI = &rules.Rule{
	Code: "MD1011", Name: "envoyfilter-legacy-envoy-api", Severity: finding.Error, Area: "traffic",
	Summary: "An EnvoyFilter matches a deprecated Envoy filter name (envoy.http_connection_manager), adds a filter without typed_config, or uses an xDS v2 type: it breaks from Istio 1.19 (v2: long before).",
	Needs:   []string{"EnvoyFilter"},
	Since:   "0.2.0",
	Doc: rules.Doc{
		Mechanism: "Envoy renamed its filters in 1.14 (envoy.http_connection_manager became envoy.filters.network.http_connection_manager, envoy.router envoy.filters.http.router…) and Istio generates only the new names. Until 1.18 istiod translated the old names in EnvoyFilter matches; from 1.19 matches compare the name exactly, so a match on an old name finds no filter and the patch is skipped. 1.19 also stopped Envoy from resolving an extension by its name alone: a filter the patch adds (directly, or in a filters/http_filters list) needs typed_config, and without it Envoy rejects the listener update. Types of the removed xDS v2 API (…v2.HttpConnectionManager) are rejected by validation and dropped by istiod. istioctl validation only warns about the first two; with --upgrade-to, meshdoctor evaluates them at the target version.",
		Symptom:   "Patches on an old filter name silently stop applying after the upgrade to 1.19+; a filter without typed_config makes Envoy reject the listener (istioctl proxy-status shows the proxy STALE/NACKed and new routes never arrive); v2 types are rejected on apply.",
		Fix:       "Use the canonical filter names in matches, give every added filter a typed_config with its v3 type URL, and replace v2 type URLs by their v3 successors (envoy.extensions.filters.*.v3.*) — before upgrading to 1.19.",
		Before:    "apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata:\n  name: lua\nspec:\n  configPatches:\n  - applyTo: HTTP_FILTER\n    match:\n      listener:\n        filterChain:\n          filter:\n            name: envoy.http_connection_manager\n            subFilter: {name: envoy.router}\n    patch:\n      operation: INSERT_BEFORE\n      value:\n        name: envoy.lua\n        config:\n          inlineCode: \"function envoy_on_request(h) end\"\n",
		After:     "apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata:\n  name: lua\nspec:\n  configPatches:\n  - applyTo: HTTP_FILTER\n    match:\n      listener:\n        filterChain:\n          filter:\n            name: envoy.filters.network.http_connection_manager\n            subFilter: {name: envoy.filters.http.router}\n    patch:\n      operation: INSERT_BEFORE\n      value:\n        name: envoy.filters.http.lua\n        typed_config:\n          \"@type\": type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua\n          default_source_code:\n            inline_string: \"function envoy_on_request(h) end\"\n",
		Sources: []string{
			"https://istio.io/latest/news/releases/1.19.x/announcing-1.19/upgrade-notes/",
			"https://www.envoyproxy.io/docs/envoy/latest/version_history/v1.14.0#deprecated",
			"https://istio.io/latest/docs/ops/common-problems/upgrade-issues/",
		},
	},
	Run: runEnvoyFilterLegacyEnvoyAPI,
}

func runEnvoyFilterLegacyEnvoyAPI(p *rules.Pass) {
	m := p.Model
	v := m.Istio.Version
	for _, ef := range m.EnvoyFilters() {
		for i := range ef.Spec.GetConfigPatches() {
			for _, u := range mesh.LegacyEnvoyUses(ef, i) {
				f := rules.At(ef.Object, u.Path...)
				broken := u.Since.Major == 0 || v.AtLeast(u.Since.Major, u.Since.Minor)
				when := fmt.Sprintf("from Istio %s (this install: %s, %s)", u.Since.MinorString(), v.MinorString(), m.Istio.VersionSource)
				if !broken {
					f.Severity = finding.Warning
				}
				ref := fmt.Sprintf("EnvoyFilter %s/%s configPatches[%d]", ef.Namespace, ef.Name, i)
				switch u.Kind {
				case "deprecated-name":
					f.Message = fmt.Sprintf("%s matches the deprecated filter name %s, which istiod no longer translates %s", ref, u.Value, when)
					f.Symptom = "the match finds no filter (Istio generates " + u.Canonical + "), so the patch is skipped on every proxy"
					f.Fix = fmt.Sprintf("match name: %s", u.Canonical)
				case "no-typed-config":
					f.Message = fmt.Sprintf("%s adds filter %s by name without typed_config, which Envoy no longer resolves %s", ref, u.Value, when)
					f.Symptom = "Envoy rejects the listener update (the proxy is NACKed in istioctl proxy-status) and keeps serving stale configuration"
					f.Fix = fmt.Sprintf("give filter %s a typed_config with its v3 type URL (\"@type\": type.googleapis.com/envoy.extensions.filters.…v3.…)", u.Value)
				case "xds-v2":
					f.Message = fmt.Sprintf("%s uses the xDS v2 type %s, which Istio no longer knows", ref, u.Value)
					f.Symptom = "kubectl apply is rejected by Istio's validation (referenced type unknown); an EnvoyFilter already stored is dropped by istiod"
					f.Fix = "replace it by the v3 type (envoy.extensions.filters.<kind>.<name>.v3.<Message>) and adapt the fields to the v3 message"
				}
				if !broken {
					f.Symptom = "works today; after an upgrade to " + u.Since.MinorString() + "+: " + f.Symptom
				}
				p.Report(f)
			}
		}
	}
}
