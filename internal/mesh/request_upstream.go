package mesh

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	istioapi "istio.io/api/networking/v1alpha3"
)

// Upstream is the rest of the path for one destination of a route: the
// Envoy cluster, the DestinationRule the client applies, the TLS it
// originates (SNI, SANs), whether the server accepts it, and the
// endpoints behind the cluster.
type Upstream struct {
	Destination WeightedDestination
	// Cluster is Envoy's cluster name (outbound|PORT|SUBSET|HOST), or
	// PassthroughCluster.
	Cluster         string
	ClusterDecision Decision

	Rules        []*DestinationRule
	RuleDecision Decision
	// RulesNotApplied are DestinationRules for the host this client does
	// not use, and why.
	RulesNotApplied []Decision
	// RoutesNotApplied are VirtualServices for the destination host that
	// this client does not apply (sidecar-only rules seen from a gateway).
	RoutesNotApplied []Decision

	TLS         ClientTLS
	TLSDecision Decision
	// SNI and SANs of TLS origination (SIMPLE/MUTUAL).
	SNI  string
	SANs []string

	Service     *Service
	ServicePort *corev1.ServicePort
	Entries     []*ServiceEntry
	// Backends are the workloads behind the cluster (subset applied).
	Backends []Backend
	// Acceptance lists backends whose server side rejects the client's
	// TLS (empty when all accept).
	Acceptance        []Decision
	EndpointsDecision Decision

	Failure *Failure
}

// TLSConflict says why a server rejects what a client originates; "" when
// it accepts.
type TLSConflict string

// Server-side TLS conflicts.
const (
	TLSAccepted       TLSConflict = ""
	PlaintextToStrict TLSConflict = "plaintext-strict" // plaintext to a STRICT sidecar: UC
	TLSToStrict       TLSConflict = "tls-strict"       // non-Istio TLS to a STRICT sidecar: UF
	MTLSToNoSidecar   TLSConflict = "mtls-nosidecar"   // Istio mTLS to a pod without sidecar: UF
	MTLSToDisable     TLSConflict = "mtls-disable"     // Istio mTLS to PeerAuthentication DISABLE: UC
)

// TLSAcceptance decides whether backend b accepts the TLS a client sidecar
// originates under ct, toward Service svc. Unknown dataplanes (namespace
// not in the input) and ambient pods (ztunnel terminates their mTLS) never
// conflict. A port the sidecar does not capture (excludeInboundPorts)
// reaches the application directly, as if there were no sidecar. Auto mTLS
// adapts to the server (plaintext to pods without sidecar or with
// DISABLE), so it never conflicts.
// https://istio.io/latest/docs/concepts/security/#auto-mutual-tls
func (m *Model) TLSAcceptance(ct ClientTLS, svc *Service, b Backend) TLSConflict {
	if ct.Settings == nil && ct.Auto {
		return TLSAccepted
	}
	plaintext := ct.Settings == nil || ct.Mode == istioapi.ClientTLSSettings_DISABLE
	// A wildcard rule (the mesh-wide "*.local" ISTIO_MUTUAL of meshes
	// without auto mTLS) also covers cluster add-ons and the control plane
	// that sidecars rarely call; judge those only for rules that name the
	// host.
	wildcard := ct.Rule != nil && strings.HasPrefix(ct.Rule.Host, "*")
	system := svc != nil && (svc.Namespace == "kube-system" || svc.Namespace == "kube-public")
	captured := b.Workload.InboundCaptured(int32(b.ContainerPort))
	sidecar := b.Dataplane == DataplaneSidecar && captured
	noSidecar := b.Dataplane == DataplaneNone || (b.Dataplane == DataplaneSidecar && !captured)
	if noSidecar && wildcard && (system || b.Workload == m.Istio.Istiod) {
		noSidecar = false
	}
	switch {
	case plaintext:
		if sidecar && b.MTLS.Mode == ModeStrict {
			return PlaintextToStrict
		}
	case ct.Mode == istioapi.ClientTLSSettings_ISTIO_MUTUAL:
		if noSidecar {
			return MTLSToNoSidecar
		}
		if sidecar && b.MTLS.Mode == ModeDisable {
			return MTLSToDisable
		}
	case ct.Mode == istioapi.ClientTLSSettings_SIMPLE || ct.Mode == istioapi.ClientTLSSettings_MUTUAL:
		if sidecar && b.MTLS.Mode == ModeStrict {
			return TLSToStrict
		}
	}
	return TLSAccepted
}

