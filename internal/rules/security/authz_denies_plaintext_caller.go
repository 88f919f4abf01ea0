package security

import (
	"fmt"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// AuthzDeniesPlaintextCaller: a caller without an Istio identity (no
// sidecar, or plaintext by DestinationRule) calls a PERMISSIVE workload
// whose AuthorizationPolicies need a peer identity.
var AuthzDeniesPlaintextCaller = &rules.Rule{
	Code: "MD2021", Name: "authz-denies-plaintext-caller", Severity: finding.Error, Area: "security",
	Summary: "A caller without an Istio identity (no sidecar, or plaintext) calls a workload whose ALLOW policy requires principals or namespaces: PERMISSIVE mTLS lets the connection in, RBAC answers 403.",
	Needs:   []string{"AuthorizationPolicy"},
	Reads:   []string{"Service", "PeerAuthentication", "DestinationRule", "Namespace", "ConfigMap"},
	Since:   "0.3.0",
	Doc: rules.Doc{
		Mechanism: "source.principals, source.namespaces and source.serviceAccounts are read from the client's Istio mTLS certificate. A pod without a sidecar (namespace not labelled for injection, sidecar.istio.io/inject: \"false\", hostNetwork), or a sidecar told to send plaintext by a DestinationRule (tls.mode DISABLE or SIMPLE), has no such certificate. Under PERMISSIVE mTLS the server's sidecar still accepts the plaintext connection, so nothing fails at the TLS level, but the RBAC filter sees no principal and no namespace: no ALLOW rule that names one matches (principals: [\"*\"] included), and notPrincipals / notNamespaces DENY rules match. meshdoctor finds the calls in the caller's configuration (env, command, args, ConfigMaps), computes the identity the call carries and evaluates the server's policies; it reports only decisions that do not depend on what the input cannot know (path, JWT, IP). Calls a STRICT server rejects before RBAC are non-mesh-client-strict-mtls.",
		Symptom:   "The caller gets HTTP 403 \"RBAC: access denied\" (TCP: the connection is closed right after it opens), although the same call works from a pod with a sidecar in the allowed namespace; the server's istio-proxy logs rbac_access_denied_matched_policy[none].",
		Fix:       "Give the caller an Istio identity: inject a sidecar (label its namespace istio-injection=enabled or its pods sidecar.istio.io/inject: \"true\") or remove the DestinationRule TLS setting that sends plaintext; or, if the caller must stay outside the mesh, allow it by something it does have (ipBlocks of its pod range, a request header, a JWT) instead of principals/namespaces.",
		Before:    "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: batch   # not labelled for injection\n---\napiVersion: batch/v1\nkind: CronJob\nmetadata: {name: report, namespace: batch}\nspec:\n  schedule: \"0 * * * *\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers:\n          - name: report\n            image: report:1.0\n            env:\n            - {name: ORDERS_URL, value: \"http://orders.shop:8080\"}\n---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: orders, namespace: shop}\nspec:\n  selector:\n    matchLabels: {app: orders}\n  rules:\n  - from:\n    - source:\n        namespaces: [batch, frontend]   # batch has no sidecar: no namespace in its calls\n",
		After:     "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: batch\n  labels:\n    istio-injection: enabled   # the CronJob's pods now call with cluster.local/ns/batch/sa/default\n",
		Sources: []string{
			"https://istio.io/latest/docs/reference/config/security/authorization-policy/#Source",
			"https://istio.io/latest/docs/concepts/security/#dependency-on-mutual-tls",
			"https://istio.io/latest/docs/ops/common-problems/security-issues/#authorization-is-too-restrictive",
			"https://github.com/istio/istio/issues/36119",
			"https://github.com/istio/istio/issues/25024",
		},
	},
	Run: runAuthzDeniesPlaintextCaller,
}

func runAuthzDeniesPlaintextCaller(p *rules.Pass) {
	m := p.Model
	if len(m.AuthorizationPolicies()) == 0 {
		return
	}
	for _, w := range m.Workloads {
		refs := m.ServiceReferences(w)
		for _, ref := range refs {
			ports := referencedPorts(ref)
			if len(ports) == 0 {
				continue
			}
			httpText := strings.HasPrefix(strings.ToLower(ref.Text), "http://") || strings.HasPrefix(strings.ToLower(ref.Text), "https://")
			// Every port the reference may mean, every backend, and
			// (for a sniffed port and a reference that does not say
			// HTTP) both protocols must be denied.
			var first *mesh.CallAuthz
			all := true
			for _, sp := range ports {
				bs := m.Backends(ref.Service, sp)
				if len(bs) == 0 {
					all = false
				}
				for _, b := range bs {
					if b.MTLS.Mode == mesh.ModeStrict {
						all = false // rejected before RBAC (non-mesh-client-strict-mtls, mtls-mode-conflict)
						break
					}
					calls := []bool{httpText}
					if mesh.PortProtocol(sp).Sniffed() && !httpText {
						calls = []bool{true, false}
					}
					for _, httpCall := range calls {
						ca, ok := m.AuthorizeCall(w, b, ref.Service.Host, sp, "", httpCall)
						if !ok || ca.Peer.MTLS || !ca.Decision.Outcome.Denied() {
							all = false
							break
						}
						if first == nil {
							first = &ca
						}
					}
					if !all {
						break
					}
				}
				if !all {
					break
				}
			}
			if !all || first == nil {
				continue
			}
			ca := *first
			f := finding.Finding{Resource: w.Ref(), Origin: ref.Object.Pos(ref.Path...)}
			f.Message = fmt.Sprintf("%s %s/%s calls %s (%q, %s) with %s: %s; and %s",
				w.Kind, w.Namespace, w.Name, ref.Service.Host, ref.Text, ref.Where, identityText(ca.Peer), ca.Peer.Why, decisionText(ca.Decision))
			f.Symptom = fmt.Sprintf("the calls of %s/%s to %s are refused: %s", w.Namespace, w.Name, ref.Service.Host, rbacSymptom(ca))
			f.Fix = plaintextFix(m, w, ca)
			p.Report(f)
		}
	}
}

func plaintextFix(m *mesh.Model, w *mesh.Workload, ca mesh.CallAuthz) string {
	if dp, why := m.Injection(w); dp == mesh.DataplaneNone {
		return joinMeshAdvice(w, why) + fmt.Sprintf(", so its calls carry cluster.local/ns/%s/sa/%s; if it must stay outside the mesh, allow it in AuthorizationPolicy %s/%s by something a plaintext caller has (ipBlocks of its pods, a JWT with requestPrincipals) rather than principals or namespaces", w.Namespace, w.ServiceAccount(), ca.Decision.Policy.Namespace, ca.Decision.Policy.Name)
	}
	return fmt.Sprintf("let %s %s/%s use Istio mTLS to the server (remove the DestinationRule tls setting that sends plaintext, or set tls.mode: ISTIO_MUTUAL), so its calls carry cluster.local/ns/%s/sa/%s", w.Kind, w.Namespace, w.Name, w.Namespace, w.ServiceAccount())
}
