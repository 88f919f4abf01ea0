package mesh

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	istioapi "istio.io/api/networking/v1alpha3"

	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

// Failure is what the client sees when a hop ends the request: the HTTP
// status (0 when no HTTP response comes back), Envoy's response flag (as in
// the access log) and the error text.
type Failure struct {
	Status int
	Flag   string
	Error  string
	// Cluster is the Envoy cluster the request ended in, when the hop
	// that fails picks one (BlackHoleCluster).
	Cluster string
}

// Listener is the first hop: which listener (and protocol) the client's
// proxy, gateway or load balancer uses for the request, and the host it
// resolves to.
type Listener struct {
	Decision
	// Name is Envoy's listener name (0.0.0.0_9080, or ADDRESS_PORT for
	// TCP ports of a Service with a ClusterIP).
	Name string
	// Host is the FQDN the request is for (the registry's name).
	Host string
	// Protocol at this hop and how it was decided.
	Protocol         Protocol
	ProtocolDecision Decision
	// HTTP is true when Envoy handles the request as HTTP here (routes
	// with http rules apply).
	HTTP bool

	Service     *Service
	ServicePort *corev1.ServicePort
	// Alias is the ExternalName Service the client named when Service is
	// the one it aliases.
	Alias     *Service
	Entries   []*ServiceEntry
	EntryPort *istioapi.ServicePort

	// Gateway clients: the server that decides (Gateway, Server,
	// ServerIndex) and every server on the port for the host (their
	// routes merge).
	Gateway     *Gateway
	Server      *istioapi.Server
	ServerIndex int
	Servers     []GatewayServer

	// KubeListener is the index of the Gateway API listener.
	KubeListener int

	// Ingress (external clients).
	Ingress *Ingress
	Backend *IngressBackend

	// Notes are further decisions worth showing (sniffing, HTTP/1.0,
	// health checks, candidates rejected).
	Notes []Decision
	// Failure ends the request at this hop.
	Failure *Failure
	// Bypass is true when no proxy handles the flow on either side (UDP
	// and SCTP: sidecars capture TCP only).
	Bypass bool
	// Passthrough is true when the proxy forwards the flow to its
	// original destination (PassthroughCluster) without routing.
	Passthrough bool
}

// Listen answers the first hop for a client and request.
func (m *Model) Listen(c Client, r Request) Listener {
	switch c.Kind {
	case ClientGateway:
		if c.KubeGateway != nil {
			return m.listenKubeGateway(c, r)
		}
		return m.listenGateway(c, r)
	case ClientExternal:
		return m.listenIngress(r)
	}
	return m.listenSidecar(c, r)
}

