package workload

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// AnnotationMisplaced: an Istio annotation on a kind of resource it does
// not act on, most often a pod annotation on a Deployment's own metadata
// instead of its pod template.
var AnnotationMisplaced = &rules.Rule{
	Code: "MD4005", Name: "annotation-misplaced", Severity: finding.Warning, Area: "workload",
	Summary: "An Istio annotation is on a kind of resource it does not act on (a pod annotation on a Deployment's own metadata): the setting is silently not made.",
	Needs:   annotatedKinds,
	Since:   "0.2.0",
	IST:     []string{"IST0107"},
	Doc: rules.Doc{
		Mechanism: "Each Istio annotation is read from one kind of resource (Istio's annotation catalog, istio.io/api, names it): the sidecar injector reads the annotations of the pod being created, which come from the controller's pod template (spec.template.metadata.annotations), never from the Deployment's own metadata.annotations; istiod reads networking.istio.io/exportTo from Services, topology.istio.io/controlPlaneClusters from Namespaces. Written elsewhere, the annotation is ignored. Like istioctl analyze, meshdoctor checks Namespaces, Services, Pods and Deployments, and also the other pod controllers (StatefulSet, DaemonSet, Job, CronJob, ReplicaSet), ServiceEntries, WorkloadEntries and AuthorizationPolicies; the fix names the field the annotation belongs in. The catalog also documents Kubernetes' kubernetes.io/ingress.class, which ingress controllers read from Ingress objects only: it is reported on pods, their controllers and Namespaces, not on Services, where some ingress controllers read configuration annotations of their own.",
		Symptom:   "The setting has no effect: sidecar.istio.io/inject: \"false\" on a Deployment's metadata still gets the pod a sidecar, traffic.sidecar.istio.io exclusions do not exclude, proxy resources stay at their defaults. Nothing fails at apply time.",
		Fix:       "Move the annotation to the resource it acts on: for pod annotations, spec.template.metadata.annotations of the controller; for namespace-wide injection, the namespace label istio-injection.",
		Before:    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: batch\n  annotations:\n    sidecar.istio.io/proxyMemory: 512Mi\nspec:\n  template:\n    metadata:\n      labels: {app: batch}\n",
		After:     "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: batch\nspec:\n  template:\n    metadata:\n      labels: {app: batch}\n      annotations:\n        sidecar.istio.io/proxyMemory: 512Mi\n",
		Sources: []string{
			"https://istio.io/latest/docs/reference/config/annotations/",
			"https://istio.io/latest/docs/setup/additional-setup/sidecar-injection/#controlling-the-injection-policy",
			"https://istio.io/latest/docs/reference/config/analysis/ist0107/",
		},
	},
	Run: runAnnotationMisplaced,
}

func runAnnotationMisplaced(p *rules.Pass) {
	for _, u := range p.Model.IstioAnnotations() {
		ok, kinds := u.AppliesTo()
		if ok {
			continue
		}
		f := annotationAt(u)
		where := annotationWhere(u)
		f.Message = fmt.Sprintf("annotation %s on %s has no effect: Istio reads it only from %s", u.Name, where, strings.Join(kinds, ", "))
		f.Symptom = fmt.Sprintf("the setting %s: %q is not made", u.Name, u.Value)
		podAnnotation := len(kinds) == 1 && kinds[0] == "Pod"
		switch {
		case podAnnotation && u.Workload != nil && u.Workload.Pod == nil:
			f.Message = fmt.Sprintf("annotation %s is on %s's own metadata, where the sidecar injector never looks: it reads the pod's annotations, from the pod template", u.Name, where)
			pod := manifest.PathString(u.Workload.PodPath())
			f.Fix = fmt.Sprintf("move it to %s.metadata.annotations:\n  %s: %q", pod, u.Name, u.Value)
			// A deprecated annotation is reported here only (see
			// annotation-deprecated): the fix moves it as its replacement.
			switch r := deprecatedReplacements[u.Name]; {
			case u.Name == "sidecar.istio.io/inject":
				f.Symptom = injectSymptom(u.Value)
				f.Fix = fmt.Sprintf("make it a label of the pod template (the annotation is deprecated), %s.metadata.labels:\n  sidecar.istio.io/inject: %q", pod, u.Value)
			case u.Def != nil && u.Def.Deprecated && statsMatcherFields[u.Name] != "":
				f.Fix = fmt.Sprintf("the annotation is also deprecated: set its replacement in %s.metadata.annotations:\n  proxy.istio.io/config: |\n    proxyStatsMatcher:\n      %s: [%s]", pod, statsMatcherFields[u.Name], quotedList(u.Value))
			case u.Def != nil && u.Def.Deprecated && r != "":
				f.Fix = fmt.Sprintf("the annotation is also deprecated: on the pod template (%s.metadata), use %s instead", pod, r)
			}
		case u.Name == mesh.IngressClassAnnotation:
			f.Message = fmt.Sprintf("annotation %s on %s has no effect: ingress controllers, Istio's included, read the class only from Ingress objects", u.Name, where)
			f.Symptom = fmt.Sprintf("it gives no Ingress the class %q: an Ingress that does not name its class itself is served by the default IngressClass's controller, or by none", u.Value)
			f.Fix = fmt.Sprintf("remove it, and give the Ingress meant for the controller its class:\n  spec:\n    ingressClassName: %s", u.Value)
		case u.Name == "sidecar.istio.io/inject" && u.AppliesAs == "Namespace":
			state := "enabled"
			if u.Value == "false" {
				state = "disabled"
			}
			f.Message = fmt.Sprintf("annotation sidecar.istio.io/inject on Namespace %s has no effect: injection for a namespace is chosen by its istio-injection (or istio.io/rev) label", u.Object.Name)
			f.Symptom = injectSymptom(u.Value)
			f.Fix = fmt.Sprintf("label the namespace instead:\n  kubectl label namespace %s istio-injection=%s", u.Object.Name, state)
		default:
			f.Fix = fmt.Sprintf("move the annotation to the %s it is meant for, or remove it", strings.Join(kinds, " or "))
		}
		p.Report(f)
	}
}

// statsMatcherFields: the ProxyConfig proxyStatsMatcher field replacing a
// deprecated stats inclusion annotation (its comma-separated list).
var statsMatcherFields = map[string]string{
	"sidecar.istio.io/statsInclusionPrefixes": "inclusionPrefixes",
	"sidecar.istio.io/statsInclusionRegexps":  "inclusionRegexps",
	"sidecar.istio.io/statsInclusionSuffixes": "inclusionSuffixes",
}

// quotedList writes a comma-separated annotation value as the items of a
// YAML flow sequence, each quoted (regexps may hold YAML's own characters).
func quotedList(v string) string {
	var items []string
	for _, it := range strings.Split(v, ",") {
		if it = strings.TrimSpace(it); it != "" {
			items = append(items, strconv.Quote(it))
		}
	}
	return strings.Join(items, ", ")
}

// injectSymptom is what a misplaced sidecar.istio.io/inject does (not).
func injectSymptom(v string) string {
	if v == "false" {
		return "the pods are still injected where their namespace enables injection: they get an istio-proxy sidecar they were meant not to have"
	}
	return "the pods are not injected unless their namespace enables injection: they run without istio-proxy, outside the mesh"
}
