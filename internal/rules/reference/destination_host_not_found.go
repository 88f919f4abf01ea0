package reference

import (
	"fmt"
	"slices"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// DestinationHostNotFound: a VirtualService route or mirror names a host
// that no Service or ServiceEntry defines. istiod still writes the route,
// pointing at an Envoy cluster that does not exist.
var DestinationHostNotFound = &rules.Rule{
	Code: "MD5001", Name: "destination-host-not-found", Severity: finding.Error, Area: "reference",
	Summary: "A VirtualService routes to a host that no Service or ServiceEntry defines.",
	Needs:   []string{"VirtualService"},
	Since:   "0.1.0",
	IST:     []string{"IST0101"},
	Doc: rules.Doc{
		Mechanism: "A route destination's host is looked up in the service registry (Kubernetes Services and ServiceEntries). A short name (\"reviews\") is completed with the VirtualService's namespace; any name with a dot (\"reviews.prod\") is taken literally, so it never matches the Service host reviews.prod.svc.cluster.local. istiod does not reject a destination it cannot find: it writes the route with cluster outbound|<port>||<host>, a cluster no proxy has. meshdoctor reports cluster-local hosts only when the target namespace's Services are in the input, and partial names only when the full Service name is in the input; external hosts are left alone, since their ServiceEntry often lives elsewhere. A host exists only for the namespaces its Service (annotation networking.istio.io/exportTo) or ServiceEntry (exportTo) is exported to: a ServiceEntry for hosts [\"*\"] exported to \".\" defines every host for its own namespace alone. A route's clients are its VirtualService's namespace (unless its exportTo leaves it out), its Gateways' namespaces and the namespaces it is exported to by name.",
		Symptom:   "Requests on the route get HTTP 503 with response flag NC (no cluster found; Envoy logs \"unknown cluster\"); TCP/TLS routes close the connection. A mirror to an unknown host silently drops the mirrored copies.",
		Fix:       "Point the destination at the Service's fully qualified name (name.namespace.svc.cluster.local), or create the missing Service (or a ServiceEntry for a host outside the mesh).",
		Before:    "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\n  namespace: frontend\nspec:\n  hosts: [reviews.shop.svc.cluster.local]\n  http:\n  - route:\n    - destination:\n        host: reviews.shop   # taken literally, not reviews.shop.svc.cluster.local\n",
		After:     "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\n  namespace: frontend\nspec:\n  hosts: [reviews.shop.svc.cluster.local]\n  http:\n  - route:\n    - destination:\n        host: reviews.shop.svc.cluster.local\n",
		Sources: []string{
			"https://istio.io/latest/docs/reference/config/networking/virtual-service/#Destination",
			"https://istio.io/latest/docs/reference/config/analysis/ist0101/",
			"https://github.com/istio/istio/issues/15226",
			"https://www.envoyproxy.io/docs/envoy/latest/configuration/observability/access_log/usage#config-access-log-format-response-flags",
		},
	},
	Run: runDestinationHostNotFound,
}

func runDestinationHostNotFound(p *rules.Pass) {
	m := p.Model
	sc := newScope(m)
	for _, vs := range m.VirtualServices {
		clients := routeClients(m, vs)
		if len(clients) == 0 {
			continue // exported to no namespace ("~") and bound to no Gateway: no proxy uses it
		}
		for _, d := range m.Destinations(vs) {
			miss, ok := sc.unresolved(d.Destination.Host, d.Host, clients)
			if !ok {
				continue
			}
			f := rules.At(vs.Object, d.FieldPath("host")...)
			what := fmt.Sprintf("route spec.%s[%d]", d.Protocol, d.Route)
			if d.Mirror {
				what = fmt.Sprintf("mirror of spec.http[%d]", d.Route)
				f.Severity = finding.Warning
			}
			f.Message = fmt.Sprintf("VirtualService %s/%s %s sends traffic to host %s, but no Service or ServiceEntry defines it", vs.Namespace, vs.Name, what, hostDesc(d.Destination.Host, d.Host))
			if miss.Hidden != "" {
				f.Message = fmt.Sprintf("VirtualService %s/%s %s sends traffic to host %s, which no Service or ServiceEntry exported to %s defines: %s", vs.Namespace, vs.Name, what, hostDesc(d.Destination.Host, d.Host), namespaceList(clients), miss.Hidden)
				f.Fix = fmt.Sprintf("export the definition to the clients' namespace (exportTo, or the %s annotation on a Service), or define the host there", mesh.ServiceExportToAnnotation)
				if miss.HiddenEntry {
					// Another ServiceEntry outside the input may define
					// the host for the clients.
					f.Severity = finding.Warning
				}
			} else if miss.Suggest != "" {
				f.Message += fmt.Sprintf("; did you mean %s (%s)?", miss.Suggest, miss.Why)
				f.Fix = fmt.Sprintf("point the destination at the Service:\n    destination:\n      host: %s", miss.Suggest)
			} else {
				f.Message += " (" + miss.Why + ")"
				f.Fix = fmt.Sprintf("correct the host to an existing Service's fully qualified name, or create Service %s", d.Host)
				if len(m.Generators) > 0 {
					// What a skipped chart or kustomization creates is
					// not in the input: the Service may be among it.
					f.Severity = finding.Warning
					f.Message += fmt.Sprintf("; the input skipped %s, whose rendered objects may define it", rules.ListUpTo(m.Generators, 2))
					f.Fix = fmt.Sprintf("analyze the rendered output (helm template … | meshdoctor analyze -, kustomize build … | meshdoctor analyze -) to be sure; otherwise correct the host or create Service %s", d.Host)
				}
			}
			switch {
			case d.Mirror:
				f.Symptom = "mirrored requests are silently dropped (Envoy skips a shadow to an unknown cluster); the primary traffic is unaffected, so the shadow target sees nothing"
			case d.Protocol == "http":
				f.Symptom = fmt.Sprintf("requests on this route get HTTP 503 with response flag NC (unknown cluster outbound|…||%s)", d.Host)
			default:
				f.Symptom = fmt.Sprintf("connections on this route are closed at once, response flag NC (unknown cluster outbound|…||%s)", d.Host)
			}
			p.Report(f)
		}
	}
}

// routeClients are the namespaces whose proxies use vs's routes and must
// see its destination hosts: its own namespace unless its exportTo leaves
// it out (exportTo [other] hides it from its own namespace's sidecars),
// the namespaces of the Gateways it is bound to, and the namespaces it is
// explicitly exported to. When a host is defined for any of them the rule
// stays silent.
func routeClients(m *mesh.Model, vs *mesh.VirtualService) []string {
	seen := map[string]bool{}
	var out []string
	set, all, _ := m.VirtualServiceVisibility(vs)
	if all || set[vs.Namespace] {
		seen[vs.Namespace] = true
		out = append(out, vs.Namespace)
	}
	own := len(out)
	add := func(ns string) {
		if ns != "" && !seen[ns] {
			seen[ns] = true
			out = append(out, ns)
		}
	}
	for _, ref := range vs.BoundGateways() {
		key := mesh.GatewayKey(ref, vs.Namespace)
		add(key[:strings.IndexByte(key, '/')])
	}
	if !all {
		for ns := range set {
			add(ns)
		}
	}
	slices.Sort(out[own:])
	return out
}

func namespaceList(ns []string) string {
	if len(ns) == 1 {
		return "namespace " + ns[0]
	}
	return "namespaces " + strings.Join(ns, ", ")
}
