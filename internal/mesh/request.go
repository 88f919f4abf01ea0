package mesh

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

// This file and the other request*.go files answer "what does this proxy
// do with this request": the model's per-request view, shared by trace and
// by the rules that need the request path. Every answer carries a typed
// Reason with the object and field that decided it; the prose in Note is
// for people only and never parsed.
//
// The vocabulary is Envoy's, as Istio generates it: an outbound listener
// per port, a route configuration per port with one virtual host per
// service, clusters named outbound|PORT|SUBSET|HOST.
// (istio.io/istio pilot/pkg/networking/core: listener.go, httproute.go,
// cluster.go; pilot/pkg/model/service.go BuildSubsetKey.)

// ClientKind is who sends the request.
type ClientKind string

// Client kinds.
const (
	// ClientSidecar is a workload whose traffic goes through its own
	// istio-proxy (or, for ambient, ztunnel).
	ClientSidecar ClientKind = "sidecar"
	// ClientGateway is an Istio gateway proxy: Gateway resources decide
	// its listeners.
	ClientGateway ClientKind = "gateway"
	// ClientExternal is a client outside the cluster reaching it through
	// a Kubernetes Ingress (a cloud load balancer).
	ClientExternal ClientKind = "external"
	// ClientNonMesh is a pod without a proxy: it connects directly to the
	// destination pods through kube-proxy.
	ClientNonMesh ClientKind = "non-mesh"
)

// Client is the sender of a traced request.
type Client struct {
	Kind      ClientKind
	Namespace string
	Labels    map[string]string
	// Workload is nil for external clients and for gateways that are not
	// in the input (then Gateways says which Gateway resources apply).
	Workload *Workload
	// Gateways are the Istio Gateways that configure this gateway proxy;
	// KubeGateway the Gateway API Gateway it runs for.
	Gateways    []*Gateway
	KubeGateway *KubeGateway
	// Dataplane and Why: how the client's traffic leaves the pod.
	Dataplane Dataplane
	Why       string
	// Label names the client when no workload in the input stands for it
	// (an assumed gateway).
	Label string
}

// Name describes the client for people.
func (c Client) Name() string {
	switch {
	case c.Workload != nil:
		return c.Workload.Kind + " " + c.Workload.Namespace + "/" + c.Workload.Name
	case c.Label != "":
		return c.Label
	case c.Kind == ClientGateway && len(c.Gateways) > 0:
		return "the proxies of Gateway " + c.Gateways[0].Namespace + "/" + c.Gateways[0].Name
	}
	return "a client outside the cluster"
}

// Request is one request as a client sends it.
type Request struct {
	// Scheme is http, https, tcp or tls.
	Scheme string
	// Host is the name the client connects to and sends (Host header or
	// SNI), without the port, lower-case.
	Host    string
	Port    uint32
	Path    string
	Method  string
	Headers map[string]string // lower-case names
	// HTTPVersion is "1.0", "1.1" or "2".
	HTTPVersion string
	// SNI the client sends (https/tls); defaults to Host.
	SNI string
	// Address is the IP the client connects to when given (curl's
	// --resolve): it picks the outbound listener instead of DNS.
	Address string
}

// IsHTTP reports whether the request is HTTP (plain or over TLS).
func (r Request) IsHTTP() bool { return r.Scheme == "http" || r.Scheme == "https" }

// TLS reports whether the client itself speaks TLS.
func (r Request) TLS() bool { return r.Scheme == "https" || r.Scheme == "tls" }

// Authority is the Host header value with the port, as clients send it
// for non-default ports.
func (r Request) Authority() string {
	if (r.Scheme == "http" && r.Port == 80) || (r.Scheme == "https" && r.Port == 443) {
		return r.Host
	}
	return r.Host + ":" + strconv.FormatUint(uint64(r.Port), 10)
}

// Reason is a typed answer to one question about a request. Callers switch
// on it; the constant's value is stable (JSON output).
type Reason string

