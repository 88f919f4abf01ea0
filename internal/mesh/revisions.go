package mesh

import (
	"fmt"
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"
)

// Revisions: a canary upgrade runs a second istiod beside the first, each
// a revision (istio.io/rev on its Deployment and on its injector webhook,
// istio-sidecar-injector-<rev>). Which one a pod's proxy belongs to is
// decided at injection by the webhooks' selectors, and stays so until the
// pod is re-created:
//   - namespace istio-injection=enabled: the default revision (the one the
//     "default" revision tag points at, else the revision "default");
//   - namespace istio.io/rev=X: revision X, or the revision tag X points at;
//   - neither namespace label: the pod's istio.io/rev label the same way,
//     else sidecar.istio.io/inject=true the default revision.
//
// A revision tag is a webhook labelled istio.io/tag=<tag> and
// istio.io/rev=<revision> (istioctl tag set): relabelling every namespace
// of a tag at once is one `istioctl tag set TAG --revision REV`.
// https://istio.io/latest/docs/setup/upgrade/canary/#stable-revision-labels
// https://istio.io/latest/docs/setup/additional-setup/sidecar-injection/#controlling-the-injection-policy
// (webhook selectors: istioctl/pkg/tag/generate.go in the Istio source)

// DefaultRevision is the revision of an install without one, and the tag
// that istio-injection=enabled selects.
const DefaultRevision = "default"

// Revisions are the injector webhooks' facts: revision tags and the
// revisions that have an injector.
type Revisions struct {
	// Tags maps a revision tag to the revision it points at.
	Tags map[string]string
	// Injectors maps a revision to its injector webhook's name.
	Injectors map[string]string
}

// readRevisions reads the injector webhooks of the input.
func (m *Model) readRevisions() Revisions {
	r := Revisions{Tags: map[string]string{}, Injectors: map[string]string{}}
	for _, o := range m.Objects {
		wh, ok := o.Typed.(*admissionv1.MutatingWebhookConfiguration)
		if !ok {
			continue
		}
		rev := o.Labels["istio.io/rev"]
		if tag := o.Labels["istio.io/tag"]; tag != "" && rev != "" {
			r.Tags[tag] = rev
			continue
		}
		if !injects(wh) {
			continue
		}
		if rev == "" {
			rev = DefaultRevision
		}
		r.Injectors[rev] = o.Name
	}
	return r
}

// injects tells Istio's sidecar injector webhook by its webhooks' names
// (sidecar-injector.istio.io and its namespace./object./rev. variants).
func injects(wh *admissionv1.MutatingWebhookConfiguration) bool {
	for _, w := range wh.Webhooks {
		if strings.HasSuffix(w.Name, "sidecar-injector.istio.io") {
			return true
		}
	}
	return false
}

// Injector is the revision that injects new pods, and why.
type Injector struct {
	// Revision is the istiod revision; Tag the revision tag the label
	// names ("" when it names the revision itself).
	Revision, Tag string
	// Label is the label that decides, as key=value, and On where it is
	// ("namespace shop", "the pod template").
	Label, On string
}

func (i Injector) String() string {
	if i.Tag != "" {
		return fmt.Sprintf("%s on %s: tag %s → revision %s", i.Label, i.On, i.Tag, i.Revision)
	}
	return fmt.Sprintf("%s on %s: revision %s", i.Label, i.On, i.Revision)
}

// resolve follows a revision tag to its revision.
func (m *Model) resolve(name, label, on string) Injector {
	if rev, ok := m.Istio.Revisions.Tags[name]; ok {
		return Injector{Revision: rev, Tag: name, Label: label, On: on}
	}
	return Injector{Revision: name, Label: label, On: on}
}

// NamespaceInjector is the revision that injects new pods of namespace ns
// by its labels; ok is false when the namespace is not in the input or no
// label selects a revision.
func (m *Model) NamespaceInjector(ns string) (Injector, bool) {
	n := m.Namespaces[ns]
	if n == nil {
		return Injector{}, false
	}
	on := "namespace " + ns
	switch n.Labels["istio-injection"] {
	case "enabled":
		return m.resolve(DefaultRevision, "istio-injection=enabled", on), true
	case "disabled":
		return Injector{}, false
	}
	if rev := n.Labels["istio.io/rev"]; rev != "" {
		return m.resolve(rev, "istio.io/rev="+rev, on), true
	}
	return Injector{}, false
}

// WorkloadInjector is the revision that injects w's new pods: its
// namespace's, else its own labels'. ok is false when w is not injected.
func (m *Model) WorkloadInjector(w *Workload) (Injector, bool) {
	if dp, _ := m.InjectionPolicy(w); dp != DataplaneSidecar {
		return Injector{}, false
	}
	if in, ok := m.NamespaceInjector(w.Namespace); ok {
		return in, true
	}
	if n := m.Namespaces[w.Namespace]; n != nil && (n.Labels["istio-injection"] != "" || n.Labels["istio.io/rev"] != "") {
		return Injector{}, false
	}
	if rev := w.Labels["istio.io/rev"]; rev != "" {
		return m.resolve(rev, "istio.io/rev="+rev, "the pod template"), true
	}
	if w.Labels["sidecar.istio.io/inject"] == "true" || w.Annotations["sidecar.istio.io/inject"] == "true" {
		return m.resolve(DefaultRevision, "sidecar.istio.io/inject=true", "the pod template"), true
	}
	return Injector{}, false
}

// ControlPlaneOf is the istiod of a revision in the input, nil if absent.
func (m *Model) ControlPlaneOf(rev string) *ControlPlane {
	for i := range m.Istio.ControlPlanes {
		if m.Istio.ControlPlanes[i].Revision == rev {
			return &m.Istio.ControlPlanes[i]
		}
	}
	return nil
}

// PinnedProxy reports whether w's proxy image is set in its spec (a
// gateway deployed with an explicit proxyv2 image, or istioctl
// kube-inject) rather than by the injector: relabelling does not change
// it; only a new image does. An injected pod says so in its
// sidecar.istio.io/status annotation.
func PinnedProxy(w *Workload) bool {
	if w.Annotations["sidecar.istio.io/status"] != "" {
		return false
	}
	for _, c := range w.PodSpec.Containers {
		if c.Name == "istio-proxy" && c.Image != "" && c.Image != "auto" {
			return true
		}
	}
	return false
}

// ProxySkew says why a proxy at version proxy is outside the skew its
// control plane at cp supports, or "" when it is within it. The control
// plane may be one minor version ahead of the data plane, the data plane
// never ahead of the control plane.
// https://istio.io/latest/docs/releases/supported-releases/#control-planedata-plane-skew
func ProxySkew(proxy, cp Version) string {
	switch {
	case proxy.Major != cp.Major:
		return "a different major version"
	case proxy.Minor > cp.Minor:
		return "newer than istiod: the data plane may not be ahead of the control plane"
	case cp.Minor-proxy.Minor > 1:
		return fmt.Sprintf("%d minor versions behind istiod: at most one is supported", cp.Minor-proxy.Minor)
	}
	return ""
}
