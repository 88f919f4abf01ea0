package mesh

import (
	"strings"

	istioapi "istio.io/api/networking/v1alpha3"
)

// SidecarDropsTLS reports whether a sidecar (not a gateway) builds no TLS
// at all for ct and sends plaintext: the settings originate TLS (SIMPLE or
// MUTUAL) with a credentialName naming a Secret, and the DestinationRule
// has no workloadSelector. istiod gives such a cluster no transport socket
// for sidecars, so that every sidecar the rule applies to does not wait
// for a Secret it may not read (buildUpstreamClusterTLSContext,
// pilot/pkg/networking/core/cluster_tls.go, since Istio 1.7, istio/istio
// #25517; a plaintext request then reaches the TLS server, istio/istio
// #31738). Gateways read the credential; sidecars do only for a rule with
// a workloadSelector (Istio 1.14+, istio/istio #38324; the Secret must be
// in the client's namespace), and a "configmap://" credential (a CA only,
// readable by every proxy) is never dropped.
// https://istio.io/latest/docs/reference/config/networking/destination-rule/#ClientTLSSettings
func SidecarDropsTLS(ct ClientTLS) bool {
	s := ct.Settings
	if s == nil || ct.Rule == nil || ct.Rule.Spec.GetWorkloadSelector() != nil {
		return false
	}
	if s.Mode != istioapi.ClientTLSSettings_SIMPLE && s.Mode != istioapi.ClientTLSSettings_MUTUAL {
		return false
	}
	name := s.GetCredentialName()
	return name != "" && !strings.HasPrefix(name, "configmap://")
}

// WorkloadDestinationRules returns the DestinationRules of namespace ns
// with a workloadSelector whose host covers host: for the sidecars they
// select, such a rule replaces the namespace's others
// (SidecarScope.DestinationRule, pilot/pkg/model/sidecar.go; a selector
// applies in the rule's own namespace only). DestinationRuleFor leaves
// them out, as it answers for a namespace's clients at large.
func (m *Model) WorkloadDestinationRules(ns, host string) []*DestinationRule {
	var out []*DestinationRule
	for _, dr := range m.drsByNSHost[ns][host] {
		if dr.Spec.GetWorkloadSelector() != nil {
			out = append(out, dr)
		}
	}
	for _, dr := range m.wildcardDRs[ns] {
		if dr.Spec.GetWorkloadSelector() != nil && HostMatches(dr.Host, host) {
			out = append(out, dr)
		}
	}
	return out
}
