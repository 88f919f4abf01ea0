package mesh

import (
	"fmt"
	"strings"
)

// SidecarFor returns the Sidecar resource that scopes w's proxy: the one in
// w's namespace whose workloadSelector matches w, else the namespace's
// Sidecar without a selector, else the root namespace's without a selector.
// nil when none applies (the proxy sees everything exported to it).
// https://istio.io/latest/docs/reference/config/networking/sidecar/
func (m *Model) SidecarFor(w *Workload) *Sidecar {
	if w == nil {
		return nil
	}
	var nsDefault *Sidecar
	for _, sc := range m.sidecarsByNS[w.Namespace] {
		sel := sc.Spec.GetWorkloadSelector().GetLabels()
		if len(sel) == 0 {
			if nsDefault == nil {
				nsDefault = sc
			}
			continue
		}
		if Matches(sel, w.Labels) {
			return sc
		}
	}
	if nsDefault != nil {
		return nsDefault
	}
	for _, sc := range m.sidecarsByNS[m.Mesh.RootNamespace] {
		if len(sc.Spec.GetWorkloadSelector().GetLabels()) == 0 {
			return sc
		}
	}
	return nil
}

// egressAllows reports whether a Sidecar's egress imports host (defined in
// namespace ns) on port, and the listener that does. An egress listener
// with a port applies to that port only; hosts are "namespace/dnsName"
// with "*" (any namespace), "." (the Sidecar's own) or "~" (none), and a
// dnsName of "*", "*.suffix" or an exact name.
func egressAllows(sc *Sidecar, host, ns string, port uint32) (int, bool) {
	if len(sc.Spec.Egress) == 0 {
		// Without egress the Sidecar does not restrict outbound hosts.
		return -1, true
	}
	for i, e := range sc.Spec.Egress {
		if p := e.GetPort().GetNumber(); p != 0 && p != port {
			continue
		}
		for _, h := range e.Hosts {
			hns, name, ok := strings.Cut(h, "/")
			if !ok {
				continue
			}
			switch hns {
			case "*":
			case ".":
				if ns != sc.Namespace {
					continue
				}
			case "~":
				continue
			default:
				if hns != ns {
					continue
				}
			}
			if HostMatches(strings.ToLower(name), host) {
				return i, true
			}
		}
	}
	return -1, false
}

// sidecarScope applies the client's Sidecar resource to a host found in
// the registry: a host its egress does not import is unknown to the proxy,
// which then treats it as outside the registry (with the Sidecar's own
// outboundTrafficPolicy, else the mesh's).
func (m *Model) sidecarScope(c Client, r Request, l *Listener, hostNS string) bool {
	if c.Kind != ClientSidecar || c.Dataplane != DataplaneSidecar {
		return true
	}
	sc := m.SidecarFor(c.Workload)
	if sc == nil {
		return true
	}
	if i, ok := egressAllows(sc, l.Host, hostNS, r.Port); ok {
		if i >= 0 {
			l.Notes = append(l.Notes, Decision{Reason: ReasonSidecarEgress, Object: sc.Object, Path: []any{"spec", "egress", i, "hosts"},
				Note: fmt.Sprintf("Sidecar %s/%s imports %s (egress[%d])", sc.Namespace, sc.Name, l.Host, i)})
		}
		return true
	}
	// The Service stays known to the trace (its pods still receive what
	// passes through), not to the proxy.
	l.Entries, l.EntryPort = nil, nil
	registryOnly, src := m.outboundPolicy(c)
	l.Decision = Decision{Reason: ReasonSidecarNotImported, Object: sc.Object, Path: []any{"spec", "egress"},
		Note: fmt.Sprintf("Sidecar %s/%s scopes this proxy, and no egress host imports %s (namespace %s) on port %d: the proxy has no route or cluster for it; %s", sc.Namespace, sc.Name, l.Host, hostNS, r.Port, src)}
	if registryOnly {
		l.Failure = m.blocked(c, r)
	} else {
		l.Decision.Note += " forwards it unchanged through PassthroughCluster, without routing rules or mTLS"
		l.Passthrough = true
	}
	return false
}
