package upgrade

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshdoctor/meshdoctor/internal/manifest"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
)

// buildYAML loads documents (joined by ---) as one input and builds the
// model.
func buildYAML(t *testing.T, opts mesh.Options, docs ...string) *mesh.Model {
	t.Helper()
	f := filepath.Join(t.TempDir(), "in.yaml")
	if err := os.WriteFile(f, []byte(strings.Join(docs, "\n---\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := manifest.Load([]string{f}, manifest.Options{DefaultNamespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	return mesh.Build(res.Objects, opts)
}

func v(s string) mesh.Version {
	ver, ok := mesh.ParseVersion(s)
	if !ok {
		panic(s)
	}
	return ver
}

func resultFor(rs []Result, id string) *Result {
	for i := range rs {
		if rs[i].Change.ID == id {
			return &rs[i]
		}
	}
	return nil
}

const (
	svcHTTPS = `apiVersion: v1
kind: Service
metadata: {name: backend, namespace: shop}
spec:
  selector: {app: backend}
  ports: [{name: https, port: 8443}]`
	deployBackend = `apiVersion: apps/v1
kind: Deployment
metadata: {name: backend, namespace: shop}
spec:
  selector: {matchLabels: {app: backend}}
  template:
    metadata: {labels: {app: backend}}
    spec:
      containers: [{name: app, image: backend:1, ports: [{containerPort: 8443}]}]`
	nsShopInjected = `apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio-injection: enabled}}`
	nsAmbient = `apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio.io/dataplane-mode: ambient}}`
	gatewayPublic = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]`
)

const meshDNSCapture = `apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  mesh: |
    defaultConfig:
      proxyMetadata:
        ISTIO_META_DNS_CAPTURE: "true"`

func cniExclude(ns string) string {
	return `apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata: {name: istio, namespace: istio-system}
spec: {values: {cni: {excludeNamespaces: [` + ns + `]}}}`
}

func tlsRoute(apiVersion string) string {
	return "apiVersion: " + apiVersion + `
kind: TLSRoute
metadata: {name: passthrough, namespace: shop}
spec:
  parentRefs: [{name: gw}]
  hostnames: [db.example.com]
  rules: [{backendRefs: [{name: backend, port: 8443}]}]`
}

func seFor(ns, host string) string {
	return `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ext, namespace: ` + ns + `}
spec: {hosts: [` + host + `], resolution: DNS, ports: [{number: 443, name: https, protocol: HTTPS}]}`
}

func backendTLSPolicy(apiVersion string) string {
	return "apiVersion: " + apiVersion + `
kind: BackendTLSPolicy
metadata: {name: backend, namespace: shop}
spec:
  targetRefs: [{group: "", kind: Service, name: backend}]
  validation: {hostname: backend.example.com, wellKnownCACertificates: System}`
}

func vsRoute(host, dest string) string {
	return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: public, namespace: shop}
spec:
  hosts: [` + host + `]
  gateways: [istio-system/public]
  http:
  - route:
    - destination: {host: ` + dest + `, port: {number: 8443}}`
}

func drTLSYAML(tls string) string {
	return `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: backend, namespace: shop}
spec:
  host: backend.shop.svc.cluster.local
  trafficPolicy:
    tls: ` + tls
}

// Every entry: a configuration it affects and one it does not, crossing
// its release (or the release its opt-out disappears).
func TestEveryChangeAffectsAndSpares(t *testing.T) {
	cases := []struct {
		id       string
		from, to string
		affected []string // documents
		spared   []string
		want     string // in a resource's detail
	}{
		{id: "envoyfilter-legacy-names", from: "1.18.5", to: "1.19.0",
			affected: []string{envoyFilterMatching("envoy.http_connection_manager")},
			spared:   []string{envoyFilterMatching("envoy.filters.network.http_connection_manager")},
			want:     "use envoy.filters.network.http_connection_manager"},
		{id: "sidecar-startup-probe", from: "1.19.3", to: "1.20.0",
			affected: []string{nsShopInjected, strings.Replace(deployBackend, "metadata: {labels: {app: backend}}", "metadata: {labels: {app: backend}, annotations: {readiness.status.sidecar.istio.io/periodSeconds: \"2\"}}", 1)},
			spared:   []string{nsShopInjected, deployBackend},
			want:     "readiness.status.sidecar.istio.io/periodSeconds"},
		{id: "auto-sni", from: "1.20.6", to: "1.22.2",
			affected: []string{gatewayPublic, vsRoute("api.example.com", "backend.shop.svc.cluster.local"), drTLSYAML("{mode: SIMPLE, caCertificates: /etc/ca.pem}"), svcHTTPS},
			spared:   []string{gatewayPublic, vsRoute("api.example.com", "backend.shop.svc.cluster.local"), drTLSYAML("{mode: SIMPLE, caCertificates: /etc/ca.pem, sni: backend.shop.svc.cluster.local}"), svcHTTPS},
			want:     "sends SNI api.example.com"},
		{id: "verify-certificate-at-client", from: "1.20.0", to: "1.21.0",
			affected: []string{drTLSYAML("{mode: SIMPLE}")},
			spared:   []string{drTLSYAML("{mode: SIMPLE, caCertificates: /etc/ca.pem}")},
			want:     "OS CA bundle"},
		{id: "external-name-alias", from: "1.20.0", to: "1.21.0",
			affected: []string{`apiVersion: v1
kind: Service
metadata: {name: backend, namespace: shop}
spec: {type: ExternalName, externalName: api.example.com}`, drTLSYAML("{mode: SIMPLE}")},
			spared: []string{svcHTTPS, drTLSYAML("{mode: SIMPLE}")},
			want:   "ExternalName Service"},
		// Gateway routes matching x-envoy-* headers; the same match on a
		// mesh-only route, or another header at the gateway, is spared.
		{id: "envoy-internal-address-config", from: "1.24.3", to: "1.25.0",
			affected: []string{gatewayPublic, strings.Replace(vsRoute("api.example.com", "backend.shop.svc.cluster.local"), "  - route:", "  - match: [{headers: {x-envoy-internal: {exact: \"true\"}}}]\n    route:", 1)},
			spared: []string{gatewayPublic, strings.Replace(vsRoute("api.example.com", "backend.shop.svc.cluster.local"), "  - route:", "  - match: [{headers: {x-caller: {exact: internal}}}]\n    route:", 1),
				strings.Replace(strings.Replace(vsRoute("backend.shop.svc.cluster.local", "backend.shop.svc.cluster.local"), "gateways: [istio-system/public]", "gateways: [mesh]", 1), "  - route:", "  - match: [{headers: {x-envoy-internal: {exact: \"true\"}}}]\n    route:", 1)},
			want: "matches header x-envoy-internal at gateway istio-system/public"},
		{id: "wildcard-host-precedence", from: "1.20.0", to: "1.21.0",
			affected: []string{gatewayPublic, vsRoute(`"*.example.com"`, "backend.shop.svc.cluster.local"),
				strings.Replace(vsRoute("api.example.com", "backend.shop.svc.cluster.local"), "name: public", "name: api", 1)},
			spared: []string{gatewayPublic, vsRoute(`"*.example.com"`, "backend.shop.svc.cluster.local"),
				strings.Replace(vsRoute("api.example.org", "backend.shop.svc.cluster.local"), "name: public", "name: api", 1)},
			want: "overlaps host api.example.com"},
		{id: "gateway-name-label", from: "1.23.0", to: "1.24.0",
			affected: []string{`apiVersion: v1
kind: Service
metadata: {name: gw, namespace: shop}
spec: {selector: {istio.io/gateway-name: gw}, ports: [{port: 80}]}`},
			spared: []string{`apiVersion: v1
kind: Service
metadata: {name: gw, namespace: shop}
spec: {selector: {gateway.networking.k8s.io/gateway-name: gw}, ports: [{port: 80}]}`},
			want: "istio.io/gateway-name"},
		{id: "enhanced-resource-scoping", from: "1.21.0", to: "1.22.0",
			affected: []string{`apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  mesh: |
    discoverySelectors:
    - matchLabels: {mesh: "on"}`, `apiVersion: v1
kind: Namespace
metadata: {name: shop}`, drTLSYAML("{mode: ISTIO_MUTUAL}")},
			spared: []string{`apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  mesh: |
    discoverySelectors:
    - matchLabels: {mesh: "on"}`, `apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {mesh: "on"}}`, drTLSYAML("{mode: ISTIO_MUTUAL}")},
			want: "do not select"},
		{id: "resolution-none-target-port", from: "1.21.0", to: "1.22.0",
			affected: []string{`apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ext, namespace: shop}
spec: {hosts: [api.example.com], resolution: NONE, ports: [{number: 80, name: http, protocol: HTTP, targetPort: 443}]}`},
			spared: []string{`apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ext, namespace: shop}
spec: {hosts: [api.example.com], resolution: DNS, ports: [{number: 80, name: http, protocol: HTTP, targetPort: 443}]}`},
			want: "targetPort 443"},
		{id: "inbound-retry-policy", from: "1.23.0", to: "1.24.0",
			affected: []string{nsShopInjected, svcHTTPS, deployBackend, strings.Replace(vsRoute("backend", "backend"), "  - route:", "  - retries: {attempts: 0}\n    route:", 1)},
			spared:   []string{nsShopInjected, svcHTTPS, deployBackend, strings.Replace(vsRoute("backend", "backend"), "  - route:", "  - retries: {attempts: 3}\n    route:", 1)},
			want:     "disables retries"},
		{id: "exclude-503-from-default-retry", from: "1.23.0", to: "1.24.0",
			affected: []string{vsRoute("backend", "backend")},
			spared:   []string{strings.Replace(vsRoute("backend", "backend"), "  - route:", "  - retries: {attempts: 2, retryOn: 503}\n    route:", 1)},
			want:     "no longer retries 503"},
		{id: "destinationrule-tls-external", from: "1.23.0", to: "1.24.0",
			affected: []string{`apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: vm, namespace: shop}
spec:
  hosts: [vm.example.com]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{number: 443, name: https, protocol: HTTPS}]
  endpoints: [{address: 10.0.0.1, labels: {security.istio.io/tlsMode: istio}}]`, strings.Replace(drTLSYAML("{mode: SIMPLE}"), "backend.shop.svc.cluster.local", "vm.example.com", 1)},
			spared: []string{`apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: vm, namespace: shop}
spec:
  hosts: [vm.example.com]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{number: 443, name: https, protocol: HTTPS}]
  endpoints: [{address: 10.0.0.1}]`, strings.Replace(drTLSYAML("{mode: SIMPLE}"), "backend.shop.svc.cluster.local", "vm.example.com", 1)},
			want: "TLS wins"},
		{id: "destinationrule-merge-exportto", from: "1.23.0", to: "1.24.0",
			affected: []string{drTLSYAML("{mode: ISTIO_MUTUAL}"), strings.Replace(drTLSYAML("{mode: ISTIO_MUTUAL}"), "name: backend,", "name: backend-local,", 1) + "\n  exportTo: [\".\"]"},
			spared:   []string{drTLSYAML("{mode: ISTIO_MUTUAL}"), strings.Replace(drTLSYAML("{mode: ISTIO_MUTUAL}"), "name: backend,", "name: backend-2,", 1)},
			want:     "no longer merge"},
		{id: "compatibility-profile-1.20-removed", from: "1.23.0", to: "1.24.0",
			affected: []string{`apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata: {name: istio, namespace: istio-system}
spec: {values: {compatibilityVersion: "1.20"}}`},
			spared: []string{`apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata: {name: istio, namespace: istio-system}
spec: {values: {compatibilityVersion: "1.22"}}`},
			want: "compatibilityVersion 1.20"},
		{id: "ambient-dns-capture", from: "1.24.0", to: "1.25.0",
			affected: []string{nsAmbient, deployBackend},
			spared:   []string{nsShopInjected, deployBackend},
			want:     "captured by ztunnel"},
		{id: "ip-auto-allocation", from: "1.24.0", to: "1.25.0",
			affected: []string{nsAmbient, deployBackend, `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ext, namespace: shop}
spec: {hosts: [api.example.com], resolution: DNS, ports: [{number: 443, name: https, protocol: HTTPS}]}`},
			spared: []string{nsAmbient, deployBackend, `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ext, namespace: shop}
spec: {hosts: [api.example.com], addresses: [192.0.2.10], resolution: DNS, ports: [{number: 443, name: https, protocol: HTTPS}]}`},
			want: "allocates one for api.example.com"},
		{id: "native-sidecars", from: "1.26.0", to: "1.27.0",
			affected: []string{nsShopInjected, strings.Replace(deployBackend, "containers: [{name: app,", "containers: [{name: istio-proxy, image: auto}, {name: app,", 1)},
			spared:   []string{nsShopInjected, deployBackend},
			want:     "native sidecar"},
		{id: "dns-respects-traffic-exclusions", from: "1.22.0", to: "1.23.0",
			affected: []string{meshDNSCapture, nsShopInjected, strings.Replace(deployBackend, "metadata: {labels: {app: backend}}", "metadata: {labels: {app: backend}, annotations: {traffic.sidecar.istio.io/excludeOutboundIPRanges: 10.96.0.0/12}}", 1)},
			spared:   []string{meshDNSCapture, nsShopInjected, strings.Replace(deployBackend, "metadata: {labels: {app: backend}}", "metadata: {labels: {app: backend}, annotations: {traffic.sidecar.istio.io/excludeOutboundPorts: \"5432\"}}", 1)},
			want:     "bypass the proxy"},
		{id: "unified-sidecar-scope", from: "1.23.0", to: "1.24.0",
			affected: []string{svcHTTPS, seFor("other", "backend.shop.svc.cluster.local")},
			spared:   []string{svcHTTPS, seFor("shop", "backend.shop.svc.cluster.local")},
			want:     "also defined by Service shop/backend"},
		{id: "sidecar-best-service-namespace", from: "1.29.0", to: "1.30.0",
			affected: []string{seFor("a", "api.example.com"), seFor("b", "api.example.com")},
			spared:   []string{seFor("a", "api.example.com"), seFor("b", "api.example.org")},
			want:     "also defined by ServiceEntry"},
		{id: "ambient-cni-exclude-namespaces", from: "1.29.0", to: "1.30.0",
			affected: []string{nsAmbient, deployBackend, cniExclude("shop")},
			spared:   []string{nsAmbient, deployBackend, cniExclude("kube-system")},
			want:     "takes it out of the mesh"},
		{id: "gateway-api-v1.5-crds", from: "1.29.0", to: "1.30.0",
			affected: []string{tlsRoute("gateway.networking.k8s.io/v1alpha2")},
			spared:   []string{tlsRoute("gateway.networking.k8s.io/v1")},
			want:     "TLSRoute shop/passthrough is written as gateway.networking.k8s.io/v1alpha2"},
		{id: "backendtlspolicy-v1alpha3-removed", from: "1.27.0", to: "1.28.0",
			affected: []string{backendTLSPolicy("gateway.networking.k8s.io/v1alpha3")},
			spared:   []string{backendTLSPolicy("gateway.networking.k8s.io/v1")},
			want:     "only the v1 API"},
		{id: "inferencepool-pre-v1-removed", from: "1.27.0", to: "1.28.0",
			affected: []string{"apiVersion: inference.networking.x-k8s.io/v1alpha2\nkind: InferencePool\nmetadata: {name: llm, namespace: shop}\nspec: {targetPortNumber: 8000, selector: {app: llm}}"},
			spared:   []string{"apiVersion: inference.networking.k8s.io/v1\nkind: InferencePool\nmetadata: {name: llm, namespace: shop}\nspec: {targetPorts: [{number: 8000}], selector: {matchLabels: {app: llm}}}"},
			want:     "only the v1 API"},
	}
	covered := map[string]bool{}
	for _, tc := range cases {
		covered[tc.id] = true
		t.Run(tc.id, func(t *testing.T) {
			from, to := v(tc.from), v(tc.to)
			m := buildYAML(t, mesh.Options{IstioVersion: mesh.VersionOf(tc.from)}, tc.affected...)
			r := resultFor(Evaluate(m, from, to), tc.id)
			if r == nil {
				t.Fatalf("%s not crossed from %s to %s", tc.id, tc.from, tc.to)
			}
			if !r.Affected {
				t.Fatalf("want affected, got %+v", *r)
			}
			found := false
			for _, res := range r.Resources {
				found = found || strings.Contains(res.Detail, tc.want)
				if res.Origin.Line == 0 {
					t.Errorf("resource %s has no line: %+v", res.Resource, res)
				}
			}
			if !found {
				t.Errorf("no resource detail contains %q: %+v", tc.want, r.Resources)
			}
			m = buildYAML(t, mesh.Options{IstioVersion: mesh.VersionOf(tc.from)}, tc.spared...)
			if r := resultFor(Evaluate(m, from, to), tc.id); r == nil || r.Affected {
				t.Errorf("spared configuration: want crossed and not affected, got %+v", r)
			}
		})
	}
	for _, c := range Changes() {
		if !covered[c.ID] {
			t.Errorf("catalog entry %s has no test case", c.ID)
		}
	}
}

func TestCatalogWellFormed(t *testing.T) {
	prev := mesh.Version{}
	for _, c := range Changes() {
		if c.ReleaseVersion().Less(prev) {
			t.Errorf("%s: out of release order", c.ID)
		}
		prev = c.ReleaseVersion()
		if c.Mechanism == "" || c.Symptom == "" || c.Fix == "" || c.Affects == "" || c.Title == "" || c.Flag == "" {
			t.Errorf("%s: mechanism, symptom, fix, affects, title and flag are required", c.ID)
		}
		if len(c.Sources) == 0 {
			t.Errorf("%s: no source", c.ID)
		}
		// Istio's release notes; for a change of the Envoy shipped, also
		// Envoy's version history and the Istio source's release-note
		// file (its upgrade note, verbatim).
		for _, s := range c.Sources {
			istioNote := strings.HasPrefix(s, "https://istio.io/latest/") && strings.Contains(s, "/news/releases/")
			envoyNote := c.Kind == KindEnvoy && (strings.HasPrefix(s, "https://envoyproxy.io/docs/envoy/") && strings.Contains(s, "/version_history/") ||
				strings.HasPrefix(s, "https://github.com/istio/istio/blob/") && strings.Contains(s, "/releasenotes/notes/"))
			if !istioNote && !envoyNote {
				t.Errorf("%s: source %s is not an istio.io release note (nor, for an Envoy change, Envoy's version history or Istio's release-note file)", c.ID, s)
			}
		}
		if r, ok := c.OptOutRemovedVersion(); ok && !c.ReleaseVersion().Less(r) {
			t.Errorf("%s: opt-out removed (%s) before or at the change (%s)", c.ID, c.OptOutRemoved, c.Release)
		}
		for i := range c.ID {
			ch := c.ID[i]
			if !(ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '.') {
				t.Errorf("%s: id is not kebab-case", c.ID)
				break
			}
		}
	}
}

// Only changes with from < release <= to (or a removed opt-out in that
// range) are evaluated.
func TestCrossing(t *testing.T) {
	m := buildYAML(t, mesh.Options{IstioVersion: mesh.VersionOf("1.21.0")}, drTLSYAML("{mode: SIMPLE}"))
	rs := Evaluate(m, v("1.21.0"), v("1.22.2"))
	if resultFor(rs, "verify-certificate-at-client") != nil {
		t.Error("1.21 change evaluated on an upgrade from 1.21")
	}
	if resultFor(rs, "resolution-none-target-port") == nil {
		t.Error("1.22 change not evaluated on an upgrade to 1.22.2")
	}
	if len(Evaluate(m, v("1.22.0"), v("1.22.5"))) != 0 {
		t.Error("a patch upgrade crosses no change")
	}
}

// An opt-out in istiod's environment keeps the old behaviour until the
// release that removes it.
func TestOptOut(t *testing.T) {
	istiod := `apiVersion: apps/v1
kind: Deployment
metadata: {name: istiod, namespace: istio-system}
spec:
  selector: {matchLabels: {app: istiod}}
  template:
    metadata: {labels: {app: istiod}}
    spec:
      containers:
      - name: discovery
        image: docker.io/istio/pilot:1.20.6
        env: [{name: VERIFY_CERTIFICATE_AT_CLIENT, value: "false"}]`
	m := buildYAML(t, mesh.Options{}, istiod, drTLSYAML("{mode: SIMPLE}"))
	r := resultFor(Evaluate(m, v("1.20.6"), v("1.22.0")), "verify-certificate-at-client")
	if r == nil || r.Affected || !strings.Contains(r.OptedOut, "VERIFY_CERTIFICATE_AT_CLIENT=false") || len(r.Resources) == 0 {
		t.Fatalf("want opted out with resources listed, got %+v", r)
	}
	r = resultFor(Evaluate(m, v("1.20.6"), v("1.24.0")), "verify-certificate-at-client")
	if r == nil || !r.Affected || len(r.Crossed) != 2 {
		t.Fatalf("the opt-out is gone in 1.24: want affected, crossing both boundaries, got %+v", r)
	}
	// compatibilityVersion 1.20 is honoured by 1.23, not by 1.24.
	op := `apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata: {name: istio, namespace: istio-system}
spec: {tag: 1.20.6, values: {compatibilityVersion: "1.20"}}`
	m = buildYAML(t, mesh.Options{}, op, drTLSYAML("{mode: SIMPLE}"))
	if r := resultFor(Evaluate(m, v("1.20.6"), v("1.23.0")), "verify-certificate-at-client"); r == nil || r.Affected {
		t.Errorf("compatibilityVersion 1.20 on 1.23: want not affected, got %+v", r)
	}
}

// A gateway's istio-proxy is its main container: native sidecars do not
// move it.
func TestNativeSidecarsSkipsGateways(t *testing.T) {
	gw := `apiVersion: apps/v1
kind: Deployment
metadata: {name: istio-ingressgateway, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  template:
    metadata:
      labels: {istio: ingressgateway, sidecar.istio.io/inject: "true"}
      annotations: {inject.istio.io/templates: gateway}
    spec:
      containers: [{name: istio-proxy, image: auto}]`
	m := buildYAML(t, mesh.Options{IstioVersion: mesh.VersionOf("1.26.0")}, gw)
	if r := resultFor(Evaluate(m, v("1.26.0"), v("1.27.0")), "native-sidecars"); r == nil || r.Affected {
		t.Errorf("gateway deployment: want not affected, got %+v", r)
	}
}

// envoyFilterMatching is an EnvoyFilter inserting a Lua filter (with its
// typed_config) into the HTTP filter chain of the named network filter.
func envoyFilterMatching(filter string) string {
	return `apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: lua, namespace: shop}
spec:
  configPatches:
  - applyTo: HTTP_FILTER
    match:
      listener:
        filterChain:
          filter:
            name: ` + filter + `
    patch:
      operation: INSERT_FIRST
      value:
        name: envoy.filters.http.lua
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua
`
}
