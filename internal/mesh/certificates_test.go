package mesh

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"
)

func testCert(t *testing.T, from, to time.Time, dns ...string) *x509.Certificate {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"}, DNSNames: dns, NotBefore: from, NotAfter: to}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The expiring-soon window depends on the current time, so it is tested
// here against a fixed "now" rather than with static testdata.
func TestValidity(t *testing.T) {
	now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	for _, tc := range []struct {
		name     string
		from, to time.Time
		want     CertValidity
	}{
		{"valid", now.Add(-day), now.Add(90 * day), CertValid},
		{"expiring in 10 days", now.Add(-day), now.Add(10 * day), CertExpiringSoon},
		{"expiring in exactly 14 days", now.Add(-day), now.Add(14 * day), CertExpiringSoon},
		{"15 days left", now.Add(-day), now.Add(15 * day), CertValid},
		{"expired", now.Add(-90 * day), now.Add(-time.Second), CertExpired},
		{"not yet valid", now.Add(time.Hour), now.Add(90 * day), CertNotYetValid},
	} {
		if got := Validity(testCert(t, tc.from, tc.to, "a.example.com"), now); got != tc.want {
			t.Errorf("%s: Validity = %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestCertCoversHost(t *testing.T) {
	from, to := time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	wild := testCert(t, from, to, "*.example.com")
	exact := testCert(t, from, to, "shop.example.com")
	deep := testCert(t, from, to, "a.b.example.com")
	for _, tc := range []struct {
		cert *x509.Certificate
		host string
		want bool
	}{
		{wild, "a.example.com", true},
		{wild, "A.Example.com", true},
		{wild, "a.b.example.com", false}, // one label only (RFC 6125)
		{wild, "example.com", false},
		{wild, "*", true},
		{wild, "*.example.com", true},
		{exact, "shop.example.com", true},
		{exact, "www.shop.example.com", false},
		{exact, "*.example.com", true}, // a name below the wildcard host
		{exact, "*.other.com", false},
		{deep, "*.example.com", true},
	} {
		if got := CertCoversHost(tc.cert, tc.host); got != tc.want {
			t.Errorf("cert %v, host %q: covers = %v, want %v", tc.cert.DNSNames, tc.host, got, tc.want)
		}
	}
}

func TestCertificateChain(t *testing.T) {
	c := testCert(t, time.Now(), time.Now().Add(time.Hour), "a.example.com")
	pemCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	s := &Secret{Data: map[string][]byte{"cert": pemCert}}
	if k := s.CertificateKey(); k != "cert" {
		t.Fatalf("CertificateKey = %q, want cert", k)
	}
	if certs, err := s.CertificateChain("cert"); err != nil || len(certs) != 1 {
		t.Fatalf("CertificateChain = %d certs, %v", len(certs), err)
	}
	bad := &Secret{Data: map[string][]byte{"tls.crt": []byte("garbage")}}
	if _, err := bad.CertificateChain(bad.CertificateKey()); err == nil {
		t.Error("CertificateChain accepted garbage")
	}
	broken := &Secret{Data: map[string][]byte{"tls.crt": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1, 2, 3}})}}
	if _, err := broken.CertificateChain("tls.crt"); err == nil {
		t.Error("CertificateChain accepted an unparsable certificate")
	}
	if _, err := (&Secret{}).CertificateChain(""); err != ErrNoCertificate {
		t.Errorf("no key: err = %v, want ErrNoCertificate", err)
	}
}
