package security

import (
	"fmt"
	"sort"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// JWTClaimRouteWithoutAuthn: a VirtualService routes on JWT claims where
// no RequestAuthentication validates a token, or on sidecars, where claim
// routing does not exist.
var JWTClaimRouteWithoutAuthn = &rules.Rule{
	Code: "MD2010", Name: "jwt-claim-route-without-requestauthentication", Severity: finding.Error, Area: "security",
	Summary: "A VirtualService matches @request.auth.claims on a gateway no RequestAuthentication covers, or on sidecars: the claims are never there.",
	Needs:   []string{"VirtualService"},
	Reads:   []string{"RequestAuthentication", "Gateway"},
	Since:   "0.2.0",
	IST:     []string{"IST0149"},
	Doc: rules.Doc{
		Mechanism: "A header match named @request.auth.claims.<claim> (or @request.auth.claims[<claim>]) is not a header: Istio compiles it into a match on the metadata the JWT filter writes after validating a token. A gateway has that filter only when a RequestAuthentication selects its pods (one in the gateway's namespace or the root namespace, with an empty selector or one matching the pod labels; policies with targetRefs attach only to Gateway API gateways). Claim routing is supported on gateways only: a sidecar's outbound route has no JWT filter in front of it. istioctl analyze (IST0149) checks the gateway pods of the input; meshdoctor does the same, also honours match-level gateways, reports claim matches bound to sidecars (mesh), and lowers the finding to a warning when the input holds no RequestAuthentication at all (it may live elsewhere).",
		Symptom:   "The claim match never holds: requests with a valid token fall through to later rules (or get 404 NR), and a withoutHeaders claim condition holds for every request.",
		Fix:       "Apply a RequestAuthentication selecting the gateway pods (jwtRules with the token's issuer and jwksUri), and an AuthorizationPolicy if the token is required; route on claims only in VirtualServices bound to gateways.",
		Before:    "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: api\n  namespace: istio-system\nspec:\n  hosts: [api.example.com]\n  gateways: [public]\n  http:\n  - match:\n    - headers:\n        \"@request.auth.claims.groups\": {exact: beta}\n    route:\n    - destination: {host: api-beta.api.svc.cluster.local}\n  - route:\n    - destination: {host: api.api.svc.cluster.local}\n",
		After:     "apiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata:\n  name: ingress-jwt\n  namespace: istio-system\nspec:\n  selector:\n    matchLabels: {istio: ingressgateway}\n  jwtRules:\n  - issuer: https://auth.example.com\n    jwksUri: https://auth.example.com/.well-known/jwks.json\n",
		Sources: []string{
			"https://istio.io/latest/docs/reference/config/analysis/ist0149/",
			"https://istio.io/latest/docs/tasks/security/authentication/jwt-route/",
			"https://istio.io/latest/docs/reference/config/security/request_authentication/",
		},
	},
	Run: runJWTClaimRouteWithoutAuthn,
}

// claimUse is the first claim match of a VirtualService that applies to
// one gateway reference (or "mesh").
type claimUse struct {
	key  string
	path []any
}

func runJWTClaimRouteWithoutAuthn(p *rules.Pass) {
	m := p.Model
	var ras *mesh.RequestAuthns
	for _, vs := range m.VirtualServices {
		uses := claimUses(vs)
		if len(uses) == 0 {
			continue
		}
		if ras == nil {
			ix := m.RequestAuthentications()
			ras = &ix
		}
		refs := make([]string, 0, len(uses))
		for ref := range uses {
			refs = append(refs, ref)
		}
		sort.Strings(refs)
		for _, ref := range refs {
			u := uses[ref]
			f := rules.At(vs.Object, u.path...)
			if ref == "mesh" {
				f.Severity = finding.Warning
				f.Message = fmt.Sprintf("VirtualService %s/%s matches JWT claim %q for sidecars (mesh): Istio supports claim routing only on gateways", vs.Namespace, vs.Name, u.key)
				f.Symptom = "on sidecars the claim match never holds (their outbound routes have no JWT filter): requests fall through to later rules"
				f.Fix = "route on claims in a VirtualService bound to the ingress gateway, or have the application set a header from the token and match that"
				p.Report(f)
				continue
			}
			g, key := m.GatewayByName(ref, vs.Namespace)
			if g == nil {
				continue // virtualservice-gateway-not-found speaks for it
			}
			var uncovered []*mesh.Workload
			for _, w := range m.GatewayPods(g).Gateways {
				if len(ras.For(w)) == 0 {
					uncovered = append(uncovered, w)
				}
			}
			if len(uncovered) == 0 {
				continue // covered, or the gateway's pods are not in the input
			}
			f.Message = fmt.Sprintf("VirtualService %s/%s matches JWT claim %q on Gateway %s, but no RequestAuthentication selects its workload %s", vs.Namespace, vs.Name, u.key, key, rules.WorkloadList(uncovered, 3))
			if ras.Count == 0 {
				f.Severity = finding.Warning
				f.Message += " (the input holds no RequestAuthentication)"
			}
			f.Symptom = "no token is validated on the gateway, so the claim match never holds: requests fall through to later rules or get 404 NR"
			w := uncovered[0]
			f.Fix = fmt.Sprintf("apply a RequestAuthentication for the gateway pods:\napiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata:\n  name: %s-jwt\n  namespace: %s\nspec:\n  selector:\n    matchLabels:\n%s\n  jwtRules:\n  - issuer: <the token's iss>\n    jwksUri: <the issuer's JWKS URL>", g.Name, w.Namespace, rules.LabelsYAML(g.Spec.GetSelector(), "      "))
			p.Report(f)
		}
	}
}

// claimUses finds, per gateway reference a match applies to ("mesh" for
// sidecars), the first JWT claim condition of vs: a match's own gateways
// when it lists them, else the VirtualService's.
func claimUses(vs *mesh.VirtualService) map[string]claimUse {
	var out map[string]claimUse
	for i, h := range vs.Spec.GetHttp() {
		for j, mt := range h.GetMatch() {
			var use *claimUse
			for _, field := range []string{"headers", "withoutHeaders"} {
				hs := mt.GetHeaders()
				if field == "withoutHeaders" {
					hs = mt.GetWithoutHeaders()
				}
				keys := make([]string, 0, len(hs))
				for k := range hs {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for _, k := range keys {
					if use == nil && mesh.JWTClaimHeader(k) {
						use = &claimUse{key: k, path: []any{"spec", "http", i, "match", j, field, k}}
					}
				}
			}
			if use == nil {
				continue
			}
			gws := mt.GetGateways()
			if len(gws) == 0 {
				gws = vs.Spec.GetGateways()
			}
			if len(gws) == 0 {
				gws = []string{"mesh"}
			}
			for _, g := range gws {
				if out == nil {
					out = map[string]claimUse{}
				}
				if _, seen := out[g]; !seen {
					out[g] = *use
				}
			}
		}
	}
	return out
}
