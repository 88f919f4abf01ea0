package security

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	istioapi "istio.io/api/networking/v1alpha3"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// AutoSNISANMismatch: since Istio 1.21 a proxy originating TLS for a
// DestinationRule without sni sends the request's Host as SNI (auto SNI)
// and, without subjectAltNames, verifies the server certificate against
// that same name (auto SAN validation). When the Host is not the
// destination's name — a gateway VirtualService for a public host routing
// to an internal Service — the upstream certificate does not carry it.
//
// The auto-SAN case is an error. With explicit subjectAltNames (or client
// verification off) only the SNI changes; that is a warning, and only for
// destinations outside the cluster, where servers commonly choose their
// certificate (or reject the connection) by SNI. For cluster-local Services
// with SANs given, a changed SNI rarely matters and is not reported.
var AutoSNISANMismatch = &rules.Rule{
	Code: "MD2005", Name: "auto-sni-san-mismatch", Severity: finding.Error, Area: "security",
	Summary: "Auto SNI sends the route's Host as SNI and verifies the upstream certificate against it, but the Host is not the destination's name.",
	Needs:   []string{"DestinationRule"},
	Reads:   []string{"VirtualService", "Gateway"},
	Since:   "0.1.0",
	Doc: rules.Doc{
		Mechanism: "From Istio 1.21, ENABLE_AUTO_SNI and VERIFY_CERTIFICATE_AT_CLIENT default to true (1.24 removed the VERIFY_CERTIFICATE_AT_CLIENT opt-out, 1.26 the ENABLE_AUTO_SNI one). For a DestinationRule with tls.mode SIMPLE or MUTUAL and no sni, Envoy sets the upstream SNI from the request's Host/:authority header (auto_sni); when the rule also has no subjectAltNames (and no insecureSkipVerify) it checks the server certificate's SAN against that SNI (auto_san_validation). A VirtualService that routes host A to destination B keeps Host: A, so the proxy connecting to B sends SNI A and demands a certificate for A. Before 1.21 no SNI was sent and only the CA chain was checked, so the same configuration used to work. A route's rewrite.authority changes the SNI only from Istio 1.24 (Envoy 1.32); before, auto SNI reads the Host the client sent even when the route rewrites it.",
		Symptom:   "After upgrading to Istio 1.21+, requests on the route fail with HTTP 503 and response flag UF (upstream connect failure); the proxy logs `TLS error: ... CERTIFICATE_VERIFY_FAILED` (upstream_reset_before_response_started{connection_failure,TLS_error:...CERTIFICATE_VERIFY_FAILED}).",
		Fix:       "Set sni (and subjectAltNames) in the DestinationRule's tls to the name the upstream certificate carries; or, on Istio before 1.26, set ENABLE_AUTO_SNI=false in istiod's environment (or install with compatibilityVersion 1.20 on 1.21–1.23).",
		Before:    "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: mdm\n  namespace: mdm\nspec:\n  hosts: [qa-pod1-mdm.upgrade.infaqa.com]\n  gateways: [istio-system/public]\n  http:\n  - route:\n    - destination:\n        host: datastore-service.mdm.svc.cluster.local\n        port: {number: 8443}\n---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: datastore\n  namespace: mdm\nspec:\n  host: datastore-service.mdm.svc.cluster.local\n  trafficPolicy:\n    tls:\n      mode: SIMPLE\n      caCertificates: /etc/certs/ca.pem\n",
		After:     "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: datastore\n  namespace: mdm\nspec:\n  host: datastore-service.mdm.svc.cluster.local\n  trafficPolicy:\n    tls:\n      mode: SIMPLE\n      caCertificates: /etc/certs/ca.pem\n      sni: datastore-service.mdm.svc.cluster.local\n      subjectAltNames:\n      - datastore-service.mdm.svc.cluster.local\n",
		Sources: []string{
			"https://istio.io/latest/news/releases/1.21.x/announcing-1.21/upgrade-notes/",
			"https://istio.io/latest/news/releases/1.24.x/announcing-1.24/change-notes/",
			"https://istio.io/latest/news/releases/1.26.x/announcing-1.26/change-notes/",
			"https://istio.io/latest/docs/reference/config/networking/destination-rule/#ClientTLSSettings",
			"https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/core/v3/protocol.proto#config-core-v3-upstreamhttpprotocoloptions",
			"https://tetrate.io/blog/istio-gateway-upgrade-challenges-how-we-solved-tls-issues-and-ensured-seamless-service-delivery",
			"https://github.com/istio/istio/issues/50126",
			"https://github.com/envoyproxy/envoy/issues/35330",
		},
	},
	Run: runAutoSNISANMismatch,
}

