package nginx

import (
	"strings"
	"testing"
)

func TestInheritance(t *testing.T) {
	main := `events {}
http {
  upstream api {
    server api.shop.svc.cluster.local:8080;
    keepalive 16;
  }
  server {
    listen 80;
    proxy_http_version 1.1;
    location /a { proxy_pass http://a:8080; }
  }
  server {
    listen 81;
    location /b {
      proxy_pass
        http://api/v1;
    }
    location /c {
      proxy_http_version 1.0;
      proxy_pass http://c;
    }
    location /d {
      if ($arg_x) { proxy_pass http://d; }
      proxy_http_version 1.1;
    }
    location /e { proxy_pass https://e; }
  }
}
`
	res := Analyze([]File{{Path: "/etc/nginx/nginx.conf", Text: main}})
	if len(res.Errors) > 0 {
		t.Fatal(res.Errors)
	}
	got := map[string]ProxyPass{}
	for _, p := range res.Proxies {
		got[p.Location] = p
	}
	if len(res.Proxies) != 4 {
		t.Fatalf("want 4 http proxies, got %+v", res.Proxies)
	}
	if p := got["/a"]; !UsesHTTP11(p.Version) || p.VersionLine != 9 {
		t.Errorf("/a inherits 1.1 from server (line 9): %+v", p)
	}
	if p := got["/b"]; p.Version != "1.0" || !p.Defaulted() || p.Line != 15 || p.Upstream != "api" || len(p.Hosts) != 1 || p.Hosts[0] != "api.shop.svc.cluster.local:8080" {
		t.Errorf("/b: %+v", p)
	}
	if p := got["/c"]; p.Version != "1.0" || p.Defaulted() {
		t.Errorf("/c sets 1.0 explicitly: %+v", p)
	}
	if p := got["/d"]; !UsesHTTP11(p.Version) {
		t.Errorf("/d: if inherits the location's 1.1 wherever it is written: %+v", p)
	}
}

func TestIncludesAndFragments(t *testing.T) {
	main := "events {}\nhttp {\n  proxy_http_version 1.1;\n  include conf.d/*.conf;\n}\n"
	snippet := "server {\n  listen 80;\n  location / {\n    proxy_pass http://web;\n  }\n}\n"
	res := Analyze([]File{{"/etc/nginx/nginx.conf", main}, {"/etc/nginx/conf.d/default.conf", snippet}})
	if len(res.Proxies) != 1 || !UsesHTTP11(res.Proxies[0].Version) || res.Proxies[0].File != "/etc/nginx/conf.d/default.conf" || res.Proxies[0].Line != 4 || res.Fragments {
		t.Fatalf("included snippet inherits http's 1.1: %+v", res)
	}
	// Without a main config, the snippet is an http-level fragment.
	res = Analyze([]File{{"/etc/nginx/conf.d/default.conf", snippet}})
	if len(res.Proxies) != 1 || res.Proxies[0].Version != "1.0" || !res.Fragments {
		t.Fatalf("fragment: %+v", res)
	}
	// A main config that does not include the snippet: nginx never loads it.
	res = Analyze([]File{{"/etc/nginx/nginx.conf", "events {}\nhttp {}\n"}, {"/etc/nginx/conf.d/default.conf", snippet}})
	if len(res.Proxies) != 0 {
		t.Fatalf("unloaded snippet: %+v", res)
	}
	// Bare location snippets: the enclosing server is unknown.
	res = Analyze([]File{{"/etc/nginx/default.d/api.conf", "location / { proxy_pass http://x; }\n"}})
	if len(res.Proxies) != 0 {
		t.Fatalf("location snippet: %+v", res)
	}
	// Include cycles terminate.
	a := "events {}\nhttp { include /etc/nginx/b.conf; }\n"
	b := "server { location / { include /etc/nginx/c.conf; } }\n"
	c := "location /x { include /etc/nginx/c.conf; proxy_pass http://y; }\n"
	res = Analyze([]File{{"/etc/nginx/nginx.conf", a}, {"/etc/nginx/b.conf", b}, {"/etc/nginx/c.conf", c}})
	if len(res.Proxies) == 0 {
		t.Fatalf("cycle: %+v", res)
	}
}

func TestHosts(t *testing.T) {
	for _, tc := range []struct {
		in   string
		host string
		port int
	}{{"svc:8080", "svc", 8080}, {"svc", "svc", 80}, {"[::1]:81", "::1", 81}, {"a.b.svc.cluster.local:9", "a.b.svc.cluster.local", 9}} {
		h, p := SplitHostPort(tc.in)
		if h != tc.host || p != tc.port {
			t.Errorf("%s: %s %d", tc.in, h, p)
		}
	}
	if !IsLoopback("127.0.0.1") || !IsLoopback("localhost") || !IsLoopback("unix:/tmp/s") || IsLoopback("api") {
		t.Error("loopback")
	}
}

func TestMalformed(t *testing.T) {
	for _, s := range []string{"server { location / { proxy_pass http://a; }", "\"", "include;", "location", "}}}{{{", "http { location { } }", strings.Repeat("{", 10000)} {
		res := Analyze([]File{{"/etc/nginx/nginx.conf", s}})
		if len(res.Proxies) != 0 {
			t.Errorf("%q: %+v", s, res.Proxies)
		}
	}
}

func FuzzAnalyze(f *testing.F) {
	f.Add("events {}\nhttp { server { location / { proxy_pass http://a; } } }\n")
	f.Add("server { location / { include x.conf; proxy_pass http://$x; } }")
	f.Add("http { upstream u { server; } server { location / { proxy_pass http://u; } } }")
	f.Fuzz(func(t *testing.T, s string) {
		Analyze([]File{{"/etc/nginx/nginx.conf", s}, {"/etc/nginx/x.conf", s}})
	})
}