// Reasons, grouped by hop.
const (
	// Client.
	ReasonClientSidecar  Reason = "client-sidecar"
	ReasonClientAmbient  Reason = "client-ambient"
	ReasonClientNoProxy  Reason = "client-no-proxy"
	ReasonClientGateway  Reason = "client-gateway"
	ReasonClientExternal Reason = "client-external"
	ReasonNginxUpstream  Reason = "nginx-upstream" // nginx in the client decides the HTTP version

	// Listener / protocol.
	ReasonServicePort             Reason = "service-port"                 // the host is a Service with this port
	ReasonServiceEntryPort        Reason = "service-entry-port"           // a ServiceEntry defines host and port
	ReasonNoSuchPort              Reason = "port-not-in-service"          // the host resolves but not on this port
	ReasonPassthrough             Reason = "passthrough"                  // not in the registry, ALLOW_ANY
	ReasonRegistryOnly            Reason = "registry-only"                // not in the registry, REGISTRY_ONLY
	ReasonHostUnknown             Reason = "host-unknown"                 // not in the input at all
	ReasonSidecarEgress           Reason = "sidecar-egress"               // a Sidecar resource imports the host
	ReasonExternalNameAlias       Reason = "externalname-alias"           // an ExternalName Service aliases another
	ReasonVirtualServiceHost      Reason = "virtualservice-host"          // a host known only from a VirtualService
	ReasonSidecarNotImported      Reason = "sidecar-not-imported"         // ... or does not
	ReasonProtocolDeclared        Reason = "protocol-declared"            // port name / appProtocol
	ReasonPortProtocolUnsupported Reason = "port-protocol-unsupported"    // protocol: HTTP on a Service port: the API server rejects it
	ReasonProtocolSniffed         Reason = "protocol-sniffed"             // no declared protocol
	ReasonProtocolMismatch        Reason = "protocol-mismatch"            // request protocol vs listener protocol
	ReasonHTTP10Rejected          Reason = "http10-rejected"              // Envoy's HTTP/1.1 codec rejects HTTP/1.0
	ReasonGatewayServer           Reason = "gateway-server"               // a Gateway server matches port and host
	ReasonGatewayNoPort           Reason = "gateway-no-listener"          // no Gateway server on this port
	ReasonGatewayNoHost           Reason = "gateway-host-not-bound"       // a server on the port, not for this host
	ReasonGatewayTLSMismatch      Reason = "gateway-tls-mismatch"         // plaintext to a TLS server or the reverse
	ReasonGatewayRedirect         Reason = "gateway-https-redirect"       // tls.httpsRedirect
	ReasonGatewayNoCredential     Reason = "gateway-credential-not-found" // no certificate to present
	ReasonIngressRule             Reason = "ingress-rule"                 // a Kubernetes Ingress rule matches
	ReasonIngressNoRule           Reason = "ingress-no-rule"
	ReasonLBHealthCheck           Reason = "lb-health-check" // the cloud LB's health check passes
	ReasonLBUnhealthy             Reason = "lb-unhealthy"    // ... or fails: 502

	// Route.
	ReasonVirtualServiceRoute Reason = "virtualservice-route" // a rule of a VirtualService matches
	ReasonDefaultRoute        Reason = "default-route"        // no VirtualService: the host's own route
	ReasonNoRouteMatch        Reason = "no-route-match"       // a VirtualService, no rule matches: 404 NR
	ReasonNoVirtualService    Reason = "no-virtualservice"    // a gateway host without a bound VirtualService: 404 NR
	ReasonRedirect            Reason = "redirect"
	ReasonDirectResponse      Reason = "direct-response"
	ReasonFaultAbort          Reason = "fault-abort"
	ReasonDelegate            Reason = "delegate"
	ReasonDelegateMissing     Reason = "delegate-missing"

	// Cluster / DestinationRule.
	ReasonCluster             Reason = "cluster"
	ReasonDestinationNotFound Reason = "destination-not-found" // route to a host nothing defines: 503 NC
	ReasonSubsetNotFound      Reason = "subset-not-found"      // 503 NC
	ReasonDestinationRule     Reason = "destination-rule"      // the DestinationRule applied
	ReasonNoDestinationRule   Reason = "no-destination-rule"
	ReasonDestinationRuleLost Reason = "destination-rule-not-applied" // a rule for the host this client does not use

	// Upstream TLS.
	ReasonTLSAutoMTLS        Reason = "auto-mtls"
	ReasonTLSPlaintext       Reason = "plaintext"
	ReasonTLSIstioMutual     Reason = "istio-mutual"
	ReasonTLSOrigination     Reason = "tls-origination"
	ReasonTLSAutoSNI         Reason = "auto-sni-san-mismatch"  // SNI/SAN from the Host header: CERTIFICATE_VERIFY_FAILED
	ReasonTLSCredentialSkip  Reason = "tls-credential-ignored" // a sidecar drops tls with credentialName (no workloadSelector): plaintext
	ReasonServerStrict       Reason = "server-requires-mtls"   // plaintext to STRICT: 503 UC
	ReasonServerNoSidecar    Reason = "server-without-sidecar"
	ReasonServerAccepts      Reason = "server-accepts"
	ReasonServerFirstSniffed Reason = "server-first-sniffed" // a server-first protocol on a sniffed port: the connection hangs

	// Endpoints.
	ReasonEndpoints         Reason = "endpoints"
	ReasonNoEndpoints       Reason = "no-endpoints" // 503 UH
	ReasonNotReady          Reason = "endpoints-not-ready"
	ReasonEndpointsAbsent   Reason = "endpoints-not-in-input" // pods merely absent from the input
	ReasonExternalEndpoints Reason = "external-endpoints"
)

