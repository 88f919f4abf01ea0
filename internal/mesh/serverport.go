package mesh

import (
	corev1 "k8s.io/api/core/v1"
)

// Backend is one workload behind a Service port, with what the server side
// of a connection to it looks like.
type Backend struct {
	Workload      *Workload
	ContainerPort uint32
	Dataplane     Dataplane
	DataplaneWhy  string
	MTLS          ServerMTLS
}

// Backends answers "who receives traffic sent to this Service port, and
// what do they accept": each selected workload with the container port the
// targetPort resolves to, its dataplane and its effective mTLS mode.
func (m *Model) Backends(s *Service, sp *corev1.ServicePort) []Backend {
	return m.backendsOf(m.ServiceWorkloads(s), sp)
}

func (m *Model) backendsOf(ws []*Workload, sp *corev1.ServicePort) []Backend {
	var out []Backend
	for _, w := range ws {
		port, _, ok := w.ContainerPort(sp.TargetPort, sp.Port)
		if !ok {
			continue
		}
		dp, why := m.Injection(w)
		out = append(out, Backend{Workload: w, ContainerPort: uint32(port), Dataplane: dp, DataplaneWhy: why, MTLS: m.EffectiveMTLS(w, uint32(port))})
	}
	return out
}
