package mesh

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// InboundClaim is one Service port that leads to a container port.
type InboundClaim struct {
	Service  *Service
	Port     *corev1.ServicePort
	Protocol Protocol
}

// InboundConflict is a container port of a workload that Services reach
// with different protocols. A sidecar builds one inbound filter chain per
// container port, from the oldest Service (pilot/pkg/networking/core/
// listener_inbound.go: "If there is a conflict, we will use the oldest
// Service. This impacts the protocol used as well."); Claims[0] is that
// Service when creation times tell, the others follow in order.
type InboundConflict struct {
	ContainerPort int32
	Claims        []InboundClaim
	// Ordered is false when the Services carry no distinct creation
	// times (manifests): which one is oldest is decided at apply time.
	Ordered bool
}

// InboundPortConflicts lists w's container ports that its Services reach
// with different protocol classes (HTTP family, TCP-like protocols, and
// sniffed ports are told apart; HTTP and gRPC are one class). UDP ports
// and named targetPorts no container declares are skipped.
func (m *Model) InboundPortConflicts(w *Workload) []InboundConflict {
	order, byPort, ordered := m.inboundClaims(w)
	var out []InboundConflict
	for _, port := range order {
		cs := byPort[port]
		first := cs[0].Protocol.Class()
		for _, c := range cs[1:] {
			if c.Protocol.Class() != first && c.Service != cs[0].Service {
				out = append(out, InboundConflict{ContainerPort: port, Claims: cs, Ordered: ordered})
				break
			}
		}
	}
	return out
}

// inboundClaims lists, per container port of w in first-seen order, the
// Service ports that reach it, oldest Service first (then by name); ordered
// is false when the Services carry no distinct creation times, so which
// one istiod takes is decided at apply time. UDP ports and named
// targetPorts no container declares are skipped.
func (m *Model) inboundClaims(w *Workload) (order []int32, byPort map[int32][]InboundClaim, ordered bool) {
	svcs := slices.Clone(m.ServicesOf(w))
	if len(svcs) == 0 {
		return nil, nil, false
	}
	slices.SortStableFunc(svcs, func(a, b *Service) int {
		if ta, tb := creationTime(a.Object), creationTime(b.Object); !ta.Equal(tb) {
			return ta.Compare(tb)
		}
		return strings.Compare(a.Name, b.Name)
	})
	byPort = map[int32][]InboundClaim{}
	for _, s := range svcs {
		for i := range s.Spec.Ports {
			sp := &s.Spec.Ports[i]
			if !tcpPort(sp) {
				continue
			}
			target, _, ok := w.ContainerPort(sp.TargetPort, sp.Port)
			if !ok {
				continue
			}
			if byPort[target] == nil {
				order = append(order, target)
			}
			byPort[target] = append(byPort[target], InboundClaim{s, sp, PortProtocol(sp)})
		}
	}
	ordered = len(svcs) == 1 || !creationTime(svcs[0].Object).IsZero()
	for _, s := range svcs[1:] {
		if creationTime(s.Object).Equal(creationTime(svcs[0].Object)) {
			ordered = false
		}
	}
	return order, byPort, ordered
}

// Class groups protocols that build the same kind of inbound chain:
// "HTTP" (the HTTP connection manager), "sniffed", "TCP" (a TCP proxy,
// TLS passed through), or the protocol's name (MongoDB, Redis, MySQL
// filters differ).
func (p Protocol) Class() string {
	switch {
	case p.Sniffed():
		return "sniffed"
	case p.IsHTTP():
		return "HTTP"
	case p.Name == "TCP" || p.Name == "TLS" || p.Name == "HTTPS":
		return "TCP" // a TCP proxy inbound, TLS passed through
	}
	return p.Name
}
