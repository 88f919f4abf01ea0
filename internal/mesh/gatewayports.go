package mesh

import (
	corev1 "k8s.io/api/core/v1"
)

// GatewayPortExposure says how a gateway workload's Services carry a
// Gateway server port to its pods.
type GatewayPortExposure struct {
	// Exposed: some Service port leads to the listener.
	Exposed bool
	// Unknown: a Service's named targetPort does not resolve against the
	// workload's containers, so the answer cannot be told.
	Unknown bool
	// Listen is the port the gateway proxy listens on for the server.
	Listen uint32
	// Service and Port expose it (nil when not exposed).
	Service *Service
	Port    *corev1.ServicePort
}

// GatewayServerPort resolves a Gateway server port on gateway workload w.
// With selector-based Gateways, istiod first takes the number as a port of
// a Service selecting the gateway pods and listens on that port's
// targetPort; failing that it listens on the number itself, which a
// Service reaches only through a port whose targetPort is that number.
// (pilot/pkg/model/gateway.go resolvePorts, legacy gateway selector)
// Only TCP Service ports count. With no Service selecting w the result
// is not Exposed and not Unknown: callers decide whether that is partial
// input.
func (m *Model) GatewayServerPort(w *Workload, number uint32) GatewayPortExposure {
	unknown := false
	for _, s := range m.ServicesOf(w) {
		if _, ok := s.Object.Labels["networking.istio.io/disable-gateway-port-translation"]; ok {
			continue // opted out of translation
		}
		for i := range s.Spec.Ports {
			sp := &s.Spec.Ports[i]
			if !tcpPort(sp) || uint32(sp.Port) != number {
				continue
			}
			target, _, ok := w.ContainerPort(sp.TargetPort, sp.Port)
			if !ok {
				return GatewayPortExposure{Unknown: true}
			}
			return GatewayPortExposure{Exposed: true, Listen: uint32(target), Service: s, Port: sp}
		}
	}
	for _, s := range m.ServicesOf(w) {
		for i := range s.Spec.Ports {
			sp := &s.Spec.Ports[i]
			if !tcpPort(sp) {
				continue
			}
			target, _, ok := w.ContainerPort(sp.TargetPort, sp.Port)
			if !ok {
				unknown = true
				continue
			}
			if uint32(target) == number {
				return GatewayPortExposure{Exposed: true, Listen: number, Service: s, Port: sp}
			}
		}
	}
	return GatewayPortExposure{Unknown: unknown, Listen: number}
}

func tcpPort(sp *corev1.ServicePort) bool {
	return sp.Protocol == "" || sp.Protocol == corev1.ProtocolTCP
}
