package mesh

import "sort"

// InboundPort is a port a workload receives on, as the Services selecting
// it declare it: the protocol decides whether the server's sidecar builds
// an HTTP or a TCP inbound filter chain for it.
type InboundPort struct {
	ContainerPort uint32
	Protocol      Protocol
	// Service and Port name the Service port that declares it (the first,
	// when several do).
	Service *Service
	Port    string
}

// InboundPorts answers "on which ports does w receive Service traffic, and
// as which protocol": every port of the Services that select it, resolved
// to the container port. When several Service ports reach one container
// port, one declared (or sniffed, which may be) HTTP makes it HTTP: the
// port is TCP only if every declaration says so.
func (m *Model) InboundPorts(w *Workload) []InboundPort {
	byPort := map[uint32]InboundPort{}
	for _, s := range m.ServicesOf(w) {
		for i := range s.Spec.Ports {
			sp := &s.Spec.Ports[i]
			port, _, ok := w.ContainerPort(sp.TargetPort, sp.Port)
			if !ok || port == 0 {
				continue
			}
			p := InboundPort{ContainerPort: uint32(port), Protocol: PortProtocol(sp), Service: s, Port: sp.Name}
			if p.Port == "" {
				p.Port = itoa(uint32(sp.Port))
			}
			old, seen := byPort[p.ContainerPort]
			if !seen || (!old.MayBeHTTP() && p.MayBeHTTP()) {
				byPort[p.ContainerPort] = p
			}
		}
	}
	out := make([]InboundPort, 0, len(byPort))
	for _, p := range byPort {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ContainerPort < out[j].ContainerPort })
	return out
}

// MayBeHTTP reports whether the sidecar may run the HTTP filter chain on
// the port: declared HTTP, or sniffed.
func (p InboundPort) MayBeHTTP() bool { return p.Protocol.IsHTTP() || p.Protocol.Sniffed() }
