package gateway

import (
	"fmt"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// VirtualServiceHostNotInGateway: a VirtualService binds to a Gateway none
// of whose servers takes any of its hosts, so the binding installs nothing.
var VirtualServiceHostNotInGateway = &rules.Rule{
	Code: "MD3008", Name: "virtualservice-host-not-in-gateway", Severity: finding.Warning, Area: "gateway",
	Summary: "A VirtualService binds to a Gateway whose servers take none of its hosts.",
	Needs:   []string{"VirtualService"},
	Reads:   []string{"Gateway"},
	Since:   "0.3.0",
	IST:     []string{"IST0132"},
	Doc: rules.Doc{
		Mechanism: "A gateway proxy builds a virtual host for each host a bound VirtualService lists that also matches a host of one of the Gateway's servers (either side may be a wildcard). A server host written namespace/host takes only VirtualServices from that namespace (\".\" is the Gateway's own, \"*\" any). When no host of the VirtualService passes, the binding installs no route on the gateway at all. Like istioctl analyze (IST0132), meshdoctor reports a bound Gateway in the input that takes none of the VirtualService's hosts; it also checks gateways named in match clauses, and says when the host is listed but the server's namespace prefix excludes the VirtualService's namespace.",
		Symptom:   "Requests for the VirtualService's hosts through that gateway get HTTP 404 with response flag NR (no virtual host), or match another VirtualService; the routes exist only in the YAML.",
		Fix:       "Add the VirtualService's host to a server of the Gateway (with a namespace prefix that admits the VirtualService's namespace), or list in the VirtualService a host the Gateway serves.",
		Before:    "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: public\n  namespace: istio-system\nspec:\n  selector: {istio: ingressgateway}\n  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: [\"shop.example.com\"]\n---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: api\n  namespace: shop\nspec:\n  hosts: [api.example.com]\n  gateways: [istio-system/public]\n  http:\n  - route:\n    - destination: {host: api}\n",
		After:     "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: public\n  namespace: istio-system\nspec:\n  selector: {istio: ingressgateway}\n  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: [\"shop.example.com\", \"api.example.com\"]\n",
		Sources: []string{
			"https://istio.io/latest/docs/reference/config/networking/gateway/#Server",
			"https://istio.io/latest/docs/reference/config/networking/virtual-service/#VirtualService",
			"https://istio.io/latest/docs/reference/config/analysis/ist0132/",
		},
	},
	Run: runVirtualServiceHostNotInGateway,
}

func runVirtualServiceHostNotInGateway(p *rules.Pass) {
	m := p.Model
	for _, vs := range m.VirtualServices {
		if len(vs.Hosts) == 0 {
			continue
		}
		seen := map[string]bool{}
		for _, r := range gatewayRefs(vs) {
			if r.ref == "mesh" {
				continue
			}
			if _, internal := mesh.InternalGatewayRef(r.ref, vs.Namespace); internal {
				continue
			}
			g, key := m.GatewayByName(r.ref, vs.Namespace)
			if g == nil || seen[key] {
				continue
			}
			seen[key] = true
			var restricted []string
			served := false
			for _, h := range vs.Hosts {
				switch mesh.GatewayServesHost(g, vs.Namespace, h) {
				case mesh.HostServed:
					served = true
				case mesh.HostNamespaceRestricted:
					restricted = append(restricted, h)
				}
			}
			if served {
				continue
			}
			f := rules.At(vs.Object, r.path...)
			f.Message = fmt.Sprintf("VirtualService %s/%s binds to Gateway %s, but no server of the Gateway takes its hosts %s (the Gateway's hosts: %s)", vs.Namespace, vs.Name, key, strings.Join(vs.Spec.Hosts, ", "), gatewayHosts(g))
			if len(restricted) > 0 {
				f.Message += fmt.Sprintf("; %s is listed, but only for VirtualServices of other namespaces", restricted[0])
				f.Fix = fmt.Sprintf("admit namespace %s in the Gateway's server hosts:\n  hosts:\n  - \"%s/%s\"", vs.Namespace, vs.Namespace, restricted[0])
			} else {
				f.Fix = fmt.Sprintf("add the host to a server of Gateway %s:\n  servers:\n  - hosts:\n    - \"%s\"\nor list in the VirtualService a host the Gateway serves", key, vs.Spec.Hosts[0])
			}
			f.Symptom = fmt.Sprintf("the routes of VirtualService %s/%s are not installed on Gateway %s: requests for %s through it get HTTP 404 with response flag NR", vs.Namespace, vs.Name, key, strings.Join(vs.Spec.Hosts, ", "))
			p.Report(f)
		}
	}
}

// gatewayHosts lists the hosts of all servers of g, each once, as written.
func gatewayHosts(g *mesh.Gateway) string {
	seen := map[string]bool{}
	var out []string
	for _, s := range g.Spec.Servers {
		for _, h := range s.Hosts {
			if !seen[h] {
				seen[h] = true
				out = append(out, h)
			}
		}
	}
	if len(out) == 0 {
		return "none"
	}
	return rules.ListUpTo(out, 5)
}
