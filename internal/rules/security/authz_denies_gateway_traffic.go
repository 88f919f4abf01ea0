package security

import (
	"fmt"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// AuthzDeniesGatewayTraffic: a VirtualService routes a gateway's traffic to
// a workload whose AuthorizationPolicies reject the gateway's identity.
var AuthzDeniesGatewayTraffic = &rules.Rule{
	Code: "MD2020", Name: "authz-denies-gateway-traffic", Severity: finding.Error, Area: "security",
	Summary: "A gateway routes to a workload whose AuthorizationPolicy rejects the gateway's own identity (e.g. ALLOW from the callers' namespace only): every request through the gateway gets 403.",
	Needs:   []string{"AuthorizationPolicy", "VirtualService"},
	Reads:   []string{"Gateway", "Service", "DestinationRule", "PeerAuthentication", "Namespace"},
	Since:   "0.3.0",
	Doc: rules.Doc{
		Mechanism: "An ingress (or egress) gateway terminates the client's connection and opens a new one to the backend, with its own Istio certificate: the backend's sidecar sees the gateway's identity (cluster.local/ns/<gateway namespace>/sa/<gateway service account>), never the original caller's. An ALLOW policy whose rules accept only source.namespaces or principals of the application (namespaces: [frontend]) therefore matches no request that came through the gateway, and a DENY rule on the gateway's namespace matches them all. When a workload has at least one ALLOW policy, a request no ALLOW rule matches is denied. meshdoctor follows every VirtualService bound to a Gateway whose gateway pods are in the input to the backends of its destinations, computes the identity the gateway presents there (auto mTLS or the DestinationRule's TLS), and evaluates the backends' policies; findings are reported only when the decision does not depend on what the input cannot know (the path, a JWT, the client IP).",
		Symptom:   "Every request through the gateway to that route gets HTTP 403 \"RBAC: access denied\" (TCP routes: the connection is closed at once), while the same request from a pod in the allowed namespace succeeds; the backend's istio-proxy logs rbac_access_denied_matched_policy[none] (no ALLOW matched) or [ns[...]-policy[...]-rule[...]] (a DENY matched).",
		Fix:       "Allow the gateway's identity in the backend's ALLOW policy (principals: [cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account], or namespaces: [<gateway namespace>]), and restrict end users at the gateway instead (a RequestAuthentication and an AuthorizationPolicy selecting the gateway, or requestPrincipals on the backend). For a DENY that matches the gateway, narrow it or drop the route.",
		Before:    "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: orders\n  namespace: shop\nspec:\n  selector:\n    matchLabels: {app: orders}\n  rules:\n  - from:\n    - source:\n        namespaces: [frontend]   # the ingress gateway is in istio-system\n---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: orders\n  namespace: shop\nspec:\n  hosts: [shop.example.com]\n  gateways: [istio-system/public]\n  http:\n  - route:\n    - destination: {host: orders, port: {number: 8080}}\n",
		After:     "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: orders\n  namespace: shop\nspec:\n  selector:\n    matchLabels: {app: orders}\n  rules:\n  - from:\n    - source:\n        namespaces: [frontend]\n  - from:\n    - source:\n        principals: [cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account]\n",
		Sources: []string{
			"https://istio.io/latest/docs/reference/config/security/authorization-policy/",
			"https://istio.io/latest/docs/concepts/security/#authorization-policies",
			"https://istio.io/latest/docs/ops/common-problems/security-issues/#authorization-is-too-restrictive",
			"https://github.com/istio/istio/issues/14885",
			"https://github.com/istio/istio/issues/51896",
			"https://github.com/istio/istio/issues/15232",
		},
	},
	Run: runAuthzDeniesGatewayTraffic,
}

func runAuthzDeniesGatewayTraffic(p *rules.Pass) {
	m := p.Model
	seen := map[string]bool{}
	for _, vs := range m.VirtualServices {
		for _, ref := range vs.BoundGateways() {
			g, key := m.GatewayByName(ref, vs.Namespace)
			if g == nil {
				continue
			}
			gws := m.GatewayPods(g).Gateways
			if len(gws) == 0 {
				continue
			}
			for _, d := range m.Destinations(vs) {
				if d.Mirror {
					continue // mirrored responses are discarded
				}
				for _, gw := range gws {
					db, ok := m.RouteBackends(gw.Namespace, d)
					if !ok {
						continue
					}
					for _, be := range db.Backends {
						ca, ok := m.AuthorizeCall(gw, be, d.Host, db.Port, db.Subset, d.Protocol == "http")
						if !ok || !ca.Decision.Outcome.Denied() {
							continue
						}
						k := fmt.Sprintf("%p|%s/%s|%s/%s|%d", ca.Decision.Policy, gw.Namespace, gw.Name, be.Workload.Namespace, be.Workload.Name, be.ContainerPort)
						if seen[k] {
							continue
						}
						seen[k] = true
						f := rbacFinding(ca.Decision)
						b := be.Workload
						f.Message = fmt.Sprintf("VirtualService %s/%s routes Gateway %s traffic for %s to %s %s/%s (port %d), but gateway %s/%s forwards it with %s, and %s",
							vs.Namespace, vs.Name, key, d.Host, b.Kind, b.Namespace, b.Name, be.ContainerPort, gw.Namespace, gw.Name, identityText(ca.Peer), decisionText(ca.Decision))
						f.Symptom = "every request through the gateway to this route fails: " + rbacSymptom(ca)
						f.Fix = gatewayFix(ca)
						p.Report(f)
					}
				}
			}
		}
	}
}

func gatewayFix(ca mesh.CallAuthz) string {
	d := ca.Decision
	if d.Outcome == mesh.AuthzDenied || !ca.Peer.MTLS {
		return fmt.Sprintf("narrow rule %d of DENY AuthorizationPolicy %s/%s so it does not match the gateway (%s), or stop routing the gateway to this workload", d.Rule, d.Policy.Namespace, d.Policy.Name, identityText(ca.Peer))
	}
	return "let the gateway's identity in (end users are then checked at the gateway, e.g. with a RequestAuthentication and an AuthorizationPolicy selecting it):\n" + allowRuleYAML(d.Policy, ca.Peer.Principal())
}
