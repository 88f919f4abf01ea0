package workload

import (
	"fmt"
	"sort"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// PolicySelectorIgnoredByK8sGateway: a policy selects the pods of a
// Gateway API gateway or waypoint by labels, which Istio ignores there.
var PolicySelectorIgnoredByK8sGateway = &rules.Rule{
	Code: "MD4018", Name: "policy-selector-ignored-by-k8s-gateway", Severity: finding.Warning, Area: "workload",
	Summary: "A policy selects a waypoint's (or, with ENABLE_SELECTOR_BASED_K8S_GATEWAY_POLICY=false, a Gateway API gateway's) pods by label selector, which Istio ignores there: it needs targetRefs.",
	Needs:   []string{"AuthorizationPolicy", "RequestAuthentication", "Telemetry", "WasmPlugin", "EnvoyFilter"},
	Reads:   []string{"Deployment", "Pod"},
	Since:   "0.2.0",
	IST:     []string{"IST0166"},
	Doc: rules.Doc{
		Mechanism: "Pods deployed for a Gateway API Gateway carry the label gateway.networking.k8s.io/gateway-name. istiod attaches AuthorizationPolicies, RequestAuthentications, Telemetry, WasmPlugins and EnvoyFilters to them by targetRefs (the Gateway); a label selector is ignored for waypoints always, and for other Gateway API gateways when istiod runs with ENABLE_SELECTOR_BASED_K8S_GATEWAY_POLICY=false (pilot/pkg/model/policyattachment.go). istioctl analyze reports every selector that matches a gateway pod (IST0166); meshdoctor reports only the cases Istio really ignores, since the flag is on by default: selectors matching waypoint pods (gateway class istio-waypoint), and selectors matching gateway pods when the input's istiod turns the flag off.",
		Symptom:   "The policy has no effect on the gateway or waypoint: an AuthorizationPolicy does not deny or allow there, JWTs are not validated, telemetry settings and Wasm plugins are not applied, and nothing reports an error.",
		Fix:       "Replace the selector with targetRefs naming the Gateway (kind: Gateway, group: gateway.networking.k8s.io), or, for traffic through a waypoint, the Service or ServiceEntry it serves.",
		Before:    "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: deny-admin, namespace: shop}\nspec:\n  selector:\n    matchLabels: {gateway.networking.k8s.io/gateway-name: waypoint}\n  action: DENY\n  rules:\n  - to: [{operation: {paths: [/admin]}}]\n",
		After:     "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: deny-admin, namespace: shop}\nspec:\n  targetRefs:\n  - {kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}\n  action: DENY\n  rules:\n  - to: [{operation: {paths: [/admin]}}]\n",
		Sources: []string{
			"https://istio.io/latest/docs/reference/config/type/workload-selector/#PolicyTargetReference",
			"https://istio.io/latest/docs/ambient/usage/l7-features/#targeting-policies-or-routing-rules",
			"https://istio.io/latest/docs/reference/config/analysis/ist0166/",
		},
	},
	Run: runPolicySelectorIgnoredByK8sGateway,
}

// selectorPolicyKinds are the kinds istiod attaches to gateway pods by
// targetRefs rather than by selector.
var selectorPolicyKinds = map[string]bool{"AuthorizationPolicy": true, "RequestAuthentication": true, "Telemetry": true, "WasmPlugin": true, "EnvoyFilter": true}

func runPolicySelectorIgnoredByK8sGateway(p *rules.Pass) {
	m := p.Model
	selectorsOff := strings.EqualFold(m.Istio.Env["ENABLE_SELECTOR_BASED_K8S_GATEWAY_POLICY"], "false")
	for ns, policies := range m.WorkloadPoliciesByNamespace() {
		for _, pol := range policies {
			if !selectorPolicyKinds[pol.Object.Kind] || len(pol.Selector) == 0 {
				continue
			}
			var ignored []string
			waypoint := false
			for _, w := range m.Select(ns, pol.Selector) {
				gw := w.Labels["gateway.networking.k8s.io/gateway-name"]
				if gw == "" {
					continue
				}
				isWaypoint := w.Labels["gateway.networking.k8s.io/gateway-class-name"] == "istio-waypoint"
				if (isWaypoint || selectorsOff) && !contains(ignored, gw) {
					ignored = append(ignored, gw)
					waypoint = waypoint || isWaypoint
				}
			}
			if len(ignored) == 0 {
				continue
			}
			sort.Strings(ignored)
			path := []any{"spec", "selector"}
			if pol.Object.Kind == "EnvoyFilter" {
				path = []any{"spec", "workloadSelector"}
			}
			f := rules.At(pol.Object, path...)
			why := "istiod runs with ENABLE_SELECTOR_BASED_K8S_GATEWAY_POLICY=false (" + m.Istio.EnvSource + ")"
			if waypoint {
				why = "waypoints take policies by targetRefs only"
			}
			f.Message = fmt.Sprintf("%s %s/%s selects the pods of Gateway %s by label selector, which Istio ignores there: %s", pol.Object.Kind, ns, pol.Object.Name, strings.Join(ignored, ", "), why)
			f.Symptom = "the policy does not apply on that gateway or waypoint, silently: nothing is denied, validated or configured there"
			f.Fix = fmt.Sprintf("replace spec.selector with targetRefs:\n  targetRefs:\n  - {kind: Gateway, group: gateway.networking.k8s.io, name: %s}", ignored[0])
			p.Report(f)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
