package mesh

import (
	"slices"
	"strings"

	istioapi "istio.io/api/networking/v1alpha3"
)

// DestinationRuleFor returns the DestinationRules a client (sidecar or
// gateway) in clientNS uses for host, in Istio's lookup order
// (PushContext.destinationRule, pilot/pkg/model/push_context.go, which
// SidecarScope.selectDestinationRules in pilot/pkg/model/sidecar.go calls
// for every service a proxy sees):
//
//  1. the client namespace's own rules: those without exportTo or exported
//     to "*", "." or that namespace (the namespaceLocal index of
//     setDestinationRules). For a client in the root namespace only the
//     root namespace's private rules (exportTo "." or its own name alone,
//     the rootNamespaceLocal index) count here, so that a catch-all rule
//     in istio-system does not hide the service's own rule from the
//     ingress gateway;
//  2. the rules the service's namespace exports to the client;
//  3. the rules the root namespace exports to the client.
//
// A rule in any other namespace never applies. In each namespace the most
// specific host is chosen first (exact, then the longest wildcard,
// MostSpecificHostMatch) and only then checked against exportTo
// (getExportedDestinationRuleFromNamespace): when the most specific rule of
// a namespace is not exported to the client, the lookup moves on to the
// next namespace rather than to a less specific rule. Several rules for the
// same host are merged by Istio (first one's traffic policy, all subsets),
// so all are returned, in input order. Rules with a workloadSelector are
// left out (they apply only to the selected client workloads). The slice
// may be the model's own index: callers must not modify it.
// https://istio.io/latest/docs/ops/best-practices/traffic-management/#cross-namespace-configuration
func (m *Model) DestinationRuleFor(clientNS, host string) []*DestinationRule {
	root := m.Mesh.RootNamespace
	if clientNS != root {
		if drs := m.drsIn(clientNS, host, m.drLocal); len(drs) > 0 {
			return drs
		}
	} else if drs := m.drsIn(root, host, m.drPrivate); len(drs) > 0 {
		return drs
	}
	if svcNS := m.hostNamespace(clientNS, host); svcNS != "" {
		if drs := m.drsExportedTo(svcNS, host, clientNS); len(drs) > 0 {
			return drs
		}
	}
	return m.drsExportedTo(root, host, clientNS)
}

// hostNamespace is the namespace a host belongs to for clientNS (Istio's
// service.Attributes.Namespace): a Kubernetes Service's namespace, else
// the namespace of the ServiceEntry that defines the host for the client
// (its exportTo honoured, the client's own namespace first).
func (m *Model) hostNamespace(clientNS, host string) string {
	if ns := m.ServiceNamespace(host); ns != "" {
		return ns
	}
	es := m.entriesByHost[host]
	for _, se := range es {
		if se.Namespace == clientNS && m.entryVisible(se, clientNS) {
			return se.Namespace
		}
	}
	for _, se := range es {
		if m.entryVisible(se, clientNS) {
			return se.Namespace
		}
	}
	return ""
}

// drLocal: a rule its own namespace's clients look up first (no exportTo,
// or "*", "." or the namespace's name among them; setDestinationRules'
// namespaceLocal index).
func (m *Model) drLocal(dr *DestinationRule) bool {
	e := dr.Spec.ExportTo
	return len(e) == 0 || slices.Contains(e, "*") || slices.Contains(e, ".") || slices.Contains(e, dr.Namespace)
}

// drPrivate: a rule exported only to its own namespace (exportTo "." or the
// namespace's name alone, or no exportTo under a mesh default of ".").
func (m *Model) drPrivate(dr *DestinationRule) bool {
	e := dr.Spec.ExportTo
	if len(e) == 0 {
		return slices.Contains(m.Mesh.DefaultDestinationRuleExportTo, ".")
	}
	return len(e) == 1 && (e[0] == "." || e[0] == dr.Namespace)
}

