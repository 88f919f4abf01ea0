package mesh

// SubsetIsWholeService reports whether routing to the named subset of host
// (as seen by clients in clientNS) currently behaves exactly like routing
// to the host without a subset: the host is a Service in the input whose
// pods are all in the input, every one of them carries the subset's labels,
// and the subset sets no traffic policy of its own. A subset is the
// Service's endpoints filtered by its labels, and a subset's trafficPolicy
// applies only to traffic routed to that subset; when the filter keeps
// every endpoint and adds no policy, the Envoy cluster
// outbound|port|subset|host has the same endpoints and settings as
// outbound|port||host.
// https://istio.io/latest/docs/reference/config/networking/destination-rule/#Subset
//
// It answers false whenever that cannot be shown from the input (no such
// subset, pods not in the input, a pod without the labels).
func (m *Model) SubsetIsWholeService(clientNS, host, subset string) bool {
	svc := m.ServiceByHost(host)
	if svc == nil {
		return false
	}
	s, _ := Subset(m.DestinationRuleFor(clientNS, host), subset)
	if s == nil || s.TrafficPolicy != nil {
		return false
	}
	ws := m.ServiceWorkloads(svc)
	if len(ws) == 0 {
		return false
	}
	for _, w := range ws {
		if !Matches(s.Labels, w.Labels) {
			return false
		}
		for _, p := range w.Instances {
			if !Matches(s.Labels, p.Labels) {
				return false
			}
		}
	}
	return true
}
