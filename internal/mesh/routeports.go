package mesh

import (
	"fmt"
	"slices"
	"strings"

	istioapi "istio.io/api/networking/v1alpha3"
)

// RoutePort is a port on which some proxy serves a VirtualService's route,
// and what opens it there (for messages).
type RoutePort struct {
	Port uint32
	Via  string // "Gateway ns/name server 0" or "Service ns/name"
}

// HostPorts lists the ports a destination host is defined with for a
// client namespace: its Service's ports, or the ports of the
// ServiceEntries defining it, and the definition (Describe names it for
// messages). found is false when the host is not in the input (nothing can
// be said about its ports); an entry without ports yields found with no
// ports.
func (m *Model) HostPorts(clientNS, fqdn string) (ports []uint32, def Destination, found bool) {
	d := m.LookupHostFrom(clientNS, fqdn)
	if !d.Found() {
		d = m.LookupHost(fqdn)
	}
	switch {
	case d.Service != nil:
		ports = make([]uint32, len(d.Service.Spec.Ports))
		for i, p := range d.Service.Spec.Ports {
			ports[i] = uint32(p.Port)
		}
		return ports, d, true
	case len(d.Entries) > 0:
		for _, se := range d.Entries {
			for _, p := range se.Spec.Ports {
				if !slices.Contains(ports, p.Number) {
					ports = append(ports, p.Number)
				}
			}
		}
		return ports, d, true
	}
	return nil, d, false
}

// Describe names the definition: "Service ns/name" or "ServiceEntry
// ns/name" (the first of several), "" when there is none.
func (d Destination) Describe() string {
	switch {
	case d.Service != nil:
		return "Service " + d.Service.Namespace + "/" + d.Service.Name
	case len(d.Entries) > 0:
		return "ServiceEntry " + d.Entries[0].Namespace + "/" + d.Entries[0].Name
	}
	return ""
}

// ClusterPort is the port of the Envoy cluster a route destination sends
// to when the request arrived on listener port: the destination's port
// when written, else the host's only port, else the listener's port.
// (pilot/pkg/networking/core/route/route.go GetDestinationCluster)
func ClusterPort(written uint32, hostPorts []uint32, listener uint32) uint32 {
	switch {
	case written != 0:
		return written
	case len(hostPorts) == 1:
		return hostPorts[0]
	}
	return listener
}

// ServingPorts lists the listener ports on which proxies serve route d of
// vs: the ports of the bound Gateways' servers for the VirtualService's
// hosts, and, for the mesh, the ports of the Services (or ServiceEntries)
// that are its hosts. A route whose matches all name a port is served on
// those ports only. complete is false when some serving port is unknown
// (a Gateway or host not in the input, a wildcard host): a caller then
// knows only part of the ports.
func (m *Model) ServingPorts(vs *VirtualService, d RouteDestination) (out []RoutePort, complete bool) {
	complete = true
	gateways, matchPorts := routeScope(vs, d)
	add := func(p uint32, via string) {
		if len(matchPorts) > 0 && !slices.Contains(matchPorts, p) {
			return
		}
		for _, o := range out {
			if o.Port == p {
				return
			}
		}
		out = append(out, RoutePort{p, via})
	}
	for _, ref := range gateways {
		if ref == "mesh" {
			for _, h := range vs.Hosts {
				if isWildcard(h) {
					complete = false
					continue
				}
				dst := m.LookupHostFrom(vs.Namespace, h)
				switch {
				case dst.Service != nil:
					for _, sp := range dst.Service.Spec.Ports {
						proto := PortProtocol(&sp)
						if d.Protocol == "http" && !proto.IsHTTP() && !proto.Sniffed() {
							continue // no HTTP routes on a TCP port
						}
						add(uint32(sp.Port), "Service "+dst.Service.Namespace+"/"+dst.Service.Name)
					}
				case len(dst.Entries) > 0:
					for _, se := range dst.Entries {
						for _, p := range se.Spec.Ports {
							add(p.Number, "ServiceEntry "+se.Namespace+"/"+se.Name)
						}
					}
				default:
					complete = false
				}
			}
			continue
		}
		g, key := m.GatewayByName(ref, vs.Namespace)
		if g == nil {
			complete = false
			continue
		}
		for i, s := range g.Spec.Servers {
			if s.GetPort() == nil || !serverAllowsNamespace(s, vs.Namespace, g.Namespace) {
				continue
			}
			if (d.Protocol == "http") != (serverHTTP(s) || TerminatesTLS(s.GetTls())) {
				continue // http routes on HTTP servers, tcp/tls routes on the others
			}
			if !serverServesAny(s, vs.Hosts) {
				continue
			}
			add(s.Port.Number, fmt.Sprintf("Gateway %s %s", key, DescribeServer(i, s)))
		}
	}
	return out, complete
}

// serverServesAny reports whether a Gateway server lists one of the hosts.
func serverServesAny(s *istioapi.Server, hosts []string) bool {
	for _, sh := range ServerHosts(s) {
		for _, h := range hosts {
			if HostsOverlap(strings.ToLower(sh), strings.ToLower(h)) {
				return true
			}
		}
	}
	return false
}

// routeScope is the gateways a route applies to and the ports its matches
// restrict it to (nil: every port).
func routeScope(vs *VirtualService, d RouteDestination) (gateways []string, ports []uint32) {
	top := vs.Spec.Gateways
	if len(top) == 0 {
		top = []string{"mesh"}
	}
	switch d.Protocol {
	case "http":
		if d.HTTP == nil {
			return top, nil
		}
		gateways = vs.RouteGateways(d.HTTP)
		for _, mt := range d.HTTP.Match {
			if mt.Port == 0 {
				return gateways, nil
			}
			ports = append(ports, mt.Port)
		}
		return gateways, ports
	case "tcp":
		if d.Route < len(vs.Spec.Tcp) {
			return l4Scope(top, vs.Spec.Tcp[d.Route].Match)
		}
	case "tls":
		if d.Route < len(vs.Spec.Tls) {
			var ms []*istioapi.L4MatchAttributes
			for _, mt := range vs.Spec.Tls[d.Route].Match {
				ms = append(ms, &istioapi.L4MatchAttributes{Port: mt.Port, Gateways: mt.Gateways})
			}
			return l4Scope(top, ms)
		}
	}
	return top, nil
}

func l4Scope(top []string, ms []*istioapi.L4MatchAttributes) (gateways []string, ports []uint32) {
	if len(ms) == 0 {
		return top, nil
	}
	all := false
	for _, mt := range ms {
		gws := mt.Gateways
		if len(gws) == 0 {
			gws = top
		}
		for _, g := range gws {
			if !slices.Contains(gateways, g) {
				gateways = append(gateways, g)
			}
		}
		if mt.Port == 0 {
			all = true
		} else {
			ports = append(ports, mt.Port)
		}
	}
	if all {
		ports = nil
	}
	return gateways, ports
}
