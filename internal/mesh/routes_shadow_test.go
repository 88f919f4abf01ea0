package mesh

import (
	"fmt"
	"strings"
	"testing"
)

// TestShadowedRoutes: which rules an earlier rule takes over, written as
// "http[1]<http[0]" (whole rule) or "http[1].match[0]<http[0].match[0]".
func TestShadowedRoutes(t *testing.T) {
	cases := []struct {
		name, routes, want string
	}{
		{"catch-all first", `
  http:
  - route: [{destination: {host: a}}]
  - match: [{uri: {prefix: /x}}]
    route: [{destination: {host: b}}]`, "http[1]<http[0]"},
		{"prefix before longer prefix", `
  http:
  - match: [{uri: {prefix: /api}}]
    route: [{destination: {host: a}}]
  - match: [{uri: {prefix: /api/v2}}, {uri: {prefix: /v2}}]
    route: [{destination: {host: b}}]`, "http[1].match[0]<http[0].match[0]"},
		{"longer prefix first", `
  http:
  - match: [{uri: {prefix: /api/v2}}]
    route: [{destination: {host: b}}]
  - match: [{uri: {prefix: /api}}]
    route: [{destination: {host: a}}]`, ""},
		{"regex accepts the exact path", `
  http:
  - match: [{uri: {regex: "/items/[0-9]+"}}]
    route: [{destination: {host: a}}]
  - match: [{uri: {exact: /items/42}}, {uri: {exact: /items/x}}]
    route: [{destination: {host: b}}]`, "http[1].match[0]<http[0].match[0]"},
		{"case-insensitive earlier match covers", `
  http:
  - match: [{uri: {prefix: /API}, ignoreUriCase: true}]
    route: [{destination: {host: a}}]
  - match: [{uri: {prefix: /api/v1}}]
    route: [{destination: {host: b}}]`, "http[1]<http[0].match[0]"},
		{"case-insensitive later match is wider", `
  http:
  - match: [{uri: {prefix: /api}}]
    route: [{destination: {host: a}}]
  - match: [{uri: {prefix: /api/v1}, ignoreUriCase: true}]
    route: [{destination: {host: b}}]`, ""},
		{"header names ignore case, more headers are narrower", `
  http:
  - match: [{headers: {X-User: {exact: jason}}}]
    route: [{destination: {host: a}}]
  - match: [{headers: {x-user: {exact: jason}, x-beta: {}}}]
    route: [{destination: {host: b}}]`, "http[1]<http[0].match[0]"},
		{"withoutHeaders must be at least as strict", `
  http:
  - match: [{uri: {prefix: /}, withoutHeaders: {x-internal: {}}}]
    route: [{destination: {host: a}}]
  - match: [{uri: {prefix: /a}}]
    route: [{destination: {host: b}}]
  - match: [{uri: {prefix: /b}, withoutHeaders: {x-internal: {exact: "1"}}}]
    route: [{destination: {host: c}}]`, ""},
		{"delegate falls through", `
  http:
  - match: [{uri: {prefix: /}}]
    delegate: {name: child}
  - route: [{destination: {host: a}}]`, ""},
		{"prefix / takes everything", `
  http:
  - match: [{uri: {prefix: /}}]
    route: [{destination: {host: a}}]
  - match: [{headers: {x: {exact: "1"}}}]
    route: [{destination: {host: b}}]`, "http[1]<http[0].match[0]"},
		{"different ports and sources", `
  http:
  - match: [{port: 80}]
    route: [{destination: {host: a}}]
  - match: [{port: 8080}, {sourceLabels: {app: x}}]
    route: [{destination: {host: b}}]`, ""},
		{"tls wildcard sni", `
  tls:
  - match: [{sniHosts: ["*.example.com"]}]
    route: [{destination: {host: a}}]
  - match: [{sniHosts: [a.example.com]}, {sniHosts: [a.example.org]}]
    route: [{destination: {host: b}}]`, "tls[1].match[0]<tls[0].match[0]"},
		{"duplicate tcp", `
  tcp:
  - match: [{port: 5432}]
    route: [{destination: {host: a}}]
  - match: [{port: 5432, sourceLabels: {app: x}}]
    route: [{destination: {host: b}}]`, "tcp[1]<tcp[0].match[0]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := buildYAML(t, Options{}, "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: vs, namespace: ns}\nspec:\n  hosts: [h]"+tc.routes)
			if len(m.VirtualServices) != 1 {
				t.Fatalf("want one VirtualService, got %d", len(m.VirtualServices))
			}
			var got []string
			for _, s := range m.ShadowedRoutes(m.VirtualServices[0]) {
				lhs := fmt.Sprintf("%s[%d]", s.Kind, s.Rule)
				if s.Match >= 0 {
					lhs += fmt.Sprintf(".match[%d]", s.Match)
				}
				got = append(got, lhs+"<"+s.ByName())
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Errorf("got %q, want %q", g, tc.want)
			}
		})
	}
}

// TestSubsetRouted: a subset counts as used when a VirtualService routes or
// mirrors to it, matched on the destination host as Istio resolves it (a
// short name in the VirtualService's namespace) — the cluster name
// outbound|port|subset|host that a request can reach.
func TestSubsetRouted(t *testing.T) {
	m := buildYAML(t, Options{},
		"apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: r, namespace: shop}\nspec:\n  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews, subset: v1}\n    mirror: {host: ratings.other.svc.cluster.local, subset: canary}\n  tcp:\n  - route:\n    - destination: {host: db, subset: primary}\n",
	)
	for _, c := range []struct {
		host, subset string
		want         bool
	}{
		{"reviews.shop.svc.cluster.local", "v1", true},
		{"ratings.other.svc.cluster.local", "canary", true}, // mirrors count
		{"db.shop.svc.cluster.local", "primary", true},
		{"reviews.shop.svc.cluster.local", "v2", false},
		{"reviews", "v1", false}, // hosts are fully qualified
		{"reviews.other.svc.cluster.local", "v1", false},
	} {
		if got := m.SubsetRouted(c.host, c.subset); got != c.want {
			t.Errorf("SubsetRouted(%s, %s) = %v, want %v", c.host, c.subset, got, c.want)
		}
	}
}
