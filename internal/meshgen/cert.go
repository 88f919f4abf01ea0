package meshgen

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"time"
)

// gatewayCert returns a self-signed certificate and key for host, valid
// until 2100. Each namespace's Gateway gets its own: Gateways that share a
// certificate on one gateway proxy are a misconfiguration of their own
// (gateway-shared-certificate). Ed25519 keys come from a seed and Ed25519
// signatures are deterministic, so the output stays the same run to run.
func gatewayCert(host string) (certPEM, keyPEM []byte) {
	seed := sha256.Sum256([]byte("meshgen:" + host))
	key := ed25519.NewKeyFromSeed(seed[:])
	tmpl := &x509.Certificate{
		SerialNumber: new(big.Int).SetBytes(seed[:8]),
		Subject:      pkix.Name{CommonName: host},
		DNSNames:     []string{host},
		NotBefore:    time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(nil, tmpl, tmpl, key.Public(), key)
	if err != nil {
		panic("meshgen: certificate template rejected: " + err.Error()) // a fixed, valid template
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		panic("meshgen: " + err.Error())
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})
}
