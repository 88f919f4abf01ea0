// Package meshgen generates large, deterministic meshes for benchmarks and
// precision tests: N namespaces × M services, each fully wired (Deployments
// per version, Service with named ports, DestinationRule with subsets,
// VirtualService with weighted routes and header matches), plus per
// namespace a Gateway with its VirtualService, a PeerAuthentication, a
// ServiceEntry, Secrets and ConfigMaps. A healthy mesh must produce no
// finding; Plants adds a known number of each seed misconfiguration so a
// benchmark also checks that exactly those are found.
package meshgen

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Config sizes the mesh.
type Config struct {
	Namespaces int
	Services   int // per namespace
	// Plants maps a rule name to how many misconfigurations of that kind to
	// plant (spread over namespaces, one per service at most).
	Plants map[string]int
}

// ObjectsPerService and ObjectsPerNamespace describe the output size:
// objects = Namespaces*(ObjectsPerNamespace + Services*ObjectsPerService)
// + ControlPlaneObjects.
const (
	ObjectsPerService   = 5 // 2 Deployments, Service, DestinationRule, VirtualService
	ObjectsPerNamespace = 8 // Namespace, PeerAuthentication, Gateway and its credential Secret, gateway VirtualService, ServiceEntry, ConfigMap, Secret
	ControlPlaneObjects = 5 // istio-system Namespace, istiod, mesh ConfigMap, ingress gateway Deployment and Service
)

// FindingsPerPlant is how many findings one plant of a rule yields: the GKE
// plant leaves both versions' Deployments without a readiness probe, and
// the rule reports each serving workload.
var FindingsPerPlant = map[string]int{"gke-health-check-default-path": 2}

// Expected returns the findings a planted mesh must produce, by rule.
func Expected(plants map[string]int) map[string]int {
	out := map[string]int{}
	for r, n := range plants {
		if n == 0 {
			continue
		}
		per := FindingsPerPlant[r]
		if per == 0 {
			per = 1
		}
		out[r] = n * per
	}
	return out
}

