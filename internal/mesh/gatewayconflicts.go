package mesh

import (
	"slices"
	"strings"

	istioapi "istio.io/api/networking/v1alpha3"
)

// DroppedServer is a server istiod leaves out of a gateway proxy's
// configuration because an earlier server on the same port and bind
// address already claims one of its hosts (TLS), or already took the port
// in plaintext with a protocol the two cannot share (Protocol).
type DroppedServer struct {
	Dropped GatewayServer
	Kept    GatewayServer // the earlier server with the first shared host, or the port's plaintext server
	Hosts   []string      // the shared hosts, as written; nil for a protocol conflict
	Port    uint32
	// Protocol marks a plaintext protocol conflict: Kept is the first
	// plaintext server on the port and the two are not both HTTP.
	Protocol bool
	// Proxies are the gateway workloads both Gateways select; nil when
	// they are not in the input and the Gateways share a selector.
	Proxies []*Workload
}

// DroppedGatewayServers finds the servers istiod skips. For each gateway
// proxy, it merges the servers of every Gateway selecting it, oldest
// Gateway first (then name, then namespace). A server with tls settings
// whose hosts include a host, exactly as written, that an earlier TLS
// server on the same port and bind address already has, is skipped whole
// (all its hosts), since Envoy rejects two filter chains with one SNI
// (CheckDuplicates). Once a plaintext server (no tls, or an HTTP server
// with tls only to redirect) has taken a port, a later server on that port
// and bind address is skipped unless both are HTTP: an HTTP server after
// a TCP one, a TCP server after an HTTP or another TCP one, whatever the
// hosts ("skipping server on gateway …: conflict with existing server",
// canMergeProtocols). (pilot/pkg/model/gateway.go mergeGateways;
// push_context initGateways sorts by creation time.) Gateways whose
// proxies are not in the input are grouped by identical selectors; one
// Gateway's conflicts with itself are left to validation.
func (m *Model) DroppedGatewayServers() []DroppedServer {
	type group struct {
		proxy    *Workload
		gateways []*Gateway
	}
	byProxy := map[*Workload]*group{}
	bySelector := map[string]*group{}
	var groups []*group
	for _, g := range m.Gateways {
		if len(g.Spec.Selector) == 0 {
			continue
		}
		sel := m.GatewayPods(g).Gateways
		if len(sel) == 0 {
			key := LabelString(g.Spec.Selector)
			gr := bySelector[key]
			if gr == nil {
				gr = &group{}
				bySelector[key] = gr
				groups = append(groups, gr)
			}
			gr.gateways = append(gr.gateways, g)
			continue
		}
		for _, w := range sel {
			gr := byProxy[w]
			if gr == nil {
				gr = &group{proxy: w}
				byProxy[w] = gr
				groups = append(groups, gr)
			}
			gr.gateways = append(gr.gateways, g)
		}
	}
	type key struct {
		g *Gateway
		i int
	}
	found := map[key]int{}
	var out []DroppedServer
	for _, gr := range groups {
		if len(gr.gateways) < 2 {
			continue
		}
		gws := slices.Clone(gr.gateways)
		slices.SortStableFunc(gws, func(a, b *Gateway) int {
			if ta, tb := creationTime(a.Object), creationTime(b.Object); !ta.Equal(tb) {
				return ta.Compare(tb)
			}
			if c := strings.Compare(a.Name, b.Name); c != 0 {
				return c
			}
			return strings.Compare(a.Namespace, b.Namespace)
		})
		type owner struct {
			bind string
			gs   GatewayServer
		}
		known := map[uint32]map[string]owner{}
		plain := map[uint32]owner{} // the first plaintext server on each port
		drop := func(d DroppedServer) {
			k := key{d.Dropped.Gateway, d.Dropped.Index}
			if at, ok := found[k]; ok {
				if gr.proxy != nil {
					out[at].Proxies = append(out[at].Proxies, gr.proxy)
				}
				return
			}
			if gr.proxy != nil {
				d.Proxies = []*Workload{gr.proxy}
			}
			found[k] = len(out)
			out = append(out, d)
		}
		for _, g := range gws {
			for i, s := range g.Spec.Servers {
				if s.GetPort() == nil {
					continue
				}
				port := s.Port.Number
				if s.GetTls() != nil {
					if known[port] == nil {
						known[port] = map[string]owner{}
					}
					var dup []string
					var kept GatewayServer
					for _, h := range s.Hosts {
						if o, ok := known[port][h]; ok && o.bind == s.Bind {
							if len(dup) == 0 {
								kept = o.gs
							}
							dup = append(dup, h)
						}
					}
					if len(dup) > 0 {
						if kept.Gateway != g { // one Gateway's own duplicates: validation's business
							drop(DroppedServer{Dropped: GatewayServer{g, i}, Kept: kept, Hosts: dup, Port: port})
						}
						continue
					}
					for _, h := range s.Hosts {
						known[port][h] = owner{s.Bind, GatewayServer{g, i}}
					}
				}
				if o, ok := plain[port]; ok {
					if o.bind == s.Bind && o.gs.Gateway != g && !(gatewayProtocolIsHTTP(s.Port.Protocol) && gatewayProtocolIsHTTP(o.gs.Server().Port.Protocol)) {
						drop(DroppedServer{Dropped: GatewayServer{g, i}, Kept: o.gs, Port: port, Protocol: true})
					}
					continue
				}
				if !gatewayServerIsTLS(s) {
					plain[port] = owner{s.Bind, GatewayServer{g, i}}
				}
			}
		}
	}
	return out
}

// gatewayServerIsTLS reports whether istiod builds a TLS filter chain for
// the server: tls settings on a non-HTTP protocol. An HTTP server with tls
// settings only redirects to HTTPS and stays plaintext
// (pkg/config/gateway IsTLSServer).
func gatewayServerIsTLS(s *istioapi.Server) bool {
	return s.GetTls() != nil && !gatewayProtocolIsHTTP(s.GetPort().GetProtocol())
}

// gatewayProtocolIsHTTP reports whether a Gateway server's protocol is one
// istiod serves with HTTP routing (pkg/config/protocol Instance.IsHTTP).
func gatewayProtocolIsHTTP(p string) bool {
	switch strings.ToUpper(p) {
	case "HTTP", "HTTP2", "GRPC", "GRPC-WEB", "HTTP_PROXY":
		return true
	}
	return false
}
