package mesh

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

// Workload is anything that runs pods: a controller's pod template, or a bare
// Pod. Controllers stand for their pods, so manifests without Pods still
// have workloads.
type Workload struct {
	*manifest.Object
	Labels      map[string]string // pod labels (the template's for controllers)
	Annotations map[string]string // pod annotations
	PodSpec     *corev1.PodSpec
	Replicas    *int32
	// Pod is set for bare Pods (and live pods).
	Pod *corev1.Pod
	// Instances are live Pods of a controller found in the input.
	Instances []*Workload
	// podPath is the path from the object root to the pod template's
	// metadata/spec parent ("spec","template" for Deployments).
	podPath []any
	// services select it, and injection is Injection's answer (both set
	// by Build: every rule asks).
	services  []*Service
	injection *injectionResult
}

// PodPos is the position of a field below the pod template (or the Pod),
// e.g. PodPos("spec", "containers", 0, "readinessProbe").
func (w *Workload) PodPos(path ...any) manifest.Position {
	full := append(append([]any{}, w.podPath...), path...)
	return w.Pos(full...)
}

// PodPath returns the path to a field below the pod template, for messages
// and fixes ("spec.template.spec.containers[0]").
func (w *Workload) PodPath() []any { return w.podPath }

func newWorkload(o *manifest.Object, tmpl *corev1.PodTemplateSpec, podPath []any, replicas *int32) *Workload {
	return &Workload{Object: o, Labels: tmpl.Labels, Annotations: tmpl.Annotations, PodSpec: &tmpl.Spec, Replicas: replicas, podPath: podPath}
}

func (m *Model) addWorkload(o *manifest.Object, tmpl *corev1.PodTemplateSpec, podPath []any, replicas *int32) *Workload {
	w := newWorkload(o, tmpl, podPath, replicas)
	m.Workloads = append(m.Workloads, w)
	m.workloads.add(w)
	m.workloadByKey[o.Namespace+"/"+o.Kind+"/"+o.Name] = w
	return w
}

// labelIndex finds workloads by selector without scanning: postings per
// namespace and key=value, intersected from the rarest term.
type labelIndex struct {
	byNS   map[string][]*Workload
	byTerm map[labelTerm][]*Workload // in a namespace
	all    map[labelTerm][]*Workload // across namespaces (ns "")
}

// labelTerm is one key=value pair, in a namespace or (ns "") in any.
type labelTerm struct{ ns, key, value string }

// newLabelIndex returns an index sized for about n workloads.
func newLabelIndex(n int) *labelIndex {
	return &labelIndex{byNS: map[string][]*Workload{}, byTerm: make(map[labelTerm][]*Workload, n), all: make(map[labelTerm][]*Workload, n/4)}
}

func (ix *labelIndex) add(w *Workload) {
	ix.byNS[w.Namespace] = append(ix.byNS[w.Namespace], w)
	for k, v := range w.Labels {
		t := labelTerm{w.Namespace, k, v}
		ix.byTerm[t] = append(ix.byTerm[t], w)
		t.ns = ""
		ix.all[t] = append(ix.all[t], w)
	}
}

// selectIn returns the workloads in ns (all namespaces when ns is "") whose
// labels contain every pair of sel. An empty selector selects nothing, as
// for Services (a Service without selector has manual endpoints).
func (ix *labelIndex) selectIn(ns string, sel map[string]string) []*Workload {
	if len(sel) == 0 {
		return nil
	}
	var best []*Workload
	first := true
	for k, v := range sel {
		var p []*Workload
		if ns == "" {
			p = ix.all[labelTerm{"", k, v}]
		} else {
			p = ix.byTerm[labelTerm{ns, k, v}]
		}
		if first || len(p) < len(best) {
			best, first = p, false
		}
		if len(best) == 0 {
			return nil
		}
	}
	var out []*Workload
	for _, w := range best {
		if Matches(sel, w.Labels) {
			out = append(out, w)
		}
	}
	return out
}

// Matches reports whether labels contain every pair of sel.
func Matches(sel, labels map[string]string) bool {
	for k, v := range sel {
		if lv, ok := labels[k]; !ok || lv != v {
			return false
		}
	}
	return true
}

// Select returns the workloads in ns matching a label selector.
func (m *Model) Select(ns string, sel map[string]string) []*Workload {
	return m.workloads.selectIn(ns, sel)
}

// SelectAnyNamespace returns workloads in every namespace matching sel (Istio
// Gateway selectors match gateway pods wherever they run).
func (m *Model) SelectAnyNamespace(sel map[string]string) []*Workload {
	return m.workloads.selectIn("", sel)
}

// WorkloadsIn lists the workloads of a namespace.
func (m *Model) WorkloadsIn(ns string) []*Workload { return m.workloads.byNS[ns] }

// ServicesIn lists the Services of a namespace.
func (m *Model) ServicesIn(ns string) []*Service { return m.servicesByNS[ns] }

// ServiceWorkloads returns the workloads behind a Service's selector.
func (m *Model) ServiceWorkloads(s *Service) []*Workload { return s.workloads }

// ServicesOf returns the Services whose selector selects w.
func (m *Model) ServicesOf(w *Workload) []*Service { return w.services }

// ContainerPort resolves a Service port's targetPort against a workload's
// containers: the number the application listens on, and the container that
// declares it (nil when none does). ok is false for a named targetPort no
// container declares.
func (w *Workload) ContainerPort(target intstr.IntOrString, servicePort int32) (port int32, c *corev1.Container, ok bool) {
	if target.Type == intstr.String && target.StrVal != "" {
		for i := range w.PodSpec.Containers {
			for _, p := range w.PodSpec.Containers[i].Ports {
				if p.Name == target.StrVal {
					return p.ContainerPort, &w.PodSpec.Containers[i], true
				}
			}
		}
		return 0, nil, false
	}
	port = target.IntVal
	if port == 0 {
		port = servicePort
	}
	for i := range w.PodSpec.Containers {
		for _, p := range w.PodSpec.Containers[i].Ports {
			if p.ContainerPort == port {
				return port, &w.PodSpec.Containers[i], true
			}
		}
	}
	return port, nil, true
}

// DeclaresPort reports whether any container declares port (number) or a
// port named name.
func (w *Workload) DeclaresPort(target intstr.IntOrString) bool {
	for _, c := range w.PodSpec.Containers {
		for _, p := range c.Ports {
			if (target.Type == intstr.String && p.Name == target.StrVal) || (target.Type == intstr.Int && p.ContainerPort == target.IntVal) {
				return true
			}
		}
	}
	return false
}

// DeclaresAnyPort reports whether the pod declares container ports at all;
// declaring ports is optional in Kubernetes, so only then can a missing one
// be told apart from an undeclared one.
func (w *Workload) DeclaresAnyPort() bool {
	for _, c := range w.PodSpec.Containers {
		if len(c.Ports) > 0 {
			return true
		}
	}
	return false
}