// listenSidecar is a sidecar's (or a non-mesh pod's) outbound side: the
// destination host and port decide the Service and, through the port's
// protocol, whether Envoy applies HTTP routing.
func (m *Model) listenSidecar(c Client, r Request) Listener {
	var l Listener
	host := ""
	if r.Address != "" {
		// An explicit address picks the listener: the Service with that
		// ClusterIP, else the host the request names.
		if s := m.serviceByClusterIP(r.Address); s != nil {
			host = s.Host
		}
	}
	if host == "" {
		host = m.ResolveClientHost(r.Host, c.Namespace)
	}
	l.Host = host
	l.Name = "0.0.0.0_" + strconv.FormatUint(uint64(r.Port), 10)
	d := m.LookupHost(host)
	if c.Kind == ClientSidecar && c.Dataplane == DataplaneSidecar {
		// A proxy knows only the services exported to its namespace.
		d = m.LookupHostFrom(c.Namespace, host)
	}
	if d.Service != nil && d.Service.Spec.Type == corev1.ServiceTypeExternalName {
		// Kubernetes DNS answers the alias with a CNAME; Istio (1.21+)
		// serves it from the aliased Service's listeners and clusters.
		target := strings.TrimSuffix(strings.ToLower(d.Service.Spec.ExternalName), ".")
		if to := m.LookupHost(target); to.Service != nil && to.Service != d.Service && m.Istio.Flag("ENABLE_EXTERNAL_NAME_ALIAS").On {
			l.Alias = d.Service
			l.Notes = append(l.Notes, Decision{Reason: ReasonExternalNameAlias, Object: d.Service.Object, Path: []any{"spec", "externalName"},
				Note: fmt.Sprintf("Service %s/%s is an ExternalName alias of %s: the request takes that Service's listener and clusters (ENABLE_EXTERNAL_NAME_ALIAS: %s)", d.Service.Namespace, d.Service.Name, target, m.Istio.Flag("ENABLE_EXTERNAL_NAME_ALIAS").Why)})
			host, d = target, to
			l.Host = host
		}
	}
	switch {
	case d.Service != nil:
		s := d.Service
		sp, i := s.Port(r.Port)
		if sp == nil {
			l.Decision = Decision{Reason: ReasonNoSuchPort, Object: s.Object, Path: []any{"spec", "ports"},
				Note: fmt.Sprintf("Service %s/%s has no port %d (ports: %s)", s.Namespace, s.Name, r.Port, servicePortList(s))}
			l.Failure = &Failure{Error: fmt.Sprintf("connection refused or timed out: nothing listens on %s port %d", host, r.Port)}
			if r.IsHTTP() {
				l.Failure.Status, l.Failure.Flag = 503, "UF"
			}
			return l
		}
		l.Service, l.ServicePort = s, sp
		l.Decision = Decision{Reason: ReasonServicePort, Object: s.Object, Path: []any{"spec", "ports", i},
			Note: fmt.Sprintf("%s is Service %s/%s, port %d (%s)", host, s.Namespace, s.Name, sp.Port, portLabel(sp))}
		l.Protocol = PortProtocol(sp)
		l.ProtocolDecision = protocolDecision(l.Protocol, s.Object, []any{"spec", "ports", i}, sp.Port)
		if !KubernetesPortProtocol(sp.Protocol) {
			// protocol: HTTP and the like: the API server rejects the
			// Service, so the request meets no Service at all.
			l.Notes = append(l.Notes, Decision{Reason: ReasonPortProtocolUnsupported, Object: s.Object, Path: []any{"spec", "ports", i, "protocol"},
				Note: fmt.Sprintf("protocol %s is not a Kubernetes port protocol (TCP, UDP or SCTP): the API server rejects Service %s/%s, so it is not created", sp.Protocol, s.Namespace, s.Name)})
			l.Failure = &Failure{Error: fmt.Sprintf("%s does not resolve (NXDOMAIN): the Service was never created", host)}
			return l
		}
		if sp.Protocol != "" && sp.Protocol != corev1.ProtocolTCP {
			// Istio's iptables rules redirect TCP only.
			l.Bypass = true
			l.Notes = append(l.Notes, Decision{Reason: ReasonProtocolDeclared, Object: s.Object, Path: []any{"spec", "ports", i, "protocol"},
				Note: string(sp.Protocol) + " is not captured by sidecars: kube-proxy delivers it to the pods directly, without routing rules or mTLS"})
			return l
		}
		if s.Spec.ClusterIP != "" && s.Spec.ClusterIP != "None" && !l.Protocol.IsHTTP() && !l.Protocol.Sniffed() {
			l.Name = s.Spec.ClusterIP + "_" + strconv.Itoa(int(sp.Port))
		}
		if !m.sidecarScope(c, r, &l, s.Namespace) {
			return l
		}
	case len(d.Entries) > 0:
		// Several ServiceEntries may define the host; any of them may
		// declare the port.
		se := d.Entries[0]
		l.Entries = d.Entries
		var port *istioapi.ServicePort
		pi := -1
	entries:
		for _, e := range d.Entries {
			for i, p := range e.Spec.Ports {
				if p.Number == r.Port {
					se, port, pi = e, p, i
					break entries
				}
			}
		}
		if port == nil {
			l.Decision = Decision{Reason: ReasonNoSuchPort, Object: se.Object, Path: []any{"spec", "ports"},
				Note: fmt.Sprintf("ServiceEntry %s/%s defines %s but not port %d", se.Namespace, se.Name, host, r.Port)}
			return m.unregistered(c, r, l)
		}
		l.EntryPort = port
		l.Decision = Decision{Reason: ReasonServiceEntryPort, Object: se.Object, Path: []any{"spec", "ports", pi},
			Note: fmt.Sprintf("%s is defined by ServiceEntry %s/%s, port %d %s", host, se.Namespace, se.Name, port.Number, port.Protocol)}
		l.Protocol = PortProtocol(&corev1.ServicePort{Name: strings.ToLower(port.Protocol), Port: int32(port.Number)})
		l.ProtocolDecision = protocolDecision(l.Protocol, se.Object, []any{"spec", "ports", pi, "protocol"}, int32(port.Number))
		if !m.sidecarScope(c, r, &l, se.Namespace) {
			return l
		}
	default:
		if m.IsClusterLocal(host) {
			ns := m.ServiceNamespace(host)
			if m.NamespaceInInput(ns) && m.Has("Service") {
				l.Decision = Decision{Reason: ReasonHostUnknown, Note: fmt.Sprintf("no Service %s in the input, which has namespace %s: cluster DNS does not resolve the name", host, ns)}
				l.Failure = &Failure{Error: fmt.Sprintf("could not resolve host %s (NXDOMAIN)", r.Host)}
				return l
			}
			l.Decision = Decision{Reason: ReasonHostUnknown, Note: fmt.Sprintf("%s is not in the input (namespace %s is not either): the trace cannot follow it further", host, ns)}
			return l
		}
		return m.unregistered(c, r, l)
	}
	m.applyProtocol(c, r, &l)
	return l
}

