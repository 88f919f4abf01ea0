package mesh

import (
	"slices"
	"strings"

	istioapi "istio.io/api/networking/v1alpha3"
)

// DestinationRuleFor returns the DestinationRules a client in clientNS uses
// for host, in Istio's lookup order: rules in the client's namespace, then
// those exported by the service's namespace, then those exported by the
// root namespace. Within a namespace the most specific host wins (exact,
// then the longest wildcard); several rules for the same host are merged by
// Istio (first one's traffic policy, all subsets), so all are returned, in
// input order. https://istio.io/latest/docs/ops/best-practices/traffic-management/#cross-namespace-configuration
func (m *Model) DestinationRuleFor(clientNS, host string) []*DestinationRule {
	if rules := m.drsIn(clientNS, clientNS, host); len(rules) > 0 {
		return rules
	}
	svcNS := m.ServiceNamespace(host)
	if es := m.entriesByHost[host]; svcNS == "" && len(es) > 0 {
		// A ServiceEntry's host belongs to the ServiceEntry's namespace
		// (Istio's service.Attributes.Namespace).
		svcNS = es[0].Namespace
	}
	if svcNS != "" && svcNS != clientNS {
		if rules := m.drsIn(svcNS, clientNS, host); len(rules) > 0 {
			return rules
		}
	}
	if root := m.Mesh.RootNamespace; root != clientNS {
		return m.drsIn(root, clientNS, host)
	}
	return nil
}

func (m *Model) drsIn(ns, clientNS, host string) []*DestinationRule {
	var best []*DestinationRule
	bestLen := -1
	consider := func(dr *DestinationRule) {
		if dr.Spec.WorkloadSelector != nil || !HostMatches(dr.Host, host) || !m.exported(dr.Spec.ExportTo, m.Mesh.DefaultDestinationRuleExportTo, ns, clientNS) {
			return
		}
		specificity := len(dr.Host)
		if dr.Host == host {
			specificity = 1 << 30
		}
		switch {
		case specificity > bestLen:
			best, bestLen = []*DestinationRule{dr}, specificity
		case specificity == bestLen && dr.Host == best[0].Host:
			best = append(best, dr)
		}
	}
	// Exact hosts come from the index; wildcard hosts are few per namespace.
	for _, dr := range m.drsByNSHost[ns][host] {
		consider(dr)
	}
	if len(best) > 0 {
		return best
	}
	for _, dr := range m.wildcardDRs[ns] {
		consider(dr)
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
	svcNS := m.ServiceNamespace(host)
	if es := m.entriesByHost[host]; svcNS == "" && len(es) > 0 {
		svcNS = es[0].Namespace
	}
	special[svcNS] = true
	for _, e := range m.Mesh.DefaultDestinationRuleExportTo {
		special[e] = true
	}
	for ns := range m.drNamespacesByHost[host] {
		special[ns] = true
	}
	for ns, drs := range m.wildcardDRs {
		if len(drs) > 0 {
			special[ns] = true
		}
	}
	for _, ns := range []string{svcNS, m.Mesh.RootNamespace} {
		for _, dr := range m.drsByNSHost[ns][host] {
			for _, e := range dr.Spec.ExportTo {
				special[e] = true
			}
		}
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