// Decision is one typed answer: the reason, the object and field that
// decided it (nil when a default decided), and a note for people.
type Decision struct {
	Reason Reason
	Object *manifest.Object
	Path   []any
	Note   string
}

// At returns the position of the deciding field, or the zero position.
func (d Decision) At() manifest.Position {
	if d.Object == nil {
		return manifest.Position{}
	}
	return d.Object.Pos(d.Path...)
}

// ClientFor resolves a client named as trace's --from names it:
// kind is "workload", "pod", "gateway" or "external"; ns/name identify
// the object. It returns an error a user can act on when nothing in the
// input has that name.
func (m *Model) ClientFor(kind, ns, name string) (Client, error) {
	switch kind {
	case "external":
		return Client{Kind: ClientExternal, Dataplane: DataplaneNone, Why: "outside the cluster"}, nil
	case "workload", "pod":
		w := m.findWorkload(ns, name, kind == "pod")
		if w == nil {
			return Client{}, fmt.Errorf("no %s %s/%s in the input%s", kind, ns, name, m.workloadHint(ns))
		}
		return m.clientOf(w), nil
	case "gateway":
		return m.gatewayClient(ns, name)
	}
	return Client{}, fmt.Errorf("unknown client kind %q (want workload, pod, gateway or external)", kind)
}

func (m *Model) clientOf(w *Workload) Client {
	c := Client{Namespace: w.Namespace, Labels: w.Labels, Workload: w}
	if ok, why := IsGatewayWorkload(w); ok {
		c.Kind, c.Dataplane, c.Why = ClientGateway, DataplaneSidecar, "a gateway proxy ("+why+")"
		c.Gateways = m.gatewaysSelecting(w)
		return c
	}
	c.Dataplane, c.Why = m.Injection(w)
	switch c.Dataplane {
	case DataplaneSidecar, DataplaneAmbient:
		c.Kind = ClientSidecar
	case DataplaneUnknown:
		// The namespace is not in the input: a sidecar is the common
		// case in a mesh, and the trace says it assumed one.
		c.Kind = ClientSidecar
		c.Why = "assumed: " + c.Why
	default:
		c.Kind = ClientNonMesh
	}
	return c
}

// findWorkload looks a workload up by name: a controller (any kind) or a
// bare Pod; for pods, also a live Pod of a controller.
func (m *Model) findWorkload(ns, name string, pod bool) *Workload {
	var found *Workload
	for _, w := range m.workloads.byNS[ns] {
		if w.Name == name && (!pod || w.Kind == "Pod") {
			return w
		}
		if pod {
			for _, p := range w.Instances {
				if p.Name == name {
					found = p
				}
			}
		}
	}
	if found != nil {
		return found
	}
	if !pod {
		// A ReplicaSet or Job name stands for its controller.
		for _, k := range []string{"ReplicaSet", "Job"} {
			if w := m.instanceOwner[ns+"/"+k+"/"+name]; w != nil {
				return w
			}
		}
	}
	return nil
}

func (m *Model) workloadHint(ns string) string {
	ws := m.workloads.byNS[ns]
	if len(ws) == 0 {
		return " (the input has no workloads in namespace " + ns + ")"
	}
	names := make([]string, 0, 5)
	for _, w := range ws {
		if len(names) == 5 {
			names = append(names, "…")
			break
		}
		names = append(names, w.Name)
	}
	return " (workloads in " + ns + ": " + strings.Join(names, ", ") + ")"
}

// gatewaysSelecting lists the Istio Gateways whose selector picks w.
func (m *Model) gatewaysSelecting(w *Workload) []*Gateway {
	return m.gatewaysFor(w.Namespace, w.Labels)
}

// gatewaysFor lists the Istio Gateways whose selector picks pods with
// these labels in ns (any namespace unless istiod scopes Gateways to
// their own, PILOT_SCOPE_GATEWAY_TO_NAMESPACE).
func (m *Model) gatewaysFor(ns string, labels map[string]string) []*Gateway {
	var out []*Gateway
	scoped := m.Istio.Flag("PILOT_SCOPE_GATEWAY_TO_NAMESPACE").On
	for _, g := range m.Gateways {
		if len(g.Spec.Selector) == 0 || (scoped && g.Namespace != ns) {
			continue
		}
		if Matches(g.Spec.Selector, labels) {
			out = append(out, g)
		}
	}
	return out
}

