package gateway

import (
	"fmt"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// GatewaySelectsNoPods: an Istio Gateway's selector matches no gateway
// proxy, so its servers are opened nowhere.
var GatewaySelectsNoPods = &rules.Rule{
	Code: "MD3004", Name: "gateway-selects-no-pods", Severity: finding.Error, Area: "gateway",
	Summary: "An Istio Gateway's selector matches no gateway workload.",
	Needs:   []string{"Gateway"},
	Since:   "0.1.0",
	IST:     []string{"IST0101"},
	Doc: rules.Doc{
		Mechanism: "An Istio Gateway configures the listeners of the gateway proxies (Envoy running as \"router\") whose pod labels match spec.selector, in any namespace (only the Gateway's namespace when istiod runs with PILOT_SCOPE_GATEWAY_TO_NAMESPACE=true). Sidecars ignore Gateways. A selector that matches no gateway pod (a label copied from another install, istio: ingress instead of istio: ingressgateway, an application's labels) opens its servers on no proxy, and the VirtualServices bound to it are never served. The rule runs only when the input holds gateway workloads; otherwise the gateway is installed elsewhere and cannot be checked. A selector of a gateway Istio's installers deploy (istio: ingressgateway, egressgateway, eastwestgateway, ingress or egress; app: istio-ingressgateway…) is checked only when the input holds the shared gateways (a gateway workload in the root namespace or another istio-* namespace): an input with only an application's own gateway Deployment does not show the mesh's default ingress gateway, which is merely absent.",
		Symptom:   "No gateway listens for the Gateway's hosts and ports: connections to the ingress IP on that port are refused, or a gateway serving other hosts on the port answers HTTP 404 with response flag NR; istioctl analyze reports IST0101 (referenced selector not found).",
		Fix:       "Set spec.selector to the labels of the gateway pods (e.g. istio: ingressgateway for the default ingress gateway, or the labels of your gateway Deployment's pod template).",
		Before:    "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: web\n  namespace: web\nspec:\n  selector:\n    istio: ingress          # the pods are labelled istio: ingressgateway\n  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: [\"web.example.com\"]\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: istio-ingressgateway\n  namespace: istio-system\nspec:\n  selector:\n    matchLabels: {istio: ingressgateway}\n  template:\n    metadata:\n      labels: {istio: ingressgateway, app: istio-ingressgateway}\n    spec:\n      containers:\n      - name: istio-proxy\n        image: docker.io/istio/proxyv2:1.22.2\n        args: [proxy, router]\n",
		After:     "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: web\n  namespace: web\nspec:\n  selector:\n    istio: ingressgateway\n  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: [\"web.example.com\"]\n",
		Sources: []string{
			"https://istio.io/latest/docs/reference/config/networking/gateway/#Gateway",
			"https://istio.io/latest/docs/reference/config/analysis/ist0101/",
			"https://istio.io/latest/docs/setup/additional-setup/gateway/",
		},
	},
	Run: runGatewaySelectsNoPods,
}

func runGatewaySelectsNoPods(p *rules.Pass) {
	m := p.Model
	gws := m.GatewayWorkloads()
	if len(gws) == 0 {
		return // gateway proxies installed elsewhere: nothing to check against
	}
	shared := false
	for _, w := range gws {
		if m.SharedGatewayNamespace(w.Namespace) {
			shared = true
			break
		}
	}
	for _, g := range m.Gateways {
		if len(g.Spec.Selector) == 0 {
			continue
		}
		if !shared && mesh.SharedGatewaySelector(g.Spec.Selector) {
			// The input holds only gateways of its own (a user gateway
			// Deployment), not the mesh's shared ingress or egress
			// gateway this selector names: that one is merely absent.
			continue
		}
		checkGatewaySelector(p, g, gws)
	}
}

func checkGatewaySelector(p *rules.Pass, g *mesh.Gateway, gws []*mesh.Workload) {
	sel := p.Model.GatewayPods(g)
	if len(sel.Gateways) > 0 {
		return
	}
	for _, w := range sel.Workloads {
		if mesh.MayBeProxy(w) {
			return // possibly a gateway deployed in a way the input does not reveal
		}
	}
	f := rules.At(g.Object, "spec", "selector")
	where := "any namespace"
	if sel.Scoped {
		where = "namespace " + g.Namespace + " (" + sel.ScopedWhy + ")"
	}
	if len(sel.Workloads) > 0 {
		f.Message = fmt.Sprintf("Gateway %s/%s selects %s, which matches only %s; these are not gateway proxies, and sidecars ignore Gateways", g.Namespace, g.Name, rules.LabelString(g.Spec.Selector), rules.WorkloadList(sel.Workloads, len(sel.Workloads)))
	} else {
		f.Message = fmt.Sprintf("Gateway %s/%s selects %s, which matches no workload in %s", g.Namespace, g.Name, rules.LabelString(g.Spec.Selector), where)
	}
	f.Message += "; gateway workloads in the input: " + gatewayList(gws, sel.Scoped, g.Namespace)
	f.Symptom = fmt.Sprintf("no gateway opens the servers of Gateway %s/%s (%s): connections to the gateway on those ports are refused, or another Gateway's listener answers HTTP 404 (NR)", g.Namespace, g.Name, serverSummary(g))
	f.Fix = selectorFix(gws, sel.Scoped, g.Namespace)
	p.Report(f)
}

// gatewayLabels are the labels worth selecting a gateway by.
func gatewayLabels(w *mesh.Workload) map[string]string {
	out := map[string]string{}
	for _, k := range []string{"istio", "app", "gateway.networking.k8s.io/gateway-name", "istio.io/gateway-name"} {
		if v := w.Labels[k]; v != "" {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return w.Labels
	}
	return out
}

func gatewayList(gws []*mesh.Workload, scoped bool, ns string) string {
	var parts []string
	for _, w := range gws {
		s := w.Kind + " " + w.Namespace + "/" + w.Name + " (" + rules.LabelString(gatewayLabels(w)) + ")"
		if scoped && w.Namespace != ns {
			s += " in another namespace"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

func selectorFix(gws []*mesh.Workload, scoped bool, ns string) string {
	for _, w := range gws {
		if scoped && w.Namespace != ns {
			continue
		}
		labels := gatewayLabels(w)
		if v, ok := labels["istio"]; ok {
			labels = map[string]string{"istio": v}
		}
		return strings.TrimSuffix(fmt.Sprintf("select the pods of %s %s/%s:\n  selector:\n%s", w.Kind, w.Namespace, w.Name, rules.LabelsYAML(labels, "    ")), "\n")
	}
	if scoped {
		return fmt.Sprintf("PILOT_SCOPE_GATEWAY_TO_NAMESPACE is on: deploy a gateway in namespace %s, or move the Gateway to the namespace of the gateway pods and select their labels", ns)
	}
	return "set spec.selector to the pod labels of your gateway Deployment"
}

func serverSummary(g *mesh.Gateway) string {
	var parts []string
	for _, s := range g.Spec.Servers {
		if s.Port == nil {
			continue
		}
		parts = append(parts, fmt.Sprintf("port %d for %s", s.Port.Number, strings.Join(s.Hosts, ", ")))
	}
	if len(parts) == 0 {
		return "no servers"
	}
	return strings.Join(parts, "; ")
}
