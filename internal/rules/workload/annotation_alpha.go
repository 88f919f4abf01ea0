package workload

import (
	"fmt"

	"istio.io/api/annotation"
	corev1 "k8s.io/api/core/v1"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// AnnotationAlpha: an annotation of an alpha-phase Istio feature, which
// may change or go without the usual deprecation period.
var AnnotationAlpha = &rules.Rule{
	Code: "MD4008", Name: "annotation-alpha", Severity: finding.Info, Area: "workload",
	Summary: "An Istio annotation belongs to an alpha-phase feature: it may change or be removed without a deprecation period.",
	Needs:   annotatedKinds,
	Since:   "0.3.0",
	IST:     []string{"IST0136"},
	Doc: rules.Doc{
		Mechanism: "Istio's annotation catalog (istio.io/api) gives each annotation the feature phase of what it controls. Alpha features are not covered by Istio's deprecation policy: their annotation can change meaning or disappear in any minor release, so a configuration relying on one must be re-checked at every upgrade. meshdoctor reports them at info level, where written, as istioctl analyze does; annotations Istio writes itself (sidecar.istio.io/status, istio.io/rev) and, on live pods injected with the Istio CNI plugin, the interception annotations the injector adds, are not reported. Misplaced and deprecated annotations are reported by their own rules instead.",
		Symptom:   "Nothing today; at an upgrade the annotation's behaviour may change or stop without notice in the upgrade notes' deprecation list.",
		Fix:       "Prefer a stable API for the setting (proxy.istio.io/config or a ProxyConfig for proxy settings, Sidecar or Telemetry resources), or re-check the annotation in the release notes of every upgrade.",
		Before:    "spec:\n  template:\n    metadata:\n      annotations:\n        sidecar.istio.io/logLevel: debug\n",
		After:     "# no annotation; raise the level only while debugging:\n# istioctl proxy-config log deploy/orders --level debug\nspec:\n  template:\n    metadata:\n      annotations: {}\n",
		Sources: []string{
			"https://istio.io/latest/docs/reference/config/annotations/",
			"https://istio.io/latest/docs/releases/feature-stages/",
			"https://istio.io/latest/docs/reference/config/analysis/ist0136/",
		},
	},
	Run: runAnnotationAlpha,
}

// cniAnnotations are written by the injector onto pods it injects when the
// Istio CNI plugin sets up redirection: on live pods they are not the
// user's.
var cniAnnotations = map[string]bool{
	annotation.SidecarInterceptionMode.Name:               true,
	annotation.SidecarTrafficIncludeInboundPorts.Name:     true,
	annotation.SidecarTrafficExcludeInboundPorts.Name:     true,
	annotation.SidecarTrafficIncludeOutboundIPRanges.Name: true,
}

func runAnnotationAlpha(p *rules.Pass) {
	for _, u := range p.Model.IstioAnnotations() {
		if u.Def == nil || u.Def.FeatureStatus != annotation.Alpha || u.Def.Deprecated {
			continue
		}
		if ok, _ := u.AppliesTo(); !ok {
			continue
		}
		if w := u.Workload; w != nil && w.Pod != nil && w.Pod.Status.Phase != "" && cniAnnotations[u.Name] && !hasInitContainer(w.PodSpec.InitContainers, "istio-init") {
			continue
		}
		f := annotationAt(u)
		f.Message = fmt.Sprintf("annotation %s on %s belongs to an alpha-phase Istio feature and may change or be removed in any release", u.Name, annotationWhere(u))
		f.Symptom = "works today; an upgrade may change or drop it without a deprecation period"
		f.Fix = "check the annotation in the release notes at each upgrade, or set it through a stable API (proxy.istio.io/config, ProxyConfig, Sidecar, Telemetry) where one exists"
		p.Report(f)
	}
}

// hasInitContainer reports whether an init container is named name.
func hasInitContainer(cs []corev1.Container, name string) bool {
	for _, c := range cs {
		if c.Name == name {
			return true
		}
	}
	return false
}
