package gateway

import (
	"fmt"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// GatewayServerConflict: two Gateways on the same gateway proxy declare
// servers on one port that istiod cannot merge (a TLS server for the same
// host, or plaintext servers not both HTTP); istiod drops the later server
// whole.
var GatewayServerConflict = &rules.Rule{
	Code: "MD3011", Name: "gateway-server-conflict", Severity: finding.Error, Area: "gateway",
	Summary: "Two Gateways on the same gateway proxy declare servers on one port that istiod cannot merge (TLS for the same host, or plaintext not both HTTP); istiod drops the later one.",
	Needs:   []string{"Gateway"},
	Reads:   []string{"Deployment", "Pod"},
	Since:   "0.3.0",
	IST:     []string{"IST0145"},
	Doc: rules.Doc{
		Mechanism: "istiod merges the servers of every Gateway that selects a gateway proxy, oldest Gateway first (then by name). A TLS server (HTTPS, TLS, or any server with tls settings) becomes an Envoy filter chain matched by SNI, and Envoy rejects two chains for one SNI; so when a server lists a host, exactly as written, that an earlier TLS server on the same port and bind address already lists, istiod skips the whole server, all its hosts included, and logs \"skipping server on gateway …, duplicate host names\". Plaintext servers share a port only if both are HTTP: once a plaintext server has the port, a later TCP server, or an HTTP server after a TCP one, on the same bind address is skipped whatever its hosts (\"conflict with existing server\"; pilot/pkg/model/gateway.go, mergeGateways, canMergeProtocols). istioctl analyze (IST0145) reports any two Gateways with the same selector, port and a shared host, plaintext HTTP included, on both Gateways; meshdoctor reports where a server is really lost, on the server istiod drops, naming the one it keeps: plaintext HTTP servers merge, and the VirtualServices bound to either Gateway are all served.",
		Symptom:   "A dropped plaintext server's hosts and routes are not served on the port (TCP routes bound to it, or HTTP routes, get no listener). The dropped TLS server's certificate and TLS settings are never used: clients get the other Gateway's certificate (a name mismatch, or a different mTLS mode), and hosts only the dropped server lists fail the TLS handshake (connection reset, no filter chain for the SNI). Which Gateway wins depends on creation order, so re-creating one flips it.",
		Fix:       "Serve each host on a port from one Gateway: remove the host from one of the servers, merge the two servers, or give them different ports or bind addresses; plaintext TCP and HTTP need different ports.",
		Before:    "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: shop\n  namespace: shop\nspec:\n  selector: {istio: ingressgateway}\n  servers:\n  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: [\"shop.example.com\"]\n    tls: {mode: SIMPLE, credentialName: shop-cert}\n---\napiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: wildcard\n  namespace: istio-system\nspec:\n  selector: {istio: ingressgateway}\n  servers:\n  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: [\"shop.example.com\", \"api.example.com\"]\n    tls: {mode: SIMPLE, credentialName: wildcard-cert}\n",
		After:     "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: wildcard\n  namespace: istio-system\nspec:\n  selector: {istio: ingressgateway}\n  servers:\n  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: [\"api.example.com\"]\n    tls: {mode: SIMPLE, credentialName: wildcard-cert}\n",
		Sources: []string{
			"https://istio.io/latest/docs/reference/config/networking/gateway/#Server",
			"https://istio.io/latest/docs/reference/config/analysis/ist0145/",
		},
	},
	Run: runGatewayServerConflict,
}

func runGatewayServerConflict(p *rules.Pass) {
	for _, d := range p.Model.DroppedGatewayServers() {
		g, s := d.Dropped.Gateway, d.Dropped.Server()
		k := d.Kept.Gateway
		f := rules.At(g.Object, "spec", "servers", d.Dropped.Index, "hosts")
		on := "the gateway proxies both select (" + rules.LabelString(g.Spec.Selector) + ")"
		if len(d.Proxies) > 0 {
			on = rules.WorkloadList(d.Proxies, 2)
		}
		if d.Protocol {
			f = rules.At(g.Object, "spec", "servers", d.Dropped.Index, "port")
			ks := d.Kept.Server()
			f.Message = fmt.Sprintf("Gateway %s/%s %s (%s) and Gateway %s/%s %s (%s) share port %d of %s, and plaintext servers share a port only if both are HTTP; istiod keeps the older (%s/%s) and drops this server whole", g.Namespace, g.Name, mesh.DescribeServer(d.Dropped.Index, s), s.GetPort().GetProtocol(), k.Namespace, k.Name, mesh.DescribeServer(d.Kept.Index, ks), ks.GetPort().GetProtocol(), d.Port, on, k.Namespace, k.Name)
			f.Symptom = fmt.Sprintf("%s on port %d is not served: the gateway listens there only as Gateway %s/%s's %s server", strings.Join(s.Hosts, ", "), d.Port, k.Namespace, k.Name, ks.GetPort().GetProtocol())
			f.Fix = fmt.Sprintf("give this server a port of its own, or make both servers HTTP; Gateway %s/%s keeps port %d", k.Namespace, k.Name, d.Port)
			p.Report(f)
			continue
		}
		f.Message = fmt.Sprintf("Gateway %s/%s %s and Gateway %s/%s %s both serve %s on port %d of %s; istiod keeps the older (%s/%s) and drops this server whole", g.Namespace, g.Name, mesh.DescribeServer(d.Dropped.Index, s), k.Namespace, k.Name, mesh.DescribeServer(d.Kept.Index, d.Kept.Server()), strings.Join(d.Hosts, ", "), d.Port, on, k.Namespace, k.Name)
		only := onlyHere(s.Hosts, d.Kept.Server().Hosts)
		f.Symptom = fmt.Sprintf("TLS clients of %s get the certificate and settings of Gateway %s/%s, not this server's", strings.Join(d.Hosts, ", "), k.Namespace, k.Name)
		if len(only) > 0 {
			f.Symptom += fmt.Sprintf("; %s, listed only here, fail the TLS handshake (no filter chain for the SNI)", strings.Join(only, ", "))
		}
		f.Fix = fmt.Sprintf("serve %s on port %d from one Gateway: remove it from this server (or from Gateway %s/%s), or merge the two servers", strings.Join(d.Hosts, ", "), d.Port, k.Namespace, k.Name)
		p.Report(f)
	}
}

// onlyHere lists the hosts of a that b does not list.
func onlyHere(a, b []string) []string {
	in := map[string]bool{}
	for _, h := range b {
		in[h] = true
	}
	var out []string
	for _, h := range a {
		if !in[h] {
			out = append(out, h)
		}
	}
	return out
}
