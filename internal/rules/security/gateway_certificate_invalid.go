package security

import (
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// GatewayCertificateInvalid: the Secret a Gateway server serves holds a
// certificate clients will reject: expired, not yet valid, undecodable, or
// not issued for the server's hosts; or one about to expire (warning).
//
// The Secret is the one in the gateway workload's namespace; when the
// workload is not in the input, the Secret of that name in the Gateway's own
// namespace (the usual place when gateways are deployed per namespace) is
// checked, and the message says so, unless the Gateway selects the mesh's
// shared ingress gateway (which reads Secrets from its own namespace).
// Findings point at the Gateway's credential field: the Gateway is what
// serves the bad certificate, and a Secret no Gateway serves is never
// reported. Secrets that a cert-manager Certificate, ExternalSecret or
// SealedSecret in the input writes are placeholders and are skipped. Only
// certificates are parsed; private keys are never read.
var GatewayCertificateInvalid = &rules.Rule{
	Code: "MD2008", Name: "gateway-certificate-invalid", Severity: finding.Error, Area: "security",
	Summary: "A Gateway's TLS Secret holds a certificate that is expired, not yet valid, unreadable or not valid for its hosts.",
	Needs:   []string{"Gateway"},
	Reads:   []string{"Secret"},
	Since:   "0.1.0",
	IST:     []string{"IST0161"},
	Doc: rules.Doc{
		Mechanism: "The gateway serves the certificate chain of the credentialName Secret (tls.crt or cert) as is. Clients verify the leaf's validity period and that one of its DNS subject alternative names covers the host they asked for (RFC 6125: a wildcard stands for exactly one leftmost label, so *.example.com covers a.example.com but neither a.b.example.com nor example.com; the Common Name is ignored). istiod serves expired or not-yet-valid certificates anyway and only logs `invalid certificates`. A Gateway host of \"*\" accepts any certificate; a wildcard host needs a certificate for some name below it.",
		Symptom:   "Clients refuse the handshake: curl: (60) SSL certificate problem: certificate has expired / certificate is not yet valid, or (60) SSL: no alternative certificate subject name matches target host name; browsers show NET::ERR_CERT_DATE_INVALID or NET::ERR_CERT_COMMON_NAME_INVALID. istiod logs `invalid certificates: \"kubernetes://<name>\": certificate is expired or not yet valid`.",
		Fix:       "Renew or reissue the certificate for every host of the server (dnsNames in the cert-manager Certificate, or `kubectl create secret tls <name> --cert=… --key=… --dry-run=client -o yaml | kubectl apply -f -`) in the gateway workload's namespace.",
		Before:    "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: shop\n  namespace: istio-system\nspec:\n  selector: {istio: ingressgateway}\n  servers:\n  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: [shop.example.com]\n    tls: {mode: SIMPLE, credentialName: shop-tls}\n---\n# Secret istio-system/shop-tls: tls.crt issued for old.example.com, expired 2021-01-01\n",
		After:     "# Secret istio-system/shop-tls: tls.crt issued for shop.example.com, valid until 2026-09-01\n",
		Sources: []string{
			"https://istio.io/latest/docs/reference/config/networking/gateway/#ServerTLSSettings",
			"https://istio.io/latest/docs/tasks/traffic-management/ingress/secure-ingress/#troubleshooting",
			"https://www.rfc-editor.org/rfc/rfc6125#section-6.4.3",
		},
	},
	Run: runGatewayCertificateInvalid,
}

func runGatewayCertificateInvalid(p *rules.Pass) {
	m := p.Model
	now := time.Now()
	reported := map[string]bool{} // Secret key + problem, reported once
	for _, g := range m.Gateways {
		refs := mesh.GatewayCredentials(g)
		if len(refs) == 0 {
			continue
		}
		namespaces, guessed := m.SecretNamespaces(g)
		if guessed && mesh.SharedGatewaySelector(g.Spec.Selector) && !m.SharedGatewayNamespace(g.Namespace) {
			// The Gateway selects the mesh's shared ingress gateway, which
			// is not in the input and reads its Secrets from its own
			// namespace (istio-system): a Secret of that name next to the
			// Gateway is not what it serves (often a placeholder).
			continue
		}
		for _, ref := range refs {
			if ref.CAOnly {
				continue
			}
			for _, ns := range namespaces {
				s := m.SecretIn(ns, ref.Name)
				if s == nil {
					continue // gateway-credential-not-found speaks for it
				}
				if m.SecretProducer(ns, ref.Name) != "" {
					// A cert-manager Certificate, ExternalSecret or
					// SealedSecret in the input writes this Secret: the
					// one in the input is a placeholder it replaces.
					continue
				}
				gwCertCheck(p, ref, s, guessed, now, reported)
			}
		}
	}
}

// gwCertCheck reports the problems of Secret s's certificate on the
// Gateway field that makes the gateway serve it (a Secret no Gateway
// serves is never checked), once per Gateway and Secret.
func gwCertCheck(p *rules.Pass, ref mesh.CredentialRef, s *mesh.Secret, guessed bool, now time.Time, reported map[string]bool) {
	g := ref.Gateway
	at := func() finding.Finding { return rules.At(g.Object, ref.Path...) }
	once := g.Namespace + "/" + g.Name + "/" + s.Namespace + "/" + s.Name
	use := fmt.Sprintf("served by Gateway %s/%s %s", g.Namespace, g.Name, mesh.DescribeServer(ref.Index, ref.Server))
	if guessed {
		use += " (its gateway workload is not in the input; Istio reads the Secret from the workload's namespace, assumed to be " + s.Namespace + ")"
	}
	hosts := strings.Join(mesh.ServerHosts(ref.Server), ", ")
	port := ref.Server.GetPort().GetNumber()
	key := s.CertificateKey()
	certs, err := s.CertificateChain(key)
	if err != nil {
		if reported[once+"/parse"] {
			return
		}
		reported[once+"/parse"] = true
		f := at()
		f.Message = fmt.Sprintf("Secret %s/%s, %s, has no usable certificate: %v", s.Namespace, s.Name, use, err)
		f.Symptom = fmt.Sprintf("the gateway cannot load the credential: TLS handshakes to %s on port %d fail, and istiod logs `failed to fetch key and certificate for kubernetes://%s`", hosts, port, s.Name)
		f.Fix = fmt.Sprintf("put the PEM certificate chain (leaf first) under tls.crt and the key under tls.key:\n  kubectl create secret tls %s -n %s --cert=cert.pem --key=key.pem --dry-run=client -o yaml | kubectl apply -f -", s.Name, s.Namespace)
		p.Report(f)
		return
	}
	renew := fmt.Sprintf("renew the certificate and update Secret %s/%s (with cert-manager, check the Certificate's status and events: `kubectl describe certificate -n %s`)", s.Namespace, s.Name, s.Namespace)

	for i, c := range certs {
		v := mesh.Validity(c, now)
		if v == mesh.CertValid {
			continue
		}
		id := fmt.Sprintf("%s/validity/%d", once, i)
		if reported[id] {
			continue
		}
		reported[id] = true
		which := "the certificate"
		if len(certs) > 1 {
			which = "the leaf certificate"
			if i > 0 {
				which = fmt.Sprintf("intermediate certificate %d (%s)", i, c.Subject.CommonName)
			}
		}
		f := at()
		switch v {
		case mesh.CertExpired:
			f.Message = fmt.Sprintf("Secret %s/%s, %s: %s %s expired on %s", s.Namespace, s.Name, use, which, gwCertName(c), c.NotAfter.UTC().Format(time.DateOnly))
			f.Symptom = fmt.Sprintf("clients connecting to %s on port %d reject the handshake: curl: (60) SSL certificate problem: certificate has expired; browsers show NET::ERR_CERT_DATE_INVALID; istiod logs `invalid certificates: \"kubernetes://%s\": certificate is expired or not yet valid`", hosts, port, s.Name)
		case mesh.CertNotYetValid:
			f.Message = fmt.Sprintf("Secret %s/%s, %s: %s %s is not valid before %s", s.Namespace, s.Name, use, which, gwCertName(c), c.NotBefore.UTC().Format(time.RFC3339))
			f.Symptom = fmt.Sprintf("clients connecting to %s on port %d reject the handshake: curl: (60) SSL certificate problem: certificate is not yet valid; istiod logs `invalid certificates: \"kubernetes://%s\": certificate is expired or not yet valid`", hosts, port, s.Name)
		case mesh.CertExpiringSoon:
			f.Severity = finding.Warning
			f.Message = fmt.Sprintf("Secret %s/%s, %s: %s %s expires on %s, in %d days", s.Namespace, s.Name, use, which, gwCertName(c), c.NotAfter.UTC().Format(time.DateOnly), int(c.NotAfter.Sub(now).Hours()/24))
			f.Symptom = fmt.Sprintf("from %s clients connecting to %s on port %d will get: certificate has expired", c.NotAfter.UTC().Format(time.DateOnly), hosts, port)
		}
		f.Fix = renew
		p.Report(f)
	}

	leaf := certs[0]
	var uncovered []string
	for _, h := range mesh.ServerHosts(ref.Server) {
		if !mesh.CertCoversHost(leaf, h) {
			uncovered = append(uncovered, h)
		}
	}
	if len(uncovered) == 0 {
		return
	}
	names := gwCertNames(leaf)
	f := at()
	f.Message = fmt.Sprintf("Secret %s/%s, %s: its certificate is issued for %s, which does not cover %s", s.Namespace, s.Name, use, names, strings.Join(uncovered, ", "))
	f.Symptom = fmt.Sprintf("clients connecting to %s on port %d reject the certificate: curl: (60) SSL: no alternative certificate subject name matches target host name '%s'; browsers show NET::ERR_CERT_COMMON_NAME_INVALID", strings.Join(uncovered, ", "), port, uncovered[0])
	f.Fix = fmt.Sprintf("reissue the certificate with every host of the server as a DNS subject alternative name (a wildcard covers one label only: *.example.com does not cover a.b.example.com or example.com), e.g. cert-manager Certificate spec.dnsNames: [%s]; or point %s at a Secret issued for them", strings.Join(mesh.ServerHosts(ref.Server), ", "), ref.Field)
	p.Report(f)
}

// gwCertName renders a certificate's identity for messages (subject CN, or
// the first DNS SAN).
func gwCertName(c *x509.Certificate) string {
	if c.Subject.CommonName != "" {
		return fmt.Sprintf("(CN %s)", c.Subject.CommonName)
	}
	if len(c.DNSNames) > 0 {
		return fmt.Sprintf("(for %s)", c.DNSNames[0])
	}
	return fmt.Sprintf("(serial %s)", c.SerialNumber)
}

// gwCertNames lists what a certificate is valid for: its DNS and IP SANs,
// or says it has none (a Common Name alone is ignored by clients).
func gwCertNames(c *x509.Certificate) string {
	var names []string
	names = append(names, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 {
		if c.Subject.CommonName != "" {
			return fmt.Sprintf("no subject alternative name (only CN %s, which clients ignore)", c.Subject.CommonName)
		}
		return "no subject alternative name"
	}
	return rules.ListUpTo(names, 6)
}
