package security

import (
	"fmt"
	"slices"
	"strings"

	istioapi "istio.io/api/networking/v1alpha3"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// SidecarTLSCredentialIgnored: a DestinationRule without workloadSelector
// has proxies originate TLS with a credentialName, and sidecars route to
// its host. Sidecars do not read the credential and send plaintext
// (mesh.SidecarDropsTLS); only gateways, or sidecars selected by a
// workloadSelector, use it.
var SidecarTLSCredentialIgnored = &rules.Rule{
	Code: "MD2011", Name: "sidecar-tls-credential-ignored", Severity: finding.Error, Area: "security",
	Summary: "A DestinationRule without workloadSelector originates TLS with credentialName for a host sidecars route to: sidecars ignore those settings and send plaintext.",
	Needs:   []string{"DestinationRule"},
	Reads:   []string{"VirtualService", "Service", "ServiceEntry", "Namespace"},
	Since:   "0.4.0",
	Doc: rules.Doc{
		Mechanism: "A DestinationRule's tls.credentialName names a Secret holding the client certificate and key (MUTUAL) or the CA (SIMPLE). Gateways read it over SDS. A sidecar reads it only when the DestinationRule has a workloadSelector (Istio 1.14+; the Secret in the workload's namespace, and its service account allowed to list Secrets there): otherwise istiod builds the sidecar's cluster for the host with no TLS at all, so that sidecars do not wait for a Secret they may not read (pilot/pkg/networking/core/cluster_tls.go; the DestinationRule reference says credentialName applies at sidecars only with a workloadSelector). The sidecar then sends what it would have encrypted, in plaintext, without a client certificate. meshdoctor reports this where a VirtualService bound to the mesh routes HTTP to the host and the DestinationRule that sidecars of its namespace apply sets such tls for the destination's port (a credentialName beginning with configmap://, a CA readable by every proxy, is used by sidecars too). A DestinationRule used only by an egress or ingress gateway (sidecars route the host to the gateway, or nothing routes it from sidecars) is left alone, and so are clients' namespaces that hold a DestinationRule with a workloadSelector for the host (the sidecars it selects use it instead, and which workloads send the requests is not known).",
		Symptom:   "Requests from sidecars to the host fail: the TLS server receives plaintext and resets the connection (HTTP 503 UC/URX at the client) or answers HTTP 400 (nginx: \"The plain HTTP request was sent to HTTPS port\"); a server requiring client certificates never gets one. Nothing in istiod's or the proxy's logs says the credential was skipped.",
		Fix:       "Give the DestinationRule a workloadSelector that selects the client workloads (it then applies only to them, in its own namespace, where the Secret must be and the workloads' service account must be allowed to list Secrets); or route the host through an egress gateway that originates TLS with this DestinationRule; or use clientCertificate, privateKey and caCertificates file paths mounted into the sidecar instead of credentialName.",
		Before:    "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: payments\n  namespace: shop\nspec:\n  host: api.payments.example.com\n  trafficPolicy:\n    tls:\n      mode: MUTUAL\n      credentialName: payments-client\n",
		After:     "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: payments\n  namespace: shop\nspec:\n  host: api.payments.example.com\n  workloadSelector:\n    matchLabels:\n      app: checkout\n  trafficPolicy:\n    tls:\n      mode: MUTUAL\n      credentialName: payments-client   # a Secret in namespace shop\n",
		Sources: []string{
			"https://istio.io/latest/docs/reference/config/networking/destination-rule/#ClientTLSSettings",
			"https://istio.io/latest/docs/tasks/traffic-management/egress/egress-tls-origination/#mutual-tls-origination-for-egress-traffic",
			"https://github.com/istio/istio/blob/master/pilot/pkg/networking/core/cluster_tls.go",
			"https://github.com/istio/istio/issues/31738",
		},
	},
	Run: runSidecarTLSCredentialIgnored,
}

// ignoredTLS is one tls block of a DestinationRule that sidecars drop, with
// the sidecar routes that reach it.
type ignoredTLS struct {
	ct     mesh.ClientTLS
	client string   // the namespace of the first route's sidecars
	routes []string // "VirtualService ns/name (file:line) to host port P"
}

func runSidecarTLSCredentialIgnored(p *rules.Pass) {
	m := p.Model
	found := map[string]*ignoredTLS{}
	var order []string
	for _, vs := range m.VirtualServices {
		if !vs.BindsMesh() || !m.SidecarClientsIn(vs.Namespace) {
			continue
		}
		for _, d := range m.Destinations(vs) {
			// HTTP routes carry the application's plaintext requests,
			// which the sidecar was to encrypt; tcp and tls routes may
			// carry the application's own TLS.
			if d.Protocol != "http" || d.Mirror || !slices.Contains(vs.RouteGateways(d.HTTP), "mesh") {
				continue
			}
			drs := m.DestinationRuleFor(vs.Namespace, d.Host)
			if len(drs) == 0 || len(m.WorkloadDestinationRules(vs.Namespace, d.Host)) > 0 {
				// With a workloadSelector rule for the host in the
				// clients' namespace, the sidecars it selects use it:
				// which workloads send these requests is not known.
				continue
			}
			for _, port := range clusterPorts(m, vs, d) {
				ct := m.ClientTLSFor(drs, port, d.Destination.GetSubset())
				if !mesh.SidecarDropsTLS(ct) {
					continue
				}
				key := ct.Rule.Namespace + "/" + ct.Rule.Name + " " + manifest.PathString(ct.Path)
				it := found[key]
				if it == nil {
					it = &ignoredTLS{ct: ct, client: vs.Namespace}
					found[key] = it
					order = append(order, key)
				}
				route := fmt.Sprintf("VirtualService %s/%s (%s) to %s", vs.Namespace, vs.Name, vs.Pos(d.Path...), d.Host)
				if port != 0 {
					route += fmt.Sprintf(" port %d", port)
				}
				if !slices.Contains(it.routes, route) {
					it.routes = append(it.routes, route)
				}
			}
		}
	}
	for _, key := range order {
		it := found[key]
		ct, dr := it.ct, it.ct.Rule
		s := ct.Settings
		mode := mesh.TLSModeName(ct.Mode)
		f := rules.At(dr.Object, append(append([]any{}, ct.Path...), "credentialName")...)
		f.Message = fmt.Sprintf("DestinationRule %s/%s sets tls mode %s for %s with credentialName %s but has no workloadSelector: sidecars ignore these tls settings (only gateways read the credential) and send plaintext; sidecars route there: %s",
			dr.Namespace, dr.Name, mode, dr.Host, s.GetCredentialName(), rules.ListUpTo(it.routes, 2))
		cert := ""
		if ct.Mode == istioapi.ClientTLSSettings_MUTUAL {
			cert = " and present no client certificate"
		}
		f.Symptom = fmt.Sprintf("requests from sidecars to %s reach the TLS server in plaintext%s: it resets the connection (503 UC/URX) or answers HTTP 400", dr.Host, cert)
		secret := "the credential's Secret"
		if name, ok := mesh.CredentialSecretName(s.GetCredentialName()); ok {
			secret = "Secret " + name
		}
		where := "a workloadSelector selecting the client workloads"
		if it.client != dr.Namespace {
			// A workloadSelector applies in the rule's own namespace only.
			where = fmt.Sprintf("a DestinationRule for %s in namespace %s, the clients', with a workloadSelector selecting them", dr.Host, it.client)
		}
		f.Fix = fmt.Sprintf("add %s (Istio 1.14+; %s must be in namespace %s and the clients' service account allowed to list Secrets there), or send %s through an egress gateway that originates the TLS, or use clientCertificate/privateKey/caCertificates files mounted into the sidecar", where, secret, it.client, dr.Host)
		p.Report(f)
	}
}

// clusterPorts are the ports of the Envoy clusters a sidecar route to d
// uses, for each port on which sidecars apply the route (an HTTP or sniffed
// port of one of the VirtualService's hosts: the application sent
// plaintext HTTP there): the destination's port when written, else the
// host's only port, else the port the request arrived on
// (mesh.ClusterPort). None when no such port is known: a route sidecars
// serve on no HTTP port never carries their plaintext (an HTTPS port
// carries the application's own TLS, which passes through).
func clusterPorts(m *mesh.Model, vs *mesh.VirtualService, d mesh.RouteDestination) []uint32 {
	serving, _ := m.ServingPorts(vs, d)
	hostPorts, _, _ := m.HostPorts(vs.Namespace, d.Host)
	written := d.Destination.GetPort().GetNumber()
	var out []uint32
	for _, sp := range serving {
		if !strings.HasPrefix(sp.Via, "Service") {
			continue // a Gateway's port: not a sidecar's
		}
		if port := mesh.ClusterPort(written, hostPorts, sp.Port); !slices.Contains(out, port) {
			out = append(out, port)
		}
	}
	return out
}
