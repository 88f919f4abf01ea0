package mesh

import (
	"fmt"
	"sort"
	"strings"

	istioapi "istio.io/api/networking/v1alpha3"
)

// CredentialRef is one Secret an Istio Gateway server terminates TLS with:
// tls.credentialName, an entry of tls.credentialNames, or
// tls.caCertCredentialName (CA only).
type CredentialRef struct {
	Gateway *Gateway
	Server  *istioapi.Server
	Index   int    // index in spec.servers
	Name    string // Secret name (kubernetes:// stripped)
	Field   string // credentialName, credentialNames[0], caCertCredentialName
	Path    []any  // YAML path of the field, for Pos
	// CAOnly is true for caCertCredentialName, which may also name a
	// ConfigMap.
	CAOnly bool
}

// TerminatesTLS reports whether a Gateway server TLS mode makes the gateway
// present a certificate of its own (SIMPLE, MUTUAL, OPTIONAL_MUTUAL).
func TerminatesTLS(tls *istioapi.ServerTLSSettings) bool {
	switch tls.GetMode() {
	case istioapi.ServerTLSSettings_SIMPLE, istioapi.ServerTLSSettings_MUTUAL, istioapi.ServerTLSSettings_OPTIONAL_MUTUAL:
		return true
	}
	return false
}

// VerifiesClients reports whether the server asks for client certificates
// and so needs a CA (MUTUAL, OPTIONAL_MUTUAL).
func VerifiesClients(tls *istioapi.ServerTLSSettings) bool {
	m := tls.GetMode()
	return m == istioapi.ServerTLSSettings_MUTUAL || m == istioapi.ServerTLSSettings_OPTIONAL_MUTUAL
}

// GatewayCredentials lists the Kubernetes Secrets g's TLS-terminating
// servers reference, in the order written. Non-Kubernetes credential
// providers are left out.
func GatewayCredentials(g *Gateway) []CredentialRef {
	var out []CredentialRef
	for i, s := range g.Spec.Servers {
		tls := s.GetTls()
		if !TerminatesTLS(tls) {
			continue
		}
		add := func(raw, field string, caOnly bool, path ...any) {
			if name, ok := CredentialSecretName(raw); ok {
				out = append(out, CredentialRef{Gateway: g, Server: s, Index: i, Name: name, Field: field, CAOnly: caOnly,
					Path: append([]any{"spec", "servers", i, "tls"}, path...)})
			}
		}
		if tls.CredentialName != "" {
			add(tls.CredentialName, "credentialName", false, "credentialName")
		}
		for j, c := range tls.CredentialNames {
			add(c, fmt.Sprintf("credentialNames[%d]", j), false, "credentialNames", j)
		}
		if tls.CaCertCredentialName != "" {
			add(tls.CaCertCredentialName, "caCertCredentialName", true, "caCertCredentialName")
		}
	}
	return out
}

// ServerHosts returns a Gateway server's hosts without the "namespace/"
// prefix that restricts which VirtualServices may bind.
func ServerHosts(s *istioapi.Server) []string {
	var out []string
	for _, h := range s.Hosts {
		if i := strings.IndexByte(h, '/'); i >= 0 {
			h = h[i+1:]
		}
		out = append(out, h)
	}
	return out
}

// DescribeServer renders a Gateway server for messages:
// "server 0 (port 443, hosts a.example.com, b.example.com)".
func DescribeServer(index int, s *istioapi.Server) string {
	name := ""
	if s.Name != "" {
		name = " " + s.Name
	}
	return fmt.Sprintf("server %d%s (port %d, hosts %s)", index, name, s.GetPort().GetNumber(), strings.Join(ServerHosts(s), ", "))
}

// CredentialNamespaces answers "where does Istio read g's credentials
// from": the namespaces of the workloads its selector picks, sorted, with
// those workloads. Empty when no gateway workload is in the input.
func (m *Model) CredentialNamespaces(g *Gateway) ([]string, []*Workload) {
	ws := m.GatewayPods(g).Workloads
	seen := map[string]bool{}
	var out []string
	for _, w := range ws {
		if !seen[w.Namespace] {
			seen[w.Namespace] = true
			out = append(out, w.Namespace)
		}
	}
	sort.Strings(out)
	return out, ws
}

// SecretNamespaces is where to look for g's credential Secrets: the
// namespaces of its gateway workloads, or, when none is in the input, the
// Gateway's own namespace (where gateways deployed per namespace keep
// them); guessed says it is that assumption.
func (m *Model) SecretNamespaces(g *Gateway) (namespaces []string, guessed bool) {
	if nss, _ := m.CredentialNamespaces(g); len(nss) > 0 {
		return nss, false
	}
	return []string{g.Namespace}, true
}

// CredentialResolves tells whether a gateway workload in ns finds the
// credential ref names: the Secret is in the input (or something in the
// input produces it, such as a cert-manager Certificate; a CA-only
// reference may also be a ConfigMap). known is false when the input holds
// no Secrets of ns at all, so a missing one may simply be elsewhere.
func (m *Model) CredentialResolves(ref CredentialRef, ns string) (found, known bool) {
	if m.SecretIn(ns, ref.Name) != nil || m.SecretProducer(ns, ref.Name) != "" || (ref.CAOnly && m.ConfigMaps[ns+"/"+ref.Name] != nil) {
		return true, true
	}
	return false, m.SecretsKnownIn(ns)
}