// conflictFailure is what a client sees for a TLS conflict.
func conflictFailure(k TLSConflict, envoyClient bool) *Failure {
	if !envoyClient {
		return &Failure{Error: "connection reset by peer: the server's sidecar requires mTLS and the client has no sidecar to provide it"}
	}
	switch k {
	case PlaintextToStrict:
		return &Failure{Status: 503, Flag: "UC", Error: "upstream connect error or disconnect/reset before headers. reset reason: connection termination"}
	case MTLSToDisable:
		return &Failure{Status: 503, Flag: "UC", Error: "upstream connect error or disconnect/reset before headers. reset reason: connection termination (a TLS handshake on a plaintext listener)"}
	case MTLSToNoSidecar:
		return &Failure{Status: 503, Flag: "UF,URX", Error: "upstream connect error or disconnect/reset before headers. TLS error: WRONG_VERSION_NUMBER"}
	default:
		return &Failure{Status: 503, Flag: "UF,URX", Error: "upstream connect error or disconnect/reset before headers. TLS error: the server's sidecar requires Istio mTLS"}
	}
}

// UpstreamFor follows one weighted destination of a route: Envoy cluster,
// DestinationRule, upstream TLS, server acceptance and endpoints.
// authority is the Host header the upstream request carries (after
// rewrites); vsNS is the namespace of the route's VirtualService ("" for
// the default route).
func (m *Model) UpstreamFor(c Client, r Request, l Listener, d WeightedDestination, authority, vsNS string) Upstream {
	u := Upstream{Destination: d}
	envoy := ((c.Kind == ClientSidecar && c.Dataplane == DataplaneSidecar) || c.Kind == ClientGateway) && !l.Bypass
	if l.Passthrough {
		u.Cluster = "PassthroughCluster"
		u.ClusterDecision = Decision{Reason: ReasonPassthrough, Note: "PassthroughCluster: the original destination, without routing rules"}
		if l.Service == nil || l.ServicePort == nil {
			return u
		}
		// A Service the proxy does not import: its pods still get the
		// connection, in plaintext.
		u.Service, u.ServicePort = l.Service, l.ServicePort
		u.TLSDecision = Decision{Reason: ReasonTLSPlaintext, Note: "PassthroughCluster forwards what the application sends: no mTLS"}
		m.endpoints(&u, c, r, false, false)
		return u
	}
	dest := m.LookupHost(d.Host)
	if envoy {
		dest = m.LookupHostFrom(c.Namespace, d.Host)
	}
	port := d.Port
	switch {
	case dest.Service != nil:
		s := dest.Service
		u.Service = s
		var ports []uint32
		for _, p := range s.Spec.Ports {
			ports = append(ports, uint32(p.Port))
		}
		port = ClusterPort(port, ports, r.Port)
		sp, _ := s.Port(port)
		if sp == nil {
			u.Cluster = ClusterName(port, d.Subset, d.Host)
			u.ClusterDecision = Decision{Reason: ReasonDestinationNotFound, Object: d.Object, Path: d.Path,
				Note: fmt.Sprintf("Service %s/%s has no port %d (ports: %s): Envoy has no cluster %s", s.Namespace, s.Name, port, servicePortList(s), u.Cluster)}
			u.Failure = &Failure{Status: 503, Flag: "NC", Error: "no healthy upstream: cluster " + u.Cluster + " not found"}
			return u
		}
		u.ServicePort = sp
	case len(dest.Entries) > 0:
		u.Entries = dest.Entries
		var ports []uint32
		for _, p := range dest.Entries[0].Spec.Ports {
			ports = append(ports, p.Number)
		}
		port = ClusterPort(port, ports, r.Port)
		// A ServiceEntry that selects pods (workloadSelector) has them as
		// endpoints: their server side decides as a Service's would.
		u.Service, u.ServicePort = m.entryAsService(dest.Entries, port)
	default:
		port = ClusterPort(port, nil, r.Port)
		u.Cluster = ClusterName(port, d.Subset, d.Host)
		ns := m.ServiceNamespace(d.Host)
		known := (ns != "" && m.NamespaceInInput(ns) && m.Has("Service")) || (ns == "" && m.Has("ServiceEntry") && !isWildcard(d.Host))
		if known && d.Object != nil {
			u.ClusterDecision = Decision{Reason: ReasonDestinationNotFound, Object: d.Object, Path: append(append([]any{}, d.Path...), "host"),
				Note: fmt.Sprintf("no Service or ServiceEntry defines %s: Envoy has no cluster %s", d.Host, u.Cluster)}
			u.Failure = &Failure{Status: 503, Flag: "NC", Error: "cluster " + u.Cluster + " not found"}
			return u
		}
		u.ClusterDecision = Decision{Reason: ReasonHostUnknown, Object: d.Object, Path: d.Path,
			Note: fmt.Sprintf("%s is not in the input: the trace cannot follow it further", d.Host)}
		return u
	}
	u.Destination.Port = port
	u.Cluster = ClusterName(port, d.Subset, d.Host)
	if c.Kind == ClientGateway && d.Host != l.Host {
		u.RoutesNotApplied = m.invisibleVirtualServices(c, Listener{Host: d.Host})
	}
	u.ClusterDecision = Decision{Reason: ReasonCluster, Object: d.Object, Path: d.Path, Note: "cluster " + u.Cluster}
	if !envoy {
		u.Cluster = ""
		u.ClusterDecision = Decision{Reason: ReasonCluster, Note: "no Envoy on the client side: kube-proxy picks a pod of the Service"}
		if c.Kind == ClientExternal {
			u.ClusterDecision.Note = "the load balancer sends it to the Service's pods"
		}
	}

	// The DestinationRule this client applies: its own namespace's, then
	// the service's, then the root namespace's.
	clientNS := c.Namespace
	if envoy {
		u.Rules = m.DestinationRuleFor(clientNS, d.Host)
		if len(u.Rules) > 0 {
			dr := u.Rules[0]
			u.RuleDecision = Decision{Reason: ReasonDestinationRule, Object: dr.Object, Path: []any{"spec", "host"},
				Note: fmt.Sprintf("DestinationRule %s/%s applies (host %s, seen from namespace %s)", dr.Namespace, dr.Name, dr.Host, clientNS)}
		} else {
			u.RuleDecision = Decision{Reason: ReasonNoDestinationRule, Note: "no DestinationRule for " + d.Host + " applies to clients in namespace " + clientNS}
		}
		// In input order: trace's output is the same on every run.
		for _, ns := range m.drNamespacesByHost[d.Host] {
			for _, dr := range m.drsByNSHost[ns][d.Host] {
				if len(u.Rules) > 0 && dr == u.Rules[0] {
					continue
				}
				why := fmt.Sprintf("DestinationRule %s/%s for the same host is not used by clients in %s", dr.Namespace, dr.Name, clientNS)
				if len(u.Rules) > 0 {
					why += fmt.Sprintf(" (DestinationRule %s/%s comes first in Istio's lookup: client namespace, then the service's, then %s)", u.Rules[0].Namespace, u.Rules[0].Name, m.Mesh.RootNamespace)
				} else {
					why += " (not exported to it)"
				}
				u.RulesNotApplied = append(u.RulesNotApplied, Decision{Reason: ReasonDestinationRuleLost, Object: dr.Object, Path: []any{"spec", "exportTo"}, Note: why})
			}
		}
		if d.Subset != "" {
			if s, _ := Subset(u.Rules, d.Subset); s == nil {
				var names []string
				for _, dr := range u.Rules {
					for _, s := range dr.Spec.Subsets {
						names = append(names, s.Name)
					}
				}
				note := fmt.Sprintf("subset %q of %s is defined by no DestinationRule this client applies", d.Subset, d.Host)
				if len(names) > 0 {
					note += " (defined: " + strings.Join(names, ", ") + ")"
				}
				u.ClusterDecision = Decision{Reason: ReasonSubsetNotFound, Object: d.Object, Path: append(append([]any{}, d.Path...), "subset"), Note: note + ": Envoy has no cluster " + u.Cluster}
				u.Failure = &Failure{Status: 503, Flag: "NC", Error: "cluster " + u.Cluster + " not found"}
				return u
			}
		}
	}

	// Upstream TLS.
	if envoy {
		u.TLS = m.ClientTLSFor(u.Rules, port, d.Subset)
		// A workloadSelector rule for the host in the client's namespace
		// may be the one this sidecar uses (the trace does not follow
		// those): no claim then.
		if c.Kind == ClientSidecar && SidecarDropsTLS(u.TLS) && len(m.WorkloadDestinationRules(c.Namespace, d.Host)) == 0 {
			droppedTLS(&u)
		} else {
			m.decideTLS(&u, r, authority, vsNS)
		}
		if u.Failure != nil {
			return u
		}
	} else {
		u.TLSDecision = Decision{Reason: ReasonTLSPlaintext, Note: "the client has no sidecar: it sends what the application sends"}
	}

	// Endpoints and their server side.
	m.endpoints(&u, c, r, envoy, l.Bypass)
	return u
}

