package mesh

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Gateway credentials: how Istio finds and reads the Secret a Gateway
// server's tls.credentialName names. Only certificates are parsed here;
// private keys are never decoded, compared or printed.
//
// Istio reads the Secret from the namespace of the gateway *proxy* (the
// pods spec.selector picks), not of the Gateway resource: istiod's SDS
// server only serves a kubernetes:// credential to a proxy in the same
// namespace. A server certificate is read from tls.crt/tls.key or
// cert/key; for MUTUAL the CA from ca.crt or cacert in the same Secret,
// or from a Secret named <name>-cacert.
// https://istio.io/latest/docs/reference/config/networking/gateway/#ServerTLSSettings
// https://istio.io/latest/docs/tasks/traffic-management/ingress/secure-ingress/

// CACertSuffix is the suffix of the Secret Istio reads a credential's CA
// from when the credential itself holds none.
const CACertSuffix = "-cacert"

// CredentialSecretName turns a credentialName into the Secret name Istio
// looks up: a bare name, or kubernetes://name. ok is false for other
// providers (sds://, file://…) and cross-namespace forms this model does not
// resolve.
func CredentialSecretName(credential string) (name string, ok bool) {
	name = strings.TrimPrefix(credential, "kubernetes://")
	if name == "" || strings.Contains(name, "://") || strings.Contains(name, "/") {
		return "", false
	}
	return name, true
}

// SecretIn returns the Secret ns/name from the input.
func (m *Model) SecretIn(ns, name string) *Secret { return m.Secrets[ns+"/"+name] }

// SecretsNamed returns every Secret called name, in any namespace.
func (m *Model) SecretsNamed(name string) []*Secret {
	var out []*Secret
	for _, o := range m.Objects {
		if o.Kind == "Secret" && o.Name == name {
			if s := m.Secrets[o.Namespace+"/"+o.Name]; s != nil {
				out = append(out, s)
			}
		}
	}
	return out
}

// SecretProducer names the object in the input that will create Secret
// ns/name at run time (a cert-manager Certificate, an ExternalSecret, a
// SealedSecret), or "" when none does.
func (m *Model) SecretProducer(ns, name string) string {
	for _, o := range m.Objects {
		if o.Namespace != ns {
			continue
		}
		switch {
		case o.Kind == "Certificate" && strings.HasPrefix(o.APIVersion, "cert-manager.io/"):
			if v, _ := o.Field("spec", "secretName"); v == name {
				return "Certificate " + ns + "/" + o.Name
			}
		case o.Kind == "ExternalSecret":
			target, ok := o.Field("spec", "target", "name")
			if !ok || target == "" {
				target = o.Name
			}
			if target == name {
				return "ExternalSecret " + ns + "/" + o.Name
			}
		case o.Kind == "SealedSecret":
			if o.Name == name {
				return "SealedSecret " + ns + "/" + o.Name
			}
		}
	}
	return ""
}

// SecretsKnownIn reports whether the input says what Secrets namespace ns
// holds: it has a Secret there, or an object that produces one. Without
// either, a missing Secret is merely absent from the input (Secrets are
// rarely kept with manifests).
func (m *Model) SecretsKnownIn(ns string) bool {
	for k := range m.Secrets {
		if strings.HasPrefix(k, ns+"/") {
			return true
		}
	}
	for _, o := range m.Objects {
		if o.Namespace == ns && (o.Kind == "Certificate" && strings.HasPrefix(o.APIVersion, "cert-manager.io/") || o.Kind == "ExternalSecret" || o.Kind == "SealedSecret") {
			return true
		}
	}
	return false
}

// CertificateKey returns the data key holding the server certificate chain
// ("tls.crt" or "cert"), or "" when the Secret has neither.
func (s *Secret) CertificateKey() string {
	for _, k := range []string{"tls.crt", "cert"} {
		if len(s.Data[k]) > 0 {
			return k
		}
	}
	return ""
}

// CAKey returns the data key holding CA certificates for client
// verification ("ca.crt" or "cacert"), or "".
func (s *Secret) CAKey() string {
	for _, k := range []string{"ca.crt", "cacert"} {
		if len(s.Data[k]) > 0 {
			return k
		}
	}
	return ""
}

// ErrNoCertificate is returned when a Secret has no certificate key.
var ErrNoCertificate = errors.New("no tls.crt or cert key")

// CertificateChain parses the certificate chain under key (leaf first).
// Anything but PEM CERTIFICATE blocks is skipped unread.
func (s *Secret) CertificateChain(key string) ([]*x509.Certificate, error) {
	if key == "" {
		return nil, ErrNoCertificate
	}
	rest := s.Data[key]
	var certs []*x509.Certificate
	for len(rest) > 0 {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d under %s does not parse: %v", len(certs)+1, key, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%s holds no PEM-encoded certificate", key)
	}
	return certs, nil
}

// CertValidity classifies a certificate's validity period at a moment.
type CertValidity int

// Validity classes, from healthy to broken.
const (
	CertValid CertValidity = iota
	CertExpiringSoon
	CertNotYetValid
	CertExpired
)

// ExpiryWarning is how close to its end a certificate's validity must be
// for the expiring-soon warning.
const ExpiryWarning = 14 * 24 * time.Hour

// Validity classifies c at now.
func Validity(c *x509.Certificate, now time.Time) CertValidity {
	switch {
	case now.After(c.NotAfter):
		return CertExpired
	case now.Before(c.NotBefore):
		return CertNotYetValid
	case c.NotAfter.Sub(now) <= ExpiryWarning:
		return CertExpiringSoon
	}
	return CertValid
}

// CertCoversHost reports whether a server certificate is valid for a
// Gateway server host. Concrete hosts follow the client's check (Go's
// VerifyHostname: SANs only, a wildcard SAN covers exactly one leftmost
// label, RFC 6125). A wildcard Gateway host ("*.example.com") accepts any
// name below it, so the certificate only has to cover some of them: a SAN
// below the wildcard, or a wildcard SAN at the same level. "*" accepts any
// certificate.
func CertCoversHost(c *x509.Certificate, host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if host == "*" || host == "" {
		return true
	}
	if !strings.HasPrefix(host, "*") {
		return c.VerifyHostname(host) == nil
	}
	suffix := strings.TrimPrefix(host, "*") // ".example.com"
	for _, san := range c.DNSNames {
		san = strings.ToLower(san)
		if strings.HasSuffix(san, suffix) && len(san) > len(suffix) {
			return true
		}
	}
	return false
}
