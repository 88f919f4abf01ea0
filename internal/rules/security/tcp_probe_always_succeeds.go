package security

import (
	"fmt"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// TCPProbeAlwaysSucceeds: a tcpSocket probe of a sidecar pod that the
// injector does not rewrite only tests that Envoy accepts connections.
var TCPProbeAlwaysSucceeds = &rules.Rule{
	Code: "MD2004", Name: "tcp-probe-always-succeeds", Severity: finding.Info, Area: "security",
	Summary: "A tcpSocket probe of a sidecar pod is not rewritten, so it always passes.",
	Needs:   []string{"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod"},
	Since:   "0.1.0",
	Doc: rules.Doc{
		Mechanism: "A tcpSocket probe only checks that a TCP connection to the port can be opened. In a pod with a sidecar, iptables redirects every inbound connection to Envoy, which accepts it whether or not the application listens. Since Istio 1.12 the injector rewrites TCP probes to the istio-agent, which checks the application port from inside the pod; with probe rewriting off (sidecar.istio.io/rewriteAppHTTPProbers: \"false\", sidecarInjectorWebhook.rewriteAppHTTPProbe=false, istiod REWRITE_TCP_PROBES=false) or on older Istio, it is not rewritten.",
		Symptom:   "The probe passes while the application is down or not yet listening: pods are marked Ready too early and receive traffic that fails (503 with response flag UF/URX, \"connection refused\" from the sidecar), and a hung application is never restarted by its liveness probe.",
		Fix:       "Turn probe rewriting on for the pod (remove sidecar.istio.io/rewriteAppHTTPProbers: \"false\"), on Istio 1.12 or later; or replace the tcpSocket probe with an httpGet, grpc or exec probe that the application itself answers.",
		Before:    "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: cache\n  namespace: shop   # istio-injection=enabled\nspec:\n  serviceName: cache\n  selector:\n    matchLabels: {app: cache}\n  template:\n    metadata:\n      labels: {app: cache}\n      annotations:\n        sidecar.istio.io/rewriteAppHTTPProbers: \"false\"\n    spec:\n      containers:\n      - name: redis\n        image: redis:7\n        readinessProbe:\n          tcpSocket: {port: 6379}\n",
		After:     "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: cache\n  namespace: shop\nspec:\n  serviceName: cache\n  selector:\n    matchLabels: {app: cache}\n  template:\n    metadata:\n      labels: {app: cache}\n    spec:\n      containers:\n      - name: redis\n        image: redis:7\n        readinessProbe:\n          exec:\n            command: [redis-cli, ping]\n",
		Sources: []string{
			"https://istio.io/latest/news/releases/1.12.x/announcing-1.12/upgrade-notes/",
			"https://istio.io/latest/docs/ops/configuration/mesh/app-health-check/",
		},
	},
	Run: runTCPProbeAlwaysSucceeds,
}

func runTCPProbeAlwaysSucceeds(p *rules.Pass) {
	m := p.Model
	for _, w := range m.Workloads {
		// Ambient pods are exempt: kubelet probes bypass ztunnel.
		if !m.Meshed(w) {
			continue
		}
		on, why := m.TCPProbeRewrite(w)
		if on {
			continue
		}
		for _, pr := range w.Probes() {
			if pr.Probe.TCPSocket == nil || pr.Probe.TCPSocket.Host != "" {
				continue
			}
			port, ok := mesh.ProbePort(pr.Container, pr.Probe.TCPSocket.Port)
			if !ok || !w.InboundCaptured(port) {
				continue
			}
			f := rules.AtPod(w, pr.Path("tcpSocket")...)
			f.Message = fmt.Sprintf("%s %s/%s container %q %s (tcpSocket port %d) is answered by the sidecar, not the application: the probe is not rewritten (%s)",
				w.Kind, w.Namespace, w.Name, pr.Container.Name, pr.Field, port, why)
			f.Symptom = fmt.Sprintf("the %s always passes while the sidecar runs, even when the application is not listening on port %d: pods get traffic before they can serve it (503 UF/URX, connection refused) and a hung application is never restarted", pr.Field, port)
			enable := fmt.Sprintf("enable probe rewriting for %s/%s (remove sidecar.istio.io/rewriteAppHTTPProbers: \"false\" from the pod template, or set sidecarInjectorWebhook.rewriteAppHTTPProbe=true) and restart its pods", w.Namespace, w.Name)
			if httpOn, _ := m.ProbeRewrite(w); httpOn {
				// Only TCP probes escape rewriting: the version or istiod's flag.
				enable = "upgrade to Istio 1.12 or later and restart the pods"
				if strings.Contains(why, "REWRITE_TCP_PROBES") {
					enable = "remove REWRITE_TCP_PROBES=false from istiod's environment and restart the pods"
				}
			}
			f.Fix = enable + "; or replace the tcpSocket probe with an httpGet, grpc or exec probe the application answers itself"
			p.Report(f)
		}
	}
}