// droppedTLS explains a sidecar sending plaintext where its DestinationRule
// asks for TLS with a credentialName (SidecarDropsTLS): the server, which
// the rule says speaks TLS, cannot read it.
func droppedTLS(u *Upstream) {
	ct := u.TLS
	u.TLSDecision = Decision{Reason: ReasonTLSCredentialSkip, Object: ct.Rule.Object, Path: append(append([]any{}, ct.Path...), "credentialName"),
		Note: fmt.Sprintf("tls.mode %s with credentialName %s, and DestinationRule %s/%s has no workloadSelector: istiod gives sidecars no TLS for it (only gateways read the credential), so this sidecar sends plaintext", TLSModeName(ct.Mode), ct.Settings.GetCredentialName(), ct.Rule.Namespace, ct.Rule.Name)}
	u.Failure = &Failure{Error: "the server expects TLS and receives plaintext: it closes the connection or answers HTTP 400 (nginx: \"The plain HTTP request was sent to HTTPS port\")"}
}

// decideTLS explains the TLS a proxy originates and predicts the auto SNI
// failure of seed 000.
func (m *Model) decideTLS(u *Upstream, r Request, authority, vsNS string) {
	ct := u.TLS
	at := func(reason Reason, note string) Decision {
		if ct.Rule != nil && ct.Settings != nil {
			path := ct.Path
			if reason != ReasonTLSOrigination {
				// The mode decides plaintext or mTLS.
				path = append(append([]any{}, ct.Path...), "mode")
			}
			return Decision{Reason: reason, Object: ct.Rule.Object, Path: path, Note: note}
		}
		return Decision{Reason: reason, Note: note}
	}
	switch {
	case ct.Settings == nil && ct.Auto:
		u.TLSDecision = at(ReasonTLSAutoMTLS, "no DestinationRule sets tls: auto mTLS sends Istio mTLS to pods with a sidecar, plaintext to others")
	case ct.Settings == nil:
		u.TLSDecision = at(ReasonTLSPlaintext, "no DestinationRule sets tls and auto mTLS is off ("+m.Mesh.Source+"): plaintext")
	case ct.Mode == istioapi.ClientTLSSettings_DISABLE:
		u.TLSDecision = at(ReasonTLSPlaintext, "tls.mode DISABLE: plaintext")
	case ct.Mode == istioapi.ClientTLSSettings_ISTIO_MUTUAL:
		u.TLSDecision = at(ReasonTLSIstioMutual, "tls.mode ISTIO_MUTUAL: Istio mTLS with the workload certificate")
	default:
		o := m.Origination(ct.Settings, authority, vsNS, u.Destination.Host, r.IsHTTP())
		u.SNI, u.SANs = o.SNI, o.SANs
		note := "tls.mode " + TLSModeName(ct.Mode) + ": the proxy originates TLS"
		switch {
		case o.AutoSNI:
			note += fmt.Sprintf("; no sni, so auto SNI sends the Host header %q (ENABLE_AUTO_SNI: %s)", o.SNI, o.AutoSNIFlag.Why)
		case o.SNI != "":
			note += fmt.Sprintf(" with sni %q", o.SNI)
		}
		switch {
		case o.AutoSAN:
			note += fmt.Sprintf("; no subjectAltNames, so it verifies the certificate against the SNI (VERIFY_CERTIFICATE_AT_CLIENT: %s)", o.VerifyFlag.Why)
		case len(o.SANs) > 0:
			note += "; verifies subjectAltNames " + strings.Join(o.SANs, ", ")
		}
		u.TLSDecision = at(ReasonTLSOrigination, note)
		if o.Foreign && o.AutoSAN {
			u.TLSDecision.Reason = ReasonTLSAutoSNI
			u.TLSDecision.Note += fmt.Sprintf(", but the certificate of %s is expected to carry %s, not %q", u.Destination.Host, u.Destination.Host, u.SNI)
			u.Failure = &Failure{Status: 503, Flag: "UF", Error: "upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: TLS_error: CERTIFICATE_VERIFY_FAILED"}
		}
	}
}

