package workload

import (
	"fmt"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// AnnotationDeprecated: an Istio annotation its catalog marks deprecated;
// it may stop working in a later release.
var AnnotationDeprecated = &rules.Rule{
	Code: "MD4007", Name: "annotation-deprecated", Severity: finding.Info, Area: "workload",
	Summary: "An Istio annotation is deprecated and may stop working in a later Istio release; the finding names its replacement.",
	Needs:   annotatedKinds,
	Since:   "0.2.0",
	IST:     []string{"IST0135"},
	Doc: rules.Doc{
		Mechanism: "Istio's annotation catalog (istio.io/api) marks annotations it is phasing out as deprecated: they still work in this release, but a later one may ignore them, and then the setting is silently lost at an upgrade. meshdoctor reports each deprecated annotation where it is written, with the replacement Istio documents. As istioctl analyze does, the sidecar.istio.io/inject annotation is not reported when the pod also has the sidecar.istio.io/inject label (which wins): keeping both is deliberate. Misplaced deprecated annotations are annotation-misplaced's, whose fix moves them to the pod template as their replacement (one finding per annotation). Unlike istioctl analyze (IST0136), meshdoctor does not report annotations of alpha-phase features: Istio's catalog marks nearly every annotation alpha, including those its own gateway install and documentation recommend (inject.istio.io/templates, sidecar.istio.io/rewriteAppHTTPProbers), and the phase says nothing about whether traffic works.",
		Symptom:   "Nothing today; after an upgrade that drops the annotation, the setting no longer applies (a pod meant to stay out of the mesh gets a sidecar, stats tags or inclusions disappear).",
		Fix:       "Replace the annotation with what the finding names: the sidecar.istio.io/inject label, proxy.istio.io/config fields, the Telemetry API, or istio.io/reroute-virtual-interfaces.",
		Before:    "spec:\n  template:\n    metadata:\n      annotations:\n        sidecar.istio.io/inject: \"false\"\n",
		After:     "spec:\n  template:\n    metadata:\n      labels:\n        sidecar.istio.io/inject: \"false\"\n",
		Sources: []string{
			"https://istio.io/latest/docs/reference/config/annotations/",
			"https://istio.io/latest/docs/reference/config/analysis/ist0135/",
		},
	},
	Run: runAnnotationDeprecated,
}

// deprecatedReplacements says what replaces a deprecated annotation, as
// Istio's documentation does.
var deprecatedReplacements = map[string]string{
	"sidecar.istio.io/inject":                     "the sidecar.istio.io/inject label (metadata.labels of the pod template)",
	"sidecar.istio.io/discoveryAddress":           "discoveryAddress in the proxy.istio.io/config annotation (or a ProxyConfig)",
	"sidecar.istio.io/extraStatTags":              "tag overrides in the Telemetry API (metrics.overrides.tagOverrides)",
	"sidecar.istio.io/statsInclusionPrefixes":     "proxyStatsMatcher.inclusionPrefixes in the proxy.istio.io/config annotation",
	"sidecar.istio.io/statsInclusionRegexps":      "proxyStatsMatcher.inclusionRegexps in the proxy.istio.io/config annotation",
	"sidecar.istio.io/statsInclusionSuffixes":     "proxyStatsMatcher.inclusionSuffixes in the proxy.istio.io/config annotation",
	"traffic.sidecar.istio.io/kubevirtInterfaces": "the istio.io/reroute-virtual-interfaces annotation",
}

func runAnnotationDeprecated(p *rules.Pass) {
	for _, u := range p.Model.IstioAnnotations() {
		if u.Def == nil || !u.Def.Deprecated {
			continue
		}
		if ok, _ := u.AppliesTo(); !ok {
			continue
		}
		if u.Name == "sidecar.istio.io/inject" && u.Workload != nil {
			if _, both := u.Workload.Labels["sidecar.istio.io/inject"]; both {
				continue
			}
		}
		f := annotationAt(u)
		f.Message = fmt.Sprintf("annotation %s on %s is deprecated and may not work in a later Istio release", u.Name, annotationWhere(u))
		f.Symptom = "works today; after an upgrade that drops it, the setting is silently lost"
		if r := deprecatedReplacements[u.Name]; r != "" {
			f.Message += "; use " + r
		}
		if u.Name == "sidecar.istio.io/inject" && u.Workload != nil {
			f.Fix = fmt.Sprintf("make it a label of the pod:\n  labels:\n    sidecar.istio.io/inject: %q", u.Value)
		} else if r := deprecatedReplacements[u.Name]; r != "" {
			f.Fix = "replace it with " + r
		} else {
			f.Fix = "remove it, or replace it as https://istio.io/latest/docs/reference/config/annotations/ says"
		}
		p.Report(f)
	}
}
