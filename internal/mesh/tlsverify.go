package mesh

import (
	"fmt"

	istioapi "istio.io/api/networking/v1alpha3"
)

// ServerVerification is how a proxy originating TLS (DestinationRule
// tls.mode SIMPLE or MUTUAL) checks the server's certificate chain.
type ServerVerification struct {
	// Originates is false for other modes (nothing to verify here).
	Originates bool
	Verified   bool
	// Trust names the CA the chain is checked against ("" when not
	// verified); Why explains the decision for messages.
	Trust, Why string
	// SystemBundle: no CA is configured and the proxy falls back to its
	// image's system CA bundle (VERIFY_CERTIFICATE_AT_CLIENT).
	SystemBundle bool
	// Ignored names the CA setting that insecureSkipVerify overrides.
	Ignored string
	Flag    FeatureFlag
}

// ServerVerification decides how s verifies the server certificate. A
// credentialName supplies the CA from the Secret's ca.crt; caCertificates
// names a CA file; without either, Istio 1.21+ (VERIFY_CERTIFICATE_AT_CLIENT,
// always on from 1.24) uses the system CA bundle, and older releases set no
// validation context at all: any certificate is accepted.
// insecureSkipVerify turns verification off whatever the CA.
// (istio.io/istio pilot/pkg/networking/core/cluster_tls.go
// buildUpstreamTLSContext: CaCertificatePath defaults to "system")
// https://istio.io/latest/docs/reference/config/networking/destination-rule/#ClientTLSSettings
func (m *Model) ServerVerification(s *istioapi.ClientTLSSettings) ServerVerification {
	mode := s.GetMode()
	if mode != istioapi.ClientTLSSettings_SIMPLE && mode != istioapi.ClientTLSSettings_MUTUAL {
		return ServerVerification{}
	}
	v := ServerVerification{Originates: true, Flag: m.Istio.Flag("VERIFY_CERTIFICATE_AT_CLIENT")}
	ca := ""
	switch {
	case s.GetCredentialName() != "":
		ca = "the ca.crt of credentialName " + s.GetCredentialName()
	case s.GetCaCertificates() != "":
		ca = "caCertificates " + s.GetCaCertificates()
	}
	switch {
	case s.GetInsecureSkipVerify().GetValue():
		v.Why, v.Ignored = "insecureSkipVerify: true turns certificate verification off", ca
	case ca != "":
		v.Verified, v.Trust, v.Why = true, ca, "verified against "+ca
	case v.Flag.On:
		v.Verified, v.SystemBundle, v.Trust = true, true, "the proxy image's system CA bundle"
		v.Why = fmt.Sprintf("no caCertificates or credentialName: verified against the proxy image's system CA bundle (VERIFY_CERTIFICATE_AT_CLIENT: %s)", v.Flag.Why)
	default:
		v.Why = fmt.Sprintf("no caCertificates or credentialName, and VERIFY_CERTIFICATE_AT_CLIENT is off (%s): the proxy accepts any server certificate", v.Flag.Why)
	}
	return v
}

// ClientTLSAt is one tls block of a DestinationRule with its YAML path:
// the rule's trafficPolicy, a portLevelSettings entry, or the same in a
// subset's trafficPolicy.
type ClientTLSAt struct {
	Settings *istioapi.ClientTLSSettings
	Path     []any  // to the tls field
	Port     uint32 // 0 unless port-level
	Subset   string // "" unless in a subset
}

// ClientTLSSettings lists every tls block of dr in the order written.
func ClientTLSSettings(dr *DestinationRule) []ClientTLSAt {
	if dr == nil || dr.Spec == nil {
		return nil
	}
	var out []ClientTLSAt
	add := func(tp *istioapi.TrafficPolicy, subset string, base ...any) {
		if t := tp.GetTls(); t != nil {
			out = append(out, ClientTLSAt{Settings: t, Path: append(append([]any{}, base...), "tls"), Subset: subset})
		}
		for i, pl := range tp.GetPortLevelSettings() {
			if t := pl.GetTls(); t != nil {
				out = append(out, ClientTLSAt{Settings: t, Path: append(append([]any{}, base...), "portLevelSettings", i, "tls"), Port: pl.GetPort().GetNumber(), Subset: subset})
			}
		}
	}
	add(dr.Spec.TrafficPolicy, "", "spec", "trafficPolicy")
	for i, s := range dr.Spec.Subsets {
		add(s.GetTrafficPolicy(), s.GetName(), "spec", "subsets", i, "trafficPolicy")
	}
	return out
}