// OriginatedTLS is what a proxy sends and verifies when a DestinationRule
// has it originate TLS (SIMPLE or MUTUAL) for a request.
type OriginatedTLS struct {
	SNI  string   // sent; "" when none
	SANs []string // verified; the SNI itself under auto SAN validation
	// AutoSNI: the SNI is the request's Host (no sni set, ENABLE_AUTO_SNI
	// on); AutoSAN: the certificate is checked against that SNI (no
	// subjectAltNames, VERIFY_CERTIFICATE_AT_CLIENT on).
	AutoSNI, AutoSAN bool
	// Foreign: the auto SNI is not the destination's own name, so a
	// certificate issued for the destination does not carry it.
	Foreign                 bool
	AutoSNIFlag, VerifyFlag FeatureFlag
}

// Origination decides the SNI and SANs for TLS originated under s toward
// destHost, for a request with Host authority routed by a VirtualService
// in vsNS. From Istio 1.21 (ENABLE_AUTO_SNI, VERIFY_CERTIFICATE_AT_CLIENT)
// a rule without sni sends the downstream Host as SNI (Envoy's auto_sni)
// and, without subjectAltNames or insecureSkipVerify, validates the
// certificate against it (auto_san_validation). Without auto SNI no SNI is
// sent and only the CA chain is checked.
// https://istio.io/latest/news/releases/1.21.x/announcing-1.21/upgrade-notes/
// (istio.io/istio pilot/pkg/networking/core/cluster_tls.go buildUpstreamTLSSettings)
func (m *Model) Origination(s *istioapi.ClientTLSSettings, authority, vsNS, destHost string, http bool) OriginatedTLS {
	o := OriginatedTLS{SNI: s.GetSni(), SANs: s.GetSubjectAltNames(), AutoSNIFlag: m.Istio.Flag("ENABLE_AUTO_SNI"), VerifyFlag: m.Istio.Flag("VERIFY_CERTIFICATE_AT_CLIENT")}
	if o.SNI == "" && o.AutoSNIFlag.On && http && authority != "" {
		o.SNI, o.AutoSNI = stripPort(authority), true
		o.Foreign = !m.SameHost(o.SNI, vsNS, destHost)
	}
	if o.AutoSNI && len(o.SANs) == 0 && o.VerifyFlag.On && !s.GetInsecureSkipVerify().GetValue() {
		o.AutoSAN, o.SANs = true, []string{o.SNI}
	}
	return o
}

