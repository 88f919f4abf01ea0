package mesh

import (
	"slices"
	"strings"
)

// DroppedServer is a TLS server istiod leaves out of a gateway proxy's
// configuration because an earlier server on the same port already
// claims one of its hosts.
type DroppedServer struct {
	Dropped GatewayServer
	Kept    GatewayServer // the earlier server with the first shared host
	Hosts   []string      // the shared hosts, as written
	Port    uint32
	// Proxies are the gateway workloads both Gateways select; nil when
	// they are not in the input and the Gateways share a selector.
	Proxies []*Workload
}

// DroppedTLSServers finds the TLS servers istiod skips. For each gateway
// proxy, it merges the servers of every Gateway selecting it, oldest
// Gateway first (then name, then namespace); a server with tls settings
// whose hosts include a host, exactly as written, that an earlier TLS
// server on the same port and bind address already has, is skipped whole
// (all its hosts), since Envoy rejects two filter chains with one SNI.
// (pilot/pkg/model/gateway.go MergeGateways, CheckDuplicates; push_context
// initGateways sorts by creation time.) Gateways whose proxies are not in
// the input are grouped by identical selectors.
func (m *Model) DroppedTLSServers() []DroppedServer {
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
		for _, g := range gws {
			for i, s := range g.Spec.Servers {
				if s.GetTls() == nil || s.GetPort() == nil {
					continue
				}
				port := s.Port.Number
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
				if len(dup) == 0 {
					for _, h := range s.Hosts {
						known[port][h] = owner{s.Bind, GatewayServer{g, i}}
					}
					continue
				}
				if kept.Gateway == g {
					continue // one Gateway's own duplicates: validation's business
				}
				k := key{g, i}
				if at, ok := found[k]; ok {
					if gr.proxy != nil {
						out[at].Proxies = append(out[at].Proxies, gr.proxy)
					}
					continue
				}
				d := DroppedServer{Dropped: GatewayServer{g, i}, Kept: kept, Hosts: dup, Port: port}
				if gr.proxy != nil {
					d.Proxies = []*Workload{gr.proxy}
				}
				found[k] = len(out)
				out = append(out, d)
			}
		}
	}
	return out
}