// unregistered handles a host outside the service registry: ALLOW_ANY
// forwards it to PassthroughCluster, REGISTRY_ONLY blocks it (HTTP gets a
// 502 from the block_all virtual host, other traffic BlackHoleCluster).
// https://istio.io/latest/docs/tasks/traffic-management/egress/egress-control/
func (m *Model) unregistered(c Client, r Request, l Listener) Listener {
	if c.Kind != ClientSidecar || c.Dataplane != DataplaneSidecar {
		l.Decision = Decision{Reason: ReasonPassthrough, Note: fmt.Sprintf("%s is outside the mesh registry; %s connects to it directly", l.Host, c.Name())}
		l.Passthrough = true
		return l
	}
	if r.Scheme == "http" && m.portIsHTTP(c.Namespace, r.Port) != portTCP {
		// A mesh VirtualService for the host (a wildcard too) puts a
		// virtual host for it on the port's HTTP route table.
		for _, vs := range m.VirtualServicesForHost(l.Host) {
			if vs.BindsMesh() && m.visibleTo(vs, c.Namespace) {
				l.Decision = Decision{Reason: ReasonVirtualServiceHost, Object: vs.Object, Path: []any{"spec", "hosts"},
					Note: fmt.Sprintf("%s is in no Service or ServiceEntry, but VirtualService %s/%s is for it: the sidecar's HTTP route table on port %d has a virtual host for it", l.Host, vs.Namespace, vs.Name, r.Port)}
				l.HTTP, l.Protocol = true, Protocol{Name: "HTTP", From: "the VirtualService's virtual host"}
				return l
			}
		}
	}
	if registryOnly, src := m.outboundPolicy(c); registryOnly {
		l.Decision = Decision{Reason: ReasonRegistryOnly, Note: fmt.Sprintf("%s is in no Service or ServiceEntry and %s", l.Host, src)}
		l.Failure = m.blocked(c, r)
		return l
	}
	l.Decision = Decision{Reason: ReasonPassthrough, Note: fmt.Sprintf("%s is in no Service or ServiceEntry; outboundTrafficPolicy ALLOW_ANY (Istio's default) forwards it unchanged through PassthroughCluster", l.Host)}
	l.Passthrough = true
	return l
}