// SameHost reports whether a Host header names the destination host (as
// written with or without a port, resolved in the route's namespace, or by
// a wildcard).
func (m *Model) SameHost(authority, ns, dest string) bool {
	a := stripPort(authority)
	if a == dest || (ns != "" && m.ResolveHost(a, ns) == dest) {
		return true
	}
	return strings.HasPrefix(a, "*") && HostMatches(a, dest)
}

func stripPort(authority string) string {
	a := strings.ToLower(authority)
	if i := strings.LastIndexByte(a, ':'); i > 0 && !strings.Contains(a[i:], "]") {
		return a[:i]
	}
	return a
}

// endpoints fills the backends behind the cluster, the server side's view
// of the client's TLS, and the failures they cause.
func (m *Model) endpoints(u *Upstream, c Client, r Request, envoy, bypass bool) {
	if u.Service == nil {
		if len(u.Entries) > 0 {
			se := u.Entries[0]
			u.EndpointsDecision = Decision{Reason: ReasonExternalEndpoints, Object: se.Object, Path: []any{"spec", "resolution"},
				Note: fmt.Sprintf("endpoints of ServiceEntry %s/%s (resolution %s)", se.Namespace, se.Name, se.Spec.Resolution)}
		}
		return
	}
	s, sp := u.Service, u.ServicePort
	all := m.Backends(s, sp)
	if s.Object.Kind == "ServiceEntry" {
		all = m.backendsOf(m.Select(s.Namespace, s.Spec.Selector), sp)
	}
	bs := all
	var subset *istioapi.Subset
	if u.Destination.Subset != "" && envoy {
		subset, _ = Subset(u.Rules, u.Destination.Subset)
		bs = SubsetBackends(all, subset.Labels)
	}
	u.Backends = bs
	if len(bs) == 0 {
		switch {
		case subset != nil && len(all) > 0:
			u.EndpointsDecision = Decision{Reason: ReasonNoEndpoints, Object: u.Destination.Object, Path: u.Destination.Path,
				Note: fmt.Sprintf("subset %q selects %s, which no pod of %s %s/%s carries", subset.Name, LabelString(subset.Labels), s.Kind, s.Namespace, s.Name)}
			u.Failure = &Failure{Status: 503, Flag: "UH", Error: "no healthy upstream"}
		case len(m.workloads.byNS[s.Namespace]) > 0 && len(s.Spec.Selector) > 0:
			u.EndpointsDecision = Decision{Reason: ReasonNoEndpoints, Object: s.Object, Path: []any{"spec", "selector"},
				Note: fmt.Sprintf("%s %s/%s selects %s, which no workload in the input carries (on port %d)", s.Kind, s.Namespace, s.Name, LabelString(s.Spec.Selector), sp.Port)}
			u.Failure = &Failure{Status: 503, Flag: "UH", Error: "no healthy upstream"}
			if !envoy {
				u.Failure = &Failure{Error: "connection refused: the Service has no endpoints"}
			}
		default:
			u.EndpointsDecision = Decision{Reason: ReasonEndpointsAbsent, Object: s.Object, Path: []any{"spec", "selector"},
				Note: fmt.Sprintf("the pods of %s %s/%s are not in the input", s.Kind, s.Namespace, s.Name)}
		}
		if u.Failure != nil && !r.IsHTTP() {
			u.Failure.Status = 0
		}
		return
	}
	names := make([]string, 0, len(bs))
	ready := 0
	live := false
	for _, b := range bs {
		names = append(names, b.Workload.Kind+" "+b.Workload.Namespace+"/"+b.Workload.Name+" (container port "+itoa(b.ContainerPort)+", "+b.Dataplane.String()+")")
		for _, p := range b.Workload.Instances {
			if p.Pod != nil && p.Pod.Status.Phase != "" {
				live = true
				if podReady(p.Pod) {
					ready++
				}
			}
		}
	}
	u.EndpointsDecision = Decision{Reason: ReasonEndpoints, Object: bs[0].Workload.Object, Path: bs[0].Workload.PodPath(), Note: "endpoints: " + strings.Join(names, "; ")}
	if live && ready == 0 {
		u.EndpointsDecision.Reason = ReasonNotReady
		u.EndpointsDecision.Note += "; none of their pods is Ready"
		u.Failure = &Failure{Status: 503, Flag: "UH", Error: "no healthy upstream"}
		return
	}

	// Server side: does each backend accept what the client sends?
	var bad []Backend
	var kind TLSConflict
	for _, b := range bs {
		var k TLSConflict
		if envoy {
			k = m.TLSAcceptance(u.TLS, s, b)
		} else if !bypass && RejectsPlaintext(b) {
			k = PlaintextToStrict
		}
		if k == TLSAccepted {
			continue
		}
		kind = k
		bad = append(bad, b)
		d := Decision{Reason: ReasonServerStrict, Note: serverSide(k, b)}
		if k == MTLSToNoSidecar {
			d.Reason = ReasonServerNoSidecar
			d.Object, d.Path = b.Workload.Object, b.Workload.PodPath()
		} else if b.MTLS.Source != nil {
			d.Object, d.Path = b.MTLS.Source.Object, b.MTLS.Path
		}
		u.Acceptance = append(u.Acceptance, d)
	}
	if len(bad) > 0 {
		// Every request the load balancer sends to a rejecting endpoint
		// fails: with some of them, a share of requests does.
		u.Failure = conflictFailure(kind, envoy)
		if c.Kind == ClientSidecar && c.Dataplane == DataplaneSidecar && !envoy {
			u.Failure.Error = "connection reset by peer: the client's proxy passes the connection through in plaintext and the server's sidecar requires mTLS"
		}
		if c.Kind == ClientExternal {
			u.Failure = &Failure{Status: 502, Error: "502 Bad Gateway: the load balancer's plaintext connections are reset by the pods' sidecars, which require mTLS"}
		}
		if !r.IsHTTP() && u.Failure.Status != 0 {
			u.Failure.Status = 0
			u.Failure.Error = "connection reset: " + u.Failure.Error
		}
		if len(bad) < len(bs) {
			u.Failure.Error = fmt.Sprintf("for the requests sent to %d of %d endpoints: %s", len(bad), len(bs), u.Failure.Error)
		}
		return
	}
	proto := PortProtocol(sp)
	// A server-first protocol behind a sniffed port: the server's sidecar
	// waits for the client's first bytes, the client for the server's
	// greeting (only an HTTP client speaks first).
	if !bypass && !r.IsHTTP() {
		var ws []*Workload
		for _, b := range bs {
			ws = append(ws, b.Workload)
		}
		if sf, w, ok := m.SniffedServerFirst(sp, ws); ok {
			u.Acceptance = append(u.Acceptance, Decision{Reason: ReasonServerFirstSniffed, Object: s.Object, Path: []any{"spec", "ports"},
				Note: fmt.Sprintf("%s %s/%s serves %s (%s), which is server-first, on a port without a declared protocol: its sidecar waits for the client's first bytes to detect the protocol while the client waits for the server's greeting", w.Kind, w.Namespace, w.Name, sf.Protocol, sf.Evidence)})
			u.Failure = &Failure{Error: fmt.Sprintf("the connection hangs until the client's timeout (%s: \"Lost connection ... reading initial communication packet\" for MySQL); Istio's protocolDetectionTimeout is 0s by default", sf.Protocol)}
			return
		}
	}
	// A client without Envoy sending TLS or raw TCP to a port the server's
	// sidecar handles as HTTP: no filter chain takes TLS that is not
	// Istio mTLS, and the HTTP codec rejects other bytes (Istio's
	// TestInbound: "https to http", "tcp to http").
	if !envoy && !bypass && (r.Scheme == "tcp" || r.TLS()) && proto.IsHTTP() {
		for _, b := range bs {
			if b.Dataplane == DataplaneSidecar && b.Workload.InboundCaptured(int32(b.ContainerPort)) {
				what := "raw TCP"
				if r.TLS() {
					what = "TLS that is not Istio mTLS"
				}
				u.Acceptance = append(u.Acceptance, Decision{Reason: ReasonProtocolMismatch, Object: s.Object, Path: []any{"spec", "ports"},
					Note: fmt.Sprintf("the sidecar of %s %s/%s handles port %d as %s and has no filter chain for %s", b.Workload.Kind, b.Workload.Namespace, b.Workload.Name, b.ContainerPort, proto.Name, what)})
				u.Failure = &Failure{Error: "connection reset: the server's sidecar expects " + proto.Name + " on this port"}
				return
			}
		}
	}
	// HTTP/1.0 from a client without Envoy meets the server's sidecar.
	if !envoy && r.IsHTTP() && r.HTTPVersion == "1.0" && (proto.IsHTTP() || proto.Sniffed()) {
		for _, b := range bs {
			if b.Dataplane == DataplaneSidecar && !m.AcceptsHTTP10(b.Workload) {
				u.Acceptance = append(u.Acceptance, Decision{Reason: ReasonHTTP10Rejected, Object: b.Workload.Object, Path: b.Workload.PodPath(),
					Note: fmt.Sprintf("the sidecar of %s %s/%s handles port %d with Envoy's HTTP/1.1 codec and rejects HTTP/1.0", b.Workload.Kind, b.Workload.Namespace, b.Workload.Name, b.ContainerPort)})
				u.Failure = &Failure{Status: 426, Flag: "-", Error: "426 Upgrade Required"}
				return
			}
		}
	}
	if !bypass {
		m.rbacAtServer(u, c, r, envoy)
	}
}

