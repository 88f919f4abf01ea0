package gateway

import (
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// GatewaySharedCertificate: several Gateways terminate HTTPS on the same
// gateway proxy and port with one certificate, so HTTP/2 clients reuse a
// connection across them and get 404s.
var GatewaySharedCertificate = &rules.Rule{
	Code: "MD3006", Name: "gateway-shared-certificate", Severity: finding.Warning, Area: "gateway",
	Summary: "Several Gateways serve different hosts on the same gateway proxy and port with one certificate: HTTP/2 clients that reuse a connection across them get 404.",
	Needs:   []string{"Gateway"},
	Reads:   []string{"Secret"},
	Since:   "0.2.0",
	IST:     []string{"IST0138"},
	Doc: rules.Doc{
		Mechanism: "For each HTTPS server of a Gateway, the gateway proxy builds its own filter chain, chosen by the SNI of the TLS handshake, with its own route table holding only that server's hosts. HTTP/2 clients (every browser) reuse an open connection for another host when the certificate they were shown is also valid for it and the address is the same (RFC 7540 §9.1.1, connection coalescing). A request for b.example.com on the connection opened for a.example.com then reaches a.example.com's route table, which has no route for it. Istio's own analyzer warns about the same setup (IST0138). meshdoctor compares the HTTPS servers of Gateways that configure a common gateway proxy (a gateway workload both select, or, when the gateway workloads are not in the input, selectors one of which contains the other, so that every pod of the narrower one serves both), on the same port, with the same certificate: the same credentialName, or, when the Secrets are in the input, the same leaf certificate under different Secret names. A certificate that does not cover a server's hosts cannot be reused for them and is left out. Servers of one Gateway are not compared.",
		Symptom:   "Intermittent HTTP 404 with response flag NR from the gateway, in browsers only, depending on which of the hosts the browser opened first; curl (one host per connection) works.",
		Fix:       "Serve all hosts that share the certificate from one server of one Gateway (hosts: [a.example.com, b.example.com]; VirtualServices bind to it by name, also across namespaces), or give each Gateway its own certificate issued only for its hosts.",
		Before:    "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: a\n  namespace: team-a\nspec:\n  selector: {istio: ingressgateway}\n  servers:\n  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: [a.example.com]\n    tls: {mode: SIMPLE, credentialName: wildcard-example-com}\n---\napiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: b\n  namespace: team-b\nspec:\n  selector: {istio: ingressgateway}\n  servers:\n  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: [b.example.com]\n    tls: {mode: SIMPLE, credentialName: wildcard-example-com}\n",
		After:     "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: shared\n  namespace: istio-system\nspec:\n  selector: {istio: ingressgateway}\n  servers:\n  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: [a.example.com, b.example.com]\n    tls: {mode: SIMPLE, credentialName: wildcard-example-com}\n# VirtualServices in team-a and team-b set gateways: [istio-system/shared]\n",
		Sources: []string{
			"https://istio.io/latest/docs/ops/common-problems/network-issues/#404-errors-occur-when-multiple-gateways-configured-with-same-tls-certificate",
			"https://istio.io/latest/docs/reference/config/analysis/ist0138/",
			"https://www.rfc-editor.org/rfc/rfc7540#section-9.1.1",
		},
	},
	Run: runGatewaySharedCertificate,
}

// sharedServer is one HTTPS server of a Gateway that terminates TLS with
// a known certificate identity.
type sharedServer struct {
	ref   mesh.CredentialRef
	hosts []string
	leaf  *x509.Certificate // nil when the Secret is not in the input
}

// gatewayProxies is what a Gateway configures: the gateway workloads its
// selector picks (when the input has gateway workloads), else its selector.
type gatewayProxies struct {
	workloads map[*mesh.Workload]bool
	selector  map[string]string
	scope     string // the Gateway's namespace when istiod scopes selectors to it
}

func runGatewaySharedCertificate(p *rules.Pass) {
	m := p.Model
	haveGateways := len(m.GatewayWorkloads()) > 0
	proxies := map[*mesh.Gateway]gatewayProxies{}
	// port + certificate → servers, in input order.
	buckets := map[string][]sharedServer{}
	var order []string
	for _, g := range m.Gateways {
		gp, ok := proxiesOf(m, g, haveGateways)
		if !ok {
			continue
		}
		proxies[g] = gp
		secretNS, _ := m.SecretNamespaces(g)
		for _, ref := range mesh.GatewayCredentials(g) {
			if ref.CAOnly || !strings.EqualFold(ref.Server.GetPort().GetProtocol(), "HTTPS") {
				continue
			}
			cert, leaf := certIdentity(m, secretNS, ref)
			s := sharedServer{ref: ref, hosts: mesh.ServerHosts(ref.Server), leaf: leaf}
			// A certificate that covers none of the server's hosts is
			// never reused for them (gateway-certificate-invalid speaks).
			if leaf != nil && !coversAny(leaf, s.hosts) {
				continue
			}
			key := fmt.Sprintf("%d|%s", ref.Server.GetPort().GetNumber(), cert)
			if _, seen := buckets[key]; !seen {
				order = append(order, key)
			}
			buckets[key] = append(buckets[key], s)
		}
	}
	reported := map[*mesh.Gateway]bool{}
	for _, key := range order {
		servers := buckets[key]
		for i, a := range servers {
			g := a.ref.Gateway
			if reported[g] {
				continue
			}
			// The other Gateways of the bucket that share a proxy with g.
			var others []string
			var via []string
			hosts := slices.Clone(a.hosts)
			seen := map[*mesh.Gateway]bool{g: true}
			for j, b := range servers {
				if j == i || seen[b.ref.Gateway] {
					continue
				}
				shared, where := sharedProxy(proxies[g], proxies[b.ref.Gateway])
				if !shared {
					continue
				}
				seen[b.ref.Gateway] = true
				others = append(others, fmt.Sprintf("%s/%s (%s)", b.ref.Gateway.Namespace, b.ref.Gateway.Name, strings.Join(b.hosts, ", ")))
				via = append(via, where)
				for _, h := range b.hosts {
					if !slices.Contains(hosts, h) {
						hosts = append(hosts, h)
					}
				}
			}
			if len(others) == 0 {
				continue
			}
			reported[g] = true
			p.Report(sharedFinding(a, others, via[0], hosts))
		}
	}
}

func coversAny(c *x509.Certificate, hosts []string) bool {
	for _, h := range hosts {
		if h != "*" && mesh.CertCoversHost(c, h) {
			return true
		}
	}
	return false
}

// proxiesOf finds what g configures. ok is false for an empty selector, and
// when the input holds gateway workloads but g selects none
// (gateway-selects-no-pods speaks for it).
func proxiesOf(m *mesh.Model, g *mesh.Gateway, haveGateways bool) (gatewayProxies, bool) {
	if len(g.Spec.Selector) == 0 {
		return gatewayProxies{}, false
	}
	sel := m.GatewayPods(g)
	if haveGateways {
		if len(sel.Gateways) == 0 {
			return gatewayProxies{}, false
		}
		ws := map[*mesh.Workload]bool{}
		for _, w := range sel.Gateways {
			ws[w] = true
		}
		return gatewayProxies{workloads: ws}, true
	}
	gp := gatewayProxies{selector: g.Spec.Selector}
	if sel.Scoped {
		gp.scope = g.Namespace
	}
	return gp, true
}

// sharedProxy tells whether two Gateways configure a common gateway proxy,
// and names it: a workload both select, or, without workloads in the input,
// selectors one of which contains the other (every pod the narrower one
// picks is picked by both; Istio's IST0138 reasons the same way).
func sharedProxy(a, b gatewayProxies) (bool, string) {
	if a.workloads != nil {
		var names []string
		for w := range a.workloads {
			if b.workloads[w] {
				names = append(names, w.Kind+" "+w.Namespace+"/"+w.Name)
			}
		}
		if len(names) == 0 {
			return false, ""
		}
		slices.Sort(names)
		return true, "gateway " + rules.ListUpTo(names, 2)
	}
	if a.scope != b.scope {
		return false, ""
	}
	narrow := b.selector
	if !mesh.Matches(a.selector, b.selector) {
		if !mesh.Matches(b.selector, a.selector) {
			return false, ""
		}
		narrow = a.selector
	}
	where := "the gateway proxies selected by " + rules.LabelString(narrow)
	if a.scope != "" {
		where += " in namespace " + a.scope
	}
	return true, where
}

// certIdentity tells which certificate a server presents: the leaf's
// fingerprint when its Secret is in the input (so different Secrets with
// the same certificate match), else the Secret's name, which names one
// Secret for one set of gateway proxies.
func certIdentity(m *mesh.Model, namespaces []string, ref mesh.CredentialRef) (string, *x509.Certificate) {
	for _, ns := range namespaces {
		s := m.SecretIn(ns, ref.Name)
		if s == nil {
			continue
		}
		if chain, err := s.CertificateChain(s.CertificateKey()); err == nil && len(chain) > 0 {
			return fmt.Sprintf("sha256:%x", sha256.Sum256(chain[0].Raw)), chain[0]
		}
	}
	return "secret:" + ref.Name, nil
}

func sharedFinding(s sharedServer, others []string, proxy string, allHosts []string) finding.Finding {
	g := s.ref.Gateway
	f := rules.At(g.Object, s.ref.Path...)
	port := s.ref.Server.GetPort().GetNumber()
	what := fmt.Sprintf("Secret %s", s.ref.Name)
	if s.leaf != nil {
		what = fmt.Sprintf("Secret %s (a certificate for %s)", s.ref.Name, rules.ListUpTo(s.leaf.DNSNames, 4))
	}
	who := "does Gateway " + others[0]
	if len(others) > 1 {
		who = fmt.Sprintf("do %d other Gateways: %s", len(others), rules.ListUpTo(others, 3))
	}
	f.Message = fmt.Sprintf("Gateway %s/%s serves %s on port %d of %s with %s, and so %s, for other hosts: each Gateway gets its own filter chain and route table",
		g.Namespace, g.Name, strings.Join(s.hosts, ", "), port, proxy, what, who)
	f.Symptom = "browsers (HTTP/2) reuse the connection opened for one of these hosts for the others, since the certificate is valid for them: the request reaches the wrong route table and the gateway answers HTTP 404 (response flag NR), intermittently, depending on which host was opened first; curl works"
	hosts := strings.Join(allHosts, ", ")
	if len(allHosts) > 6 {
		hosts = strings.Join(allHosts[:6], ", ") + ", …"
	}
	f.Fix = fmt.Sprintf("serve these hosts from one server of one Gateway (port %d, hosts: [%s]) and bind the VirtualServices to it by name (gateways: [<namespace>/<name>]); or give Gateway %s/%s its own certificate issued only for %s",
		port, hosts, g.Namespace, g.Name, strings.Join(s.hosts, ", "))
	return f
}
