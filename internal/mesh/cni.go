package mesh

import (
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

// CNIState says whether injected pods get their traffic redirection from
// the Istio CNI plugin (an unprivileged istio-validation init container) or
// from the istio-init init container, which needs NET_ADMIN and NET_RAW.
// https://istio.io/latest/docs/setup/additional-setup/cni/
type CNIState struct {
	On, Known bool
	Why       string
}

// IstioCNI decides the CNI state from everything the input offers, in order
// of strength: injected pods (istio-validation means CNI, istio-init means
// none), the injector values and istio-cni DaemonSet (MeshConfig.CNI), an
// IstioOperator enabling the cni component or the ambient profile, and
// ambient mode anywhere (ambient requires istio-cni, and with it the
// injector uses istio-validation for sidecars too).
func (m *Model) IstioCNI() CNIState {
	var initPod string
	for _, w := range m.Workloads {
		for _, p := range append([]*Workload{w}, w.Instances...) {
			for _, c := range p.PodSpec.InitContainers {
				switch c.Name {
				case "istio-validation":
					return CNIState{On: true, Known: true, Why: "pod " + p.Namespace + "/" + p.Name + " has the istio-validation init container of Istio CNI"}
				case "istio-init":
					if initPod == "" {
						initPod = p.Namespace + "/" + p.Name
					}
				}
			}
		}
	}
	if m.Mesh.CNIKnown {
		if m.Mesh.CNI {
			return CNIState{On: true, Known: true, Why: "Istio CNI is installed (istio-cni-node DaemonSet or injector values)"}
		}
		return CNIState{Known: true, Why: "the injector values in the istio-sidecar-injector ConfigMap disable Istio CNI"}
	}
	for _, o := range m.istioOperators {
		if v, _ := o.Field("spec", "components", "cni", "enabled"); v == "true" {
			return CNIState{On: true, Known: true, Why: "IstioOperator " + o.Namespace + "/" + o.Name + " enables the cni component"}
		}
		for _, path := range [][]any{{"spec", "values", "istio_cni", "enabled"}, {"spec", "values", "pilot", "cni", "enabled"}} {
			if v, _ := o.Field(path...); v == "true" {
				return CNIState{On: true, Known: true, Why: "IstioOperator " + o.Namespace + "/" + o.Name + " sets " + manifest.PathString(path[1:]) + ": true"}
			}
		}
		if v, _ := o.Field("spec", "profile"); strings.HasPrefix(v, "ambient") {
			return CNIState{On: true, Known: true, Why: "IstioOperator " + o.Namespace + "/" + o.Name + " installs the ambient profile (with Istio CNI)"}
		}
	}
	for _, w := range m.Workloads {
		if w.Kind == "DaemonSet" && (w.Name == "ztunnel" || w.Labels["app"] == "ztunnel") {
			return CNIState{On: true, Known: true, Why: "ztunnel DaemonSet " + w.Namespace + "/" + w.Name + " (ambient mode requires Istio CNI)"}
		}
	}
	for _, ns := range m.Namespaces {
		if ns.Labels["istio.io/dataplane-mode"] == "ambient" {
			return CNIState{On: true, Known: true, Why: "namespace " + ns.Name + " uses ambient mode, which requires Istio CNI"}
		}
	}
	if initPod != "" {
		return CNIState{Known: true, Why: "pod " + initPod + " was injected with istio-init"}
	}
	return CNIState{Why: "nothing in the input says whether Istio CNI is installed"}
}