// sniRoute is one way requests with a foreign Host reach a DestinationRule.
type sniRoute struct {
	vs  *mesh.VirtualService
	via string   // "Gateway istio-system/public (workload in istio-system)" or "sidecars"
	sni []string // Host values that become the SNI
}

type sniGroup struct {
	dr       *mesh.DestinationRule
	path     []any
	settings *istioapi.ClientTLSSettings
	host     string
	routes   []sniRoute
}

func runAutoSNISANMismatch(p *rules.Pass) {
	m := p.Model
	autoSNI := m.Istio.Flag("ENABLE_AUTO_SNI")
	if !autoSNI.On {
		return
	}
	verify := m.Istio.Flag("VERIFY_CERTIFICATE_AT_CLIENT")
	groups := map[string]*sniGroup{}
	var order []string

	for _, vs := range m.VirtualServices {
		ctxs := m.RouteClients(vs)

		for _, d := range m.Destinations(vs) {
			if d.Protocol != "http" || d.Mirror || d.HTTP == nil {
				continue
			}
			if setsHostHeader(d.HTTP) {
				continue // Host set by header rules: not known here
			}
			port := d.Destination.GetPort().GetNumber()
			if port == 0 {
				if svc := m.ServiceByHost(d.Host); svc != nil && len(svc.Spec.Ports) == 1 {
					port = uint32(svc.Spec.Ports[0].Port)
				}
			}
			for _, c := range ctxs {
				authorities := routeAuthorities(vs, c.Gateway)
				// A rewritten Host becomes the SNI only from Envoy 1.32
				// (the model decides by the proxy's version).
				if rw := d.HTTP.GetRewrite().GetAuthority(); rw != "" {
					if a, _ := m.SNIAuthority(routeClientProxy(m, c), "", rw); a == rw {
						authorities = []string{rw}
					}
				}
				var foreign []string
				for _, a := range authorities {
					if !routeMatchesAuthority(d.HTTP, a) {
						continue
					}
					if !m.SameHost(a, vs.Namespace, d.Host) {
						foreign = append(foreign, a)
					}
				}
				if len(foreign) == 0 {
					continue
				}
				drs := m.DestinationRuleFor(c.Namespace, d.Host)
				ct := m.ClientTLSFor(drs, port, d.Destination.Subset)
				tls := ct.Settings
				if tls == nil || ct.Rule == nil || tls.Sni != "" ||
					(tls.Mode != istioapi.ClientTLSSettings_SIMPLE && tls.Mode != istioapi.ClientTLSSettings_MUTUAL) {
					continue
				}
				if c.Gateway == nil && mesh.SidecarDropsTLS(ct) {
					continue // sidecars originate no TLS here at all (sidecar-tls-credential-ignored)
				}
				key := fmt.Sprintf("%s/%s/%v", ct.Rule.Namespace, ct.Rule.Name, ct.Path)
				grp := groups[key]
				if grp == nil {
					grp = &sniGroup{dr: ct.Rule, path: ct.Path, settings: tls, host: d.Host}
					groups[key] = grp
					order = append(order, key)
				}
				grp.routes = append(grp.routes, sniRoute{vs: vs, via: c.Via(), sni: foreign})
			}
		}
	}
	for _, key := range order {
		reportAutoSNI(p, groups[key], autoSNI, verify)
	}
}

