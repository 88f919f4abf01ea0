package serve

import (
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// certificate serves the key pair in a directory (tls.crt and tls.key, as
// a kubernetes.io/tls Secret mounts them; cert-manager writes those) and
// reads it again when either file changes, so a renewed certificate is
// served without a restart. The kubelet updates a mounted Secret by
// swapping a symlink, which changes the files' modification times.
type certificate struct {
	certFile, keyFile string

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   [2]time.Time
	checked time.Time
}

// recheck bounds how often the files are stat'ed (once per handshake
// would do, but handshakes come in bursts).
const recheck = time.Second

func newCertificate(dir string) (*certificate, error) {
	c := &certificate{certFile: filepath.Join(dir, "tls.crt"), keyFile: filepath.Join(dir, "tls.key")}
	if _, err := c.get(time.Now()); err != nil {
		return nil, err
	}
	return c, nil
}

// GetCertificate is tls.Config's hook.
func (c *certificate) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return c.get(time.Now())
}

func (c *certificate) get(now time.Time) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cert != nil && now.Sub(c.checked) < recheck {
		return c.cert, nil
	}
	c.checked = now
	stamp, err := c.stamps()
	if err != nil {
		if c.cert != nil {
			// Mid-rotation (one file written, the other not yet):
			// keep serving the previous pair.
			return c.cert, nil
		}
		return nil, err
	}
	if c.cert != nil && stamp == c.stamp {
		return c.cert, nil
	}
	pair, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		if c.cert != nil {
			return c.cert, nil
		}
		return nil, fmt.Errorf("TLS key pair: %w", err)
	}
	c.cert, c.stamp = &pair, stamp
	return c.cert, nil
}

func (c *certificate) stamps() ([2]time.Time, error) {
	var out [2]time.Time
	for i, f := range []string{c.certFile, c.keyFile} {
		st, err := os.Stat(f)
		if err != nil {
			return out, err
		}
		out[i] = st.ModTime()
	}
	return out, nil
}
