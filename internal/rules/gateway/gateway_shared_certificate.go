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
	Since:   "0.2.0",
	Doc: rules.Doc{
		Mechanism: "For each HTTPS server of a Gateway, the gateway proxy builds its own filter chain, chosen by the SNI of the TLS handshake, with its own route table holding only that server's hosts. HTTP/2 clients (every browser) reuse an open connection for another host when the certificate they were shown is also valid for it and the address is the same (RFC 7540 §9.1.1, connection coalescing). A request for b.example.com on the connection opened for a.example.com then reaches a.example.com's route table, which has no route for it. Istio's own analyzer warns about the same setup (IST0138). meshdoctor groups servers by gateway proxy (the workloads the selectors pick, or equal selectors when the gateway workloads are not in the input), port and certificate: the same credentialName, or, when the Secrets are in the input, the same leaf certificate under different Secret names; a certificate that does not cover the other Gateway's hosts cannot be reused for them and is not reported. Servers of one Gateway are not compared.",
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

// sharedServer is one HTTPS server that terminates TLS with a known
// certificate identity.
type sharedServer struct {
	ref   mesh.CredentialRef
	hosts []string
	leaf  *x509.Certificate // nil when the Secret is not in the input
	proxy string            // the gateway proxies, for messages
}

func runGatewaySharedCertificate(p *rules.Pass) {
	m := p.Model
	haveGateways := len(m.GatewayWorkloads()) > 0
	// proxy + port + certificate → servers, in input order.
	groups := map[string][]sharedServer{}
	var order []string
	for _, g := range m.Gateways {
		proxy, proxyDesc, ok := proxyIdentity(m, g, haveGateways)
		if !ok {
			continue
		}
		for _, ref := range mesh.GatewayCredentials(g) {
			if ref.CAOnly || !strings.EqualFold(ref.Server.GetPort().GetProtocol(), "HTTPS") {
				continue
			}
			cert, leaf := certIdentity(m, g, ref)
			key := fmt.Sprintf("%s|%d|%s", proxy, ref.Server.GetPort().GetNumber(), cert)
			if _, seen := groups[key]; !seen {
				order = append(order, key)
			}
			groups[key] = append(groups[key], sharedServer{ref: ref, hosts: mesh.ServerHosts(ref.Server), leaf: leaf, proxy: proxyDesc})
		}
	}
	reported := map[*mesh.Gateway]bool{}
	for _, key := range order {
		members := gatewaysOf(coalescable(groups[key]))
		// Every host of the group, for the single server the fix proposes.
		var all []string
		seen := map[string]bool{}
		for _, mb := range members {
			for _, h := range mb.hosts {
				if !seen[h] {
					seen[h] = true
					all = append(all, h)
				}
			}
		}
		for i, mb := range members {
			if reported[mb.gateway] {
				continue
			}
			reported[mb.gateway] = true
			// The first few others, without walking the whole group
			// for each member.
			var others []string
			for j := 0; j < len(members) && len(others) < 3; j++ {
				if j != i {
					others = append(others, members[j].desc)
				}
			}
			p.Report(sharedFinding(mb.first, others, len(members)-1, all))
		}
	}
}

// member is one Gateway of a group: its first server there, and how it is
// named to the others.
type member struct {
	gateway *mesh.Gateway
	first   sharedServer
	hosts   []string
	desc    string
}

func gatewaysOf(servers []sharedServer) []member {
	var out []member
	at := map[*mesh.Gateway]int{}
	for _, s := range servers {
		g := s.ref.Gateway
		if i, ok := at[g]; ok {
			out[i].hosts = append(out[i].hosts, s.hosts...)
			out[i].desc = fmt.Sprintf("%s/%s (%s)", g.Namespace, g.Name, strings.Join(out[i].hosts, ", "))
			continue
		}
		at[g] = len(out)
		hosts := slices.Clone(s.hosts)
		out = append(out, member{gateway: g, first: s, hosts: hosts, desc: fmt.Sprintf("%s/%s (%s)", g.Namespace, g.Name, strings.Join(hosts, ", "))})
	}
	return out
}

// coalescable keeps the servers of a group whose hosts the shared
// certificate covers (all of them when it is not in the input), and only
// when they belong to more than one Gateway.
func coalescable(servers []sharedServer) []sharedServer {
	var out []sharedServer
	gateways := map[*mesh.Gateway]bool{}
	for _, s := range servers {
		if s.leaf != nil && !coversAny(s.leaf, s.hosts) {
			continue
		}
		out = append(out, s)
		gateways[s.ref.Gateway] = true
	}
	if len(gateways) < 2 {
		return nil
	}
	return out
}

func coversAny(c *x509.Certificate, hosts []string) bool {
	for _, h := range hosts {
		if h != "*" && mesh.CertCoversHost(c, h) {
			return true
		}
	}
	return false
}

// proxyIdentity names the gateway proxies a Gateway configures: the
// gateway workloads its selector picks when the input has them, else its
// selector (and namespace when istiod scopes Gateways to theirs). ok is
// false when the input holds gateway workloads and none is selected
// (gateway-selects-no-pods speaks for it) or the selector is empty.
func proxyIdentity(m *mesh.Model, g *mesh.Gateway, haveGateways bool) (id, desc string, ok bool) {
	if len(g.Spec.Selector) == 0 {
		return "", "", false
	}
	sel := m.GatewayPods(g)
	if len(sel.Gateways) > 0 {
		var names []string
		for _, w := range sel.Gateways {
			names = append(names, w.Kind+" "+w.Namespace+"/"+w.Name)
		}
		slices.Sort(names)
		return "workloads:" + strings.Join(names, ","), "gateway " + rules.ListUpTo(names, 2), true
	}
	if haveGateways {
		return "", "", false
	}
	id = "selector:" + rules.LabelString(g.Spec.Selector)
	desc = "gateway proxies selected by " + rules.LabelString(g.Spec.Selector)
	if sel.Scoped {
		id += "@" + g.Namespace
		desc += " in namespace " + g.Namespace
	}
	return id, desc, true
}

// certIdentity tells which certificate a server presents: the leaf's
// fingerprint when its Secret is in the input (so different Secrets with
// the same certificate match), else the Secret's name, which names one
// Secret for one set of gateway proxies.
func certIdentity(m *mesh.Model, g *mesh.Gateway, ref mesh.CredentialRef) (string, *x509.Certificate) {
	namespaces, _ := m.CredentialNamespaces(g)
	if len(namespaces) == 0 {
		namespaces = []string{g.Namespace}
	}
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

func sharedFinding(s sharedServer, others []string, count int, allHosts []string) finding.Finding {
	g := s.ref.Gateway
	f := rules.At(g.Object, s.ref.Path...)
	port := s.ref.Server.GetPort().GetNumber()
	what := fmt.Sprintf("Secret %s", s.ref.Name)
	if s.leaf != nil {
		what = fmt.Sprintf("Secret %s (a certificate for %s)", s.ref.Name, rules.ListUpTo(s.leaf.DNSNames, 4))
	}
	who := "does Gateway " + others[0]
	if count > 1 {
		who = fmt.Sprintf("do %d other Gateways: %s", count, strings.Join(others, ", "))
		if count > len(others) {
			who += fmt.Sprintf(" and %d more", count-len(others))
		}
	}
	f.Message = fmt.Sprintf("Gateway %s/%s serves %s on port %d of %s with %s, and so %s, for other hosts: each Gateway gets its own filter chain and route table",
		g.Namespace, g.Name, strings.Join(s.hosts, ", "), port, s.proxy, what, who)
	f.Symptom = "browsers (HTTP/2) reuse the connection opened for one of these hosts for the others, since the certificate is valid for them: the request reaches the wrong route table and the gateway answers HTTP 404 (response flag NR), intermittently, depending on which host was opened first; curl works"
	hosts := strings.Join(allHosts, ", ")
	if len(allHosts) > 6 {
		hosts = strings.Join(allHosts[:6], ", ") + ", …"
	}
	f.Fix = fmt.Sprintf("serve these hosts from one server of one Gateway (port %d, hosts: [%s]) and bind the VirtualServices to it by name (gateways: [<namespace>/<name>]); or give Gateway %s/%s its own certificate issued only for %s",
		port, hosts, g.Namespace, g.Name, strings.Join(s.hosts, ", "))
	return f
}
