package gateway

import (
	"fmt"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// GatewayPortNotInService: a Gateway server listens on a port that no
// Service of the gateway pods leads to, so clients cannot reach it.
var GatewayPortNotInService = &rules.Rule{
	Code: "MD3010", Name: "gateway-port-not-in-service", Severity: finding.Warning, Area: "gateway",
	Summary: "A Gateway server's port is not exposed by the Service in front of the gateway pods.",
	Needs:   []string{"Gateway"},
	Reads:   []string{"Service", "Deployment", "Pod"},
	Since:   "0.3.0",
	IST:     []string{"IST0162"},
	Doc: rules.Doc{
		Mechanism: "Clients reach a gateway through its Service (usually a LoadBalancer). For a Gateway that selects its pods by labels, istiod takes a server's port.number as a port of a Service selecting those pods and opens the listener on that port's targetPort; when no Service has that port, it opens the listener on the number itself (pilot/pkg/model/gateway.go, resolvePorts). A listener on a number that is neither a Service port nor any Service port's targetPort is open on the pods but no Service port sends traffic to it. meshdoctor checks each gateway workload in the input that a Service in the input selects (a gateway whose Service is elsewhere is not judged); UDP ports and Services labelled networking.istio.io/disable-gateway-port-translation are handled as istiod does.",
		Symptom:   "Connections to the gateway's load balancer on the server's port time out or are refused; the server works only when calling a gateway pod's IP directly.",
		Fix:       "Use a port the gateway Service exposes as the server's port.number (the Service port, e.g. 80 or 443), or add that port to the gateway Service.",
		Before:    "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: public\n  namespace: istio-system\nspec:\n  selector: {istio: ingressgateway}\n  servers:\n  - port: {number: 9000, name: http-admin, protocol: HTTP}\n    hosts: [\"admin.example.com\"]\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: istio-ingressgateway\n  namespace: istio-system\nspec:\n  type: LoadBalancer\n  selector: {istio: ingressgateway}\n  ports:\n  - {name: http2, port: 80, targetPort: 8080}\n  - {name: https, port: 443, targetPort: 8443}\n",
		After:     "apiVersion: v1\nkind: Service\nmetadata:\n  name: istio-ingressgateway\n  namespace: istio-system\nspec:\n  type: LoadBalancer\n  selector: {istio: ingressgateway}\n  ports:\n  - {name: http2, port: 80, targetPort: 8080}\n  - {name: https, port: 443, targetPort: 8443}\n  - {name: http-admin, port: 9000, targetPort: 9000}\n",
		Sources: []string{
			"https://istio.io/latest/docs/reference/config/analysis/ist0162/",
			"https://istio.io/latest/docs/tasks/traffic-management/ingress/ingress-control/",
		},
	},
	Run: runGatewayPortNotInService,
}

func runGatewayPortNotInService(p *rules.Pass) {
	m := p.Model
	if len(m.GatewayWorkloads()) == 0 {
		return
	}
	for _, g := range m.Gateways {
		if len(g.Spec.Selector) == 0 {
			continue
		}
		sel := m.GatewayPods(g)
		for i, s := range g.Spec.Servers {
			if s.GetPort().GetNumber() == 0 {
				continue
			}
			var unreached []*mesh.Workload
			var services []string
			for _, w := range sel.Gateways {
				svcs := m.ServicesOf(w)
				if len(svcs) == 0 {
					continue // its Service is not in the input
				}
				e := m.GatewayServerPort(w, s.Port.Number)
				if e.Exposed || e.Unknown {
					continue
				}
				unreached = append(unreached, w)
				for _, svc := range svcs {
					services = append(services, fmt.Sprintf("Service %s/%s (%s)", svc.Namespace, svc.Name, servicePorts(svc)))
				}
			}
			if len(unreached) == 0 {
				continue
			}
			f := rules.At(g.Object, "spec", "servers", i, "port", "number")
			f.Message = fmt.Sprintf("Gateway %s/%s %s listens on port %d of %s, but no Service port leads there: %s", g.Namespace, g.Name, mesh.DescribeServer(i, s), s.Port.Number, rules.WorkloadList(unreached, 2), rules.ListUpTo(services, 2))
			f.Symptom = fmt.Sprintf("connections to the gateway's Service or load balancer on port %d are refused or time out; the server is reachable only on a pod IP", s.Port.Number)
			svc := m.ServicesOf(unreached[0])[0]
			f.Fix = fmt.Sprintf("set the server's port.number to a port Service %s/%s exposes, or add the port to it:\nspec:\n  ports:\n  - name: %s\n    port: %d\n    targetPort: %d", svc.Namespace, svc.Name, portName(s.Port.Protocol, s.Port.Number), s.Port.Number, s.Port.Number)
			p.Report(f)
		}
	}
}

func servicePorts(s *mesh.Service) string {
	var out []string
	for _, sp := range s.Spec.Ports {
		t := sp.TargetPort.String()
		if sp.TargetPort.IntVal == 0 && sp.TargetPort.StrVal == "" {
			t = fmt.Sprint(sp.Port)
		}
		out = append(out, fmt.Sprintf("%d→%s", sp.Port, t))
	}
	if len(out) == 0 {
		return "no ports"
	}
	return "ports " + strings.Join(out, ", ")
}

func portName(protocol string, n uint32) string {
	p := strings.ToLower(protocol)
	if p == "" {
		p = "tcp"
	}
	return fmt.Sprintf("%s-%d", p, n)
}
