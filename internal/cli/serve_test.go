package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Bad flag values end serve at once with exit 2 and a line naming the
// flag, before anything is read or served.
func TestServeFlags(t *testing.T) {
	kubeconfig := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
users: [{name: u, user: {token: x}}]
current-context: c
`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--min-severity", "loud"}, "--min-severity"},
		{[]string{"--min-severity", "none"}, "--min-severity"},
		{[]string{"--deny-on", "warning"}, "--deny-on"},
		{[]string{"--debounce", "0s"}, "--debounce"},
		{[]string{"--debounce", "soon"}, "invalid argument"},
		{[]string{"--listen", ":9000", "--probe-listen", ":9000"}, "two ports"},
		{[]string{"--continuous=maybe"}, "invalid argument"},
		// Valid flags, no key pair: still exit 2, naming the file.
		{[]string{"--tls-dir", t.TempDir(), "--listen", "127.0.0.1:0", "--probe-listen", "127.0.0.1:0"}, "tls.crt"},
	} {
		code, _, errOut := run(t, "", nil, append([]string{"serve", "--kubeconfig", kubeconfig}, tc.args...)...)
		if code != ExitUsage || !strings.Contains(errOut, tc.want) || strings.Count(strings.TrimSpace(errOut), "\n") > 1 {
			t.Errorf("serve %s: exit %d, stderr %q; want exit 2 naming %q", strings.Join(tc.args, " "), code, errOut, tc.want)
		}
	}
}
