package workload

import (
	"fmt"
	"sort"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// SidecarResourceAmbient: a Sidecar resource applies only to ambient-mode
// pods, which have no sidecar to configure.
var SidecarResourceAmbient = &rules.Rule{
	Code: "MD4019", Name: "sidecar-resource-ambient", Severity: finding.Warning, Area: "workload",
	Summary: "A Sidecar resource applies only to pods in ambient mode, which have no sidecar: it has no effect.",
	Needs:   []string{"Sidecar"},
	Reads:   []string{"Namespace", "Deployment", "StatefulSet", "DaemonSet", "Pod"},
	Since:   "0.2.0",
	IST:     []string{"IST0167"},
	Doc: rules.Doc{
		Mechanism: "A Sidecar resource configures the istio-proxy sidecar of the workloads it selects (or of its whole namespace): which hosts it imports, its egress and ingress listeners, its outbound traffic policy. Pods in ambient mode have no sidecar; ztunnel and waypoints do not read Sidecar resources. meshdoctor reports a Sidecar whose selected workloads in the input are all in ambient mode (namespace or pod label istio.io/dataplane-mode=ambient, no sidecar), or a namespace-wide Sidecar in an ambient namespace with no sidecar-injected workload; a Sidecar that selects nothing in the input is not this rule's.",
		Symptom:   "The Sidecar's restrictions and settings do not apply: egress is not limited to the listed hosts, REGISTRY_ONLY is not enforced, ingress listeners are not created.",
		Fix:       "Remove the Sidecar, or express the intent in ambient terms: AuthorizationPolicies and a waypoint for L7, a ServiceEntry with an egress waypoint for controlled egress; or take the workloads out of ambient mode and inject them.",
		Before:    "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels: {istio.io/dataplane-mode: ambient}\n---\napiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: default, namespace: shop}\nspec:\n  outboundTrafficPolicy: {mode: REGISTRY_ONLY}\n",
		After:     "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels: {istio.io/dataplane-mode: ambient}\n# no Sidecar: restrict egress with an egress waypoint and AuthorizationPolicies\n",
		Sources: []string{
			"https://istio.io/latest/docs/ambient/overview/",
			"https://istio.io/latest/docs/reference/config/networking/sidecar/",
			"https://istio.io/latest/docs/reference/config/analysis/ist0167/",
		},
	},
	Run: runSidecarResourceAmbient,
}

func runSidecarResourceAmbient(p *rules.Pass) {
	m := p.Model
	for ns, policies := range m.WorkloadPoliciesByNamespace() {
		for _, pol := range policies {
			if pol.Object.Kind != "Sidecar" {
				continue
			}
			targets := m.WorkloadsIn(ns)
			if len(pol.Selector) > 0 {
				targets = m.Select(ns, pol.Selector)
			}
			var ambient []string
			allAmbient := len(targets) > 0
			for _, w := range targets {
				if d, _ := m.Injection(w); d == mesh.DataplaneAmbient {
					ambient = append(ambient, w.Kind+" "+w.Name)
				} else if d != mesh.DataplaneNone || len(pol.Selector) > 0 {
					// A sidecar (or unknown) workload it configures; a
					// namespace-wide Sidecar ignores pods outside the mesh.
					allAmbient = false
				}
			}
			if !allAmbient || len(ambient) == 0 {
				continue
			}
			sort.Strings(ambient)
			f := rules.At(pol.Object, "metadata", "name")
			if len(pol.Selector) > 0 {
				f = rules.At(pol.Object, "spec", "workloadSelector")
			}
			f.Message = fmt.Sprintf("Sidecar %s/%s applies only to workloads in ambient mode (%s), which have no sidecar to configure", ns, pol.Object.Name, listSome(ambient, 3))
			f.Symptom = "the Sidecar has no effect: its egress host restrictions, outbound traffic policy and listeners are not applied by ztunnel or waypoints"
			f.Fix = "remove the Sidecar and use ambient's tools (AuthorizationPolicies, waypoints, an egress waypoint), or inject those workloads instead"
			p.Report(f)
		}
	}
}
