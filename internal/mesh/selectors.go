package mesh

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

// ScopedPolicy is a namespaced Istio resource that configures the proxies
// of the workloads its selector matches in its namespace, or, without a
// selector, every proxy of the namespace: Sidecar, Telemetry,
// AuthorizationPolicy and the like. Path is the selector's field path.
type ScopedPolicy struct {
	Object   *manifest.Object
	Selector map[string]string
	Path     []any
	// TargetRefs: the policy is attached by targetRefs instead of a
	// selector (a Gateway API Gateway or waypoint), so it is neither
	// namespace-wide nor selector-based.
	TargetRefs bool
}

// PolicyGroup is a set of policies of one kind that claim the same
// proxies, ordered as istiod orders them: oldest first, then by name.
type PolicyGroup struct {
	Namespace string
	Policies  []ScopedPolicy
	// Workloads are the workloads every policy of the group selects;
	// nil for a group of namespace-wide policies.
	Workloads []*Workload
}

// OverlappingSelectors groups the selector-based policies (of one kind)
// that select the same workload: one group per distinct set of policies,
// with every workload they share. istiod sorts policies by creation time,
// then name (pilot/pkg/model/config.go configCompareByCreationTime), and
// how the later ones count depends on the kind.
func (m *Model) OverlappingSelectors(ps []ScopedPolicy) []PolicyGroup {
	byWorkload := map[*Workload][]int{}
	var order []*Workload
	for i, p := range ps {
		if len(p.Selector) == 0 || p.TargetRefs {
			continue
		}
		for _, w := range m.Select(p.Object.Namespace, p.Selector) {
			if byWorkload[w] == nil {
				order = append(order, w)
			}
			byWorkload[w] = append(byWorkload[w], i)
		}
	}
	groups := map[string]*PolicyGroup{}
	var out []*PolicyGroup
	for _, w := range order {
		idx := byWorkload[w]
		if len(idx) < 2 {
			continue
		}
		key := fmt.Sprint(idx) // the policies' indexes, in input order
		g := groups[key]
		if g == nil {
			g = &PolicyGroup{Namespace: w.Namespace}
			for _, i := range idx {
				g.Policies = append(g.Policies, ps[i])
			}
			sortPolicies(g.Policies)
			groups[key] = g
			out = append(out, g)
		}
		g.Workloads = append(g.Workloads, w)
	}
	res := make([]PolicyGroup, len(out))
	for i, g := range out {
		res[i] = *g
	}
	return res
}

// NamespaceWideDuplicates groups, per namespace, the policies without a
// selector (nor targetRefs) when there is more than one.
func NamespaceWideDuplicates(ps []ScopedPolicy) []PolicyGroup {
	byNS := map[string][]ScopedPolicy{}
	var order []string
	for _, p := range ps {
		if len(p.Selector) > 0 || p.TargetRefs {
			continue
		}
		ns := p.Object.Namespace
		if byNS[ns] == nil {
			order = append(order, ns)
		}
		byNS[ns] = append(byNS[ns], p)
	}
	var out []PolicyGroup
	for _, ns := range order {
		if len(byNS[ns]) < 2 {
			continue
		}
		sortPolicies(byNS[ns])
		out = append(out, PolicyGroup{Namespace: ns, Policies: byNS[ns]})
	}
	return out
}

// sortPolicies orders policies as istiod does: creation time, then name.
func sortPolicies(ps []ScopedPolicy) {
	slices.SortStableFunc(ps, func(a, b ScopedPolicy) int {
		ta, tb := creationTime(a.Object), creationTime(b.Object)
		if !ta.Equal(tb) {
			return ta.Compare(tb)
		}
		return strings.Compare(a.Object.Name, b.Object.Name)
	})
}

// SameCreationTime reports whether istiod's order of the group's first
// two policies falls back to their names (same or unset creation time,
// as in manifests not yet applied).
func (g PolicyGroup) SameCreationTime() bool {
	if len(g.Policies) < 2 {
		return false
	}
	var zero time.Time
	a, b := creationTime(g.Policies[0].Object), creationTime(g.Policies[1].Object)
	return a.Equal(b) || a == zero
}

// CreatedBefore tells whether a was created before b, as istiod orders
// resources of one kind; known is false when either has no creation time
// (manifests not yet applied) or both were created in the same second,
// where the order falls back to names and says nothing about intent.
func CreatedBefore(a, b *manifest.Object) (before, known bool) {
	ta, tb := creationTime(a), creationTime(b)
	if ta.IsZero() || tb.IsZero() || ta.Equal(tb) {
		return false, false
	}
	return ta.Before(tb), true
}