// gatewayClient resolves gateway:NS/NAME: a gateway workload, the Service
// in front of one, or an Istio Gateway resource (the proxies it
// configures, which need not be in the input).
func (m *Model) gatewayClient(ns, name string) (Client, error) {
	if w := m.findWorkload(ns, name, false); w != nil {
		c := m.clientOf(w)
		c.Kind, c.Dataplane = ClientGateway, DataplaneSidecar
		if c.Why == "" || !strings.HasPrefix(c.Why, "a gateway proxy") {
			c.Why = "named as a gateway"
		}
		c.Gateways = m.gatewaysSelecting(w)
		return c, nil
	}
	if s := m.Service(ns, name); s != nil {
		for _, w := range m.ServiceWorkloads(s) {
			c := m.clientOf(w)
			c.Kind, c.Dataplane = ClientGateway, DataplaneSidecar
			c.Why = "behind Service " + ns + "/" + name
			c.Gateways = m.gatewaysSelecting(w)
			return c, nil
		}
		// The Service's pods are not in the input: its selector stands
		// for their labels.
		if len(s.Spec.Selector) > 0 {
			c := m.assumedGateway(ns, s.Spec.Selector, "pods of Service "+ns+"/"+name+" (not in the input)")
			c.Label = "gateway " + ns + "/" + name
			return c, nil
		}
	}
	if g := m.gatewaysByName[ns+"/"+name]; g != nil {
		c := m.assumedGateway(g.Namespace, g.Spec.Selector, "the proxies Gateway "+ns+"/"+name+" selects")
		if len(c.Gateways) == 0 {
			c.Gateways = []*Gateway{g}
		}
		return c, nil
	}
	for _, kg := range m.KubeGateways {
		if kg.Namespace == ns && kg.Name == name {
			return m.kubeGatewayClient(kg), nil
		}
	}
	// Istio's default gateways, absent from the input (istio-system is
	// often not in an application's manifests): their install labels.
	if labels, ok := defaultGatewayLabels[name]; ok {
		c := m.assumedGateway(ns, labels, "Istio's default gateway, not in the input: its install labels "+LabelString(labels)+" assumed")
		c.Label = "gateway " + ns + "/" + name
		return c, nil
	}
	return Client{}, fmt.Errorf("no gateway %s/%s in the input: name a gateway Deployment, its Service, or an Istio Gateway", ns, name)
}

// defaultGatewayLabels are the pod labels istioctl and the Helm charts give
// the default gateways.
var defaultGatewayLabels = map[string]map[string]string{
	"istio-ingressgateway": {"istio": "ingressgateway", "app": "istio-ingressgateway"},
	"istio-egressgateway":  {"istio": "egressgateway", "app": "istio-egressgateway"},
}

func (m *Model) assumedGateway(ns string, labels map[string]string, why string) Client {
	return Client{Kind: ClientGateway, Namespace: ns, Labels: labels, Dataplane: DataplaneSidecar, Why: why, Gateways: m.gatewaysFor(ns, labels)}
}

// ResolveClientHost expands a name the way a pod's resolver does (search
// path <ns>.svc.<domain>, svc.<domain>, <domain>): "api", "api.shop",
// "api.shop.svc". Names with more dots are taken as written.
func (m *Model) ResolveClientHost(host, ns string) string {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	suffix := "svc." + m.ClusterDomain
	switch strings.Count(h, ".") {
	case 0:
		return h + "." + ns + "." + suffix
	case 1:
		// ndots:5 tries the search path first: "api.shop" is Service api
		// in namespace shop, "example.com" is example.com.
		if m.LookupHost(h).Found() {
			return h
		}
		svc := h + "." + suffix
		_, last, _ := strings.Cut(h, ".")
		if m.LookupHost(svc).Found() || m.NamespaceInInput(last) || !publicSuffix[last] {
			return svc
		}
		return h
	}
	if strings.HasSuffix(h, ".svc") {
		return h + "." + m.ClusterDomain
	}
	return h
}

// ClusterName is Envoy's name for an outbound cluster, as Istio builds it
// (model.BuildSubsetKey): outbound|PORT|SUBSET|HOST.
func ClusterName(port uint32, subset, host string) string {
	return "outbound|" + strconv.FormatUint(uint64(port), 10) + "|" + subset + "|" + host
}

// publicSuffix holds common top-level domains: a two-label name ending in
// one is a public host, not service.namespace, when no such namespace is in
// the input.
var publicSuffix = map[string]bool{
	"com": true, "org": true, "net": true, "io": true, "dev": true, "app": true, "co": true,
	"edu": true, "gov": true, "info": true, "biz": true, "cloud": true, "ai": true, "me": true,
	"us": true, "uk": true, "de": true, "fr": true, "jp": true, "cn": true, "in": true, "eu": true,
}
