package reference

import (
	"fmt"
	"sort"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// ConflictingVirtualServiceHosts: two VirtualServices bound to the mesh
// (sidecars) define HTTP routes for the same host and are visible to the
// same namespace. Istio merges same-host VirtualServices only on gateways;
// for sidecars one wins and the other's routes are dropped.
var ConflictingVirtualServiceHosts = &rules.Rule{
	Code: "MD5006", Name: "conflicting-virtualservice-hosts", Severity: finding.Warning, Area: "reference",
	Summary: "Two sidecar VirtualServices define HTTP routes for the same host; only one of them is used.",
	Needs:   []string{"VirtualService"},
	Since:   "0.1.0",
	IST:     []string{"IST0109"},
	Doc: rules.Doc{
		Mechanism: "For sidecars, istiod builds one Envoy virtual host per host and port. When several mesh-bound VirtualServices visible to a client define the same host, it takes them in order (VirtualServices exported only to the client's namespace first, then by creation time) and drops every later virtual host with an already-used name (istiod counts them in the pilot_vservice_dup_domain metric): only the oldest VirtualService's routes exist. Merging several VirtualServices for one host happens only for gateways. Like istioctl analyze (IST0109), meshdoctor reports every VirtualService of a collision when creation times are unknown (manifests: which one loses is decided at apply time); from a live cluster, where creation times tell, it reports only the VirtualServices whose routes are ignored, naming the one kept. Hosts collide when they are equal after resolution, wildcard patterns included: two VirtualServices for *.example.com collide like two for reviews (istiod gives every service matching the pattern to the first of them and, for a pattern matching no service, drops the second virtual host of the same name). A wildcard next to a more specific host (*.example.com and api.example.com, or *.example.com and *.api.example.com) is no collision: istiod gives each service to the VirtualService with the most specific matching host and Envoy picks the most specific domain, so each VirtualService's routes apply to its own hosts (istioctl analyze also reports such overlaps between a VirtualService exported everywhere and one exported to a few namespaces). The host * alone is rejected by Istio's validation for VirtualServices bound to mesh and is not compared. It compares resolved hosts of VirtualServices bound to mesh that both have http routes, visible in a common namespace (exportTo, else the mesh config's defaultVirtualServiceExportTo, else every namespace; when the mesh config is not in the input, a VirtualService without exportTo counts only for its own namespace, which holds under any default), and skips pairs whose routes match disjoint ports, and pairs where one is exported only to its own namespace and the other is not (Istio prefers the namespace-local one there: a deliberate override).",
		Symptom:   "The routes of one VirtualService (subsets, retries, timeouts, fault injection, header matches) have no effect for sidecar clients; which one is ignored depends on creation time, so it can flip after a re-create or differ between namespaces. istioctl analyze reports IST0109.",
		Fix:       "Merge the routes into one VirtualService per host (order the http routes from most to least specific), or split the host's routing with delegate VirtualServices, or restrict each with exportTo so that no namespace sees both.",
		Before:    "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews-canary\nspec:\n  hosts: [reviews]\n  http:\n  - match:\n    - headers: {x-canary: {exact: \"1\"}}\n    route:\n    - destination: {host: reviews, subset: v2}\n---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\nspec:\n  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews, subset: v1}\n",
		After:     "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\nspec:\n  hosts: [reviews]\n  http:\n  - match:\n    - headers: {x-canary: {exact: \"1\"}}\n    route:\n    - destination: {host: reviews, subset: v2}\n  - route:\n    - destination: {host: reviews, subset: v1}\n",
		Sources: []string{
			"https://istio.io/latest/docs/reference/config/analysis/ist0109/",
			"https://istio.io/latest/docs/ops/best-practices/traffic-management/#split-virtual-services",
			"https://github.com/istio/istio/blob/master/pilot/pkg/networking/core/httproute.go",
			"https://github.com/istio/istio/blob/master/pilot/pkg/model/sidecar.go",
		},
	},
	Run: runConflictingVirtualServiceHosts,
}

func runConflictingVirtualServiceHosts(p *rules.Pass) {
	m := p.Model
	var vss []*mesh.VirtualService
	order := map[*mesh.VirtualService]int{}
	for _, vs := range m.VirtualServices {
		if vs.BindsMesh() && len(vs.Spec.Http) > 0 {
			order[vs] = len(vss)
			vss = append(vss, vs)
		}
	}
	// partners[v] are the VirtualServices that collide with v, in input
	// order, each with the namespace where both apply.
	type partner struct {
		vs     *mesh.VirtualService
		common string
	}
	partners := map[*mesh.VirtualService][]partner{}
	for j, b := range vss {
		for _, a := range earlierSameHost(m, b, j, order) {
			if a.Namespace == b.Namespace && a.Name == b.Name {
				// Two documents for the same object (variants, overlays,
				// or alternatives like Istio's bookinfo virtual-service-*
				// files): applying one replaces the other, so they never
				// coexist. duplicate-resource speaks for same-directory
				// copies.
				continue
			}
			if hostIdx, _ := sharedHost(a, b); hostIdx < 0 {
				continue
			}
			common := commonVisibility(m, a, b)
			if common == "" || disjointPorts(a, b) {
				continue
			}
			// A VirtualService exported only to its own namespace takes
			// precedence there over a public one: a deliberate, local
			// override, not a collision.
			if private(m, a) != private(m, b) {
				continue
			}
			partners[a] = append(partners[a], partner{b, common})
			partners[b] = append(partners[b], partner{a, common})
		}
	}
	for _, v := range vss {
		ps := partners[v]
		if len(ps) == 0 {
			continue
		}
		sort.SliceStable(ps, func(x, y int) bool { return order[ps[x].vs] < order[ps[y].vs] })
		// With creation times (a live cluster) the oldest keeps its
		// routes: only the others are reported, naming it. Without them,
		// which one loses is decided at apply time, so every
		// VirtualService of the collision is reported, as istioctl does.
		var kept *mesh.VirtualService
		known := true
		for _, q := range ps {
			before, ok := mesh.CreatedBefore(q.vs.Object, v.Object)
			if !ok {
				known = false
				break
			}
			if before && (kept == nil || olderThan(q.vs, kept)) {
				kept = q.vs
			}
		}
		if known && kept == nil {
			continue // v is the oldest: its routes are the ones used
		}
		other := ps[0]
		if kept != nil {
			for _, q := range ps {
				if q.vs == kept {
					other = q
				}
			}
		}
		a := other.vs
		hostIdx, host := sharedHost(a, v)
		f := rules.At(v.Object, "spec", "hosts", hostIdx)
		more := ""
		if len(ps) > 1 {
			more = fmt.Sprintf(" and %d more", len(ps)-1)
		}
		f.Message = fmt.Sprintf("VirtualService %s/%s and VirtualService %s/%s (%s)%s both define http routes for host %s for sidecars in %s; Istio does not merge them: ", v.Namespace, v.Name, a.Namespace, a.Name, a.Pos("metadata", "name"), more, host, other.common)
		// For a pattern, the routes lost are those for the hosts it
		// matches that no more specific VirtualService host claims.
		scope := host
		if strings.HasPrefix(host, "*") {
			scope = "hosts matching " + host + " (those no more specific VirtualService host claims)"
		}
		if kept != nil {
			f.Message += fmt.Sprintf("clients keep the older VirtualService %s/%s and ignore this one's routes for %s", kept.Namespace, kept.Name, host)
			f.Symptom = fmt.Sprintf("for sidecar clients, the routes of VirtualService %s/%s for %s (matches, subsets, retries, timeouts, faults) have no effect", v.Namespace, v.Name, scope)
		} else {
			f.Message += fmt.Sprintf("each client keeps one (those exported only to its own namespace first, then the oldest) and ignores the other's routes for %s", host)
			f.Symptom = fmt.Sprintf("for sidecar clients, the routes of one of the VirtualServices for %s (matches, subsets, retries, timeouts, faults) have no effect; which one depends on creation order", scope)
		}
		f.Fix = fmt.Sprintf("merge the http routes of the VirtualServices for %s into one (most specific matches first) and delete the others, or give each a distinct exportTo so no namespace sees both", host)
		p.Report(f)
	}
}

// olderThan reports whether a was created before b (both known).
func olderThan(a, b *mesh.VirtualService) bool {
	before, _ := mesh.CreatedBefore(a.Object, b.Object)
	return before
}

// earlierSameHost lists, through the model's host index, the candidate
// VirtualServices before b (position j) that list one of b's hosts, equal
// as written after resolution: a lookup per host, no scan of the others.
func earlierSameHost(m *mesh.Model, b *mesh.VirtualService, j int, order map[*mesh.VirtualService]int) []*mesh.VirtualService {
	var out []*mesh.VirtualService
	seen := map[*mesh.VirtualService]bool{}
	for _, h := range b.Hosts {
		if !comparedHost(h) {
			continue
		}
		for _, a := range m.VirtualServicesWithHost(h) {
			if i, ok := order[a]; ok && i < j && !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	sort.Slice(out, func(x, y int) bool { return order[out[x]] < order[out[y]] })
	return out
}

// sharedHost returns the index in b.Hosts of the first host that a also
// lists. Equal wildcard patterns collide like equal names: istiod assigns
// each service matching "*.example.com" to the first VirtualService listing
// that pattern (computeWildcardHostVirtualServiceIndex never overwrites an
// entry, pilot/pkg/model/sidecar.go), and a pattern matching no service
// becomes a virtual host named after it, the second of which is dropped
// (BuildSidecarOutboundVirtualHosts, pilot/pkg/networking/core/httproute.go).
// Different hosts do not collide even when one pattern covers the other:
// the most specific VirtualService host takes each service (MostSpecificHostMatch)
// and Envoy prefers the most specific domain.
func sharedHost(a, b *mesh.VirtualService) (int, string) {
	for i, h := range b.Hosts {
		if !comparedHost(h) {
			continue
		}
		for _, ha := range a.Hosts {
			if ha == h {
				return i, h
			}
		}
	}
	return -1, ""
}

// comparedHost reports whether a host takes part in the comparison: not
// empty, and not "*", which Istio's validation rejects for VirtualServices
// bound to mesh (pkg/config/validation: "wildcard host * is not allowed"),
// so such a VirtualService is never applied.
func comparedHost(h string) bool { return h != "" && h != "*" }

// private reports a VirtualService exported (explicitly or by the mesh
// default) to its own namespace only.
func private(m *mesh.Model, vs *mesh.VirtualService) bool {
	set, all, assumed := m.VirtualServiceVisibility(vs)
	return !all && !assumed && len(set) == 1 && set[vs.Namespace]
}

// commonVisibility names a namespace (or "every namespace") where both
// VirtualServices apply, or "".
func commonVisibility(m *mesh.Model, a, b *mesh.VirtualService) string {
	sa, alla, _ := m.VirtualServiceVisibility(a)
	sb, allb, _ := m.VirtualServiceVisibility(b)
	switch {
	case alla && allb:
		return "every namespace"
	case alla:
		return anyOf(sb)
	case allb:
		return anyOf(sa)
	}
	for ns := range sa {
		if sb[ns] {
			return "namespace " + ns
		}
	}
	return ""
}

func anyOf(set map[string]bool) string {
	var best string
	for ns := range set {
		if best == "" || ns < best {
			best = ns
		}
	}
	if best == "" {
		return ""
	}
	return "namespace " + best
}

// disjointPorts reports whether every http route of both VirtualServices
// is restricted to a destination port and the two port sets do not meet:
// istiod then builds each VirtualService's virtual host on different ports.
func disjointPorts(a, b *mesh.VirtualService) bool {
	pa, pb := routePorts(a), routePorts(b)
	if pa == nil || pb == nil {
		return false
	}
	for port := range pa {
		if pb[port] {
			return false
		}
	}
	return true
}

// routePorts is the set of match ports of all http routes, or nil when
// some route applies to every port.
func routePorts(vs *mesh.VirtualService) map[uint32]bool {
	ports := map[uint32]bool{}
	for _, r := range vs.Spec.Http {
		if len(r.Match) == 0 {
			return nil
		}
		for _, mt := range r.Match {
			if mt.Port == 0 {
				return nil
			}
			ports[mt.Port] = true
		}
	}
	return ports
}
