package mesh

import (
	"maps"
	"slices"

	istiotel "istio.io/client-go/pkg/apis/telemetry/v1"
)

// SidecarPolicies lists the Sidecar resources as scoped policies: a
// workloadSelector picks proxies of the Sidecar's namespace, no selector
// means every proxy there (and, in the root namespace, the mesh's default).
func (m *Model) SidecarPolicies() []ScopedPolicy {
	out := make([]ScopedPolicy, 0, len(m.Sidecars))
	for _, sc := range m.Sidecars {
		out = append(out, ScopedPolicy{Object: sc.Object, Selector: sc.Spec.GetWorkloadSelector().GetLabels(), Path: []any{"spec", "workloadSelector", "labels"}})
	}
	return out
}

// TelemetryPolicies lists the Telemetry resources as scoped policies
// (spec.selector.matchLabels, or spec.targetRefs for Gateway API
// gateways and waypoints).
func (m *Model) TelemetryPolicies() []ScopedPolicy {
	var out []ScopedPolicy
	for _, o := range m.Objects {
		t, ok := o.Typed.(*istiotel.Telemetry)
		if !ok || t == nil {
			continue
		}
		out = append(out, ScopedPolicy{
			Object:     o,
			Selector:   t.Spec.GetSelector().GetMatchLabels(),
			Path:       []any{"spec", "selector", "matchLabels"},
			TargetRefs: t.Spec.GetTargetRef() != nil || len(t.Spec.GetTargetRefs()) > 0,
		})
	}
	return out
}

// Scoped is p as a selector-scoped policy, for the checks Sidecars,
// Telemetries and AuthorizationPolicies share. One in the root namespace
// applies mesh-wide: its selector matches workloads of every namespace.
// https://istio.io/latest/docs/reference/config/security/authorization-policy/
func (p *AuthorizationPolicy) Scoped() ScopedPolicy {
	return ScopedPolicy{
		Object:     p.Object,
		Selector:   p.Spec.GetSelector().GetMatchLabels(),
		Path:       []any{"spec", "selector", "matchLabels"},
		TargetRefs: p.HasTargetRefs(),
	}
}

// MeshWide reports whether a policy in namespace ns applies across the
// mesh (it is in the root namespace).
func (m *Model) MeshWide(ns string) bool { return ns == m.Mesh.RootNamespace }

// InputNamespaces lists, sorted, every namespace the input shows: Namespace
// objects and the namespaces of namespaced objects.
func (m *Model) InputNamespaces() []string {
	seen := map[string]bool{}
	for ns := range m.Namespaces {
		seen[ns] = true
	}
	for _, o := range m.Objects {
		if o.Namespace != "" {
			seen[o.Namespace] = true
		}
	}
	return slices.Sorted(maps.Keys(seen))
}
