package workload

import (
	"fmt"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
	"github.com/meshdoctor/meshdoctor/internal/spelling"
)

// AnnotationUnknown: an annotation in one of Istio's domains that Istio
// does not know, usually a typo, so the setting it was meant to make is
// silently not made.
var AnnotationUnknown = &rules.Rule{
	Code: "MD4004", Name: "annotation-unknown", Severity: finding.Warning, Area: "workload",
	Summary: "An annotation in an Istio domain (*.istio.io) is not one Istio knows, usually a misspelling: the setting is silently not made.",
	Needs:   annotatedKinds,
	Since:   "0.2.0",
	IST:     []string{"IST0108"},
	Doc: rules.Doc{
		Mechanism: "Istio reads its settings from annotations with exact, case-sensitive names (the sidecar injector from the pod's, istiod from Services' and Namespaces'). A name it does not know is ignored without a log line: the proxy gets its defaults. meshdoctor checks annotations in Istio's domains (istio.io and *.istio.io) against Istio's annotation catalog (istio.io/api, the names documented on istio.io), on Namespaces, Services, Pods, pod templates and the controllers' own metadata, ServiceEntries, WorkloadEntries and AuthorizationPolicies, and suggests the closest known name. An Istio label written as an annotation (istio.io/dataplane-mode, istio.io/use-waypoint) is reported too: it only acts as a label. Unlike istioctl analyze, annotations of other domains (kubernetes.io/ingress.class included) are not Istio's business and are left alone, as are the pods of a controller in the input (its template is reported once, where the fix goes) and objects Istio's gateway controller generates.",
		Symptom:   "The setting has no effect: ports meant to be excluded from interception are still captured, proxy resources or log levels stay at their defaults, a pod meant to skip injection gets a sidecar. Nothing fails at apply time.",
		Fix:       "Correct the name to the one Istio documents (the finding names the closest), or move an Istio label to metadata.labels.",
		Before:    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: orders\nspec:\n  template:\n    metadata:\n      annotations:\n        traffic.sidecar.istio.io/excludeOutboundPort: \"5432\"\n",
		After:     "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: orders\nspec:\n  template:\n    metadata:\n      annotations:\n        traffic.sidecar.istio.io/excludeOutboundPorts: \"5432\"\n",
		Sources: []string{
			"https://istio.io/latest/docs/reference/config/annotations/",
			"https://istio.io/latest/docs/reference/config/labels/",
			"https://istio.io/latest/docs/reference/config/analysis/ist0108/",
		},
	},
	Run: runAnnotationUnknown,
}

func runAnnotationUnknown(p *rules.Pass) {
	for _, u := range p.Model.IstioAnnotations() {
		if u.Def != nil {
			continue
		}
		f := annotationAt(u)
		if l := mesh.IstioLabel(u.Name); l != nil {
			f.Message = fmt.Sprintf("%s is an Istio label, not an annotation: on %s Istio does not read it", u.Name, annotationWhere(u))
			f.Symptom = fmt.Sprintf("Istio behaves as if %s were not set (as a label: %s)", u.Name, strings.TrimSuffix(firstSentence(l.Description), "."))
			f.Fix = fmt.Sprintf("move it from %s to the labels next to them:\n  labels:\n    %s: %q", annotationsField(u), u.Name, u.Value)
			p.Report(f)
			continue
		}
		f.Message = fmt.Sprintf("annotation %s on %s is not one Istio knows: Istio ignores it", u.Name, annotationWhere(u))
		f.Symptom = "the setting it was meant to make is silently not made: the proxy and istiod keep their defaults"
		if s := spelling.ClosestFold(u.Name, mesh.IstioAnnotationNames(), 4); s != "" {
			f.Message += fmt.Sprintf(" (did you mean %s?)", s)
			f.Fix = fmt.Sprintf("rename it in %s:\n  %s: %q", annotationsField(u), s, u.Value)
		} else {
			f.Fix = "use a name from https://istio.io/latest/docs/reference/config/annotations/, or remove the annotation"
		}
		p.Report(f)
	}
}

// firstSentence is the first sentence of a catalog description.
func firstSentence(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if i := strings.Index(s, ". "); i >= 0 {
		return s[:i+1]
	}
	return s
}
