package reference

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// DestinationPortNotFound: a VirtualService destination names a port its
// host does not have, or leaves the port out for a host with several
// ports while the route is served on a port the host lacks. Either way
// Envoy routes to a cluster that does not exist.
var DestinationPortNotFound = &rules.Rule{
	Code: "MD5009", Name: "destination-port-not-found", Severity: finding.Error, Area: "reference",
	Summary: "A VirtualService destination resolves to a port its Service or ServiceEntry does not have.",
	Needs:   []string{"VirtualService"},
	Reads:   []string{"Service", "ServiceEntry", "Gateway"},
	Since:   "0.3.0",
	IST:     []string{"IST0101", "IST0112"},
	Doc: rules.Doc{
		Mechanism: "istiod names the Envoy cluster of a route destination outbound|<port>||<host>. The port is destination.port.number when written; otherwise the host's only port when its Service or ServiceEntry has exactly one; otherwise the port of the listener the request arrived on (pilot/pkg/networking/core/route/route.go, GetDestinationCluster). A written port the host does not define, or an omitted port on a multi-port host served on a listener port the host lacks (typically a VirtualService bound to a Gateway on port 80 or 443 routing to a Service with ports 8080 and 9090), names a cluster that does not exist. istioctl analyze reports every omitted port on a multi-port host (IST0112); meshdoctor reports it only when a serving port of the route (a bound Gateway server for the VirtualService's hosts, or a port of the Service the VirtualService routes for) is missing from the destination, since on a port the host has, Envoy picks that same port and the route works. Destinations whose host is not in the input are left to destination-host-not-found.",
		Symptom:   "Requests on the route get HTTP 503 with response flag NC (cluster outbound|<port>||<host> not found); TCP connections are closed at once.",
		Fix:       "Write the destination's port as one of the host's ports: destination.port.number.",
		Before:    "apiVersion: v1\nkind: Service\nmetadata:\n  name: api\n  namespace: shop\nspec:\n  selector: {app: api}\n  ports:\n  - {name: http, port: 8080}\n  - {name: grpc, port: 9090}\n---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: api\n  namespace: shop\nspec:\n  hosts: [api.example.com]\n  gateways: [istio-system/public]   # a server on port 80\n  http:\n  - route:\n    - destination:\n        host: api               # no port: outbound|80||api.shop.svc.cluster.local\n",
		After:     "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: api\n  namespace: shop\nspec:\n  hosts: [api.example.com]\n  gateways: [istio-system/public]\n  http:\n  - route:\n    - destination:\n        host: api\n        port: {number: 8080}\n",
		Sources: []string{
			"https://istio.io/latest/docs/reference/config/networking/virtual-service/#Destination",
			"https://istio.io/latest/docs/reference/config/analysis/ist0112/",
			"https://istio.io/latest/docs/reference/config/analysis/ist0101/",
		},
	},
	Run: runDestinationPortNotFound,
}

func runDestinationPortNotFound(p *rules.Pass) {
	m := p.Model
	for _, vs := range m.VirtualServices {
		for _, d := range m.Destinations(vs) {
			if d.Host == "" || strings.HasPrefix(d.Host, "*") {
				continue
			}
			ports, def, found := m.HostPorts(vs.Namespace, d.Host)
			if !found || len(ports) == 0 {
				continue
			}
			written := d.Destination.GetPort().GetNumber()
			if written != 0 {
				if slices.Contains(ports, written) {
					continue
				}
				f := rules.At(vs.Object, d.FieldPath("port", "number")...)
				f.Message = fmt.Sprintf("VirtualService %s/%s %s sends to %s port %d, but %s has ports %s", vs.Namespace, vs.Name, destWhere(d), d.Destination.Host, written, def.Describe(), portNumbers(ports))
				f.Symptom = destSymptom(d, mesh.ClusterName(written, d.Destination.Subset, d.Host))
				want := ports[0]
				if sp := targetOf(def, written); sp != nil {
					// The container port instead of the Service port: a
					// destination names the Service's port.
					want = uint32(sp.Port)
					f.Message += fmt.Sprintf("; %d is the targetPort of Service port %d, and a destination names the Service port", written, sp.Port)
				}
				f.Fix = fmt.Sprintf("use one of the host's ports:\n    destination:\n      host: %s\n      port:\n        number: %d", d.Destination.Host, want)
				reportDest(p, f, d)
				continue
			}
			if len(ports) < 2 {
				continue // the only port is taken
			}
			serving, _ := m.ServingPorts(vs, d)
			var missing []string
			for _, sp := range serving {
				if !slices.Contains(ports, mesh.ClusterPort(0, ports, sp.Port)) {
					missing = append(missing, fmt.Sprintf("port %d (%s)", sp.Port, sp.Via))
				}
			}
			if len(missing) == 0 {
				continue
			}
			f := rules.At(vs.Object, d.FieldPath("host")...)
			f.Message = fmt.Sprintf("VirtualService %s/%s %s sends to %s without a port; %s has ports %s, so Envoy uses the port the request arrived on, and the route is served on %s, which the host lacks", vs.Namespace, vs.Name, destWhere(d), d.Destination.Host, def.Describe(), portNumbers(ports), rules.ListUpTo(missing, 3))
			f.Symptom = destSymptom(d, mesh.ClusterName(serving[0].Port, d.Destination.Subset, d.Host))
			f.Fix = fmt.Sprintf("name the port to send to:\n    destination:\n      host: %s\n      port:\n        number: %d", d.Destination.Host, ports[0])
			reportDest(p, f, d)
		}
	}
}

func destWhere(d mesh.RouteDestination) string {
	if d.Mirror {
		return fmt.Sprintf("mirror of spec.http[%d]", d.Route)
	}
	return fmt.Sprintf("route spec.%s[%d]", d.Protocol, d.Route)
}

func destSymptom(d mesh.RouteDestination, cluster string) string {
	switch {
	case d.Mirror:
		return "mirrored requests are silently dropped: cluster " + cluster + " does not exist"
	case d.Protocol == "http":
		return "requests on this route get HTTP 503 with response flag NC (cluster " + cluster + " not found)"
	}
	return "connections on this route are closed at once, response flag NC (cluster " + cluster + " not found)"
}

func reportDest(p *rules.Pass, f finding.Finding, d mesh.RouteDestination) {
	if d.Mirror {
		f.Severity = finding.Warning
	}
	p.Report(f)
}

func portNumbers(ports []uint32) string {
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = strconv.FormatUint(uint64(p), 10)
	}
	return strings.Join(s, ", ")
}

// targetOf finds the Service port whose numeric targetPort is port.
func targetOf(def mesh.Destination, port uint32) *corev1.ServicePort {
	if def.Service == nil {
		return nil
	}
	for i, sp := range def.Service.Spec.Ports {
		if sp.TargetPort.IntVal != 0 && uint32(sp.TargetPort.IntVal) == port {
			return &def.Service.Spec.Ports[i]
		}
	}
	return nil
}
