package workload

import (
	"fmt"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// NegativeStatusCondition: the controller that runs a resource says, in its
// status, that it did not accept or could not carry it out.
var NegativeStatusCondition = &rules.Rule{
	Code: "MD4017", Name: "negative-status-condition", Severity: finding.Warning, Area: "workload",
	Summary: "A live resource's status says its controller did not accept or program it (Gateway API Accepted/Programmed/ResolvedRefs False, Istio ZtunnelAccepted/WaypointAccepted False).",
	Needs:   []string{"Service", "ServiceEntry", "WorkloadEntry", "AuthorizationPolicy", mesh.KubeGatewayKind, "GatewayClass", "HTTPRoute", "GRPCRoute", "TCPRoute"},
	Since:   "0.2.0",
	IST:     []string{"IST0171"},
	Doc: rules.Doc{
		Mechanism: "Gateway API controllers and istiod write what they did with a resource into its status conditions. A Gateway API Gateway or route whose Accepted condition is False is ignored by its controller; Programmed False means the Gateway has no working data plane (no address, no ready pods); ResolvedRefs False means a reference (a certificate Secret, a backend Service, a cross-namespace reference without a ReferenceGrant) does not resolve. In ambient mode, istiod reports whether ztunnel or a waypoint enforces an AuthorizationPolicy (ZtunnelAccepted, WaypointAccepted; PartiallyInvalid when only some of its rules apply) and whether a Service is bound to its waypoint (istio.io/WaypointBound). meshdoctor reads these conditions where the input has them (a live cluster, or manifests exported from one) and reports the False ones with the controller's reason and message; manifests without status are not judged.",
		Symptom:   "The resource is not in effect: requests to a route's hostnames get 404, a Gateway has no address or refuses connections, requests to an unresolved backend get 500, an AuthorizationPolicy does not deny (or allow) what it says.",
		Fix:       "Act on the controller's reason and message (shown in the finding): fix the reference, create the missing ReferenceGrant or Secret, attach the route to a listener that allows it, or move the policy to a waypoint.",
		Before:    "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: web, namespace: shop}\nspec:\n  parentRefs: [{name: edge, namespace: infra}]\nstatus:\n  parents:\n  - parentRef: {name: edge, namespace: infra}\n    conditions:\n    - type: Accepted\n      status: \"False\"\n      reason: NotAllowedByListeners\n",
		After:     "# the Gateway's listener admits routes from namespace shop\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: edge, namespace: infra}\nspec:\n  listeners:\n  - name: http\n    port: 80\n    protocol: HTTP\n    allowedRoutes:\n      namespaces: {from: All}\n",
		Sources: []string{
			"https://gateway-api.sigs.k8s.io/reference/spec/#gateway.networking.k8s.io/v1.RouteConditionType",
			"https://istio.io/latest/docs/ambient/usage/troubleshoot-waypoint/",
			"https://istio.io/latest/docs/reference/config/analysis/ist0171/",
		},
	},
	Run: runNegativeStatusCondition,
}

func runNegativeStatusCondition(p *rules.Pass) {
	for _, o := range p.Model.Objects {
		for _, c := range mesh.NegativeConditions(o) {
			f := rules.At(o, c.Path...)
			on := ""
			if c.Parent != "" {
				on = " for parent " + c.Parent
			}
			f.Message = fmt.Sprintf("%s %s/%s has condition %s=%s%s (reason %s): %s", o.Kind, o.Namespace, o.Name, c.Type, c.Status, on, c.Reason, c.Message)
			f.Symptom = conditionSymptom(o.Kind, c)
			if c.Type == "Accepted" || c.Type == "Programmed" {
				f.Severity = finding.Error
			}
			f.Fix = "act on the controller's reason and message above; `kubectl describe " + o.Kind + " " + o.Name + " -n " + o.Namespace + "` shows the current status"
			p.Report(f)
		}
	}
}

// conditionSymptom is what a negative condition means for traffic.
func conditionSymptom(kind string, c mesh.Condition) string {
	switch {
	case c.Type == "Accepted" && kind == "Gateway":
		return "the controller ignores the Gateway: it has no listeners and no address, clients get connection refused or DNS failures"
	case c.Type == "Accepted" && kind == "GatewayClass":
		return "no Gateway of this class is served"
	case c.Type == "Accepted":
		return "the route is not attached to that parent: requests for its hostnames get 404 (or reach another route)"
	case c.Type == "Programmed":
		return "the Gateway has no working data plane (no address or no ready pods): clients time out or get connection refused"
	case c.Type == "ResolvedRefs" && kind == "Gateway":
		return "a listener's reference (usually its certificate Secret) does not resolve: that listener does not serve, TLS handshakes fail"
	case c.Type == "ResolvedRefs":
		return "a backend reference does not resolve: requests the rule sends there get HTTP 500"
	case c.Type == "WaypointAccepted" && c.Reason == "PartiallyInvalid":
		return "only part of the policy is enforced: the rules the waypoint cannot apply are dropped"
	case c.Type == "ZtunnelAccepted" || c.Type == "WaypointAccepted":
		return "the policy is not enforced where it is meant to be: requests it should deny (or allow) are not"
	case c.Type == "istio.io/WaypointBound":
		return "traffic to it does not go through its waypoint: L7 policies and routes of the waypoint do not apply"
	}
	return "the controller did not carry out the resource as written"
}
