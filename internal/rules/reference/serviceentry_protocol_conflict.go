package reference

import (
	"fmt"
	"sort"
	"strings"

	istioapi "istio.io/api/networking/v1alpha3"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// ServiceEntryProtocolConflict: two ServiceEntries seen by the same proxies
// declare one host and port with different protocols; a proxy builds the
// port once, with one of them.
var ServiceEntryProtocolConflict = &rules.Rule{
	Code: "MD5070", Name: "serviceentry-protocol-conflict", Severity: finding.Warning, Area: "reference",
	Summary: "Two ServiceEntries visible to the same namespace declare the same host and port with different protocols; proxies use only one.",
	Needs:   []string{"ServiceEntry"},
	Since:   "0.4.0",
	IST:     []string{"IST0177"},
	Doc: rules.Doc{
		Mechanism: "istiod turns every ServiceEntry host into a service and keeps one service per host and namespace: the oldest (pilot/pkg/model/push_context.go, initServiceRegistry); a proxy that sees the host from several namespaces prefers its own namespace's. The port's protocol (HTTP, HTTPS, TLS, TCP, or none: sniffed) decides the outbound listener and filter chain for host:port, so when two ServiceEntries give one host and port different protocols, proxies that see both build the port with one of them and ignore the other's protocol. meshdoctor compares host strings as written and port numbers, protocols case-insensitively (no protocol is its own value: the sidecar sniffs it), and counts a pair only when some namespace's proxies see both entries (exportTo, else the mesh config's defaultServiceExportTo, else every namespace), like istioctl analyze (IST0177). Two documents for the same object (variants of one file) are not a conflict.",
		Symptom:   "Traffic to the host on that port is handled with the other entry's protocol: HTTPS or TLS originated by the application arrives at an HTTP filter chain and fails (HTTP 400, 'upstream connect error' or a TLS handshake error), or HTTP sent to a port built as TLS/TCP loses routing, retries and HTTP telemetry. Which entry wins depends on creation order and the client's namespace, so it can flip after a re-create.",
		Fix:       "Declare the port with one protocol: keep a single ServiceEntry per host and port, or give both the same protocol, or restrict each with exportTo so that no namespace sees both.",
		Before:    "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: payments-tls\n  namespace: shop\nspec:\n  hosts: [api.payments.example]\n  resolution: DNS\n  ports:\n  - {number: 8443, name: tls, protocol: TLS}\n---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: payments-http\n  namespace: shop\nspec:\n  hosts: [api.payments.example]\n  resolution: DNS\n  ports:\n  - {number: 8443, name: http, protocol: HTTP}\n",
		After:     "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: payments\n  namespace: shop\nspec:\n  hosts: [api.payments.example]\n  resolution: DNS\n  ports:\n  - {number: 8443, name: tls, protocol: TLS}\n",
		Sources: []string{
			"https://istio.io/latest/docs/reference/config/analysis/ist0177/",
			"https://istio.io/latest/docs/reference/config/networking/service-entry/#ServicePort",
			"https://istio.io/latest/docs/ops/configuration/traffic-management/protocol-selection/",
		},
	},
	Run: runServiceEntryProtocolConflict,
}

// entryPort is one port of one ServiceEntry for one of its hosts.
type entryPort struct {
	se    *mesh.ServiceEntry
	index int // in spec.ports
	port  *istioapi.ServicePort
}

func entryProtocol(p *istioapi.ServicePort) string {
	if p.GetProtocol() == "" {
		return "no protocol (sniffed)"
	}
	return strings.ToUpper(p.GetProtocol())
}

func runServiceEntryProtocolConflict(p *rules.Pass) {
	m := p.Model
	type hostPort struct {
		host string
		port uint32
	}
	byHostPort := map[hostPort][]entryPort{}
	for _, se := range m.ServiceEntries {
		for _, h := range se.Spec.GetHosts() {
			for i, port := range se.Spec.GetPorts() {
				if port == nil {
					continue
				}
				k := hostPort{h, port.GetNumber()}
				byHostPort[k] = append(byHostPort[k], entryPort{se, i, port})
			}
		}
	}
	// One finding per entry port, naming every host and entry it conflicts
	// with.
	type conflict struct {
		ep     entryPort
		hosts  []string
		others map[string]string // ns/name → its protocol
	}
	found := map[*istioapi.ServicePort]*conflict{}
	var order []*conflict
	keys := make([]hostPort, 0, len(byHostPort))
	for k, eps := range byHostPort {
		if len(eps) > 1 {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].host != keys[j].host {
			return keys[i].host < keys[j].host
		}
		return keys[i].port < keys[j].port
	})
	for _, k := range keys {
		eps := byHostPort[k]
		for _, a := range eps {
			for _, b := range eps {
				if a.se == b.se || (a.se.Namespace == b.se.Namespace && a.se.Name == b.se.Name) {
					continue
				}
				if entryProtocol(a.port) == entryProtocol(b.port) || !m.EntriesMeet(a.se, b.se) {
					continue
				}
				c := found[a.port]
				if c == nil {
					c = &conflict{ep: a, others: map[string]string{}}
					found[a.port] = c
					order = append(order, c)
				}
				if len(c.hosts) == 0 || c.hosts[len(c.hosts)-1] != k.host {
					c.hosts = append(c.hosts, k.host)
				}
				c.others[b.se.Namespace+"/"+b.se.Name] = entryProtocol(b.port)
			}
		}
	}
	for _, c := range order {
		se, port := c.ep.se, c.ep.port
		var others []string
		for n, proto := range c.others {
			others = append(others, fmt.Sprintf("%s (%s)", n, proto))
		}
		sort.Strings(others)
		f := rules.At(se.Object, "spec", "ports", c.ep.index)
		f.Message = fmt.Sprintf("ServiceEntry %s/%s declares %s port %d as %s, but ServiceEntry %s declares the same host and port with another protocol; proxies that see both build the port with only one of them", se.Namespace, se.Name, rules.ListUpTo(c.hosts, 3), port.GetNumber(), entryProtocol(port), rules.ListUpTo(others, 3))
		f.Symptom = fmt.Sprintf("traffic to %s:%d is handled with whichever entry's protocol wins (oldest entry, or the one in the client's namespace): TLS or HTTPS sent into an HTTP chain fails, HTTP sent into a TCP/TLS chain loses routing and HTTP telemetry; it can flip after a re-create", c.hosts[0], port.GetNumber())
		f.Fix = fmt.Sprintf("declare port %d of %s with one protocol: remove it from one of the ServiceEntries, or give it the same protocol in both, or restrict them with exportTo so that no namespace sees both", port.GetNumber(), c.hosts[0])
		p.Report(f)
	}
}
