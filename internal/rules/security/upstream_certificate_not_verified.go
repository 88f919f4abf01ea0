package security

import (
	"fmt"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// UpstreamCertificateNotVerified: a DestinationRule has the proxy
// originate TLS without saying which CA to trust. Whether the server
// certificate is then verified at all depends on the Istio version
// (mesh.ServerVerification).
var UpstreamCertificateNotVerified = &rules.Rule{
	Code: "MD2009", Name: "upstream-certificate-not-verified", Severity: finding.Warning, Area: "security",
	Summary: "A DestinationRule originates TLS (SIMPLE/MUTUAL) without caCertificates or credentialName, or with insecureSkipVerify: the server certificate is not verified, or only against the system CA bundle.",
	Needs:   []string{"DestinationRule"},
	Since:   "0.2.0",
	IST:     []string{"IST0128", "IST0129"},
	Doc: rules.Doc{
		Mechanism: "With tls.mode SIMPLE or MUTUAL the proxy opens TLS to the destination and checks the server's chain against the CA in caCertificates (a file in the proxy) or in the Secret named by credentialName. Without either, Istio before 1.21 (or with VERIFY_CERTIFICATE_AT_CLIENT=false, possible until 1.24) gives Envoy no validation context: any certificate is accepted. From 1.21 the proxy falls back to its image's system CA bundle, so public-CA servers are verified but a server with a private CA is rejected. insecureSkipVerify: true turns verification off in every release, and makes caCertificates ignored. istioctl analyze reports a missing caCertificates as IST0128 (trafficPolicy) and IST0129 (portLevelSettings) whatever the release; meshdoctor reports the unverified cases as warnings, the system-bundle case as information (the chain is verified), also checks subsets' trafficPolicy, and accepts credentialName without a workloadSelector (egress gateways read it; sidecars then originate no TLS at all, which sidecar-tls-credential-ignored reports where sidecars route to the host).",
		Symptom:   "Unverified: the connection succeeds to whatever answers (a man in the middle, a wrong DNS answer), and after an upgrade to 1.21+ a private-CA server starts failing with HTTP 503, flag UF, TLS_error CERTIFICATE_VERIFY_FAILED. System bundle: a server whose certificate is not from a public CA fails that way now.",
		Fix:       "Name the CA that issued the server certificate: caCertificates with a path mounted into the proxy (sidecar.istio.io/userVolumeMount), or credentialName with a Secret holding ca.crt (gateways, or sidecars with a workloadSelector); remove insecureSkipVerify.",
		Before:    "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: payments-api\nspec:\n  host: api.payments.example.com\n  trafficPolicy:\n    tls:\n      mode: SIMPLE\n",
		After:     "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: payments-api\nspec:\n  host: api.payments.example.com\n  trafficPolicy:\n    tls:\n      mode: SIMPLE\n      caCertificates: /etc/payments-ca/ca.pem\n      sni: api.payments.example.com\n",
		Sources: []string{
			"https://istio.io/latest/docs/reference/config/analysis/ist0128/",
			"https://istio.io/latest/docs/reference/config/analysis/ist0129/",
			"https://istio.io/latest/docs/reference/config/networking/destination-rule/#ClientTLSSettings",
			"https://istio.io/latest/news/releases/1.21.x/announcing-1.21/upgrade-notes/",
			"https://istio.io/latest/docs/ops/best-practices/security/#configure-tls-verification-in-destination-rule-when-using-tls-origination",
		},
	},
	Run: runUpstreamCertificateNotVerified,
}

func runUpstreamCertificateNotVerified(p *rules.Pass) {
	for _, dr := range p.Model.DestinationRules {
		for _, t := range mesh.ClientTLSSettings(dr) {
			v := p.Model.ServerVerification(t.Settings)
			if !v.Originates || (v.Verified && !v.SystemBundle) {
				continue
			}
			where := dr.Host
			if t.Port != 0 {
				where += fmt.Sprintf(" port %d", t.Port)
			}
			if t.Subset != "" {
				where += " subset " + t.Subset
			}
			mode := mesh.TLSModeName(t.Settings.GetMode())
			path := append(append([]any{}, t.Path...), "mode")
			f := rules.At(dr.Object, path...)
			f.Message = fmt.Sprintf("DestinationRule %s/%s originates TLS (%s) to %s: %s", dr.Namespace, dr.Name, mode, where, v.Why)
			fix := fmt.Sprintf("set caCertificates to the CA file that issued %s's certificate (mounted into the proxy), or credentialName to a Secret with ca.crt:\ntls:\n  mode: %s\n  caCertificates: /etc/certs/ca.pem   # the CA of %s", dr.Host, mode, dr.Host)
			switch {
			case v.Ignored != "":
				f.Origin = dr.Object.Pos(append(append([]any{}, t.Path...), "insecureSkipVerify")...)
				f.Message += fmt.Sprintf(" (%s is ignored)", v.Ignored)
				f.Symptom = "the proxy accepts any certificate the server (or anyone in between) presents"
				f.Fix = "remove insecureSkipVerify: true; " + v.Ignored + " then verifies the server"
			case t.Settings.GetInsecureSkipVerify().GetValue():
				f.Origin = dr.Object.Pos(append(append([]any{}, t.Path...), "insecureSkipVerify")...)
				f.Symptom = "the proxy accepts any certificate the server (or anyone in between) presents"
				f.Fix = "remove insecureSkipVerify: true and " + fix
			case v.SystemBundle:
				f.Severity = finding.Info
				f.Symptom = "a server certificate issued by a private CA fails the handshake: HTTP 503, flag UF, TLS_error CERTIFICATE_VERIFY_FAILED; public-CA certificates pass"
				f.Fix = "if the server's CA is private, " + fix
			default:
				f.Symptom = "the connection succeeds to whatever answers; after an upgrade to Istio 1.21+ the system CA bundle is used and a private-CA server fails with 503 UF CERTIFICATE_VERIFY_FAILED"
				f.Fix = fix
			}
			p.Report(f)
		}
	}
}
