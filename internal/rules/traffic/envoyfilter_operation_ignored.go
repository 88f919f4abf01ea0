package traffic

import (
	"fmt"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// EnvoyFilterOperationIgnored: an EnvoyFilter patch whose operation istiod
// does not implement for its applyTo; the patch is skipped without a word.
var EnvoyFilterOperationIgnored = &rules.Rule{
	Code: "MD1006", Name: "envoyfilter-operation-ignored", Severity: finding.Error, Area: "traffic",
	Summary: "An EnvoyFilter patch uses an operation istiod does not apply to its applyTo (REPLACE on a cluster, ADD on a route configuration…): the patch does nothing.",
	Needs:   []string{"EnvoyFilter"},
	Since:   "0.2.0",
	IST:     []string{"IST0152", "IST0153", "IST0154"},
	Doc: rules.Doc{
		Mechanism: "istiod applies each EnvoyFilter patch with code specific to its applyTo, and each supports only some operations: ROUTE_CONFIGURATION and BOOTSTRAP only MERGE; VIRTUAL_HOST ADD, REMOVE, REPLACE, MERGE; HTTP_ROUTE ADD, INSERT_*, REMOVE, MERGE; CLUSTER, LISTENER and FILTER_CHAIN ADD, REMOVE, MERGE; EXTENSION_CONFIG only ADD; listener, network and HTTP filters all operations. Any other combination passes validation and is skipped when the configuration is generated, with no status or log. istioctl analyze reports REPLACE outside filters and virtual hosts (IST0152) and ADD or REMOVE on ROUTE_CONFIGURATION or HTTP_ROUTE (IST0153, IST0154); meshdoctor follows istiod's patch code, in which ADD and REMOVE on HTTP_ROUTE do work, and also reports the other ignored combinations (REPLACE on routes or listeners, INSERT_* or ADD on a route configuration…); INSERT_* outside filters and routes is applied as ADD, so it is reported only where ADD is ignored.",
		Symptom:   "The EnvoyFilter is accepted but nothing changes in the proxy's configuration (istioctl proxy-config shows no trace of it): the header, limit or route it was meant to add never applies.",
		Fix:       "Use an operation the applyTo supports: MERGE to change a route configuration or cluster, ADD to add a virtual host or route, or patch at a level that supports the operation (REPLACE a filter, not a listener).",
		Before:    "apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata:\n  name: route-timeouts\nspec:\n  configPatches:\n  - applyTo: ROUTE_CONFIGURATION\n    patch:\n      operation: ADD\n      value:\n        request_headers_to_add:\n        - header: {key: x-env, value: prod}\n",
		After:     "apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata:\n  name: route-timeouts\nspec:\n  configPatches:\n  - applyTo: ROUTE_CONFIGURATION\n    patch:\n      operation: MERGE\n      value:\n        request_headers_to_add:\n        - header: {key: x-env, value: prod}\n",
		Sources: []string{
			"https://istio.io/latest/docs/reference/config/networking/envoy-filter/#EnvoyFilter-Patch-Operation",
			"https://istio.io/latest/docs/reference/config/analysis/ist0152/",
			"https://istio.io/latest/docs/reference/config/analysis/ist0153/",
			"https://istio.io/latest/docs/reference/config/analysis/ist0154/",
		},
	},
	Run: runEnvoyFilterOperationIgnored,
}

func runEnvoyFilterOperationIgnored(p *rules.Pass) {
	for _, ef := range p.Model.EnvoyFilters() {
		for i, cp := range ef.Spec.GetConfigPatches() {
			op := cp.GetPatch().GetOperation()
			ok, supported := mesh.PatchApplied(cp.GetApplyTo(), op)
			if ok {
				continue
			}
			f := rules.At(ef.Object, "spec", "configPatches", i, "patch", "operation")
			f.Message = fmt.Sprintf("EnvoyFilter %s/%s configPatches[%d]: istiod does not apply operation %s to applyTo %s and skips the patch", ef.Namespace, ef.Name, i, op, cp.GetApplyTo())
			f.Symptom = "the patch has no effect on any proxy; nothing reports it"
			f.Fix = fmt.Sprintf("use one of the operations %s supports: %s", cp.GetApplyTo(), strings.Join(supported, ", "))
			p.Report(f)
		}
	}
}
