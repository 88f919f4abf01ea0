package mesh

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

// The address forms a workload may use for a Service, and the look-alikes
// that must not count as calls.
func TestParseServiceRef(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "svc.yaml")
	src := "apiVersion: v1\nkind: Service\nmetadata: {name: orders, namespace: shop}\nspec:\n  ports: [{port: 80}]\n"
	if err := os.WriteFile(f, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := manifest.Load([]string{f}, manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := Build(res.Objects, Options{})
	for _, tc := range []struct {
		tok, ns string
		hinted  bool
		ok      bool
		port    uint32
	}{
		{"orders", "shop", false, false, 0}, // a word, not a call
		{"orders", "shop", true, true, 0},
		{"orders:8080", "shop", false, true, 8080},
		{"http://orders", "shop", false, true, 80},
		{"https://user:pw@orders.shop:8443/x?y=1", "other", false, true, 8443},
		{"orders.shop", "other", false, true, 0},
		{"orders.shop.svc", "other", false, true, 0},
		{"orders.shop.svc.cluster.local.", "other", false, true, 0},
		{"jdbc:postgresql://orders.shop:5432/db", "other", false, true, 5432},
		{"orders", "other", true, false, 0},               // short name resolves in the client's namespace
		{"orders.shop.example.com", "x", false, false, 0}, // not a cluster name
		{"orders:http", "shop", false, false, 0},
		{"$(ORDERS_HOST):80", "shop", false, false, 0},
		{"10.0.0.1:80", "shop", false, false, 0},
	} {
		svc, port, _, ok := m.parseServiceRef(tc.tok, tc.ns, tc.hinted)
		if ok != tc.ok || (ok && (svc.Name != "orders" || port != tc.port)) {
			t.Errorf("parseServiceRef(%q, %q, %v) = %v, %d, %v; want ok=%v port %d", tc.tok, tc.ns, tc.hinted, svc != nil, port, ok, tc.ok, tc.port)
		}
	}
}

func TestAddressLikeNames(t *testing.T) {
	for name, want := range map[string]bool{
		"DB_HOST": true, "baseUrl": true, "--redis-addr": true, "bootstrap.servers": true, "OTEL_EXPORTER_OTLP_ENDPOINT": true,
		"OTEL_SERVICE_NAME": false, "SECURITY_MODE": false, "QUEUE": false, "": false,
	} {
		if got := refAddressLike(name); got != want {
			t.Errorf("refAddressLike(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestSplitValues(t *testing.T) {
	got := refSplitValues("output:\n  url: http://loki:3100/push\nDB_HOST=postgres\n--upstream reviews:9080", "")
	want := []refKeyValue{{"url", "http://loki:3100/push"}, {"DB_HOST", "postgres"}, {"--upstream", "reviews:9080"}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("item %d: got %v, want %v", i, got[i], want[i])
		}
	}
}