// applyProtocol decides whether the listener handles the request as HTTP,
// and rejects HTTP/1.0 where Envoy's HTTP codec does.
func (m *Model) applyProtocol(c Client, r Request, l *Listener) {
	proto := l.Protocol
	envoy := c.Kind == ClientSidecar && c.Dataplane == DataplaneSidecar
	switch {
	case proto.IsHTTP():
		l.HTTP = true
		if r.Scheme == "tcp" && envoy {
			l.Notes = append(l.Notes, Decision{Reason: ReasonProtocolMismatch, Object: l.ProtocolDecision.Object, Path: l.ProtocolDecision.Path,
				Note: "the client sends raw TCP to a port declared " + proto.Name + ": the sidecar's HTTP codec cannot parse it"})
			l.Failure = &Failure{Error: "connection reset: non-HTTP bytes sent to a port Istio treats as " + proto.Name + " (declare it tcp, or send HTTP)"}
			return
		}
		if r.TLS() && envoy {
			l.Notes = append(l.Notes, Decision{Reason: ReasonProtocolMismatch, Object: l.ProtocolDecision.Object, Path: l.ProtocolDecision.Path,
				Note: "the client speaks TLS to a port declared " + proto.Name + ": the sidecar's HTTP codec cannot parse the handshake"})
			l.Failure = &Failure{Error: "connection reset: TLS sent to a port Istio treats as plaintext " + proto.Name + " (declare it https/tls, or send plain HTTP and let a DestinationRule originate TLS)"}
			return
		}
	case proto.Sniffed():
		// Envoy's http_inspector detects HTTP/1.x and h2c by the first
		// bytes; anything else (TLS, server-first protocols) is TCP.
		l.HTTP = r.Scheme == "http"
		if envoy {
			what := "TCP"
			if l.HTTP {
				what = "HTTP"
			}
			l.Notes = append(l.Notes, Decision{Reason: ReasonProtocolSniffed, Object: l.ProtocolDecision.Object, Path: l.ProtocolDecision.Path,
				Note: "no declared protocol: the sidecar sniffs the first bytes and sees " + what + "; HTTP routing rules apply only when sniffing detects HTTP"})
		}
	default:
		if r.IsHTTP() && r.Scheme == "http" && envoy {
			l.Notes = append(l.Notes, Decision{Reason: ReasonProtocolDeclared, Object: l.ProtocolDecision.Object, Path: l.ProtocolDecision.Path,
				Note: "the port is declared " + proto.Name + ": the request is forwarded as opaque bytes, and VirtualService http rules do not apply"})
		}
	}
	if l.HTTP && r.HTTPVersion == "1.0" && envoy && !m.AcceptsHTTP10(c.Workload) {
		l.Notes = append(l.Notes, Decision{Reason: ReasonHTTP10Rejected,
			Note: "the client's own sidecar handles the request with Envoy's HTTP/1.1 codec, which rejects HTTP/1.0 unless istiod runs with PILOT_HTTP10=1 (or the pod's proxy config sets ISTIO_META_HTTP10)"})
		l.Failure = &Failure{Status: 426, Flag: "-", Error: "426 Upgrade Required (access log: \"HTTP/1.0\" 426 low_version)"}
	}
}

// AcceptsHTTP10 reports whether a proxy accepts HTTP/1.0: istiod's
// PILOT_HTTP10 for every proxy, or ISTIO_META_HTTP10 in a pod's proxy
// config annotation for that proxy (w may be nil: only istiod's setting).
// https://istio.io/latest/docs/ops/common-problems/network-issues/#envoy-wont-connect-to-my-http10-service
func (m *Model) AcceptsHTTP10(w *Workload) bool {
	if on, err := strconv.ParseBool(m.Istio.Env["PILOT_HTTP10"]); err == nil && on {
		return true
	}
	if w == nil {
		return false
	}
	cfg := w.Annotations["proxy.istio.io/config"]
	i := strings.Index(cfg, "ISTIO_META_HTTP10")
	if i < 0 {
		return false
	}
	v := strings.TrimLeft(cfg[i+len("ISTIO_META_HTTP10"):], `"': `)
	return strings.HasPrefix(v, "1") || strings.HasPrefix(strings.ToLower(v), "true")
}

