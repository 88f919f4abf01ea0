package mesh

import (
	istioapi "istio.io/api/networking/v1alpha3"
)

// RouteGateways returns the gateways an HTTP route of the VirtualService
// applies to, "mesh" standing for the sidecars, each once in the order
// written. A match's gateways override the VirtualService's top-level
// gateways, which default to "mesh"; a match without gateways inherits them.
// https://istio.io/latest/docs/reference/config/networking/virtual-service/#HTTPMatchRequest
func (v *VirtualService) RouteGateways(r *istioapi.HTTPRoute) []string {
	top := v.Spec.Gateways
	if len(top) == 0 {
		top = []string{"mesh"}
	}
	if len(r.Match) == 0 {
		return top
	}
	var out []string
	seen := map[string]bool{}
	for _, mt := range r.Match {
		gws := mt.Gateways
		if len(gws) == 0 {
			gws = top
		}
		for _, g := range gws {
			if !seen[g] {
				seen[g] = true
				out = append(out, g)
			}
		}
	}
	return out
}
