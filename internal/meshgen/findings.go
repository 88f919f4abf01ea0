package meshgen

import (
	"bufio"
	"fmt"
	"io"
)

// The findings-heavy shape is the mesh of a neglected cluster: most
// objects carry a real problem, so benchmarks measure what findings cost
// (positions, messages, output) and not only what objects cost. It is the
// shape of issue 10, where the clean mesh's 12 findings hid that cost:
//
//   - per namespace, half of them without istio-injection, M services;
//   - each service a Deployment with only version v1 pods, a Service whose
//     port is named http (every 10th web), a DestinationRule with subsets
//     v1 and v2, and a VirtualService splitting 90/10 between them, so
//     every v2 subset selects no pods;
//   - every 10th VirtualService routes its canary match to a subset no
//     DestinationRule defines, every 10th (another one) to a host that does
//     not exist;
//   - one gateway VirtualService in istio-system with a route per
//     namespace (to subset v1, as the mesh VirtualService's default
//     route does, so it bypasses no mesh rule), bound to a Gateway that
//     does not exist (istio-system has
//     another Gateway, so the absence is real and not partial input).
//
// Every planted problem is deliberate and counted by FindingsHeavyExpected;
// the test checks each count exactly.

// FindingsHeavyObjects is the number of objects GenerateFindingsHeavy
// writes: per namespace the Namespace and four objects a service, plus
// istio-system's Namespace, its Gateway and the gateway VirtualService.
func FindingsHeavyObjects(cfg Config) int {
	return 3 + cfg.Namespaces*(1+4*cfg.Services)
}

// The services of a namespace that carry each tenth-planted problem: a
// different residue each, so no service has two of them and each yields
// exactly its own finding.
func webPort(i int) bool       { return i%10 == 9 }
func missingSubset(i int) bool { return i%10 == 3 }
func missingHost(i int) bool   { return i%10 == 6 }

// injected: even namespaces are injected, odd ones are not.
func injected(n int) bool { return n%2 == 0 }

func countServices(cfg Config, pick func(int) bool) int {
	c := 0
	for i := 0; i < cfg.Services; i++ {
		if pick(i) {
			c++
		}
	}
	return c * cfg.Namespaces
}

// FindingsHeavyExpected returns, by rule, the findings the findings-heavy
// mesh must produce; a rule absent from the map must produce none.
func FindingsHeavyExpected(cfg Config) map[string]int {
	out := map[string]int{
		// Every DestinationRule's v2 subset: no Deployment has version v2
		// pods. A route's host that does not exist has no pods either, but
		// its subset is not looked up by this rule (its DestinationRule
		// is the existing service's), so the count is exactly one each.
		"subset-selects-no-pods": cfg.Namespaces * cfg.Services,
		// The canary match routes to subset v3 on every 10th service.
		"subset-not-found": countServices(cfg, missingSubset),
		// The weighted route to <svc>-typo on every 10th service, and the
		// gateway VirtualService's route is fine (existing services).
		"destination-host-not-found": countServices(cfg, missingHost),
		// The gateway VirtualService names a Gateway that does not exist.
		"virtualservice-gateway-not-found": 1,
	}
	// A port named "web" (no protocol prefix) under HTTP route rules:
	// the clients' sidecars sniff it, whether or not the server is
	// injected, so every such Service counts.
	out["unnamed-port-l7-rules"] = countServices(cfg, webPort)
	return out
}

// GenerateFindingsHeavy writes the findings-heavy mesh as one stream per
// namespace through open, like Generate. Plants are not used.
func GenerateFindingsHeavy(cfg Config, open func(name string) (io.WriteCloser, error)) error {
	if len(cfg.Plants) > 0 {
		return fmt.Errorf("the findings-heavy mesh takes no plants: its problems are part of its shape")
	}
	w, err := open("istio-system.yaml")
	if err != nil {
		return err
	}
	if err := write(w, func(b *bufio.Writer) { findingsGateway(b, cfg.Namespaces) }); err != nil {
		return err
	}
	for n := 0; n < cfg.Namespaces; n++ {
		ns := fmt.Sprintf("ns-%03d", n)
		w, err := open(ns + ".yaml")
		if err != nil {
			return err
		}
		if err := write(w, func(b *bufio.Writer) { findingsNamespace(b, n, ns, cfg.Services) }); err != nil {
			return err
		}
	}
	return nil
}

func findingsGateway(b *bufio.Writer, namespaces int) {
	fmt.Fprint(b, `apiVersion: v1
kind: Namespace
metadata:
  name: istio-system
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: shop
  namespace: istio-system
spec:
  selector:
    istio: ingressgateway
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [shop.example.com]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: shop-gateway
  namespace: istio-system
spec:
  hosts: [shop.example.com]
  gateways: [shop-v2]
  http:
`)
	for n := 0; n < namespaces; n++ {
		fmt.Fprintf(b, `  - match:
    - uri: {prefix: /ns-%03[1]d/}
    route:
    - destination: {host: svc-000.ns-%03[1]d.svc.cluster.local, subset: v1, port: {number: 8080}}
`, n)
	}
}

func findingsNamespace(b *bufio.Writer, n int, ns string, services int) {
	labels := ""
	if injected(n) {
		labels = "\n  labels:\n    istio-injection: enabled"
	}
	fmt.Fprintf(b, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s%s\n", ns, labels)
	for i := 0; i < services; i++ {
		name := fmt.Sprintf("svc-%03d", i)
		port, canary, host := "http", "v1", name
		if webPort(i) {
			port = "web"
		}
		if missingSubset(i) {
			canary = "v3"
		}
		if missingHost(i) {
			host = name + "-typo"
		}
		fmt.Fprintf(b, `---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s-v1
  namespace: %[2]s
spec:
  replicas: 2
  selector:
    matchLabels: {app: %[1]s, version: v1}
  template:
    metadata:
      labels: {app: %[1]s, version: v1}
    spec:
      containers:
      - name: app
        image: registry.example.com/shop/%[1]s:v1
        ports:
        - {containerPort: 8080, name: http}
        readinessProbe:
          httpGet: {path: /healthz, port: http}
---
apiVersion: v1
kind: Service
metadata:
  name: %[1]s
  namespace: %[2]s
spec:
  selector:
    app: %[1]s
  ports:
  - name: %[3]s
    port: 8080
    targetPort: http
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: %[1]s
  namespace: %[2]s
spec:
  host: %[1]s
  subsets:
  - name: v1
    labels: {version: v1}
  - name: v2
    labels: {version: v2}
---
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
    - destination: {host: %[1]s, subset: %[4]s}
  - route:
    - destination: {host: %[5]s, subset: v1}
      weight: 90
    - destination: {host: %[1]s, subset: v2}
      weight: 10
`, name, ns, port, canary, host)
	}
}
