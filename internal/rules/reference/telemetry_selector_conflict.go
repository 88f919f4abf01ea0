package reference

import (
	"fmt"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// TelemetrySelectorConflict: several Telemetry resources claim the same
// proxies: selectors matching the same workload (merged in creation
// order), or several without a selector in one namespace (only one
// applies).
var TelemetrySelectorConflict = &rules.Rule{
	Code: "MD5012", Name: "telemetry-selector-conflict", Severity: finding.Error, Area: "reference",
	Summary: "Several Telemetry resources select the same workload, or several in one namespace have no selector.",
	Needs:   []string{"Telemetry"},
	Reads:   []string{"Deployment", "StatefulSet", "DaemonSet", "Pod"},
	Since:   "0.3.0",
	IST:     []string{"IST0159", "IST0160"},
	Doc: rules.Doc{
		Mechanism: "istiod layers Telemetry for a proxy: the root namespace's Telemetry without a selector, then its own namespace's, then those whose selector matches the pod, later ones overriding earlier ones field by field. Within a namespace it sorts Telemetries by creation time, then name (pilot/pkg/model/telemetry.go). Of several without a selector in one namespace it takes only the first, so the others have no effect at all; several whose selectors match the same pod are all applied, in creation order, and where they set the same thing (a tracing provider, a sampling rate, an access-log filter) the last one wins. Either way the result depends on when each was applied. istioctl analyze reports every Telemetry of the conflict (IST0159, IST0160); meshdoctor reports one finding per group, on each Telemetry that loses, with what happens to it; selector overlaps, which merge, are warnings.",
		Symptom:   "Tracing, metrics or access logs differ from what one of the Telemetries says: a namespace-wide Telemetry is ignored completely, or an overlapping one's settings are overridden, and a re-apply can flip which one counts.",
		Fix:       "Merge the Telemetries into one per scope: one without a selector per namespace, and one per workload selector; or make the selectors disjoint.",
		Before:    "apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata:\n  name: tracing\n  namespace: shop\nspec:\n  tracing:\n  - randomSamplingPercentage: 10\n---\napiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata:\n  name: logs\n  namespace: shop\nspec:\n  accessLogging:\n  - providers: [{name: envoy}]\n",
		After:     "apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata:\n  name: default\n  namespace: shop\nspec:\n  tracing:\n  - randomSamplingPercentage: 10\n  accessLogging:\n  - providers: [{name: envoy}]\n",
		Sources: []string{
			"https://istio.io/latest/docs/reference/config/telemetry/",
			"https://istio.io/latest/docs/tasks/observability/telemetry/",
			"https://istio.io/latest/docs/reference/config/analysis/ist0159/",
			"https://istio.io/latest/docs/reference/config/analysis/ist0160/",
		},
	},
	Run: runTelemetrySelectorConflict,
}

func runTelemetrySelectorConflict(p *rules.Pass) {
	m := p.Model
	pols := m.TelemetryPolicies()
	for _, g := range m.OverlappingSelectors(pols) {
		names := policyNames(g)
		last := g.Policies[len(g.Policies)-1]
		for _, lose := range g.Policies[:len(g.Policies)-1] {
			f := rules.At(lose.Object, lose.Path...)
			f.Severity = finding.Warning
			f.Message = fmt.Sprintf("Telemetries %s in namespace %s all select %s; istiod applies them in order (%s), so where they set the same field Telemetry %s overrides %s", quoted(names), g.Namespace, workloadsOf(g), orderNote(g), last.Object.Name, lose.Object.Name)
			f.Symptom = fmt.Sprintf("settings of Telemetry %s/%s that another of them also sets (tracing provider, sampling, access-log filter, metric overrides) do not apply to %s; the winner changes if one is re-created", g.Namespace, lose.Object.Name, workloadsOf(g))
			f.Fix = fmt.Sprintf("merge Telemetry %s and %s into one, or make their selectors select different pods", lose.Object.Name, last.Object.Name)
			p.Report(f)
		}
	}
	for _, g := range mesh.NamespaceWideDuplicates(pols) {
		names := policyNames(g)
		win := g.Policies[0]
		for _, lose := range g.Policies[1:] {
			f := rules.At(lose.Object, "metadata", "name")
			scope := "namespace " + g.Namespace
			if m.MeshWide(g.Namespace) {
				scope = "the whole mesh (root namespace)"
			}
			f.Message = fmt.Sprintf("Telemetries %s in namespace %s have no selector; each claims %s, and istiod applies only the first (%s): Telemetry %s, so %s is ignored", quoted(names), g.Namespace, scope, orderNote(g), win.Object.Name, lose.Object.Name)
			f.Symptom = fmt.Sprintf("Telemetry %s/%s has no effect: its tracing, metrics and access-logging settings are missing from every proxy of %s; which one applies changes if either is re-created", g.Namespace, lose.Object.Name, scope)
			f.Fix = fmt.Sprintf("merge Telemetry %s into %s (one Telemetry without a selector per namespace), or give it a selector:\nspec:\n  selector:\n    matchLabels:\n      app: <app>", lose.Object.Name, win.Object.Name)
			p.Report(f)
		}
	}
}
