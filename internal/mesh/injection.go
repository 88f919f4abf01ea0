package mesh

import "strings"

// Dataplane says how a workload's traffic is handled by the mesh.
type Dataplane int

const (
	// DataplaneUnknown: the input does not say (namespace not in the input
	// and nothing on the pod decides).
	DataplaneUnknown Dataplane = iota
	// DataplaneSidecar: an istio-proxy sidecar is (or will be) injected.
	DataplaneSidecar
	// DataplaneAmbient: ztunnel handles the pod's traffic (mTLS, no sidecar).
	DataplaneAmbient
	// DataplaneNone: the pod is outside the mesh.
	DataplaneNone
)

func (d Dataplane) String() string {
	return [...]string{"unknown", "sidecar", "ambient", "none"}[d]
}

// Injection tells whether w runs with a sidecar, and why (for messages).
//
// It follows the sidecar injector's webhooks and policy
// (https://istio.io/latest/docs/setup/additional-setup/sidecar-injection/#controlling-the-injection-policy):
// a pod label sidecar.istio.io/inject=false always wins; the namespace label
// istio-injection=enabled|disabled decides next, then istio.io/rev on the
// namespace, then sidecar.istio.io/inject=true or istio.io/rev on the pod.
// Live pods are judged by the istio-proxy container they actually have.
func (m *Model) Injection(w *Workload) (Dataplane, string) {
	if w.injection != nil {
		return w.injection.dataplane, w.injection.why
	}
	return m.injection(w)
}

// InjectionPolicy is the injector's decision for w from its labels,
// annotations and namespace alone, whatever containers it actually has.
func (m *Model) InjectionPolicy(w *Workload) (Dataplane, string) {
	policy := *w
	policy.Pod, policy.Instances, policy.injection = nil, nil, nil
	return m.injection(&policy)
}

// injectionResult is Injection's answer, kept on the workload by Build.
type injectionResult struct {
	dataplane Dataplane
	why       string
}

func (m *Model) injection(w *Workload) (Dataplane, string) {
	if w.Pod != nil {
		if hasProxy(w) {
			return DataplaneSidecar, "pod has an istio-proxy container"
		}
		if w.Pod.Status.Phase != "" { // a live pod, not a manifest
			return DataplaneNone, "pod has no istio-proxy container"
		}
	}
	if len(w.Instances) > 0 {
		for _, p := range w.Instances {
			if hasProxy(p) {
				return DataplaneSidecar, "its pods have an istio-proxy container"
			}
		}
	}
	if hasProxy(w) {
		return DataplaneSidecar, "istio-proxy is already in the pod spec (istioctl kube-inject)"
	}
	if w.PodSpec.HostNetwork {
		return DataplaneNone, "hostNetwork pods are never injected"
	}
	podLabel := w.Labels["sidecar.istio.io/inject"]
	podAnno := w.Annotations["sidecar.istio.io/inject"]
	if podLabel == "false" || (podLabel == "" && podAnno == "false") {
		return DataplaneNone, "sidecar.istio.io/inject is \"false\""
	}
	if w.Namespace == "kube-system" || w.Namespace == "kube-public" {
		return DataplaneNone, "Istio never injects into " + w.Namespace
	}
	ns := m.Namespaces[w.Namespace]
	if ns != nil {
		switch ns.Labels["istio-injection"] {
		case "enabled":
			return DataplaneSidecar, "namespace " + w.Namespace + " has istio-injection=enabled"
		case "disabled":
			return DataplaneNone, "namespace " + w.Namespace + " has istio-injection=disabled"
		}
		if rev := ns.Labels["istio.io/rev"]; rev != "" {
			return DataplaneSidecar, "namespace " + w.Namespace + " has istio.io/rev=" + rev
		}
	}
	if podLabel == "true" || w.Labels["istio.io/rev"] != "" {
		return DataplaneSidecar, "pod label selects injection"
	}
	if ns != nil && ns.Labels["istio.io/dataplane-mode"] == "ambient" && w.Labels["istio.io/dataplane-mode"] != "none" {
		return DataplaneAmbient, "namespace " + w.Namespace + " is in ambient mode"
	}
	if w.Labels["istio.io/dataplane-mode"] == "ambient" {
		return DataplaneAmbient, "pod label istio.io/dataplane-mode=ambient"
	}
	if ns != nil {
		// The injector's "auto." webhook: no istio-injection or
		// istio.io/rev label (decided above), outside Kubernetes' own
		// namespaces.
		if m.Mesh.InjectByDefault && !kubeNamespaces[w.Namespace] {
			return DataplaneSidecar, "the injector injects namespaces without an injection label (enableNamespacesByDefault in " + m.Mesh.InjectByDefaultSource + ")"
		}
		return DataplaneNone, "namespace " + w.Namespace + " is not labelled for injection"
	}
	return DataplaneUnknown, "namespace " + w.Namespace + " is not in the input"
}

func hasProxy(w *Workload) bool {
	for _, c := range w.PodSpec.Containers {
		if c.Name == "istio-proxy" {
			return true
		}
	}
	for _, c := range w.PodSpec.InitContainers {
		if c.Name == "istio-proxy" {
			return true
		}
	}
	return false
}

// Meshed is shorthand for "has a sidecar for sure".
func (m *Model) Meshed(w *Workload) bool {
	d, _ := m.Injection(w)
	return d == DataplaneSidecar
}

// ProxyImageVersion returns the version of a live pod's istio-proxy image.
func ProxyImageVersion(w *Workload) string {
	for _, cs := range [][]string{containerImages(w, false), containerImages(w, true)} {
		for _, img := range cs {
			if v := ImageTag(img); v != "" {
				return v
			}
		}
	}
	return ""
}

func containerImages(w *Workload, init bool) []string {
	var out []string
	list := w.PodSpec.Containers
	if init {
		list = w.PodSpec.InitContainers
	}
	for _, c := range list {
		if c.Name == "istio-proxy" && strings.Contains(c.Image, "proxyv2") {
			out = append(out, c.Image)
		}
	}
	return out
}

// SidecarClientsIn reports whether namespace ns may hold clients with a
// sidecar: a workload of the input there is meshed, or the namespace (when
// in the input) enables injection. A namespace the input says nothing
// about counts as possibly meshed.
func (m *Model) SidecarClientsIn(ns string) bool {
	for _, w := range m.WorkloadsIn(ns) {
		if m.Meshed(w) {
			return true
		}
	}
	n, ok := m.Namespaces[ns]
	if !ok {
		return !m.NamespaceInInput(ns)
	}
	return n.Labels["istio-injection"] == "enabled" || n.Labels["istio.io/rev"] != "" || n.Labels["istio.io/dataplane-mode"] == "ambient"
}
