package mesh

import "github.com/meshdoctor/meshdoctor/internal/manifest"

// Labels that choose a namespace's dataplane.
const (
	InjectionLabel     = "istio-injection"
	RevisionLabel      = "istio.io/rev"
	DataplaneModeLabel = "istio.io/dataplane-mode"
)

// InjectionLabelConflict is a namespace whose labels ask for more than one
// dataplane, and what the injector actually does with them.
type InjectionLabelConflict struct {
	// Labels are the conflicting labels, "key=value", in the order the
	// injector weighs them.
	Labels []string
	// Ignored is the label that loses; Effect says what happens instead.
	Ignored, Effect string
}

// InjectionConflict reports a namespace whose labels ask for more than one
// dataplane. The injector's webhooks decide: istio-injection=enabled is
// served by the default revision's webhook and every revision's webhook
// requires istio-injection to be absent, so istio.io/rev is ignored next to
// it; a sidecar-injected pod is skipped by ztunnel, so
// istio.io/dataplane-mode=ambient is ignored next to either. Labels that
// cannot conflict (istio-injection=disabled wins deliberately,
// dataplane-mode=none says "not ambient") are not reported.
func (n *Namespace) InjectionConflict() (InjectionLabelConflict, bool) {
	inj, hasInj := n.Labels[InjectionLabel]
	rev, hasRev := n.Labels[RevisionLabel]
	mode := n.Labels[DataplaneModeLabel]
	if hasInj && inj != "enabled" {
		return InjectionLabelConflict{}, false
	}
	var c InjectionLabelConflict
	switch {
	case hasInj && hasRev:
		c.Labels = []string{InjectionLabel + "=" + inj, RevisionLabel + "=" + rev}
		c.Ignored = RevisionLabel + "=" + rev
		c.Effect = "the default revision's webhook injects the pods (revision webhooks skip namespaces with istio-injection), so revision " + rev + " never serves them"
		if mode == "ambient" {
			c.Labels = append(c.Labels, DataplaneModeLabel+"=ambient")
			c.Ignored += " and " + DataplaneModeLabel + "=ambient"
			c.Effect += "; ztunnel skips pods that have a sidecar, so ambient mode does not apply either"
		}
	case (hasInj || hasRev) && mode == "ambient":
		l := InjectionLabel + "=" + inj
		if !hasInj {
			l = RevisionLabel + "=" + rev
		}
		c.Labels = []string{l, DataplaneModeLabel + "=ambient"}
		c.Ignored = DataplaneModeLabel + "=ambient"
		c.Effect = "new pods get a sidecar, and ztunnel skips pods that have one: the namespace is not in ambient mode for them"
	default:
		return InjectionLabelConflict{}, false
	}
	return c, true
}

// SelectsDataplane reports whether the namespace's labels choose a
// dataplane (sidecar injection, a revision, ambient) or explicitly none
// (istio-injection=disabled, istio.io/dataplane-mode=none).
func (n *Namespace) SelectsDataplane() bool {
	_, inj := n.Labels[InjectionLabel]
	_, rev := n.Labels[RevisionLabel]
	_, mode := n.Labels[DataplaneModeLabel]
	return inj || rev || mode
}

// PodOptsOut reports whether a pod refuses injection itself
// (sidecar.istio.io/inject "false", as label or, without the label, as
// annotation) or cannot be injected (hostNetwork).
func PodOptsOut(w *Workload) bool {
	if w.PodSpec.HostNetwork {
		return true
	}
	if l, hasLabel := w.Labels["sidecar.istio.io/inject"]; hasLabel {
		return l == "false"
	}
	return w.Annotations["sidecar.istio.io/inject"] == "false"
}

// meshConfigGroups are the API groups of Istio's configuration kinds.
var meshConfigGroups = map[string]bool{
	"networking.istio.io": true, "security.istio.io": true,
	"telemetry.istio.io": true, "extensions.istio.io": true,
}

// IstioConfigByNamespace groups the input's Istio configuration objects
// (VirtualServices, DestinationRules, policies, Sidecars, Telemetry…) by
// namespace, in input order: where they are is where the mesh is meant to
// be in use. Objects in the root namespace apply mesh-wide and are left
// out.
func (m *Model) IstioConfigByNamespace() map[string][]*manifest.Object {
	out := map[string][]*manifest.Object{}
	for _, o := range m.Objects {
		if meshConfigGroups[o.Group()] && o.Namespace != "" && o.Namespace != m.Mesh.RootNamespace {
			out[o.Namespace] = append(out[o.Namespace], o)
		}
	}
	return out
}

// SystemNamespace reports namespaces that are never meant to be injected:
// Kubernetes' own and the Istio root namespace.
func (m *Model) SystemNamespace(ns string) bool {
	switch ns {
	case "kube-system", "kube-public", "kube-node-lease", "local-path-storage":
		return true
	}
	return ns == m.Mesh.RootNamespace || ns == "istio-system"
}
