package mesh

import (
	corev1 "k8s.io/api/core/v1"
)

// DestinationBackends is what one route destination reaches.
type DestinationBackends struct {
	Service  *Service
	Port     *corev1.ServicePort
	Subset   string
	Backends []Backend
}

// RouteBackends answers "which workloads receive traffic a route
// destination sends, for clients in clientNS": the Service of its host,
// the Service port it names (or the Service's only port, as Istio picks
// when the destination names none), narrowed to the subset's pods when it
// names a subset of the DestinationRule the client uses. ok is false when
// the input cannot say: no Service for the host, a port the Service does
// not have, several ports and none named, or a subset no DestinationRule
// defines.
func (m *Model) RouteBackends(clientNS string, d RouteDestination) (DestinationBackends, bool) {
	if d.Destination == nil {
		return DestinationBackends{}, false
	}
	svc := m.LookupHostFrom(clientNS, d.Host).Service
	if svc == nil {
		return DestinationBackends{}, false
	}
	var sp *corev1.ServicePort
	if n := d.Destination.GetPort().GetNumber(); n != 0 {
		sp, _ = svc.Port(n)
	} else if len(svc.Spec.Ports) == 1 {
		sp = &svc.Spec.Ports[0]
	}
	if sp == nil {
		return DestinationBackends{}, false
	}
	out := DestinationBackends{Service: svc, Port: sp, Subset: d.Destination.GetSubset(), Backends: m.Backends(svc, sp)}
	if out.Subset != "" {
		s, _ := Subset(m.DestinationRuleFor(clientNS, d.Host), out.Subset)
		if s == nil {
			return DestinationBackends{}, false
		}
		out.Backends = SubsetBackends(out.Backends, s.Labels)
	}
	return out, true
}
