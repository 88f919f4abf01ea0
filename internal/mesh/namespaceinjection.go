package mesh

import (
	istioext "istio.io/client-go/pkg/apis/extensions/v1alpha1"
	istionet "istio.io/client-go/pkg/apis/networking/v1"
	istionetalpha "istio.io/client-go/pkg/apis/networking/v1alpha3"
	istionetbeta "istio.io/client-go/pkg/apis/networking/v1beta1"
	istiosec "istio.io/client-go/pkg/apis/security/v1"
	istiotel "istio.io/client-go/pkg/apis/telemetry/v1"

	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

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

// WorkloadPolicy is Istio configuration enforced by the proxies of the
// workloads it selects in its namespace (not by clients or gateways).
type WorkloadPolicy struct {
	Object *manifest.Object
	// Selector is empty for a namespace-wide policy.
	Selector map[string]string
}

// workloadPolicy reads the selector (spec.selector, or spec.workloadSelector
// for Sidecar and EnvoyFilter) and whether targetRefs are set, of a kind a
// sidecar enforces for its own workload; ok is false for other kinds.
func workloadPolicy(o *manifest.Object) (selector map[string]string, targeted, ok bool) {
	switch t := o.Typed.(type) {
	case *istiosec.PeerAuthentication:
		return t.Spec.GetSelector().GetMatchLabels(), false, true
	case *istiosec.AuthorizationPolicy:
		return t.Spec.GetSelector().GetMatchLabels(), t.Spec.GetTargetRef() != nil || len(t.Spec.GetTargetRefs()) > 0, true
	case *istiosec.RequestAuthentication:
		return t.Spec.GetSelector().GetMatchLabels(), t.Spec.GetTargetRef() != nil || len(t.Spec.GetTargetRefs()) > 0, true
	case *istiotel.Telemetry:
		return t.Spec.GetSelector().GetMatchLabels(), t.Spec.GetTargetRef() != nil || len(t.Spec.GetTargetRefs()) > 0, true
	case *istioext.WasmPlugin:
		return t.Spec.GetSelector().GetMatchLabels(), t.Spec.GetTargetRef() != nil || len(t.Spec.GetTargetRefs()) > 0, true
	case *istionetbeta.ProxyConfig:
		return t.Spec.GetSelector().GetMatchLabels(), false, true
	case *istionet.Sidecar:
		return t.Spec.GetWorkloadSelector().GetLabels(), false, true
	case *istionetalpha.EnvoyFilter:
		return t.Spec.GetWorkloadSelector().GetLabels(), len(t.Spec.GetTargetRefs()) > 0, true
	}
	return nil, false, false
}

// WorkloadPoliciesByNamespace lists, by namespace and in input order, the
// Istio configuration that the sidecars of a namespace's workloads enforce
// for themselves: PeerAuthentication, AuthorizationPolicy,
// RequestAuthentication, Telemetry, WasmPlugin, ProxyConfig, Sidecar and
// EnvoyFilter. Where it is, the mesh is meant to run. Policies attached to
// a Gateway or waypoint (targetRef, targetRefs) and those of the root
// namespace (mesh-wide) are left out; VirtualServices and
// DestinationRules are client-side and say nothing about a namespace's
// own pods.
func (m *Model) WorkloadPoliciesByNamespace() map[string][]WorkloadPolicy {
	out := map[string][]WorkloadPolicy{}
	for _, o := range m.Objects {
		sel, targeted, ok := workloadPolicy(o)
		if !ok || targeted || o.Namespace == "" || o.Namespace == m.Mesh.RootNamespace {
			continue
		}
		out[o.Namespace] = append(out[o.Namespace], WorkloadPolicy{Object: o, Selector: sel})
	}
	return out
}

// kubeNamespaces are Kubernetes' own namespaces (and kind's storage
// namespace), which the injector's webhooks never select.
var kubeNamespaces = map[string]bool{"kube-system": true, "kube-public": true, "kube-node-lease": true, "local-path-storage": true}

// SystemNamespace reports namespaces that are never meant to be injected:
// Kubernetes' own and the Istio root namespace.
func (m *Model) SystemNamespace(ns string) bool {
	return kubeNamespaces[ns] || ns == m.Mesh.RootNamespace || ns == "istio-system"
}
