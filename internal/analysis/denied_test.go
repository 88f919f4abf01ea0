package analysis_test

import (
	"strings"
	"testing"

	"github.com/meshdoctor/meshdoctor/internal/analysis"
	"github.com/meshdoctor/meshdoctor/internal/catalog"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// TestDeniedListsTheRulesAffected: a partial-access finding names the rules
// that need or read the denied kind, matched by group and kind, says the
// verb that was denied, and carries the server's reason.
func TestDeniedListsTheRulesAffected(t *testing.T) {
	cases := []struct {
		denied      analysis.Denied
		want, wrong []string
		text        string
	}{
		{analysis.Denied{Kind: "Secret", Resource: "secrets", Namespace: "istio-system", Verb: "get", Reason: `secrets "tls" is forbidden: User "u" cannot get resource "secrets"`},
			[]string{"gateway-certificate-invalid", "gateway-credential-not-found", "gateway-shared-certificate"}, []string{"subset-not-found"},
			`cannot get Secret in namespace istio-system (secrets "tls" is forbidden: User "u" cannot get resource "secrets")`},
		{analysis.Denied{Group: "gateway.networking.k8s.io", Kind: "Gateway", Resource: "gateways", Reason: "forbidden"},
			nil, []string{"gateway-selects-no-pods", "gateway-certificate-invalid"}, "cannot list Gateway.gateway.networking.k8s.io in any namespace"},
		{analysis.Denied{Group: "networking.istio.io", Kind: "VirtualService", Resource: "virtualservices", Reason: "forbidden"},
			[]string{"subset-not-found", "subset-selects-no-pods"}, nil, "cannot list VirtualService.networking.istio.io"},
	}
	for _, c := range cases {
		res := analysis.Run(&manifest.Result{Unknown: map[string]int{}}, analysis.Options{Rules: catalog.All(), Denied: []analysis.Denied{c.denied}})
		var msg string
		for _, f := range res.Findings {
			if f.Rule == rules.PartialAccess.Name {
				msg = f.Message
			}
		}
		if !strings.Contains(msg, c.text) {
			t.Errorf("%s: message %q lacks %q", c.denied.Kind, msg, c.text)
		}
		_, list, _ := strings.Cut(msg, "skipped or incomplete rules: ")
		affected := map[string]bool{}
		for _, r := range strings.Split(list, ", ") {
			affected[r] = true
		}
		for _, r := range c.want {
			if !affected[r] {
				t.Errorf("%s denied: %s not listed in %q", c.denied.Kind, r, msg)
			}
		}
		for _, r := range c.wrong {
			if affected[r] {
				t.Errorf("%s denied: %s wrongly listed in %q", c.denied.Kind, r, msg)
			}
		}
	}
}
