package serve

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func writePair(t *testing.T, dir, cn string, mtime time.Time) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	for name, b := range map[string]*pem.Block{"tls.crt": {Type: "CERTIFICATE", Bytes: der}, "tls.key": {Type: "EC PRIVATE KEY", Bytes: keyDER}} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(b), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
}

func commonName(t *testing.T, c *certificate, now time.Time) string {
	t.Helper()
	pair, err := c.get(now)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return leaf.Subject.CommonName
}

// A renewed key pair is served without a restart; a half-written one
// (mid-rotation) is not, the previous pair is.
func TestCertificateRotation(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Now().Add(-time.Hour)
	writePair(t, dir, "first", t0)
	c, err := newCertificate(dir)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if got := commonName(t, c, now); got != "first" {
		t.Fatalf("serving %q, want first", got)
	}
	writePair(t, dir, "second", t0.Add(time.Minute))
	if got := commonName(t, c, now.Add(recheck/2)); got != "first" {
		t.Errorf("within the recheck interval: serving %q, want first (cached)", got)
	}
	if got := commonName(t, c, now.Add(2*recheck)); got != "second" {
		t.Errorf("after rotation: serving %q, want second", got)
	}
	if err := os.WriteFile(filepath.Join(dir, "tls.key"), []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := commonName(t, c, now.Add(4*recheck)); got != "second" {
		t.Errorf("with a broken key file: serving %q, want the previous pair", got)
	}
	if _, err := newCertificate(t.TempDir()); err == nil {
		t.Error("an empty directory: no error")
	}
}
