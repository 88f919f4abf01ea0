package workload

import (
	"fmt"
	"sort"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// NamespaceNotInjected: a namespace holds Istio configuration for its
// workloads, but nothing injects them.
var NamespaceNotInjected = &rules.Rule{
	Code: "MD4010", Name: "namespace-not-injected", Severity: finding.Warning, Area: "workload",
	Summary: "A namespace holds Istio configuration, but has no injection label and its workloads run without a sidecar: the configuration meant for them does nothing.",
	Needs:   []string{"Namespace"},
	Reads:   []string{"Deployment", "StatefulSet", "DaemonSet", "Pod", "ConfigMap", "Sidecar", "PeerAuthentication", "AuthorizationPolicy", "RequestAuthentication", "Telemetry", "EnvoyFilter", "WasmPlugin", "ProxyConfig"},
	Since:   "0.2.0",
	IST:     []string{"IST0102"},
	Doc: rules.Doc{
		Mechanism: "Sidecars are injected only into pods of namespaces labelled istio-injection=enabled or istio.io/rev=<revision> (or pods that ask for it with the sidecar.istio.io/inject label), unless the injector is installed with enableNamespacesByDefault. Policies that a workload's own sidecar enforces (AuthorizationPolicy, PeerAuthentication, RequestAuthentication, Sidecar, Telemetry, WasmPlugin, ProxyConfig, EnvoyFilter), written in a namespace for its workloads, say the mesh is meant to run there; without a sidecar nothing enforces them. istioctl analyze reports every namespace without an injection label (IST0102, info); meshdoctor reports only namespaces where the input shows the mesh is meant to be used: such policies select workloads there that run without a sidecar and did not opt out. Client-side configuration (VirtualServices, DestinationRules: a gateway may route to a service that is deliberately outside the mesh) and policies attached to a Gateway or waypoint (targetRefs) do not count. Namespaces labelled istio-injection=disabled or ambient, Kubernetes' and Istio's own namespaces, and installs with enableNamespacesByDefault (IST0148: every unlabelled namespace is injected, which the model takes into account) are not reported.",
		Symptom:   "Policies in the namespace have no effect: AuthorizationPolicies do not deny, PeerAuthentication STRICT does not require mTLS, Sidecar and Telemetry resources configure nothing. The pods are missing from `istioctl proxy-status`, and requests to them from meshed clients that require mTLS are reset (503 UF).",
		Fix:       "Label the namespace and re-create its pods: `kubectl label namespace NS istio-injection=enabled` (or istio.io/rev=REV) then `kubectl rollout restart deployment -n NS`. If the namespace is meant to stay outside the mesh, label it istio-injection=disabled and move the Istio configuration away.",
		Before:    "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: orders-allow-frontend\n  namespace: shop\nspec:\n  selector:\n    matchLabels: {app: orders}\n  rules:\n  - from:\n    - source:\n        principals: [cluster.local/ns/shop/sa/frontend]\n",
		After:     "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n    istio-injection: enabled\n",
		Sources: []string{
			"https://istio.io/latest/docs/setup/additional-setup/sidecar-injection/#controlling-the-injection-policy",
			"https://istio.io/latest/docs/reference/config/analysis/ist0102/",
			"https://istio.io/latest/docs/reference/config/analysis/ist0148/",
		},
	},
	Run: runNamespaceNotInjected,
}

func runNamespaceNotInjected(p *rules.Pass) {
	m := p.Model
	if m.Mesh.InjectByDefault {
		return
	}
	policies := m.WorkloadPoliciesByNamespace()
	for _, ns := range m.Namespaces {
		if m.SystemNamespace(ns.Name) || ns.SelectsDataplane() || len(policies[ns.Name]) == 0 {
			continue
		}
		outside := map[*mesh.Workload]bool{}
		for _, w := range m.WorkloadsIn(ns.Name) {
			if d, _ := m.Injection(w); d == mesh.DataplaneNone && !mesh.PodOptsOut(w) {
				outside[w] = true
			}
		}
		if len(outside) == 0 {
			continue
		}
		// The policies written for those pods, and the pods they are
		// written for (selectors through the model's label index).
		var cfg, names []string
		selected := map[*mesh.Workload]bool{}
		for _, pol := range policies[ns.Name] {
			applies := len(pol.Selector) == 0 // namespace-wide
			if applies {
				for w := range outside {
					selected[w] = true
				}
			}
			for _, w := range m.Select(ns.Name, pol.Selector) {
				if outside[w] {
					applies, selected[w] = true, true
				}
			}
			if applies {
				cfg = append(cfg, pol.Object.Kind+" "+pol.Object.Name)
			}
		}
		for w := range selected {
			names = append(names, w.Kind+" "+w.Name)
		}
		if len(cfg) == 0 {
			continue
		}
		sort.Strings(names)
		f := rules.At(ns.Object, "metadata", "name")
		f.Message = fmt.Sprintf("Namespace %s has no injection label, yet it holds Istio policies its sidecars would enforce (%s): the workloads they select, %s, run without istio-proxy", ns.Name, listSome(cfg, 3), listSome(names, 3))
		f.Symptom = "the namespace's Istio configuration does nothing for these pods: no proxy enforces its AuthorizationPolicies or PeerAuthentications or applies its Sidecar and Telemetry settings, and meshed clients that require mTLS to them get resets (503 UF)"
		f.Fix = fmt.Sprintf("enable injection and re-create the pods:\n  kubectl label namespace %s istio-injection=enabled\n  kubectl rollout restart deployment -n %s\nor, if the namespace stays outside the mesh: kubectl label namespace %s istio-injection=disabled", ns.Name, ns.Name, ns.Name)
		p.Report(f)
	}
}

// listSome joins up to n items and says how many more there are.
func listSome(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:n], ", "), len(items)-n)
}