// protocolDecision explains a port's protocol as a decision on the field
// that set it.
func protocolDecision(p Protocol, o *manifest.Object, path []any, port int32) Decision {
	d := Decision{Reason: ReasonProtocolDeclared, Object: o, Path: path}
	switch {
	case p.Sniffed():
		d.Reason = ReasonProtocolSniffed
		d.Note = fmt.Sprintf("port %d declares no protocol (no appProtocol, name without a protocol prefix): the sidecar sniffs it", port)
	case p.From == "appProtocol":
		d.Path = append(append([]any{}, path...), "appProtocol")
		d.Note = fmt.Sprintf("port %d is %s (appProtocol)", port, p.Name)
	case p.From == "port name":
		d.Path = append(append([]any{}, path...), "name")
		d.Note = fmt.Sprintf("port %d is %s (port name)", port, p.Name)
	default:
		d.Note = fmt.Sprintf("port %d is %s (%s)", port, p.Name, p.From)
	}
	return d
}

func servicePortList(s *Service) string {
	parts := make([]string, 0, len(s.Spec.Ports))
	for i := range s.Spec.Ports {
		parts = append(parts, portLabel(&s.Spec.Ports[i]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func portLabel(sp *corev1.ServicePort) string {
	if sp.Name == "" {
		return strconv.Itoa(int(sp.Port))
	}
	return fmt.Sprintf("%d %q", sp.Port, sp.Name)
}

func (m *Model) serviceByClusterIP(ip string) *Service {
	for _, s := range m.Services {
		if s.Spec.ClusterIP == ip {
			return s
		}
		for _, x := range s.Spec.ClusterIPs {
			if x == ip {
				return s
			}
		}
	}
	return nil
}

// listenGateway matches the request against the Gateway servers of the
// gateway proxy: the port, then the hosts, then the TLS mode. The server
// port is the gateway Service's port, which Istio translates to the pod's
// target port for the listener.
// https://istio.io/latest/docs/reference/config/networking/gateway/#Server
func (m *Model) listenGateway(c Client, r Request) Listener {
	l := Listener{Host: r.Host, ServerIndex: -1}
	l.Name = "0.0.0.0_" + strconv.FormatUint(uint64(r.Port), 10)
	if len(c.Gateways) == 0 {
		l.Decision = Decision{Reason: ReasonGatewayNoPort, Note: c.Name() + " is selected by no Istio Gateway in the input: it has no listeners"}
		l.Failure = &Failure{Error: "connection refused: the gateway proxy has no listener (istioctl proxy-config listeners shows none)"}
		return l
	}
	// istiod merges the servers of every Gateway on the proxy per port,
	// oldest Gateway first (then by name): on a plaintext port the first
	// server's protocol, HTTP or TCP, claims it and servers of the other
	// kind are dropped. (pilot/pkg/model/gateway.go MergeGateways;
	// TestGatewayConflicts)
	gws := slices.Clone(c.Gateways)
	slices.SortStableFunc(gws, func(a, b *Gateway) int {
		if ta, tb := creationTime(a.Object), creationTime(b.Object); !ta.Equal(tb) {
			return ta.Compare(tb)
		}
		return strings.Compare(a.Name+"/"+a.Namespace, b.Name+"/"+b.Namespace)
	})
	var onPort []GatewayServer
	for _, g := range gws {
		for i, s := range g.Spec.Servers {
			if s.GetPort().GetNumber() == r.Port {
				onPort = append(onPort, GatewayServer{g, i})
			}
		}
	}
	if len(onPort) > 0 && !serverTLS(onPort[0].Server()) {
		http := serverHTTP(onPort[0].Server())
		kept := onPort[:0:0]
		for _, gs := range onPort {
			if serverTLS(gs.Server()) || serverHTTP(gs.Server()) == http {
				kept = append(kept, gs)
			} else {
				l.Notes = append(l.Notes, Decision{Reason: ReasonGatewayServer, Object: gs.Gateway.Object, Path: []any{"spec", "servers", gs.Index, "port", "protocol"},
					Note: fmt.Sprintf("Gateway %s/%s %s is dropped: port %d is already claimed by a %s server of Gateway %s/%s", gs.Gateway.Namespace, gs.Gateway.Name, DescribeServer(gs.Index, gs.Server()), r.Port, onPort[0].Server().GetPort().GetProtocol(), onPort[0].Gateway.Namespace, onPort[0].Gateway.Name)})
			}
		}
		onPort = kept
		if !http && !m.tcpRoutesBound(onPort) {
			first := onPort[0]
			l.Decision = Decision{Reason: ReasonGatewayNoPort, Object: first.Gateway.Object, Path: []any{"spec", "servers", first.Index},
				Note: fmt.Sprintf("port %d is claimed by the %s server of Gateway %s/%s, and no VirtualService binds a tcp route to it: the proxy builds no listener", r.Port, first.Server().GetPort().GetProtocol(), first.Gateway.Namespace, first.Gateway.Name)}
			l.Failure = &Failure{Error: fmt.Sprintf("connection refused: the gateway has no listener on port %d", r.Port)}
			return l
		}
	}
	if len(onPort) == 0 {
		l.Decision = Decision{Reason: ReasonGatewayNoPort, Object: c.Gateways[0].Object, Path: []any{"spec", "servers"},
			Note: fmt.Sprintf("no server of %s listens on port %d", gatewayNames(c.Gateways), r.Port)}
		l.Failure = &Failure{Error: fmt.Sprintf("connection refused: the gateway has no listener on port %d", r.Port)}
		return l
	}
	sni := r.SNI
	if sni == "" {
		sni = r.Host
	}
	for _, gs := range onPort {
		for _, h := range ServerHosts(gs.Server()) {
			if HostMatches(strings.ToLower(h), r.Host) {
				l.Servers = append(l.Servers, gs)
				break
			}
		}
	}
	if len(l.Servers) == 0 {
		first := onPort[0]
		l.Decision = Decision{Reason: ReasonGatewayNoHost, Object: first.Gateway.Object, Path: []any{"spec", "servers", first.Index, "hosts"},
			Note: fmt.Sprintf("port %d is served, but no server on it lists host %s", r.Port, r.Host)}
		if r.TLS() {
			l.Failure = &Failure{Error: "connection reset during the TLS handshake: no filter chain for SNI " + sni}
		} else {
			l.Failure = &Failure{Status: 404, Flag: "NR", Error: "404 Not Found: no virtual host for " + r.Host}
		}
		return l
	}
	match := &l.Servers[0]
	if !r.TLS() {
		// The servers' virtual hosts for the host merge: a redirect on
		// any of them applies.
		for k, gs := range l.Servers {
			if gs.Server().GetTls().GetHttpsRedirect() {
				match = &l.Servers[k]
				break
			}
		}
	}
	g, s := match.Gateway, match.Server()
	l.Gateway, l.Server, l.ServerIndex = g, s, match.Index
	path := []any{"spec", "servers", match.Index}
	l.Decision = Decision{Reason: ReasonGatewayServer, Object: g.Object, Path: path,
		Note: fmt.Sprintf("Gateway %s/%s %s matches port %d and host %s", g.Namespace, g.Name, DescribeServer(match.Index, s), r.Port, r.Host)}
	if len(l.Servers) > 1 {
		l.Decision.Note += fmt.Sprintf(" (with %d more servers for the host on this port: their routes merge)", len(l.Servers)-1)
	}
	proto := strings.ToUpper(s.GetPort().GetProtocol())
	tls := s.GetTls()
	terminates := TerminatesTLS(tls)
	switch {
	case tls.GetHttpsRedirect() && !r.TLS():
		l.Notes = append(l.Notes, Decision{Reason: ReasonGatewayRedirect, Object: g.Object, Path: append(path, "tls", "httpsRedirect"), Note: "the server redirects plain HTTP to HTTPS"})
		l.Failure = &Failure{Status: 301, Flag: "-", Error: "301 Moved Permanently to https://" + r.Host + r.Path}
		return l
	case (terminates || proto == "HTTPS" || proto == "TLS") && !r.TLS():
		l.Notes = append(l.Notes, Decision{Reason: ReasonGatewayTLSMismatch, Object: g.Object, Path: append(path, "tls"), Note: "the server expects TLS, the client sends plaintext"})
		l.Failure = &Failure{Error: "connection reset: plaintext sent to a TLS listener"}
		return l
	case !terminates && tls.GetMode() != istioapi.ServerTLSSettings_PASSTHROUGH && tls.GetMode() != istioapi.ServerTLSSettings_AUTO_PASSTHROUGH && r.TLS() && proto != "TLS" && proto != "HTTPS":
		l.Notes = append(l.Notes, Decision{Reason: ReasonGatewayTLSMismatch, Object: g.Object, Path: append(path, "port", "protocol"), Note: "the client sends TLS to a plaintext " + proto + " server"})
		l.Failure = &Failure{Error: "TLS handshake failed (curl: wrong version number): the server is plaintext " + proto}
		return l
	}
	if terminates && r.TLS() && c.Namespace != "" {
		// The certificate the server presents: a credential the gateway
		// cannot find means no certificate for the handshake.
		for _, ref := range GatewayCredentials(g) {
			if ref.Index != match.Index || ref.CAOnly {
				continue
			}
			if found, known := m.CredentialResolves(ref, c.Namespace); !found && known {
				l.Notes = append(l.Notes, Decision{Reason: ReasonGatewayNoCredential, Object: g.Object, Path: ref.Path,
					Note: fmt.Sprintf("the server's %s %q names no Secret in namespace %s, where the gateway runs: it has no certificate to present", ref.Field, ref.Name, c.Namespace)})
				l.Failure = &Failure{Error: "TLS handshake fails (curl: (35) SSL_ERROR_SYSCALL): the gateway has no certificate for " + r.SNIOrHost()}
				return l
			}
		}
	}
	switch {
	case proto == "HTTP" || proto == "HTTP2" || proto == "GRPC" || (proto == "HTTPS" && terminates):
		l.HTTP = true
		l.Protocol = Protocol{Name: "HTTP", From: "Gateway server protocol " + proto}
	default:
		l.Protocol = Protocol{Name: proto, From: "Gateway server protocol"}
	}
	if l.HTTP && r.HTTPVersion == "1.0" && !m.AcceptsHTTP10(c.Workload) {
		l.Notes = append(l.Notes, Decision{Reason: ReasonHTTP10Rejected, Note: "the gateway's Envoy HTTP/1.1 codec rejects HTTP/1.0 unless istiod runs with PILOT_HTTP10=1"})
		l.Failure = &Failure{Status: 426, Flag: "-", Error: "426 Upgrade Required"}
	}
	return l
}

func gatewayNames(gs []*Gateway) string {
	parts := make([]string, 0, len(gs))
	for _, g := range gs {
		parts = append(parts, "Gateway "+g.Namespace+"/"+g.Name)
	}
	return strings.Join(parts, ", ")
}

// portKind is what the outbound listeners of a proxy do on a port.
type portKind int

const (
	portNone portKind = iota // no Service or ServiceEntry declares it
	portHTTP
	portTCP
)

// portIsHTTP tells whether a client's outbound listener on port is HTTP,
// from the Services and ServiceEntries visible to its namespace that
// declare the port; HTTP wins when both declare it (Istio merges them into
// the HTTP listener).
func (m *Model) portIsHTTP(ns string, port uint32) portKind {
	kind := portNone
	for _, s := range m.Services {
		if sp, _ := s.Port(port); sp != nil && m.ServiceVisible(s, ns) {
			p := PortProtocol(sp)
			if p.IsHTTP() || p.Sniffed() {
				return portHTTP
			}
			kind = portTCP
		}
	}
	for _, se := range m.ServiceEntries {
		for _, p := range se.Spec.Ports {
			if p.Number != port {
				continue
			}
			if pr := PortProtocol(&corev1.ServicePort{Name: strings.ToLower(p.Protocol), Port: int32(p.Number)}); pr.IsHTTP() || pr.Sniffed() {
				return portHTTP
			}
			kind = portTCP
		}
	}
	return kind
}

// GatewayServer is one server of an Istio Gateway.
type GatewayServer struct {
	Gateway *Gateway
	Index   int
}

// Server is the server itself.
func (gs GatewayServer) Server() *istioapi.Server { return gs.Gateway.Spec.Servers[gs.Index] }

// serverTLS: the server takes TLS (terminated or passed through), so
// servers share the port by SNI.
func serverTLS(s *istioapi.Server) bool {
	p := strings.ToUpper(s.GetPort().GetProtocol())
	return s.GetTls() != nil && !s.GetTls().GetHttpsRedirect() || p == "HTTPS" || p == "TLS"
}

// serverHTTP: the server's listener runs the HTTP connection manager.
func serverHTTP(s *istioapi.Server) bool {
	switch strings.ToUpper(s.GetPort().GetProtocol()) {
	case "HTTP", "HTTP2", "GRPC", "GRPC-WEB":
		return true
	}
	return false
}

// tcpRoutesBound reports whether a VirtualService binds a tcp route to one
// of these servers' Gateways.
func (m *Model) tcpRoutesBound(servers []GatewayServer) bool {
	for _, gs := range servers {
		for _, vs := range m.vsByGateway[gs.Gateway.Namespace+"/"+gs.Gateway.Name] {
			if len(vs.Spec.Tcp) > 0 {
				return true
			}
		}
	}
	return false
}

// outboundPolicy is the proxy's outbound traffic policy for hosts it does
// not know: its Sidecar resource's outboundTrafficPolicy, else the mesh's
// (REGISTRY_ONLY or ALLOW_ANY), and where that comes from.
// https://istio.io/latest/docs/reference/config/networking/sidecar/#OutboundTrafficPolicy
func (m *Model) outboundPolicy(c Client) (registryOnly bool, src string) {
	if sc := m.SidecarFor(c.Workload); sc != nil {
		if p := sc.Spec.GetOutboundTrafficPolicy(); p != nil {
			return p.GetMode() == istioapi.OutboundTrafficPolicy_REGISTRY_ONLY, fmt.Sprintf("the outboundTrafficPolicy of Sidecar %s/%s is %s", sc.Namespace, sc.Name, p.GetMode())
		}
	}
	mode := "ALLOW_ANY"
	if m.Mesh.RegistryOnly {
		mode = "REGISTRY_ONLY"
	}
	return m.Mesh.RegistryOnly, fmt.Sprintf("outboundTrafficPolicy is %s (%s)", mode, m.Mesh.Source)
}

// blocked is what a client sees when REGISTRY_ONLY blocks a request: HTTP
// meets the 502 block_all virtual host only on a port whose listener is
// HTTP (or has none); a TCP/TLS listener sends it, like any other bytes,
// to BlackHoleCluster.
func (m *Model) blocked(c Client, r Request) *Failure {
	if r.Scheme == "http" && m.portIsHTTP(c.Namespace, r.Port) != portTCP {
		return &Failure{Status: 502, Flag: "-", Error: "502 Bad Gateway from the sidecar's block_all route"}
	}
	return &Failure{Flag: "UH", Error: "connection reset: the sidecar sends it to BlackHoleCluster", Cluster: "BlackHoleCluster"}
}
