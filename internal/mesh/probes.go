package mesh

import (
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Probe is one readiness, liveness or startup probe of a workload's
// application container.
type Probe struct {
	Container      *corev1.Container
	ContainerIndex int
	Field          string // readinessProbe, livenessProbe or startupProbe
	Probe          *corev1.Probe
}

// Path is the probe's path below the pod template, for PodPos.
func (p Probe) Path(rest ...any) []any {
	return append([]any{"spec", "containers", p.ContainerIndex, p.Field}, rest...)
}

// Probes lists the probes of w's containers, skipping istio-proxy (whose
// probes target the agent itself).
func (w *Workload) Probes() []Probe {
	var out []Probe
	for i := range w.PodSpec.Containers {
		c := &w.PodSpec.Containers[i]
		if c.Name == "istio-proxy" {
			continue
		}
		for _, p := range []struct {
			field string
			probe *corev1.Probe
		}{{"readinessProbe", c.ReadinessProbe}, {"livenessProbe", c.LivenessProbe}, {"startupProbe", c.StartupProbe}} {
			if p.probe != nil {
				out = append(out, Probe{Container: c, ContainerIndex: i, Field: p.field, Probe: p.probe})
			}
		}
	}
	return out
}

// ProbePort resolves a probe port: a number, or the name of a port of the
// same container (the kubelet looks named probe ports up in the probed
// container only). ok is false for a name the container does not declare.
func ProbePort(c *corev1.Container, port intstr.IntOrString) (int32, bool) {
	if port.Type == intstr.String {
		for _, p := range c.Ports {
			if p.Name == port.StrVal {
				return p.ContainerPort, true
			}
		}
		if n, err := strconv.Atoi(port.StrVal); err == nil {
			return int32(n), true
		}
		return 0, false
	}
	return port.IntVal, port.IntVal > 0
}

// ProbeRewrite reports whether the sidecar injector rewrites w's HTTP, gRPC
// and TCP probes so that the istio-agent (port 15020) performs them instead
// of the kubelet reaching the application through the sidecar. The pod
// annotation sidecar.istio.io/rewriteAppHTTPProbers wins over the
// injector's sidecarInjectorWebhook.rewriteAppHTTPProbe value (on by
// default since Istio 1.5).
// https://istio.io/latest/docs/ops/configuration/mesh/app-health-check/
func (m *Model) ProbeRewrite(w *Workload) (on bool, why string) {
	if v, ok := w.Annotations["sidecar.istio.io/rewriteAppHTTPProbers"]; ok {
		if b, err := strconv.ParseBool(strings.TrimSpace(v)); err == nil {
			return b, "pod annotation sidecar.istio.io/rewriteAppHTTPProbers: \"" + v + "\""
		}
	}
	if m.Mesh.RewriteAppProbes {
		return true, "probe rewriting is on by default"
	}
	return false, "sidecarInjectorWebhook.rewriteAppHTTPProbe is false in " + m.Mesh.RewriteAppProbesSource
}

// TCPProbeRewrite is ProbeRewrite for tcpSocket probes: the injector only
// rewrites them since Istio 1.12, and istiod's REWRITE_TCP_PROBES=false
// turns that part off.
// https://istio.io/latest/news/releases/1.12.x/announcing-1.12/upgrade-notes/
func (m *Model) TCPProbeRewrite(w *Workload) (on bool, why string) {
	on, why = m.ProbeRewrite(w)
	if !on {
		return false, why
	}
	if m.Istio.VersionKnown && !m.Istio.Version.AtLeast(1, 12) {
		return false, "Istio " + m.Istio.Version.MinorString() + " (" + m.Istio.VersionSource + ") rewrites only HTTP probes; TCP probes are rewritten since 1.12"
	}
	if v, ok := m.Istio.Env["REWRITE_TCP_PROBES"]; ok {
		if b, err := strconv.ParseBool(v); err == nil && !b {
			return false, "REWRITE_TCP_PROBES=false in " + m.Istio.EnvSource
		}
	}
	return true, why
}

// sidecarOwnPorts are the sidecar's own ports; iptables never redirects them to
// the inbound listener. https://istio.io/latest/docs/ops/deployment/application-requirements/#ports-used-by-istio
var sidecarOwnPorts = map[int32]bool{15000: true, 15001: true, 15004: true, 15006: true, 15008: true, 15009: true, 15020: true, 15021: true, 15053: true, 15090: true}

// IstioPort reports whether port is one the sidecar itself listens on.
func IstioPort(port int32) bool { return sidecarOwnPorts[port] }

// InboundCaptured reports whether the sidecar's iptables rules redirect
// inbound connections to port to Envoy: every port except Istio's own,
// unless traffic.sidecar.istio.io/includeInboundPorts narrows the set or
// traffic.sidecar.istio.io/excludeInboundPorts removes the port.
// https://istio.io/latest/docs/reference/config/annotations/
func (w *Workload) InboundCaptured(port int32) bool {
	if sidecarOwnPorts[port] {
		return false
	}
	p := strconv.Itoa(int(port))
	if inc, ok := w.Annotations["traffic.sidecar.istio.io/includeInboundPorts"]; ok && strings.TrimSpace(inc) != "*" {
		if !annotationPortListHas(inc, p) {
			return false
		}
	}
	if exc, ok := w.Annotations["traffic.sidecar.istio.io/excludeInboundPorts"]; ok && annotationPortListHas(exc, p) {
		return false
	}
	return true
}

func annotationPortListHas(list, port string) bool {
	for _, f := range strings.Split(list, ",") {
		if strings.TrimSpace(f) == port {
			return true
		}
	}
	return false
}
