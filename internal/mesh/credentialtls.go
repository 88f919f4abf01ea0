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