func serverSide(k TLSConflict, b Backend) string {
	w := fmt.Sprintf("%s %s/%s container port %d", b.Workload.Kind, b.Workload.Namespace, b.Workload.Name, b.ContainerPort)
	src := "Istio's default"
	if b.MTLS.Source != nil {
		src = "PeerAuthentication " + b.MTLS.Source.Namespace + "/" + b.MTLS.Source.Name
	}
	switch k {
	case PlaintextToStrict:
		return fmt.Sprintf("%s accepts only mTLS (STRICT from %s) and the client sends plaintext", w, src)
	case TLSToStrict:
		return fmt.Sprintf("%s accepts only Istio mTLS (STRICT from %s), not TLS with other certificates", w, src)
	case MTLSToNoSidecar:
		return fmt.Sprintf("%s has no sidecar to terminate Istio mTLS (%s)", w, b.DataplaneWhy)
	case MTLSToDisable:
		return fmt.Sprintf("%s accepts only plaintext (DISABLE from %s)", w, src)
	}
	return w
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// LabelString writes labels or a selector the way kubectl -l takes them
// (app=web,version=v1), keys sorted.
func LabelString(labels map[string]string) string {
	parts := make([]string, 0, len(labels))
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		parts = append(parts, k+"="+labels[k])
	}
	return strings.Join(parts, ",")
}