// routeAuthorities returns the Host values requests matched by vs carry:
// its hosts as written (short names resolved), and for a "*" host on a
// gateway the gateway servers' concrete hosts.
func routeAuthorities(vs *mesh.VirtualService, gw *mesh.Gateway) []string {
	var out []string
	seen := map[string]bool{}
	add := func(h string) {
		if h != "" && !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	for _, h := range vs.Hosts {
		if h != "*" {
			if gw != nil && !gatewayServes(gw, h) {
				continue // this host is not bound on that gateway
			}
			add(h)
			continue
		}
		if gw == nil {
			continue
		}
		for _, s := range gw.Spec.Servers {
			for _, sh := range mesh.ServerHosts(s) {
				if sh != "*" {
					add(sh)
				}
			}
		}
	}
	return out
}

func gatewayServes(gw *mesh.Gateway, host string) bool {
	for _, s := range gw.Spec.Servers {
		for _, sh := range mesh.ServerHosts(s) {
			if mesh.HostsOverlap(sh, host) {
				return true
			}
		}
	}
	return false
}

// routeMatchesAuthority reports whether requests with Host a can reach
// route r: when every match block of r tests the authority, a must pass one
// of them; otherwise any Host can.
func routeMatchesAuthority(r *istioapi.HTTPRoute, a string) bool {
	if len(r.Match) == 0 {
		return true
	}
	for _, mt := range r.Match {
		if am := mt.GetAuthority(); am == nil || mesh.StringMatches(am, a) {
			return true
		}
	}
	return false
}

// setsHostHeader reports whether a route rewrites Host through header
// operations, whose effect on the SNI this rule does not model.
func setsHostHeader(r *istioapi.HTTPRoute) bool {
	for _, h := range []*istioapi.Headers{r.GetHeaders()} {
		ops := h.GetRequest()
		for k := range ops.GetSet() {
			if strings.EqualFold(k, "host") || k == ":authority" {
				return true
			}
		}
		for k := range ops.GetAdd() {
			if strings.EqualFold(k, "host") || k == ":authority" {
				return true
			}
		}
	}
	return false
}

func reportAutoSNI(p *rules.Pass, grp *sniGroup, autoSNI, verify mesh.FeatureFlag) {
	m := p.Model
	tls := grp.settings
	dr := grp.dr
	// The model decides what is sent and verified, as for trace; any of
	// the route's Hosts stands for the others here.
	autoSAN := m.Origination(tls, grp.routes[0].sni[0], grp.routes[0].vs.Namespace, grp.host, true).AutoSAN
	external := !m.IsClusterLocal(grp.host)
	if !autoSAN && !external {
		return
	}
	var snis, routes []string
	seen := map[string]bool{}
	for _, r := range grp.routes {
		for _, s := range r.sni {
			if !seen[s] {
				seen[s] = true
				snis = append(snis, s)
			}
		}
		routes = append(routes, fmt.Sprintf("VirtualService %s/%s via %s", r.vs.Namespace, r.vs.Name, r.via))
	}
	sort.Strings(snis)
	routes = sniUnique(routes)
	sniList := sniQuoteList(snis)
	mode := mesh.TLSModeName(tls.Mode)

	f := rules.At(dr.Object, grp.path...)
	if autoSAN {
		f.Message = fmt.Sprintf("DestinationRule %s/%s originates TLS (%s) to %s without sni or subjectAltNames, and %s routes requests with Host %s there: the proxy sends that Host as SNI (ENABLE_AUTO_SNI: %s) and verifies the server certificate against it (VERIFY_CERTIFICATE_AT_CLIENT: %s), but the certificate of %s is expected to carry %s, not %s (unless it also lists them)",
			dr.Namespace, dr.Name, mode, grp.host, rules.ListUpTo(routes, 3), sniList, autoSNI.Why, verify.Why, grp.host, grp.host, sniList)
		f.Symptom = fmt.Sprintf("requests for %s fail with HTTP 503, response flag UF, and the proxy logs a TLS error CERTIFICATE_VERIFY_FAILED toward %s", strings.Join(snis, ", "), grp.host)
	} else {
		f.Severity = finding.Warning
		why := "subjectAltNames are set, so only the SNI changes"
		if !verify.On {
			why = "VERIFY_CERTIFICATE_AT_CLIENT is off (" + verify.Why + "), so only the SNI changes"
		}
		f.Message = fmt.Sprintf("DestinationRule %s/%s originates TLS (%s) to external host %s without sni, and %s routes requests with Host %s there: the proxy sends that Host as SNI instead of %s (ENABLE_AUTO_SNI: %s); %s",
			dr.Namespace, dr.Name, mode, grp.host, rules.ListUpTo(routes, 3), sniList, grp.host, autoSNI.Why, why)
		f.Symptom = fmt.Sprintf("a server that picks its certificate or virtual host by SNI answers for the wrong name or rejects the handshake: 503 UF with a TLS error, or a certificate other than %s's", grp.host)
	}
	yamlPath := manifest.PathString(grp.path)
	// istiod's serving certificate carries istiod.<ns>.svc, not the
	// cluster-local FQDN; its issuer is the mesh root, not a public CA.
	san, istiod := grp.host, false
	if svc := m.ServiceByHost(grp.host); svc != nil && m.Istio.Istiod != nil && slices.Contains(m.ServiceWorkloads(svc), m.Istio.Istiod) {
		san, istiod = svc.Name+"."+svc.Namespace+".svc", true
	}
	var b strings.Builder
	fmt.Fprintf(&b, "set the SNI (and the name to verify) explicitly at %s of DestinationRule %s/%s:\n", yamlPath, dr.Namespace, dr.Name)
	fmt.Fprintf(&b, "  tls:\n    mode: %s\n    sni: %s\n", mode, san)
	if len(tls.SubjectAltNames) == 0 {
		fmt.Fprintf(&b, "    subjectAltNames:\n    - %s   # a name the upstream certificate carries\n", san)
	}
	// SIMPLE without a CA verifies against the system roots
	// (VERIFY_CERTIFICATE_AT_CLIENT): a certificate from a private or the
	// mesh CA then fails whatever the SNI.
	if tls.Mode == istioapi.ClientTLSSettings_SIMPLE && tls.CaCertificates == "" && tls.CredentialName == "" && verify.On {
		if istiod {
			b.WriteString("    caCertificates: /var/run/secrets/istio/root-cert.pem   # istiod's certificate is issued by the mesh root, not a public CA\n")
		} else {
			b.WriteString("    caCertificates: /path/to/ca.pem   # unless a public CA issued the server's certificate: without it the system roots verify it\n")
		}
	}
	if !autoSNI.Fixed {
		b.WriteString("or restore the pre-1.21 behaviour for the whole mesh: set ENABLE_AUTO_SNI=false in istiod's environment (values.pilot.env; removed in Istio 1.26)")
	}
	f.Fix = strings.TrimRight(b.String(), "\n")
	p.Report(f)
}

func sniQuoteList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = fmt.Sprintf("%q", s)
	}
	return rules.ListUpTo(q, 4)
}

func sniUnique(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// routeClientProxy is a gateway proxy of the input that follows the
// route (its Envoy decides auto SNI details), nil for sidecars or when
// none is in the input.
func routeClientProxy(m *mesh.Model, c mesh.RouteClient) *mesh.Workload {
	if c.Gateway == nil {
		return nil
	}
	for _, w := range m.GatewayPods(c.Gateway).Gateways {
		if c.Namespace == "" || w.Namespace == c.Namespace {
			return w
		}
	}
	return nil
}
