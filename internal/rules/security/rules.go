// Package security holds the rules about mTLS, TLS origination, certificates
// and the pod security that sidecar injection depends on.
package security

import "github.com/meshdoctor/meshdoctor/internal/rules"

// Rules of this area, by code.
var Rules = []*rules.Rule{
	MTLSModeConflict,
	NonMeshClientStrictMTLS,
	ProbeBlockedByStrictMTLS,
	TCPProbeAlwaysSucceeds,
	AutoSNISANMismatch,
	IstioInitBlockedByPodSecurity,
	GatewayCredentialNotFound,
	GatewayCertificateInvalid,
	UpstreamCertificateNotVerified,
	JWTClaimRouteWithoutAuthn,
	AuthzDeniesGatewayTraffic,
	AuthzDeniesPlaintextCaller,
	AuthzHTTPFieldsOnTCP,
	PeerAuthenticationPortIsServicePort,
	PolicySelectorIsHostname,
	AuthzAllowShadowedByDeny,
	SidecarTLSCredentialIgnored,
}
