package workload

import (
	"fmt"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// AnnotationInvalidValue: a pod annotation whose value the sidecar
// injector rejects; it then refuses to create the pod.
var AnnotationInvalidValue = &rules.Rule{
	Code: "MD4006", Name: "annotation-invalid-value", Severity: finding.Error, Area: "workload",
	Summary: "A pod annotation has a value the sidecar injector rejects (a CIDR list with spaces, a port out of range, an unknown interception mode): the webhook denies the pod.",
	Needs:   []string{"Deployment", "StatefulSet", "DaemonSet", "Pod", "Job", "CronJob", "ReplicaSet"},
	Since:   "0.2.0",
	IST:     []string{"IST0125"},
	Doc: rules.Doc{
		Mechanism: "Before injecting a pod, the sidecar injector validates the pod annotations it turns into proxy and iptables settings (pkg/kube/inject/validate.go): traffic.sidecar.istio.io include/exclude port and CIDR lists, interface lists, sidecar.istio.io/interceptionMode, status and readiness settings, proxy CPU and memory quantities, prometheus.istio.io/merge-metrics and the proxy.istio.io/config YAML. When one is invalid it does not inject: it answers the admission request with the error, which denies the pod. CIDR lists are split on commas and not trimmed, so \"10.0.0.0/8, 172.16.0.0/12\" (with a space) is invalid, while port lists are trimmed. meshdoctor runs the same checks on pod templates and Pods; it is an error when the pod is injected (the namespace or pod selects injection), a warning when the input does not show injection (the value does nothing until it is).",
		Symptom:   "The controller cannot create pods: `kubectl get deploy` shows 0 available, the ReplicaSet's events say `Error creating: admission webhook \"…sidecar-injector.istio.io\" denied the request: invalid value '…' for annotation '…'`. A rollout of the change hangs with the old pods still running.",
		Fix:       "Correct the value: comma-separated CIDRs without spaces, port numbers 0-65535, REDIRECT/TPROXY/NONE, Kubernetes quantities (100m, 128Mi), true/false.",
		Before:    "spec:\n  template:\n    metadata:\n      annotations:\n        traffic.sidecar.istio.io/excludeOutboundIPRanges: \"10.0.0.0/8, 172.16.0.0/12\"\n",
		After:     "spec:\n  template:\n    metadata:\n      annotations:\n        traffic.sidecar.istio.io/excludeOutboundIPRanges: \"10.0.0.0/8,172.16.0.0/12\"\n",
		Sources: []string{
			"https://istio.io/latest/docs/reference/config/annotations/",
			"https://istio.io/latest/docs/ops/common-problems/injection/",
			"https://istio.io/latest/docs/reference/config/analysis/ist0125/",
		},
	},
	Run: runAnnotationInvalidValue,
}

func runAnnotationInvalidValue(p *rules.Pass) {
	for _, u := range p.Model.IstioAnnotations() {
		// Only where the injector reads it: a misplaced annotation is
		// annotation-misplaced's.
		if u.AppliesAs != "Pod" || u.Workload == nil {
			continue
		}
		err := mesh.ValidateAnnotation(u.Name, u.Value)
		if err == nil {
			continue
		}
		f := annotationAt(u)
		f.Message = fmt.Sprintf("annotation %s on %s has a value the sidecar injector rejects: %v", u.Name, annotationWhere(u), err)
		d, why := p.Model.InjectionPolicy(u.Workload)
		switch d {
		case mesh.DataplaneSidecar:
			f.Message += fmt.Sprintf("; the pod is injected (%s), so the webhook denies it", why)
			f.Symptom = fmt.Sprintf("no pod can be created: the ReplicaSet's events say `admission webhook \"…sidecar-injector.istio.io\" denied the request: invalid value '%s' for annotation '%s'`, and the workload has no (new) ready pods", u.Value, u.Name)
		default:
			f.Severity = finding.Warning
			f.Message += fmt.Sprintf(" (%s: the annotation does nothing until the pod is injected)", why)
			f.Symptom = "once the pod is selected for injection, the webhook denies it and no pod can be created"
		}
		f.Fix = fmt.Sprintf("correct the value in %s:\n  %s: %q", annotationsField(u), u.Name, suggestValue(u.Name, u.Value))
		p.Report(f)
	}
}

// suggestValue is the value with what is certainly a mistake removed
// (spaces in lists), else a placeholder.
func suggestValue(name, value string) string {
	compact := ""
	for _, r := range value {
		if r != ' ' && r != '\t' {
			compact += string(r)
		}
	}
	if compact != value && mesh.ValidateAnnotation(name, compact) == nil {
		return compact
	}
	return "<a valid value>"
}