// Plantable lists the rules Generate can plant, in a stable order.
func Plantable() []string {
	names := make([]string, 0, len(planters))
	for n := range planters {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// service is the state of one generated service: planters flip its fields.
type service struct {
	ns, name         string
	portName         string
	vsSubset         string // subset the header-matched route uses
	v2Label          string // version label value of subset v2
	drTLS            string // DestinationRule tls mode, "" for none
	gatewaySubset    string // subset in the gateway route ("" bypasses mesh rules)
	destHost         string // host of the weighted route
	rewriteProbes    bool
	nginx            bool
	nginxHTTP11      bool
	serverFirst      bool
	noReadinessProbe bool
	gkeIngress       bool
}

type namespace struct {
	name     string
	baseline bool // Pod Security enforce=baseline
}

var planters = map[string]func(*service, *namespace){
	"subset-not-found":                   func(s *service, _ *namespace) { s.vsSubset = "v3" },
	"subset-selects-no-pods":             func(s *service, _ *namespace) { s.v2Label = "v9" },
	"mtls-mode-conflict":                 func(s *service, _ *namespace) { s.drTLS = "DISABLE" },
	"gateway-route-bypasses-mesh-rules":  func(s *service, _ *namespace) { s.gatewaySubset = "" },
	"unnamed-port-l7-rules":              func(s *service, _ *namespace) { s.portName = "web" },
	"destination-host-not-found":         func(s *service, _ *namespace) { s.destHost = s.name + "-typo" },
	"probe-blocked-by-strict-mtls":       func(s *service, _ *namespace) { s.rewriteProbes = false },
	"nginx-upstream-http10":              func(s *service, _ *namespace) { s.nginx, s.nginxHTTP11 = true, false },
	"server-first-protocol-sniffed":      func(s *service, _ *namespace) { s.serverFirst = true },
	"istio-init-blocked-by-pod-security": func(_ *service, n *namespace) { n.baseline = true },
	"gke-health-check-default-path":      func(s *service, _ *namespace) { s.gkeIngress, s.noReadinessProbe = true, true },
}

// Generate writes the mesh as one multi-document YAML stream per namespace
// through open (called with a file name such as "ns-007.yaml").
func Generate(cfg Config, open func(name string) (io.WriteCloser, error)) error {
	if unknown := unknownPlants(cfg.Plants); unknown != "" {
		return fmt.Errorf("cannot plant %s (plantable: %s)", unknown, strings.Join(Plantable(), ", "))
	}
	plan := assign(cfg)
	w, err := open("istio-system.yaml")
	if err != nil {
		return err
	}
	if err := write(w, controlPlane); err != nil {
		return err
	}
	for n := 0; n < cfg.Namespaces; n++ {
		ns := &namespace{name: fmt.Sprintf("ns-%03d", n)}
		svcs := make([]*service, cfg.Services)
		for i := range svcs {
			s := &service{ns: ns.name, name: fmt.Sprintf("svc-%03d", i), portName: "http", vsSubset: "v2", v2Label: "v2", drTLS: "", gatewaySubset: "v1", rewriteProbes: true, nginxHTTP11: true}
			s.destHost = s.name
			if i == 1 {
				s.nginx = true // healthy nginx fronts in every namespace
			}
			for _, rule := range plan[[2]int{n, i}] {
				planters[rule](s, ns)
			}
			svcs[i] = s
		}
		w, err := open(ns.name + ".yaml")
		if err != nil {
			return err
		}
		if err := write(w, func(b *bufio.Writer) { writeNamespace(b, ns, svcs) }); err != nil {
			return err
		}
	}
	return nil
}

func unknownPlants(p map[string]int) string {
	for r := range p {
		if planters[r] == nil {
			return r
		}
	}
	return ""
}

// assign spreads plants deterministically: namespace-level plants go to
// distinct namespaces, service-level ones to distinct services, never two
// on the same service, so every plant yields exactly one finding.
func assign(cfg Config) map[[2]int][]string {
	plan := map[[2]int][]string{}
	slot := 0
	nsSlot := 0
	for _, rule := range Plantable() {
		for k := 0; k < cfg.Plants[rule]; k++ {
			if rule == "istio-init-blocked-by-pod-security" {
				plan[[2]int{nsSlot % cfg.Namespaces, 0}] = append(plan[[2]int{nsSlot % cfg.Namespaces, 0}], rule)
				nsSlot++
				continue
			}
			// Service 0 carries the gateway; service 1 the healthy nginx.
			perNS := cfg.Services - 2
			n, i := slot%cfg.Namespaces, 2+(slot/cfg.Namespaces)%perNS
			if rule == "gateway-route-bypasses-mesh-rules" {
				i = 0
			}
			plan[[2]int{n, i}] = append(plan[[2]int{n, i}], rule)
			slot++
		}
	}
	return plan
}

func write(w io.WriteCloser, f func(*bufio.Writer)) error {
	b := bufio.NewWriterSize(w, 64<<10)
	f(b)
	if err := b.Flush(); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

func controlPlane(b *bufio.Writer) {
	fmt.Fprint(b, `apiVersion: v1
kind: Namespace
metadata:
  name: istio-system
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: istiod
  namespace: istio-system
spec:
  selector:
    matchLabels: {app: istiod}
  template:
    metadata:
      labels: {app: istiod, istio: pilot}
    spec:
      containers:
      - name: discovery
        image: docker.io/istio/pilot:1.27.3
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: istio
  namespace: istio-system
data:
  mesh: |
    rootNamespace: istio-system
    enableAutoMtls: true
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: istio-ingressgateway
  namespace: istio-system
spec:
  selector:
    matchLabels: {istio: ingressgateway}
  template:
    metadata:
      labels: {istio: ingressgateway, app: istio-ingressgateway, sidecar.istio.io/inject: "true"}
      annotations: {inject.istio.io/templates: gateway}
    spec:
      containers:
      - name: istio-proxy
        image: auto
        ports:
        - {containerPort: 8080, name: http2}
        - {containerPort: 8443, name: https}
---
apiVersion: v1
kind: Service
metadata:
  name: istio-ingressgateway
  namespace: istio-system
spec:
  type: LoadBalancer
  selector: {istio: ingressgateway}
  ports:
  - {name: http2, port: 80, targetPort: 8080}
  - {name: https, port: 443, targetPort: 8443}
`)
}

func writeNamespace(b *bufio.Writer, ns *namespace, svcs []*service) {
	labels := "istio-injection: enabled"
	if ns.baseline {
		labels += "\n    pod-security.kubernetes.io/enforce: baseline"
	}
	fmt.Fprintf(b, `apiVersion: v1
kind: Namespace
metadata:
  name: %[1]s
  labels:
    %[2]s
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: default
  namespace: %[1]s
spec:
  mtls:
    mode: STRICT
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: shop
  namespace: %[1]s
spec:
  selector:
    istio: ingressgateway
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [%[1]s.example.com]
    tls:
      mode: SIMPLE
      credentialName: %[1]s-shop-cert
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: payments-api
  namespace: %[1]s
spec:
  hosts: [payments.%[1]s.example.com]
  location: MESH_EXTERNAL
  resolution: DNS
  ports:
  - {number: 443, name: tls, protocol: TLS}
---
apiVersion: v1
kind: Secret
metadata:
  name: app-credentials
  namespace: %[1]s
type: Opaque
stringData:
  password: generated
`, ns.name, labels)
	// The Gateway's credential lives with the gateway workload.
	crt, key := gatewayCert(ns.name + ".example.com")
	fmt.Fprintf(b, "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: %s-shop-cert\n  namespace: istio-system\ntype: kubernetes.io/tls\ndata:\n  tls.crt: %s\n  tls.key: %s\n",
		ns.name, base64.StdEncoding.EncodeToString(crt), base64.StdEncoding.EncodeToString(key))
	gw := svcs[0]
	subset := ""
	if gw.gatewaySubset != "" {
		subset = "\n        subset: " + gw.gatewaySubset
	}
	fmt.Fprintf(b, `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: shop-gateway
  namespace: %[1]s
spec:
  hosts: [%[1]s.example.com]
  gateways: [shop]
  http:
  - route:
    - destination:
        host: %[2]s.%[1]s.svc.cluster.local%[3]s
`, ns.name, gw.name, subset)
	nginx := ""
	for _, s := range svcs {
		if s.nginx {
			nginx += nginxConf(s, svcs)
		}
	}
	fmt.Fprintf(b, "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config\n  namespace: %s\ndata:\n  LOG_LEVEL: info\n%s", ns.name, nginx)
	for _, s := range svcs {
		writeService(b, s)
	}
}

func nginxConf(s *service, svcs []*service) string {
	version := "\n        proxy_http_version 1.1;\n        proxy_set_header Connection \"\";"
	if !s.nginxHTTP11 {
		version = ""
	}
	upstream := svcs[len(svcs)-1].name
	return fmt.Sprintf(`  %s.conf: |
    server {
      listen 8080;
      location / {
        proxy_pass http://%s:8080;%s
      }
    }
`, s.name, upstream, version)
}

func writeService(b *bufio.Writer, s *service) {
	for _, v := range []string{"v1", "v2"} {
		writeDeployment(b, s, v)
	}
	port := 8080
	portSpec := fmt.Sprintf("  - name: %s\n    port: %d\n    targetPort: http", s.portName, port)
	if s.serverFirst {
		// 3306 itself Istio already treats as TCP; a replica port is not.
		portSpec += "\n  - port: 3307\n    targetPort: 3306"
	}
	fmt.Fprintf(b, `---
apiVersion: v1
kind: Service
metadata:
  name: %[1]s
  namespace: %[2]s
spec:
  selector:
    app: %[1]s
  ports:
%[3]s
`, s.name, s.ns, portSpec)
	tls := ""
	if s.drTLS != "" {
		tls = "\n  trafficPolicy:\n    tls:\n      mode: " + s.drTLS
	}
	fmt.Fprintf(b, `---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: %[1]s
  namespace: %[2]s
spec:
  host: %[1]s%[3]s
  subsets:
  - name: v1
    labels: {version: v1}
  - name: v2
    labels: {version: %[4]s}
`, s.name, s.ns, tls, s.v2Label)
	fmt.Fprintf(b, `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: %[1]s
  namespace: %[2]s
spec:
  hosts: [%[1]s]
  http:
  - match:
    - headers:
        x-canary: {exact: "true"}
    route:
    - destination: {host: %[1]s, subset: %[3]s}
  - route:
    - destination: {host: %[4]s, subset: v1}
      weight: 90
    - destination: {host: %[1]s, subset: v2}
      weight: 10
    retries: {attempts: 3, perTryTimeout: 2s}
`, s.name, s.ns, s.vsSubset, s.destHost)
	if s.gkeIngress {
		fmt.Fprintf(b, `---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: %[1]s
  namespace: %[2]s
  annotations:
    kubernetes.io/ingress.class: gce
spec:
  defaultBackend:
    service:
      name: %[1]s
      port: {number: 8080}
`, s.name, s.ns)
	}
}

func writeDeployment(b *bufio.Writer, s *service, version string) {
	// Per-workload plants go on v1 only, so each yields one finding.
	planted := version == "v1"
	annotations := ""
	if !s.rewriteProbes && planted {
		annotations = "\n      annotations:\n        sidecar.istio.io/rewriteAppHTTPProbers: \"false\""
	}
	probe := "\n        readinessProbe:\n          httpGet: {path: /healthz, port: http}"
	if s.noReadinessProbe {
		probe = "\n        livenessProbe:\n          httpGet: {path: /healthz, port: http}"
	}
	image := "registry.example.com/shop/" + s.name + ":" + version
	extraPort := ""
	if s.serverFirst {
		image = "mysql:8.4"
		extraPort = "\n        - {containerPort: 3306, name: mysql}"
	}
	volumes := ""
	if s.nginx {
		image = "nginx:1.27"
		volumes = fmt.Sprintf("\n        volumeMounts:\n        - {name: conf, mountPath: /etc/nginx/conf.d}\n      volumes:\n      - name: conf\n        configMap:\n          name: app-config\n          items:\n          - {key: %s.conf, path: default.conf}", s.name)
	}
	fmt.Fprintf(b, `---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s-%[3]s
  namespace: %[2]s
spec:
  replicas: 2
  selector:
    matchLabels: {app: %[1]s, version: %[3]s}
  template:
    metadata:
      labels: {app: %[1]s, version: %[3]s}%[4]s
    spec:
      containers:
      - name: app
        image: %[5]s
        ports:
        - {containerPort: 8080, name: http}%[6]s%[7]s%[8]s
`, s.name, s.ns, version, annotations, image, extraPort, probe, volumes)
}

// Version changes whenever Generate's output does, so caches of generated
// meshes (benchmarks) can be keyed by it; it covers both shapes (3: the
// findings-heavy shape).
const Version = 3

// Objects is the number of objects Generate writes for cfg, before plants
// (a GKE Ingress plant adds one).
func Objects(cfg Config) int {
	return ControlPlaneObjects + cfg.Namespaces*(ObjectsPerNamespace+cfg.Services*ObjectsPerService)
}
