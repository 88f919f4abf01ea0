package reference

import (
	"fmt"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// SidecarSelectorConflict: several Sidecar resources claim the same proxy
// (selectors matching the same workload, or several without a selector in
// one namespace); istiod applies one and ignores the others.
var SidecarSelectorConflict = &rules.Rule{
	Code: "MD5011", Name: "sidecar-selector-conflict", Severity: finding.Error, Area: "reference",
	Summary: "Several Sidecar resources select the same workload, or several in one namespace have no selector; istiod applies only one.",
	Needs:   []string{"Sidecar"},
	Reads:   []string{"Deployment", "StatefulSet", "DaemonSet", "Pod"},
	Since:   "0.3.0",
	IST:     []string{"IST0110", "IST0111"},
	Doc: rules.Doc{
		Mechanism: "A proxy gets exactly one Sidecar resource: istiod sorts the Sidecars of its namespace by creation time (then name), puts those with a workloadSelector first, and takes the first whose selector matches the pod, else the first without a selector (pilot/pkg/model/push_context.go, getSidecarScope). Sidecars are never merged. So when two Sidecars select the same pod, or a namespace has two without a selector, all but one are ignored for those pods, and which one wins depends on when each was applied: re-creating one (a redeploy, a GitOps sync) can silently swap them. istioctl analyze reports every Sidecar of every conflicting pair or namespace (IST0110, IST0111); meshdoctor skips pods in ambient mode, which have no sidecar to scope, and reports one finding per group of Sidecars that claim the same workloads, on the Sidecar istiod ignores, naming the one it applies and the workloads affected.",
		Symptom:   "The ignored Sidecar's egress hosts, ingress listeners and outbound traffic policy have no effect on the workloads: with REGISTRY_ONLY in one and not the other, calls are blocked (502 from BlackHoleCluster) or allowed depending on which was applied first, and the behaviour can flip after a re-apply.",
		Fix:       "Keep one Sidecar per workload: merge the conflicting Sidecars into one, or make their workloadSelectors disjoint; keep a single Sidecar without a selector per namespace.",
		Before:    "apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata:\n  name: default\n  namespace: shop\nspec:\n  egress:\n  - hosts: [\"./*\", \"istio-system/*\"]\n---\napiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata:\n  name: restrict\n  namespace: shop\nspec:\n  outboundTrafficPolicy: {mode: REGISTRY_ONLY}\n",
		After:     "apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata:\n  name: default\n  namespace: shop\nspec:\n  egress:\n  - hosts: [\"./*\", \"istio-system/*\"]\n  outboundTrafficPolicy: {mode: REGISTRY_ONLY}\n",
		Sources: []string{
			"https://istio.io/latest/docs/reference/config/networking/sidecar/",
			"https://istio.io/latest/docs/reference/config/analysis/ist0110/",
			"https://istio.io/latest/docs/reference/config/analysis/ist0111/",
		},
	},
	Run: runSidecarSelectorConflict,
}

func runSidecarSelectorConflict(p *rules.Pass) {
	m := p.Model
	pols := m.SidecarPolicies()
	for _, g := range m.OverlappingSelectors(pols) {
		if g.Workloads = withSidecar(m, g.Workloads); len(g.Workloads) == 0 {
			continue // ambient pods have no sidecar to scope
		}
		names := policyNames(g)
		win := g.Policies[0]
		for _, lose := range g.Policies[1:] {
			f := rules.At(lose.Object, lose.Path...)
			f.Message = fmt.Sprintf("Sidecars %s in namespace %s all select %s; istiod applies only one per proxy (%s): Sidecar %s, so %s is ignored for them", quoted(names), g.Namespace, workloadsOf(g), orderNote(g), win.Object.Name, lose.Object.Name)
			f.Symptom = fmt.Sprintf("the egress hosts, ingress listeners and outbound traffic policy of Sidecar %s/%s do not apply to %s; which Sidecar wins changes if either is re-created", g.Namespace, lose.Object.Name, workloadsOf(g))
			f.Fix = fmt.Sprintf("merge Sidecar %s into %s, or make their workloadSelectors select different pods", lose.Object.Name, win.Object.Name)
			p.Report(f)
		}
	}
	for _, g := range mesh.NamespaceWideDuplicates(pols) {
		if ws := m.WorkloadsIn(g.Namespace); len(ws) > 0 && len(withSidecar(m, ws)) == 0 {
			continue // an ambient namespace: no sidecar to scope
		}
		names := policyNames(g)
		win := g.Policies[0]
		for _, lose := range g.Policies[1:] {
			f := rules.At(lose.Object, "metadata", "name")
			scope := "every proxy of namespace " + g.Namespace + " without a selecting Sidecar"
			if m.MeshWide(g.Namespace) {
				scope = "the mesh (root namespace): the default for every namespace without its own Sidecar"
			}
			f.Message = fmt.Sprintf("Sidecars %s in namespace %s have no workloadSelector; each claims %s, and istiod applies only the first (%s): Sidecar %s, so %s is ignored", quoted(names), g.Namespace, scope, orderNote(g), win.Object.Name, lose.Object.Name)
			f.Symptom = fmt.Sprintf("the settings of Sidecar %s/%s have no effect; which one applies changes if either is re-created", g.Namespace, lose.Object.Name)
			f.Fix = fmt.Sprintf("merge Sidecar %s into %s (one Sidecar without a selector per namespace), or give it a workloadSelector:\nspec:\n  workloadSelector:\n    labels:\n      app: <app>", lose.Object.Name, win.Object.Name)
			p.Report(f)
		}
	}
}

// withSidecar drops the workloads that run in ambient mode: a Sidecar
// resource has no proxy to configure there.
func withSidecar(m *mesh.Model, ws []*mesh.Workload) []*mesh.Workload {
	var out []*mesh.Workload
	for _, w := range ws {
		if dp, _ := m.Injection(w); dp != mesh.DataplaneAmbient {
			out = append(out, w)
		}
	}
	return out
}
