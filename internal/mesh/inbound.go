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
// as which protocol": every TCP port of the Services that select it,
// resolved to the container port. When several Service ports reach one
// container port, the sidecar takes the oldest Service's (inboundClaims);
// when the input cannot tell which is oldest, one that may be HTTP
// (declared or sniffed) is taken, so a caller asking "may this port run
// HTTP?" is never told no wrongly.
func (m *Model) InboundPorts(w *Workload) []InboundPort {
	order, byPort, ordered := m.inboundClaims(w)
	out := make([]InboundPort, 0, len(order))
	for _, port := range order {
		pick := byPort[port][0]
		if !ordered {
			for _, c := range byPort[port] {
				if !(pick.Protocol.IsHTTP() || pick.Protocol.Sniffed()) && (c.Protocol.IsHTTP() || c.Protocol.Sniffed()) {
					pick = c
				}
			}
		}
		p := InboundPort{ContainerPort: uint32(port), Protocol: pick.Protocol, Service: pick.Service, Port: pick.Port.Name}
		if p.Port == "" {
			p.Port = itoa(uint32(pick.Port.Port))
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ContainerPort < out[j].ContainerPort })
	return out
}

// MayBeHTTP reports whether the sidecar may run the HTTP filter chain on
// the port: declared HTTP, or sniffed.
func (p InboundPort) MayBeHTTP() bool { return p.Protocol.IsHTTP() || p.Protocol.Sniffed() }