// drsExportedTo returns the rules of namespace ns for host that ns exports
// to clientNS: the most specific host among ns's exported (not private)
// rules, then only those of its rules whose exportTo is empty, "*" or
// names clientNS.
func (m *Model) drsExportedTo(ns, host, clientNS string) []*DestinationRule {
	drs := m.drsIn(ns, host, m.drExported)
	visible := func(dr *DestinationRule) bool {
		e := dr.Spec.ExportTo
		return len(e) == 0 || slices.Contains(e, "*") || slices.Contains(e, clientNS)
	}
	if !slices.ContainsFunc(drs, func(dr *DestinationRule) bool { return !visible(dr) }) {
		return drs // all visible: no copy
	}
	var out []*DestinationRule
	for _, dr := range drs {
		if visible(dr) {
			out = append(out, dr)
		}
	}
	return out
}

// drExported: a rule in setDestinationRules' exportedByNamespace index
// (not private to its namespace).
func (m *Model) drExported(dr *DestinationRule) bool { return !m.drPrivate(dr) }

// drsIn returns the rules of namespace ns in pool whose host is the most
// specific match for host (shared with the index when nothing is left
// out: callers must not modify it).
func (m *Model) drsIn(ns, host string, pool func(*DestinationRule) bool) []*DestinationRule {
	in := func(dr *DestinationRule) bool { return dr.Spec.WorkloadSelector == nil && pool(dr) }
	// Exact hosts come from the index; wildcard hosts are few per namespace.
	exact := m.drsByNSHost[ns][host]
	if len(exact) > 0 && !slices.ContainsFunc(exact, func(dr *DestinationRule) bool { return !in(dr) }) {
		return exact
	}
	var best []*DestinationRule
	for _, dr := range exact {
		if in(dr) {
			best = append(best, dr)
		}
	}
	if len(best) > 0 {
		return best
	}
	bestLen := -1
	for _, dr := range m.wildcardDRs[ns] {
		if !HostMatches(dr.Host, host) || !in(dr) {
			continue
		}
		switch {
		case len(dr.Host) > bestLen:
			best, bestLen = []*DestinationRule{dr}, len(dr.Host)
		case len(dr.Host) == bestLen && dr.Host == best[0].Host:
			best = append(best, dr)
		}
	}
	return best
}

// ClientNamespaces is a set of client namespaces in a stable order, indexed
// for DistinctDestinationRules.
type ClientNamespaces struct {
	names []string
	pos   map[string]int
}

// NewClientNamespaces sorts and indexes names (duplicates dropped).
func NewClientNamespaces(names []string) ClientNamespaces {
	c := ClientNamespaces{names: slices.Compact(slices.Sorted(slices.Values(names))), pos: map[string]int{}}
	for i, n := range c.names {
		c.pos[n] = i
	}
	return c
}

// DistinctDestinationRules returns the different DestinationRule sets that
// clients in the given namespaces use for host, each once. Only namespaces
// that hold a rule for the host, the service's and root namespaces, and
// namespaces named in an exportTo can see something different from the
// rest; every other client namespace behaves like the first of them. This
// keeps "for every client namespace" questions linear in the mesh size.
func (m *Model) DistinctDestinationRules(host string, clients ClientNamespaces) [][]*DestinationRule {
	special := map[string]bool{m.Mesh.RootNamespace: true}
	var buf [4]string
	owners := append(buf[:0], m.Mesh.RootNamespace)
	if ns := m.ServiceNamespace(host); ns != "" {
		owners = append(owners, ns)
	}
	// A ServiceEntry host belongs to the namespace of the entry a client
	// sees, which depends on the entries' exportTo.
	for _, se := range m.entriesByHost[host] {
		owners = append(owners, se.Namespace)
		for _, e := range m.entryExportTo(se) {
			special[e] = true
		}
	}
	for _, ns := range owners {
		special[ns] = true
	}
	for _, e := range m.Mesh.DefaultDestinationRuleExportTo {
		special[e] = true
	}
	for _, ns := range m.drNamespacesByHost[host] {
		special[ns] = true
	}
	for ns, drs := range m.wildcardDRs {
		if len(drs) > 0 {
			special[ns] = true
		}
	}
	markExports := func(drs []*DestinationRule) {
		for _, dr := range drs {
			for _, e := range dr.Spec.ExportTo {
				special[e] = true
			}
		}
	}
	for _, ns := range owners {
		markExports(m.drsByNSHost[ns][host])
		markExports(m.wildcardDRs[ns])
	}
	// The special client namespaces and the first other one, in the
	// clients' order, without walking every client.
	var at []int
	for ns := range special {
		if i, ok := clients.pos[ns]; ok {
			at = append(at, i)
		}
	}
	for i, ns := range clients.names {
		if !special[ns] {
			at = append(at, i)
			break
		}
	}
	slices.Sort(at)
	var out [][]*DestinationRule
	seen := map[*DestinationRule]bool{}
	none := false
	for _, i := range at {
		ns := clients.names[i]
		drs := m.DestinationRuleFor(ns, host)
		if len(drs) == 0 {
			if !none {
				none = true
				out = append(out, nil)
			}
			continue
		}
		if !seen[drs[0]] {
			seen[drs[0]] = true
			out = append(out, drs)
		}
	}
	return out
}

