package security

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// PolicySelectorIsHostname: a PeerAuthentication or AuthorizationPolicy
// selects pods by a label whose value is written as a Service hostname.
var PolicySelectorIsHostname = &rules.Rule{
	Code: "MD2024", Name: "policy-selector-is-hostname", Severity: finding.Error, Area: "security",
	Summary: "A PeerAuthentication or AuthorizationPolicy selector label value is a hostname (reviews.shop.svc.cluster.local) instead of the pod label value (reviews): the policy selects no pod.",
	Needs:   []string{"PeerAuthentication", "AuthorizationPolicy"},
	Reads:   []string{"Namespace"},
	IST:     []string{"IST0127"},
	Since:   "0.3.0",
	Doc: rules.Doc{
		Mechanism: "PeerAuthentication and AuthorizationPolicy select workloads by pod labels (spec.selector.matchLabels), compared as exact strings; unlike VirtualService and DestinationRule hosts, they know nothing of Service names. A value written as the Service's DNS name (app: reviews.shop.svc.cluster.local, or reviews.shop) matches no pod, so the policy applies to nothing and the namespace- or mesh-wide policy stays in effect. meshdoctor reports a selector that selects no workload when replacing each hostname-like value by its first DNS label selects workloads of the namespace.",
		Symptom:   "The policy has no effect: for an AuthorizationPolicy ALLOW meant to open access, callers keep getting 403 \"RBAC: access denied\" from the namespace's deny-all (or a DENY meant to block does not block); for a PeerAuthentication, the port keeps the namespace's mode (e.g. STRICT: plaintext callers get \"connection reset by peer\").",
		Fix:       "Write the pod label value (the workload's spec.template.metadata.labels), not the hostname.",
		Before:    "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: reviews, namespace: shop}\nspec:\n  selector:\n    matchLabels:\n      app: reviews.shop.svc.cluster.local\n  rules:\n  - from:\n    - source: {namespaces: [frontend]}\n",
		After:     "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: reviews, namespace: shop}\nspec:\n  selector:\n    matchLabels:\n      app: reviews\n  rules:\n  - from:\n    - source: {namespaces: [frontend]}\n",
		Sources: []string{
			"https://istio.io/latest/docs/reference/config/type/workload-selector/",
			"https://istio.io/latest/docs/reference/config/security/authorization-policy/",
			"https://istio.io/latest/docs/reference/config/security/peer_authentication/",
			"https://istio.io/latest/docs/reference/config/analysis/ist0127/",
		},
	},
	Run: runPolicySelectorIsHostname,
}

func runPolicySelectorIsHostname(p *rules.Pass) {
	m := p.Model
	for _, pa := range m.PeerAuths {
		checkHostnameSelector(p, m, pa.Object, pa.Spec.GetSelector().GetMatchLabels())
	}
	for _, ap := range m.AuthorizationPolicies() {
		checkHostnameSelector(p, m, ap.Object, ap.Spec.GetSelector().GetMatchLabels())
	}
}

func checkHostnameSelector(p *rules.Pass, m *mesh.Model, o *manifest.Object, sel map[string]string) {
	if len(sel) == 0 || len(m.Select(o.Namespace, sel)) > 0 {
		return
	}
	fixed := map[string]string{}
	var bad []string
	for _, k := range slices.Sorted(maps.Keys(sel)) {
		v := sel[k]
		if short, ok := hostnameLabel(v); ok {
			fixed[k] = short
			bad = append(bad, k)
		} else {
			fixed[k] = v
		}
	}
	if len(bad) == 0 {
		return
	}
	ws := m.Select(o.Namespace, fixed)
	if len(ws) == 0 {
		return
	}
	f := rules.At(o, "spec", "selector", "matchLabels", bad[0])
	f.Message = fmt.Sprintf("%s %s/%s selects pods with %s, written as a hostname: selectors compare pod label values, so it selects no pod; %s would select %s",
		o.Kind, o.Namespace, o.Name, mesh.LabelString(sel), mesh.LabelString(fixed), rules.WorkloadList(ws, 3))
	if o.Kind == "AuthorizationPolicy" {
		f.Symptom = "the policy does not apply: requests it should allow still get 403 \"RBAC: access denied\" from the namespace's other policies (or requests it should deny get through)"
	} else {
		f.Symptom = "the PeerAuthentication does not apply: the pods keep the namespace's or mesh's mTLS mode (under STRICT, plaintext callers get \"connection reset by peer\")"
	}
	f.Fix = "select the pod label values:\nspec:\n  selector:\n    matchLabels:\n" + rules.LabelsYAML(fixed, "      ")
	p.Report(f)
}

// hostnameLabel reports whether a label value is written as a DNS name of
// a Service (name.ns, name.ns.svc, name.ns.svc.cluster.local) and returns
// its first label. Label values may contain dots legitimately (versions
// "1.2.3"), so the value must have a letter-led first label and a second
// label that is not a number.
func hostnameLabel(v string) (string, bool) {
	parts := strings.Split(v, ".")
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return "", false
	}
	c := parts[0][0]
	if c < 'a' || c > 'z' {
		return "", false
	}
	if parts[1][0] >= '0' && parts[1][0] <= '9' {
		return "", false
	}
	return parts[0], true
}
