package reference

import (
	"fmt"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// blockedCIDRsEnv is istiod's list of CIDRs it refuses to connect to when
// fetching JWKS (pilot/pkg/features/pilot.go).
const blockedCIDRsEnv = "BLOCKED_CIDRS_IN_JWKS_URIS"

// JWKSFetchUnrestricted: RequestAuthentications make istiod fetch keys
// from URLs their authors choose, and istiod may connect anywhere.
var JWKSFetchUnrestricted = &rules.Rule{
	Code: "MD5072", Name: "jwks-fetch-unrestricted", Severity: finding.Warning, Area: "reference",
	Summary: "RequestAuthentications make istiod fetch JWKS from URLs their authors choose, and istiod has no BLOCKED_CIDRS_IN_JWKS_URIS to keep those fetches off internal networks.",
	Needs:   []string{"RequestAuthentication", "Deployment"},
	Since:   "0.4.0",
	IST:     []string{"IST0175"},
	Doc: rules.Doc{
		Mechanism: "For a jwtRule without inline jwks, istiod fetches the key set itself: from jwksUri, or from the URL the issuer's OpenID discovery document names (pilot/pkg/model/jwks_resolver.go), unless PILOT_JWT_ENABLE_REMOTE_JWKS=envoy leaves the fetch to the proxies (in hybrid mode istiod still fetches external URIs). Whoever may create a RequestAuthentication in any namespace thereby makes istiod, which runs with the control plane's network reach and credentials, send GET requests to an address of their choosing: cloud metadata endpoints, the Kubernetes API, internal admin services. istiod's BLOCKED_CIDRS_IN_JWKS_URIS (comma-separated CIDRs) makes it refuse connections whose resolved IP falls in those ranges. Like istioctl analyze (IST0175), meshdoctor reports the istiod Deployment of the input when it lacks the variable; unlike it, it counts only RequestAuthentications that make istiod fetch (inline jwks do not), takes the variable from an IstioOperator's values.pilot.env or a valueFrom reference as set, and stays quiet when istiod is not in the input.",
		Symptom:   "Nothing fails: the exposure is a server-side request forgery path. A namespace owner's RequestAuthentication can probe or reach internal endpoints from istiod's network position (errors and timings show in istiod's logs and in the RequestAuthentication's effect).",
		Fix:       "Set BLOCKED_CIDRS_IN_JWKS_URIS on istiod to the internal ranges it must not reach (pod, service and node CIDRs, 169.254.169.254/32 for cloud metadata), e.g. with istioctl install --set values.pilot.env.BLOCKED_CIDRS_IN_JWKS_URIS=... ; or give every jwtRule inline jwks.",
		Before:    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: istiod\n  namespace: istio-system\nspec:\n  template:\n    spec:\n      containers:\n      - name: discovery\n        image: docker.io/istio/pilot:1.29.0\n",
		After:     "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: istiod\n  namespace: istio-system\nspec:\n  template:\n    spec:\n      containers:\n      - name: discovery\n        image: docker.io/istio/pilot:1.29.0\n        env:\n        - name: BLOCKED_CIDRS_IN_JWKS_URIS\n          value: 10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,169.254.169.254/32\n",
		Sources: []string{
			"https://istio.io/latest/docs/reference/config/analysis/ist0175/",
			"https://istio.io/latest/docs/reference/commands/pilot-discovery/#envvars",
			"https://istio.io/latest/docs/reference/config/security/request_authentication/",
		},
	},
	Run: runJWKSFetchUnrestricted,
}

func runJWKSFetchUnrestricted(p *rules.Pass) {
	m := p.Model
	istiod := m.Istio.Istiod
	if istiod == nil {
		return // istiod is not in the input: its environment is unknown
	}
	if strings.TrimSpace(m.Istio.Env[blockedCIDRsEnv]) != "" {
		return
	}
	for _, c := range istiod.PodSpec.Containers {
		for _, e := range c.Env {
			if e.Name == blockedCIDRsEnv && e.ValueFrom != nil {
				return // set from a ConfigMap or Secret: assume it holds ranges
			}
		}
	}
	if strings.EqualFold(strings.TrimSpace(m.Istio.Env["PILOT_JWT_ENABLE_REMOTE_JWKS"]), "envoy") {
		return // istiod fetches nothing; the proxies do
	}
	var fetching []string
	ras := m.RequestAuthentications()
	for _, ra := range ras.All() {
		for _, r := range ra.Spec.GetJwtRules() {
			if r != nil && r.GetJwks() == "" && (r.GetJwksUri() != "" || r.GetIssuer() != "") {
				fetching = append(fetching, ra.Namespace+"/"+ra.Name)
				break
			}
		}
	}
	if len(fetching) == 0 {
		return
	}
	f := rules.At(istiod.Object, "metadata", "name")
	f.Message = fmt.Sprintf("%d RequestAuthentication(s) (%s) make istiod fetch JWKS from URLs their authors choose, and %s %s/%s sets no %s: istiod will connect to any address, internal ones included", len(fetching), rules.ListUpTo(fetching, 3), istiod.Kind, istiod.Namespace, istiod.Name, blockedCIDRsEnv)
	f.Symptom = "a RequestAuthentication's jwksUri (or issuer) can point istiod at cloud metadata, the Kubernetes API or internal services: a server-side request forgery path for anyone allowed to create RequestAuthentications"
	f.Fix = fmt.Sprintf("set the ranges istiod must not reach on its discovery container:\nenv:\n- name: %s\n  value: 10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,169.254.169.254/32\n(with istioctl: --set values.pilot.env.%s=...)", blockedCIDRsEnv, blockedCIDRsEnv)
	p.Report(f)
}
