package mesh

import (
	"fmt"
	"testing"

	secapi "istio.io/api/security/v1beta1"
)

// policy is an AuthorizationPolicy in ns with the given spec (block YAML
// indented by two spaces).
func policy(name, ns, spec string) string {
	return fmt.Sprintf("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: %s, namespace: %s}\nspec:\n%s", name, ns, spec)
}

func TestWorkloadServiceAccount(t *testing.T) {
	m := buildYAML(t, Options{},
		deploy("web", "shop", "{app: web}", ""),
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: shop}\nspec:\n  selector: {matchLabels: {app: api}}\n  template:\n    metadata: {labels: {app: api}}\n    spec:\n      serviceAccountName: api-sa\n      containers: [{name: app, image: x}]\n",
	)
	if got := workload(t, m, "shop", "web").ServiceAccount(); got != "default" {
		t.Errorf("no serviceAccountName: got %q, want the namespace's default ServiceAccount", got)
	}
	if got := workload(t, m, "shop", "api").ServiceAccount(); got != "api-sa" {
		t.Errorf("got %q, want api-sa", got)
	}
}

// Which workloads a policy applies to: root namespace without selector is
// mesh-wide, a namespace without selector is namespace-wide, a selector
// matches pod labels in the policy's namespace only, targetRefs never
// attach to sidecars.
func TestPolicyAppliesTo(t *testing.T) {
	m := buildYAML(t, Options{},
		deploy("web", "shop", "{app: web}", ""),
		deploy("db", "shop", "{app: db}", ""),
		deploy("web", "other", "{app: web}", ""),
		policy("mesh", "istio-system", "  action: DENY\n  rules: [{to: [{operation: {ports: [\"9\"]}}]}]\n"),
		policy("ns", "shop", "  {}\n"),
		policy("sel", "shop", "  selector: {matchLabels: {app: web}}\n"),
		policy("ref", "shop", "  targetRefs: [{kind: Service, group: \"\", name: web}]\n"),
	)
	for _, tc := range []struct {
		policy, ns, w string
		want          bool
	}{
		{"mesh", "shop", "web", true},
		{"mesh", "other", "web", true},
		{"ns", "shop", "db", true},
		{"ns", "other", "web", false},
		{"sel", "shop", "web", true},
		{"sel", "shop", "db", false},
		{"sel", "other", "web", false}, // a selector never leaves its namespace
		{"ref", "shop", "web", false},  // targetRefs: waypoints and gateways only
	} {
		var p *AuthorizationPolicy
		for _, x := range m.AuthorizationPolicies() {
			if x.Name == tc.policy {
				p = x
			}
		}
		if got := m.PolicyAppliesTo(p, workload(t, m, tc.ns, tc.w)); got != tc.want {
			t.Errorf("%s applies to %s/%s: got %v, want %v", tc.policy, tc.ns, tc.w, got, tc.want)
		}
	}
}