// SubsetBackends keeps the backends a DestinationRule subset's labels
// select (the subset's Envoy cluster has those endpoints only).
func SubsetBackends(bs []Backend, labels map[string]string) []Backend {
	var out []Backend
	for _, b := range bs {
		if SubsetMayInclude(labels, b.Workload) {
			out = append(out, b)
		}
	}
	return out
}

// SubsetMayInclude reports whether a subset's labels may select pods of
// w: the pod template's labels or a live pod's match, or the subset uses a
// label pods get outside their template (from the injector, controllers or
// Istio's endpoint metadata), which no manifest shows. An empty value of a
// label istiod derives for endpoints (locality, node, cluster, network) is
// not such a label: istiod sets them only when not empty, so only the pod's
// own labels can carry them empty.
func SubsetMayInclude(labels map[string]string, w *Workload) bool {
	for k, v := range labels {
		if addedLabel(k) && (v != "" || !endpointLabels[k]) {
			return true
		}
	}
	if Matches(labels, w.Labels) {
		return true
	}
	for _, p := range w.Instances {
		if Matches(labels, p.Labels) {
			return true
		}
	}
	return false
}

// endpointLabels are the labels istiod adds to a pod's endpoint from where
// it runs, each only when its value is not empty: a node without a region
// gives its pods' endpoints no topology.kubernetes.io/region at all, so a
// subset asking for region "" matches none of them (istio.io/istio
// pilot/pkg/serviceregistry/util/label/label.go AugmentLabels; subsets match
// with labels.Instance.SubsetOf, which needs the key present).
var endpointLabels = map[string]bool{
	"topology.kubernetes.io/region": true,
	"topology.kubernetes.io/zone":   true,
	"topology.istio.io/subzone":     true,
	"topology.istio.io/cluster":     true,
	"topology.istio.io/network":     true,
	"kubernetes.io/hostname":        true,
}