// exported applies exportTo ("*", ".", "~" or namespace names) for a
// resource in ns seen from clientNS.
func (m *Model) exported(exportTo, defaults []string, ns, clientNS string) bool {
	if len(exportTo) == 0 {
		exportTo = defaults
	}
	if len(exportTo) == 0 {
		return true
	}
	for _, e := range exportTo {
		switch e {
		case "*":
			return true
		case ".":
			if ns == clientNS {
				return true
			}
		case "~":
		default:
			if e == clientNS {
				return true
			}
		}
	}
	return false
}

// Subset finds a subset by name among merged rules.
func Subset(rules []*DestinationRule, name string) (*istioapi.Subset, *DestinationRule) {
	for _, dr := range rules {
		for _, s := range dr.Spec.Subsets {
			if s.Name == name {
				return s, dr
			}
		}
	}
	return nil, nil
}

// ClientTLS is the TLS a client sidecar originates toward a destination
// port, and where that decision comes from.
type ClientTLS struct {
	Mode     istioapi.ClientTLSSettings_TLSmode
	Settings *istioapi.ClientTLSSettings // nil when no rule sets TLS
	Rule     *DestinationRule            // nil when none applies
	Path     []any                       // path of the tls field in Rule
	// Auto is true when no rule sets TLS and auto mTLS decides by the
	// server's sidecar and PeerAuthentication.
	Auto bool
}

// ClientTLSFor decides the TLS mode for port (a Service port number) and an
// optional subset, following DestinationRule precedence: subset port-level,
// subset, top-level port-level, top-level.
func (m *Model) ClientTLSFor(rules []*DestinationRule, port uint32, subset string) ClientTLS {
	var first *DestinationRule
	if len(rules) > 0 {
		first = rules[0]
	}
	if first != nil {
		type cand struct {
			tp   *istioapi.TrafficPolicy
			path []any
		}
		var cands []cand
		if subset != "" {
			for i, s := range first.Spec.Subsets {
				if s.Name == subset && s.TrafficPolicy != nil {
					cands = append(cands, cand{s.TrafficPolicy, []any{"spec", "subsets", i, "trafficPolicy"}})
				}
			}
		}
		if first.Spec.TrafficPolicy != nil {
			cands = append(cands, cand{first.Spec.TrafficPolicy, []any{"spec", "trafficPolicy"}})
		}
		for _, c := range cands {
			for i, pl := range c.tp.PortLevelSettings {
				if pl.Port != nil && pl.Port.Number == port && pl.Tls != nil {
					return ClientTLS{Mode: pl.Tls.Mode, Settings: pl.Tls, Rule: first, Path: append(append([]any{}, c.path...), "portLevelSettings", i, "tls")}
				}
			}
			if c.tp.Tls != nil {
				return ClientTLS{Mode: c.tp.Tls.Mode, Settings: c.tp.Tls, Rule: first, Path: append(append([]any{}, c.path...), "tls")}
			}
		}
	}
	return ClientTLS{Mode: istioapi.ClientTLSSettings_DISABLE, Rule: first, Auto: m.Mesh.EnableAutoMTLS}
}

// TLSModeName renders a client TLS mode as written in YAML.
func TLSModeName(mode istioapi.ClientTLSSettings_TLSmode) string {
	return strings.ToUpper(mode.String())
}
