package security

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// PeerAuthenticationPortIsServicePort: a portLevelMtls key is a Service
// port instead of the workload port it targets.
var PeerAuthenticationPortIsServicePort = &rules.Rule{
	Code: "MD2023", Name: "peerauthentication-port-is-service-port", Severity: finding.Error, Area: "security",
	Summary: "A PeerAuthentication portLevelMtls key is the Service port, not the container port it targets: the setting never applies and the port keeps the workload's mode.",
	Needs:   []string{"PeerAuthentication", "Service"},
	Reads:   []string{"Namespace"},
	Since:   "0.3.0",
	Doc: rules.Doc{
		Mechanism: "The sidecar's inbound listener is built per workload (container) port, and istiod looks portLevelMtls keys up by that port (pilot/pkg/security/authn/policy_applier.go). A key written as the Service port (80) of a Service whose targetPort is another number (8080) matches no inbound port: the setting is silently ignored and the real port keeps the mode of spec.mtls, the namespace or the mesh.",
		Symptom:   "The port does not get the mode written for it: a port meant to be PERMISSIVE (or DISABLE) under STRICT still closes plaintext connections — kubelet probes with rewriting off, Prometheus scrapes or callers without sidecar get \"connection reset by peer\" / EOF, or 503 UC through a proxy; a port meant to be STRICT silently accepts plaintext.",
		Fix:       "Key portLevelMtls by the container port the Service's targetPort resolves to.",
		Before:    "apiVersion: v1\nkind: Service\nmetadata: {name: orders, namespace: shop}\nspec:\n  selector: {app: orders}\n  ports:\n  - {name: http-metrics, port: 80, targetPort: 9090}\n---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: orders, namespace: shop}\nspec:\n  selector:\n    matchLabels: {app: orders}\n  mtls: {mode: STRICT}\n  portLevelMtls:\n    80:               # the Service port\n      mode: PERMISSIVE\n",
		After:     "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: orders, namespace: shop}\nspec:\n  selector:\n    matchLabels: {app: orders}\n  mtls: {mode: STRICT}\n  portLevelMtls:\n    9090:             # the container port\n      mode: PERMISSIVE\n",
		Sources: []string{
			"https://istio.io/latest/docs/reference/config/security/peer_authentication/",
			"https://istio.io/latest/docs/tasks/security/authentication/authn-policy/#enable-mutual-tls-per-port",
			"https://github.com/istio/istio/issues/49098",
			"https://github.com/istio/istio/issues/27994",
		},
	},
	Run: runPeerAuthenticationPortIsServicePort,
}

func runPeerAuthenticationPortIsServicePort(p *rules.Pass) {
	m := p.Model
	for _, pa := range m.PeerAuths {
		sel := pa.Spec.GetSelector().GetMatchLabels()
		if len(sel) == 0 || len(pa.Spec.GetPortLevelMtls()) == 0 {
			continue // without selector portLevelMtls is rejected by validation (another concern)
		}
		ws := m.Select(pa.Namespace, sel)
		keys := make([]uint32, 0, len(pa.Spec.GetPortLevelMtls()))
		for k := range pa.Spec.GetPortLevelMtls() {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, key := range keys {
			want := pa.Spec.GetPortLevelMtls()[key].GetMode()
			reportPortKey(p, m, pa, ws, key, want.String())
		}
	}
}

func reportPortKey(p *rules.Pass, m *mesh.Model, pa *mesh.PeerAuthentication, ws []*mesh.Workload, key uint32, want string) {
	if want == "UNSET" {
		return
	}
	for _, w := range ws {
		ports := m.InboundPorts(w)
		// The key is a real inbound port of the workload: nothing wrong.
		if slices.ContainsFunc(ports, func(ip mesh.InboundPort) bool { return ip.ContainerPort == key }) || declaresContainerPort(w, key) {
			return
		}
		for _, s := range m.ServicesOf(w) {
			for i := range s.Spec.Ports {
				sp := &s.Spec.Ports[i]
				if uint32(sp.Port) != key {
					continue
				}
				target, _, ok := w.ContainerPort(sp.TargetPort, sp.Port)
				if !ok || uint32(target) == key {
					continue
				}
				eff := m.EffectiveMTLS(w, uint32(target))
				if string(eff.Mode) == want {
					continue // the port has that mode anyway: no symptom
				}
				f := rules.At(pa.Object, "spec", "portLevelMtls", strconv.FormatUint(uint64(key), 10))
				f.Message = fmt.Sprintf("portLevelMtls key %d of PeerAuthentication %s/%s is the port of Service %s/%s, which targets container port %d of %s %s/%s; Istio keys portLevelMtls by the workload port, so %s never applies and port %d stays %s (%s)",
					key, pa.Namespace, pa.Name, s.Namespace, s.Name, target, w.Kind, w.Namespace, w.Name, want, target, eff.Mode, mtlsSourceDesc(eff))
				if eff.Mode == mesh.ModeStrict {
					f.Symptom = fmt.Sprintf("port %d still requires mTLS: plaintext callers (kubelet probes, scrapers, pods without sidecar) get \"connection reset by peer\" / EOF, or 503 UC through a proxy", target)
				} else {
					f.Symptom = fmt.Sprintf("port %d still accepts %s instead of %s: no error, but the intended mode is not enforced", target, describeMode(eff.Mode), want)
				}
				f.Fix = fmt.Sprintf("key the entry by the container port:\nportLevelMtls:\n  %d:\n    mode: %s", target, want)
				p.Report(f)
				return
			}
		}
	}
}

func declaresContainerPort(w *mesh.Workload, port uint32) bool {
	for _, c := range w.PodSpec.Containers {
		for _, cp := range c.Ports {
			if uint32(cp.ContainerPort) == port {
				return true
			}
		}
	}
	return false
}

func describeMode(mode mesh.MTLSMode) string {
	switch mode {
	case mesh.ModeDisable:
		return "plaintext only (DISABLE)"
	case mesh.ModePermissive:
		return "plaintext and mTLS (PERMISSIVE)"
	}
	return string(mode)
}
