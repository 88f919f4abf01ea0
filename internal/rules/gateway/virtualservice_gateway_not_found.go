package gateway

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// VirtualServiceGatewayNotFound: a VirtualService binds to an Istio Gateway
// that does not exist, so its routes are installed on no gateway.
var VirtualServiceGatewayNotFound = &rules.Rule{
	Code: "MD3003", Name: "virtualservice-gateway-not-found", Severity: finding.Error, Area: "gateway",
	Summary: "A VirtualService's gateways field names an Istio Gateway that does not exist.",
	Needs:   []string{"VirtualService"},
	Since:   "0.1.0",
	IST:     []string{"IST0101"},
	Doc: rules.Doc{
		Mechanism: "istiod installs a VirtualService's routes on a gateway only through the Gateway resources it names in spec.gateways (or in a match's gateways). A name is resolved as <namespace>/<name>; a bare name (or ./name) means a Gateway in the VirtualService's own namespace, and the legacy name.namespace.svc.cluster.local form means <namespace>/<name>. \"mesh\" is the reserved word for the sidecars. A reference that resolves to no Gateway binds the routes to nothing: no gateway proxy gets them. The usual causes are a Gateway that lives in istio-system referenced without its namespace, and a typo.",
		Symptom:   "Requests for the VirtualService's hosts through the ingress gateway get HTTP 404 with response flag NR (no route configured), or the connection is refused when no Gateway opens that port; istioctl analyze reports IST0101 (ReferencedResourceNotFound).",
		Fix:       "Reference the Gateway as <namespace>/<name> when it lives in another namespace (e.g. istio-system/bookinfo-gateway), correct the name, or apply the missing Gateway.",
		Before:    "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: bookinfo-gateway\n  namespace: istio-system\nspec:\n  selector:\n    istio: ingressgateway\n  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: [\"bookinfo.example.com\"]\n---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: bookinfo\n  namespace: bookinfo\nspec:\n  hosts: [\"bookinfo.example.com\"]\n  gateways:\n  - bookinfo-gateway        # means bookinfo/bookinfo-gateway\n  http:\n  - route:\n    - destination:\n        host: productpage\n",
		After:     "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: bookinfo\n  namespace: bookinfo\nspec:\n  hosts: [\"bookinfo.example.com\"]\n  gateways:\n  - istio-system/bookinfo-gateway\n  http:\n  - route:\n    - destination:\n        host: productpage\n",
		Sources: []string{
			"https://istio.io/latest/docs/reference/config/networking/virtual-service/#VirtualService",
			"https://istio.io/latest/docs/reference/config/analysis/ist0101/",
		},
	},
	Run: runVirtualServiceGatewayNotFound,
}

// gatewayRef is one gateway reference in a VirtualService and where it is.
type gatewayRef struct {
	ref  string
	path []any
}

func gatewayRefs(vs *mesh.VirtualService) []gatewayRef {
	var out []gatewayRef
	for i, g := range vs.Spec.Gateways {
		out = append(out, gatewayRef{g, []any{"spec", "gateways", i}})
	}
	for i, r := range vs.Spec.Http {
		for j, mt := range r.Match {
			for k, g := range mt.Gateways {
				out = append(out, gatewayRef{g, []any{"spec", "http", i, "match", j, "gateways", k}})
			}
		}
	}
	for i, r := range vs.Spec.Tls {
		for j, mt := range r.Match {
			for k, g := range mt.Gateways {
				out = append(out, gatewayRef{g, []any{"spec", "tls", i, "match", j, "gateways", k}})
			}
		}
	}
	for i, r := range vs.Spec.Tcp {
		for j, mt := range r.Match {
			for k, g := range mt.Gateways {
				out = append(out, gatewayRef{g, []any{"spec", "tcp", i, "match", j, "gateways", k}})
			}
		}
	}
	return out
}

func runVirtualServiceGatewayNotFound(p *rules.Pass) {
	m := p.Model
	byNS := map[string][]string{}
	byName := map[string][]string{}
	for _, g := range m.Gateways {
		byNS[g.Namespace] = append(byNS[g.Namespace], g.Name)
		if key := g.Namespace + "/" + g.Name; !slices.Contains(byName[g.Name], key) {
			byName[g.Name] = append(byName[g.Name], key)
		}
	}
	for _, vs := range m.VirtualServices {
		for _, r := range gatewayRefs(vs) {
			if r.ref == "mesh" {
				continue
			}
			if _, internal := mesh.InternalGatewayRef(r.ref, vs.Namespace); internal {
				continue // exists inside istiod: virtualservice-internal-gateway
			}
			g, key := m.GatewayByName(r.ref, vs.Namespace)
			if g != nil {
				continue
			}
			ns, name, _ := strings.Cut(key, "/")
			elsewhere := byName[name]
			// Partial input: the Gateway may live in another repository.
			// Only a namespace whose Gateways are in the input, a
			// same-named Gateway elsewhere, or an input that carries
			// Gateways and this namespace makes the absence real.
			if len(byNS[ns]) == 0 && len(elsewhere) == 0 && !(m.Has("Gateway") && m.NamespaceInInput(ns)) {
				continue
			}
			f := rules.At(vs.Object, r.path...)
			f.Message = fmt.Sprintf("VirtualService %s/%s binds to Gateway %s (gateways entry %q), which does not exist", vs.Namespace, vs.Name, key, r.ref)
			switch {
			case len(elsewhere) > 0:
				sort.Strings(elsewhere)
				f.Message += fmt.Sprintf("; a Gateway of that name exists as %s (a bare name means the VirtualService's own namespace)", strings.Join(elsewhere, ", "))
				f.Fix = fmt.Sprintf("reference the Gateway with its namespace:\n  gateways:\n  - %s", elsewhere[0])
			case len(byNS[ns]) > 0:
				names := append([]string(nil), byNS[ns]...)
				sort.Strings(names)
				f.Message += fmt.Sprintf("; Gateways in namespace %s: %s", ns, strings.Join(names, ", "))
				f.Fix = fmt.Sprintf("correct the name to one of the Gateways in %s (e.g. \"%s/%s\"), or apply Gateway %s", ns, ns, names[0], key)
			default:
				f.Message += fmt.Sprintf("; the input has no Gateway in namespace %s", ns)
				f.Fix = fmt.Sprintf("apply Gateway %s (selector matching your ingress gateway pods, servers for the VirtualService's hosts), or reference an existing Gateway as <namespace>/<name>", key)
			}
			f.Symptom = fmt.Sprintf("the routes of VirtualService %s/%s for %s are installed on no gateway: requests through the ingress gateway get HTTP 404 with response flag NR, or the connection is refused if no Gateway opens the port", vs.Namespace, vs.Name, strings.Join(vs.Spec.Hosts, ", "))
			p.Report(f)
		}
	}
}
