package reference

import (
	"fmt"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// ServiceProtocolConflict: Services selecting the same workload reach one
// container port with different protocols; the sidecar's inbound listener
// takes the oldest Service's.
var ServiceProtocolConflict = &rules.Rule{
	Code: "MD5014", Name: "service-protocol-conflict", Severity: finding.Warning, Area: "reference",
	Summary: "Services selecting the same workload declare different protocols for one container port; the sidecar uses only one.",
	Needs:   []string{"Service"},
	Reads:   []string{"Deployment", "StatefulSet", "DaemonSet", "Pod", "Namespace"},
	Since:   "0.3.0",
	IST:     []string{"IST0116", "IST0137"},
	Doc: rules.Doc{
		Mechanism: "A sidecar builds one inbound filter chain per container port. When several Services select the pod and reach the same container port (targetPort), istiod builds the chain from the oldest Service, protocol included, and ignores the others (pilot/pkg/networking/core/listener_inbound.go; istiod reports a ProxyStatusConflictInboundListener metric). A Service port's protocol comes from appProtocol or the port name prefix (http-, grpc-, tcp-…), else it is sniffed. So Services that give one container port different protocols (http-web on one, tcp-web on the other) cannot both be honoured: Istio's application requirements forbid a pod in several Services with the same port for different protocols. istioctl analyze compares Kubernetes protocols (TCP/UDP) on equal Service port numbers (IST0116) and any two Services mapping one targetPort from different port numbers (IST0137); meshdoctor compares Istio's protocol per container port, which is what the inbound listener is keyed on: different port numbers onto one container port with the same protocol work, and UDP ports never reach the sidecar. Workloads known to run without a sidecar are skipped.",
		Symptom:   "Traffic through the younger Service is handled with the older Service's protocol: raw TCP sent into an HTTP chain is reset (or gets HTTP 400), and HTTP sent into a TCP chain loses server-side L7 handling (HTTP AuthorizationPolicy rules, HTTP metrics, per-request load balancing). Which Service wins depends on creation order.",
		Fix:       "Give the port the same protocol in every Service that selects the workload (same name prefix or appProtocol), or point the Services at different container ports.",
		Before:    "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  selector: {app: web}\n  ports:\n  - {name: http-web, port: 80, targetPort: 8080}\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web-raw\n  namespace: shop\nspec:\n  selector: {app: web}\n  ports:\n  - {name: tcp-web, port: 8080, targetPort: 8080}\n",
		After:     "apiVersion: v1\nkind: Service\nmetadata:\n  name: web-raw\n  namespace: shop\nspec:\n  selector: {app: web}\n  ports:\n  - {name: http-web, port: 8080, targetPort: 8080}\n",
		Sources: []string{
			"https://istio.io/latest/docs/ops/deployment/application-requirements/",
			"https://istio.io/latest/docs/ops/configuration/traffic-management/protocol-selection/",
			"https://istio.io/latest/docs/reference/config/analysis/ist0116/",
			"https://istio.io/latest/docs/reference/config/analysis/ist0137/",
		},
	},
	Run: runServiceProtocolConflict,
}

func runServiceProtocolConflict(p *rules.Pass) {
	m := p.Model
	for _, w := range m.Workloads {
		if len(m.ServicesOf(w)) < 2 {
			continue
		}
		dp, _ := m.Injection(w)
		if dp == mesh.DataplaneNone || dp == mesh.DataplaneAmbient {
			continue // no sidecar inbound listener
		}
		for _, c := range m.InboundPortConflicts(w) {
			first := c.Claims[0]
			var others []string
			var other mesh.InboundClaim
			for _, cl := range c.Claims[1:] {
				if cl.Service == first.Service || cl.Protocol.Class() == first.Protocol.Class() {
					continue
				}
				if other.Service == nil {
					other = cl
				}
				others = append(others, claimString(cl))
			}
			if other.Service == nil {
				continue
			}
			f := rules.At(w.Object, "metadata", "name")
			order := fmt.Sprintf("the sidecar builds it from the oldest Service, here %s/%s", first.Service.Namespace, first.Service.Name)
			if !c.Ordered {
				order = fmt.Sprintf("the sidecar builds it from whichever Service is oldest in the cluster (by name when created together: %s/%s)", first.Service.Namespace, first.Service.Name)
			}
			f.Message = fmt.Sprintf("%s %s/%s container port %d is reached as %s and as %s; %s and ignores the other protocol", w.Kind, w.Namespace, w.Name, c.ContainerPort, claimString(first), rules.ListUpTo(others, 2), order)
			if dp == mesh.DataplaneUnknown {
				f.Message += " (if the workload runs with a sidecar)"
			}
			f.Symptom = conflictSymptom(first, other)
			f.Fix = fmt.Sprintf("declare port %d with the same protocol in both Services, e.g. in Service %s/%s:\nspec:\n  ports:\n  - name: %s\n    port: %d\n    targetPort: %d", c.ContainerPort, other.Service.Namespace, other.Service.Name, suggestedName(first, other), other.Port.Port, c.ContainerPort)
			p.Report(f)
		}
	}
}

func claimString(c mesh.InboundClaim) string {
	proto := c.Protocol.Name
	if proto == "" {
		proto = "sniffed (no protocol declared)"
	} else if c.Protocol.From != "" {
		proto += " by " + c.Protocol.From
	}
	name := c.Port.Name
	if name == "" {
		name = fmt.Sprint(c.Port.Port)
	}
	return fmt.Sprintf("%s by Service %s/%s port %s", proto, c.Service.Namespace, c.Service.Name, name)
}

func conflictSymptom(win, lose mesh.InboundClaim) string {
	svc := fmt.Sprintf("Service %s/%s", lose.Service.Namespace, lose.Service.Name)
	switch {
	case win.Protocol.IsHTTP() && !lose.Protocol.IsHTTP() && !lose.Protocol.Sniffed():
		return "non-HTTP traffic through " + svc + " enters an HTTP filter chain and is reset (or answered with HTTP 400); the outcome flips if the Services are re-created in another order"
	case !win.Protocol.IsHTTP() && !win.Protocol.Sniffed() && lose.Protocol.IsHTTP():
		return "HTTP through " + svc + " is proxied as raw TCP on the server side: HTTP AuthorizationPolicy rules, HTTP metrics and server-side retries do not apply (an ALLOW rule on paths or methods denies everything); the outcome flips if the Services are re-created in another order"
	}
	return "traffic through " + svc + " is handled with the other Service's protocol, not the one it declares; the outcome flips if the Services are re-created in another order"
}

func suggestedName(win, lose mesh.InboundClaim) string {
	p := win.Protocol.Name
	if p == "" {
		return lose.Port.Name
	}
	return fmt.Sprintf("%s-%d", strings.ToLower(p), lose.Port.Port)
}