// addedLabel reports labels that pods get outside their template.
func addedLabel(key string) bool {
	for _, p := range []string{"topology.", "security.istio.io/", "service.istio.io/", "istio.io/", "kubernetes.io/", "failure-domain.beta.kubernetes.io/", "statefulset.kubernetes.io/", "apps.kubernetes.io/", "batch.kubernetes.io/"} {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	switch key {
	case "pod-template-hash", "controller-revision-hash", "pod-template-generation", "job-name", "controller-uid":
		return true
	}
	return false
}

// RejectsPlaintext reports whether a backend closes plaintext connections
// from clients without a proxy: a sidecar capturing the port, or ztunnel,
// enforcing STRICT ("STRICT mode is useful to ensure that connections that
// bypass the mesh are not possible",
// https://istio.io/latest/docs/reference/config/security/peer_authentication/).
// Pods whose dataplane is unknown or without a proxy accept plaintext, and
// so do ports the sidecar does not capture (excludeInboundPorts).
func RejectsPlaintext(b Backend) bool {
	sidecar := b.Dataplane == DataplaneSidecar && b.Workload.InboundCaptured(int32(b.ContainerPort))
	return (sidecar || b.Dataplane == DataplaneAmbient) && b.MTLS.Mode == ModeStrict
}

// entryAsService stands a ServiceEntry with a workloadSelector in for a
// Service on one of its ports: the selected pods are its endpoints, each
// port's targetPort (else its number) the container port. nil when no
// entry selects pods on that port (DNS or static endpoints).
func (m *Model) entryAsService(entries []*ServiceEntry, port uint32) (*Service, *corev1.ServicePort) {
	for _, se := range entries {
		sel := se.Spec.GetWorkloadSelector().GetLabels()
		if len(sel) == 0 {
			continue
		}
		for _, p := range se.Spec.Ports {
			if p.Number != port {
				continue
			}
			target := p.TargetPort
			if target == 0 {
				target = p.Number
			}
			sp := &corev1.ServicePort{Name: strings.ToLower(p.Protocol), Port: int32(p.Number), TargetPort: intstr.FromInt32(int32(target))}
			if p.Name != "" && p.Protocol == "" {
				sp.Name = p.Name
			}
			return &Service{Object: se.Object, Spec: &corev1.ServiceSpec{Selector: sel, Ports: []corev1.ServicePort{*sp}}}, sp
		}
	}
	return nil, nil
}