func TestAuthorize(t *testing.T) {
	id := func(ns, sa string) Identity { return Identity{MTLS: true, Namespace: ns, ServiceAccount: sa} }
	plain := Identity{}
	for _, tc := range []struct {
		name     string
		policies []string
		req      AuthzRequest
		want     AuthzOutcome
	}{
		{"no policy allows everything", nil,
			AuthzRequest{Peer: plain}, AuthzNoPolicy},
		{"spec {} is the documented deny-all: an ALLOW policy without rules matches nothing",
			[]string{"  {}\n"}, AuthzRequest{Peer: id("shop", "web"), HTTP: true}, AuthzNoAllowMatch},
		{"ALLOW by namespace matches the caller's SPIFFE namespace",
			[]string{"  rules: [{from: [{source: {namespaces: [frontend]}}]}]\n"},
			AuthzRequest{Peer: id("frontend", "web"), HTTP: true}, AuthzAllowed},
		{"traffic through the ingress gateway carries the gateway's namespace, not the original caller's",
			[]string{"  rules: [{from: [{source: {namespaces: [frontend]}}]}]\n"},
			AuthzRequest{Peer: id("istio-system", "istio-ingressgateway-service-account"), HTTP: true}, AuthzNoAllowMatch},
		{"a plaintext caller has no principal: principals [*] never matches it",
			[]string{"  rules: [{from: [{source: {principals: [\"*\"]}}]}]\n"},
			AuthzRequest{Peer: plain, HTTP: true}, AuthzNoAllowMatch},
		{"notPrincipals [*] matches plaintext callers (the documented way to deny them)",
			[]string{"  action: DENY\n  rules: [{from: [{source: {notPrincipals: [\"*\"]}}]}]\n"},
			AuthzRequest{Peer: plain, HTTP: true}, AuthzDenied},
		{"principal prefix match",
			[]string{"  rules: [{from: [{source: {principals: [\"cluster.local/ns/shop/*\"]}}]}]\n"},
			AuthzRequest{Peer: id("shop", "web"), HTTP: true}, AuthzAllowed},
		{"DENY wins over ALLOW",
			[]string{"  rules: [{}]\n", "  action: DENY\n  rules: [{from: [{source: {namespaces: [shop]}}]}]\n"},
			AuthzRequest{Peer: id("shop", "web"), HTTP: true}, AuthzDenied},
		{"an unknown path leaves a path rule undecided",
			[]string{"  rules: [{to: [{operation: {paths: [/api/*]}}]}]\n"},
			AuthzRequest{Peer: id("shop", "web"), HTTP: true}, AuthzUnknown},
		{"a known path decides it",
			[]string{"  rules: [{to: [{operation: {paths: [/api/*]}}]}]\n"},
			AuthzRequest{Peer: id("shop", "web"), HTTP: true, Path: "/admin"}, AuthzNoAllowMatch},
		{"an ALLOW rule with HTTP-only fields is dropped on a TCP filter chain: deny all",
			[]string{"  rules: [{to: [{operation: {methods: [GET]}}]}]\n"},
			AuthzRequest{Peer: id("shop", "web"), HTTP: false}, AuthzNoAllowMatch},
		{"a DENY rule ignores its HTTP-only fields on TCP and so denies more",
			[]string{"  action: DENY\n  rules: [{to: [{operation: {methods: [DELETE]}}]}]\n"},
			AuthzRequest{Peer: id("shop", "web"), HTTP: false}, AuthzDenied},
		{"ports compare with the workload's (container) port",
			[]string{"  rules: [{to: [{operation: {ports: [\"8080\"]}}]}]\n"},
			AuthzRequest{Peer: plain, Port: 80, HTTP: true}, AuthzNoAllowMatch},
		{"a JWT requirement is unknown from the manifests",
			[]string{"  rules: [{from: [{source: {requestPrincipals: [\"*\"]}}]}]\n"},
			AuthzRequest{Peer: plain, HTTP: true}, AuthzUnknown},
		{"a CUSTOM provider's verdict is unknown",
			[]string{"  action: CUSTOM\n  provider: {name: ext}\n  rules: [{}]\n"},
			AuthzRequest{Peer: plain, HTTP: true}, AuthzUnknown},
		{"a dry-run policy is not enforced", []string{"DRYRUN"},
			AuthzRequest{Peer: plain, HTTP: true}, AuthzNoPolicy},
		{"serviceAccounts name ns/sa",
			[]string{"  rules: [{from: [{source: {serviceAccounts: [shop/web]}}]}]\n"},
			AuthzRequest{Peer: id("shop", "web"), HTTP: true}, AuthzAllowed},
		{"a principal in a trust domain other than cluster.local may be an alias",
			[]string{"  rules: [{from: [{source: {principals: [\"corp.example/ns/shop/sa/web\"]}}]}]\n"},
			AuthzRequest{Peer: id("shop", "web"), HTTP: true}, AuthzUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			docs := []string{deploy("api", "shop", "{app: api}", "")}
			for i, spec := range tc.policies {
				if spec == "DRYRUN" {
					docs = append(docs, "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: dry, namespace: shop, annotations: {istio.io/dry-run: \"true\"}}\nspec: {}\n")
					continue
				}
				docs = append(docs, policy(fmt.Sprintf("p%d", i), "shop", spec))
			}
			m := buildYAML(t, Options{}, docs...)
			if got := m.Authorize(workload(t, m, "shop", "api"), tc.req).Outcome; got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

// Which identity the server's proxy sees: a sidecar presents its
// ServiceAccount's SPIFFE identity under auto mTLS, a gateway its own
// (never the original caller's), a pod without sidecar none.
func TestPeerIdentity(t *testing.T) {
	m := buildYAML(t, Options{},
		namespace("shop", "{istio-injection: enabled}"),
		namespace("jobs", "{team: a}"),
		namespace("istio-system", "{}"),
		deploy("api", "shop", "{app: api}", ""),
		deploy("web", "shop", "{app: web}", ""),
		deploy("cron", "jobs", "{app: cron}", ""),
		deploy("istio-ingressgateway", "istio-system", "{istio: ingressgateway, app: istio-ingressgateway}", ""),
		deploy("x", "elsewhere", "{app: x}", ""),
		"apiVersion: v1\nkind: Service\nmetadata: {name: api, namespace: shop}\nspec:\n  selector: {app: api}\n  ports: [{name: http, port: 80, targetPort: 8080}]\n",
	)
	svc := m.Service("shop", "api")
	b := m.Backends(svc, &svc.Spec.Ports[0])[0]
	host := svc.Host
	for _, tc := range []struct {
		ns, name string
		ok, mtls bool
		ns2      string
	}{
		{"shop", "web", true, true, "shop"},
		{"istio-system", "istio-ingressgateway", true, true, "istio-system"},
		{"jobs", "cron", true, false, ""},
		{"elsewhere", "x", false, false, ""}, // namespace not in the input
	} {
		id, ok := m.PeerIdentity(workload(t, m, tc.ns, tc.name), b, host, 80, "")
		if ok != tc.ok || id.MTLS != tc.mtls || id.Namespace != tc.ns2 {
			t.Errorf("%s/%s: got %+v ok=%v, want mtls=%v ns=%q ok=%v", tc.ns, tc.name, id, ok, tc.mtls, tc.ns2, tc.ok)
		}
	}
	if id, _ := m.PeerIdentity(workload(t, m, "shop", "web"), b, host, 80, ""); id.Principal() != "cluster.local/ns/shop/sa/default" {
		t.Errorf("principal: got %q", id.Principal())
	}
}

// Auto SNI and rewrite.authority: Envoy before 1.32 (Istio before 1.24)
// reads the Host the client sent (envoyproxy/envoy#35330), 1.32 on the
// rewritten one (envoyproxy/envoy#35566); the client proxy's image wins
// over the control plane's version.
func TestSNIAuthority(t *testing.T) {
	v123, _ := ParseVersion("1.23.2")
	v124, _ := ParseVersion("1.24.0")
	gw := "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: gw, namespace: istio-system}\nspec:\n  selector: {matchLabels: {istio: ingressgateway}}\n  template:\n    metadata: {labels: {istio: ingressgateway}}\n    spec:\n      containers: [{name: istio-proxy, image: docker.io/istio/proxyv2:1.22.2, args: [proxy, router]}]\n"
	for _, tc := range []struct {
		version   Version
		client    bool
		rewritten string
		want      string
	}{
		{v123, false, "dest.svc", "orig.example"},
		{v124, false, "dest.svc", "dest.svc"},
		{v124, false, "", "orig.example"},
		{v124, true, "dest.svc", "orig.example"}, // the 1.22 gateway proxy decides
	} {
		m := buildYAML(t, Options{IstioVersion: &tc.version}, gw)
		var c *Workload
		if tc.client {
			c = workload(t, m, "istio-system", "gw")
		}
		if got, _ := m.SNIAuthority(c, "orig.example", tc.rewritten); got != tc.want {
			t.Errorf("version %s client %v rewritten %q: got %q, want %q", tc.version, tc.client, tc.rewritten, got, tc.want)
		}
	}
}

// DENY before ALLOW: a DENY rule shadows an ALLOW source only when it
// matches every request from it; for a namespace source, a DENY that
// looks at ServiceAccounts (notPrincipals included) matches only some.
func TestAlwaysDenies(t *testing.T) {
	m := buildYAML(t, Options{},
		policy("allow", "shop", "  rules: [{from: [{source: {namespaces: [legacy]}}, {source: {principals: [cluster.local/ns/ops/sa/admin, \"cluster.local/ns/ops/*\"]}}]}]\n"),
		policy("ns", "shop", "  action: DENY\n  rules: [{from: [{source: {namespaces: [legacy, ops]}}]}]\n"),
		policy("notp", "shop", "  action: DENY\n  rules: [{from: [{source: {notPrincipals: [cluster.local/ns/legacy/sa/good]}}]}]\n"),
		policy("path", "shop", "  action: DENY\n  rules: [{from: [{source: {namespaces: [legacy]}}], to: [{operation: {paths: [/admin]}}]}]\n"),
	)
	rule := func(name string) *secapi.Rule {
		for _, p := range m.AuthorizationPolicies() {
			if p.Name == name {
				return p.Spec.GetRules()[0]
			}
		}
		t.Fatalf("no policy %s", name)
		return nil
	}
	srcs := ExactSources(rule("allow"))
	if len(srcs) != 2 || !srcs[0].AnyServiceAccount || srcs[1].Identity.ServiceAccount != "admin" {
		t.Fatalf("ExactSources: got %+v, want namespace legacy and principal ops/admin (wildcards skipped)", srcs)
	}
	for _, tc := range []struct {
		deny string
		src  int
		want bool
	}{
		{"ns", 0, true}, {"ns", 1, true},
		{"notp", 0, false}, // some ServiceAccounts of legacy are not denied
		{"notp", 1, true},  // ops/admin is not legacy/good
		{"path", 0, false}, // only /admin is denied
	} {
		if got := AlwaysDenies(rule(tc.deny), srcs[tc.src]); got != tc.want {
			t.Errorf("%s denies source %d: got %v, want %v", tc.deny, tc.src, got, tc.want)
		}
	}
}
