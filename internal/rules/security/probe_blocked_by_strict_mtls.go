package security

import (
	"fmt"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// ProbeBlockedByStrictMTLS: the kubelet's own HTTP/gRPC probe reaches a
// STRICT sidecar because probe rewriting is off.
var ProbeBlockedByStrictMTLS = &rules.Rule{
	Code: "MD2003", Name: "probe-blocked-by-strict-mtls", Severity: finding.Error, Area: "security",
	Summary: "An HTTP or gRPC probe targets a STRICT mTLS port while probe rewriting is off.",
	Needs:   []string{"PeerAuthentication"},
	Since:   "0.1.0",
	Doc: rules.Doc{
		Mechanism: "The kubelet sends probes from the node, in plaintext and without an Istio certificate. Normally the sidecar injector rewrites httpGet and grpc probes to the istio-agent on port 15020, which calls the application from inside the pod. With rewriting off (pod annotation sidecar.istio.io/rewriteAppHTTPProbers: \"false\", or sidecarInjectorWebhook.rewriteAppHTTPProbe=false in the injector) the probe goes to the application port, is redirected to the sidecar, and a port whose PeerAuthentication is STRICT only accepts Istio mTLS: the sidecar closes the connection.",
		Symptom:   "Pods never become Ready (readiness) or restart in a loop (liveness/startup); kubectl describe pod shows \"Readiness probe failed: Get \\\"http://10.x.x.x:8080/healthz\\\": read tcp ...: read: connection reset by peer\" or \"... EOF\".",
		Fix:       "Turn probe rewriting back on: remove the sidecar.istio.io/rewriteAppHTTPProbers: \"false\" annotation (or set it to \"true\"), or set sidecarInjectorWebhook.rewriteAppHTTPProbe=true; alternatively serve health checks on a separate port with a workload PeerAuthentication portLevelMtls PERMISSIVE for it, or use an exec probe.",
		Before:    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: orders\n  namespace: shop   # STRICT PeerAuthentication\nspec:\n  selector:\n    matchLabels: {app: orders}\n  template:\n    metadata:\n      labels: {app: orders}\n      annotations:\n        sidecar.istio.io/rewriteAppHTTPProbers: \"false\"\n    spec:\n      containers:\n      - name: orders\n        image: orders:1.4\n        ports:\n        - {name: http, containerPort: 8080}\n        readinessProbe:\n          httpGet: {path: /healthz, port: http}\n",
		After:     "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: orders\n  namespace: shop\nspec:\n  selector:\n    matchLabels: {app: orders}\n  template:\n    metadata:\n      labels: {app: orders}\n    spec:\n      containers:\n      - name: orders\n        image: orders:1.4\n        ports:\n        - {name: http, containerPort: 8080}\n        readinessProbe:\n          httpGet: {path: /healthz, port: http}   # rewritten to the istio-agent at injection\n",
		Sources: []string{
			"https://istio.io/latest/docs/ops/configuration/mesh/app-health-check/",
			"https://istio.io/latest/docs/reference/config/annotations/",
		},
	},
	Run: runProbeBlockedByStrictMTLS,
}

func runProbeBlockedByStrictMTLS(p *rules.Pass) {
	m := p.Model
	if !m.AnyStrict() {
		return
	}
	for _, w := range m.Workloads {
		// Ambient pods are exempt: kubelet probes bypass ztunnel.
		if !m.Meshed(w) {
			continue
		}
		on, why := m.ProbeRewrite(w)
		if on {
			continue
		}
		for _, pr := range w.Probes() {
			var port int32
			var kind string
			var path []any
			switch {
			case pr.Probe.HTTPGet != nil:
				if pr.Probe.HTTPGet.Host != "" { // probes another address, not the pod
					continue
				}
				var ok bool
				if port, ok = mesh.ProbePort(pr.Container, pr.Probe.HTTPGet.Port); !ok {
					continue
				}
				kind, path = "httpGet", pr.Path("httpGet")
			case pr.Probe.GRPC != nil:
				port, kind, path = pr.Probe.GRPC.Port, "grpc", pr.Path("grpc")
			default:
				continue
			}
			if !w.InboundCaptured(port) {
				continue
			}
			mt := m.EffectiveMTLS(w, uint32(port))
			if mt.Mode != mesh.ModeStrict {
				continue
			}
			f := rules.AtPod(w, path...)
			f.Message = fmt.Sprintf("%s %s/%s container %q %s (%s on port %d) reaches the sidecar in plaintext: probe rewriting is off (%s) and port %d requires mTLS (STRICT from %s)",
				w.Kind, w.Namespace, w.Name, pr.Container.Name, pr.Field, kind, port, why, port, mtlsSourceDesc(mt))
			f.Symptom = fmt.Sprintf("the kubelet's %s fails with \"connection reset by peer\" or \"EOF\" (kubectl describe pod: \"%s failed: ...\"); %s", pr.Field, probeEventName(pr.Field), probeConsequence(pr.Field))
			f.Fix = fmt.Sprintf("let the injector rewrite the probe to the istio-agent: in the pod template metadata of %s/%s set\nannotations:\n  sidecar.istio.io/rewriteAppHTTPProbers: \"true\"\n(or remove the \"false\" value / set sidecarInjectorWebhook.rewriteAppHTTPProbe=true mesh-wide), then restart the pods; or serve the probe on a port made PERMISSIVE with a workload PeerAuthentication portLevelMtls entry", w.Namespace, w.Name)
			p.Report(f)
		}
	}
}

func probeEventName(field string) string {
	switch field {
	case "livenessProbe":
		return "Liveness probe"
	case "startupProbe":
		return "Startup probe"
	}
	return "Readiness probe"
}

func probeConsequence(field string) string {
	switch field {
	case "livenessProbe":
		return "the kubelet restarts the container again and again (CrashLoopBackOff)"
	case "startupProbe":
		return "the container never finishes starting and is restarted"
	}
	return "the pods never become Ready and receive no Service traffic"
}
