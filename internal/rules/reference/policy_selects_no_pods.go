package reference

import (
	"fmt"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// PolicySelectsNoPods: a Sidecar, Telemetry or AuthorizationPolicy selects
// workloads by labels no workload of its namespace carries, so it applies
// to nothing.
var PolicySelectsNoPods = &rules.Rule{
	Code: "MD5010", Name: "policy-selects-no-pods", Severity: finding.Warning, Area: "reference",
	Summary: "A Sidecar, Telemetry or AuthorizationPolicy selector matches no workload in its namespace.",
	Needs:   []string{"Sidecar", "Telemetry", "AuthorizationPolicy"},
	Reads:   []string{"Deployment", "StatefulSet", "DaemonSet", "Pod"},
	Since:   "0.3.0",
	IST:     []string{"IST0101", "IST0127"},
	Doc: rules.Doc{
		Mechanism: "A Sidecar's spec.workloadSelector.labels, and a Telemetry's or AuthorizationPolicy's spec.selector.matchLabels, pick the proxies of pods in the resource's own namespace whose labels contain every pair (an AuthorizationPolicy in the root namespace, usually istio-system, picks pods in every namespace). A selector no pod matches configures nothing, silently: Istio does not reject it. Like service-selects-no-pods, meshdoctor reports the selector only when the namespace's workloads are in the input and one of them resembles it (shares a label pair, has a near-miss value, or carries the labels on the controller instead of its pods): a selector unlike every workload there is most likely for pods the input does not hold. istioctl analyze reports every selector matching no pod of the cluster (IST0101 for Sidecar and Telemetry, IST0127 for AuthorizationPolicy), and also a namespace-wide AuthorizationPolicy in a namespace without pods; with manifests, meshdoctor cannot tell an empty namespace from one whose workloads are elsewhere, and does not judge root-namespace AuthorizationPolicies, whose pods may be anywhere.",
		Symptom:   "The resource has no effect on the workloads it was written for: a Sidecar's egress restrictions and outbound policy, a Telemetry's tracing, metrics or access-log overrides, an AuthorizationPolicy's ALLOW or DENY rules do not apply, so requests it should deny are allowed (or, with another ALLOW policy present, requests it should allow are denied with HTTP 403 RBAC: access denied).",
		Fix:       "Set the selector to labels the pods carry (spec.template.metadata.labels of the workload), or add the label to the pod template.",
		Before:    "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: payments-deny\n  namespace: shop\nspec:\n  selector:\n    matchLabels: {app: payment}    # the pods are labelled app: payments\n  action: DENY\n  rules:\n  - from:\n    - source: {notNamespaces: [shop]}\n",
		After:     "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: payments-deny\n  namespace: shop\nspec:\n  selector:\n    matchLabels: {app: payments}\n  action: DENY\n  rules:\n  - from:\n    - source: {notNamespaces: [shop]}\n",
		Sources: []string{
			"https://istio.io/latest/docs/reference/config/type/workload-selector/",
			"https://istio.io/latest/docs/reference/config/networking/sidecar/#Sidecar",
			"https://istio.io/latest/docs/reference/config/telemetry/#Telemetry",
			"https://istio.io/latest/docs/reference/config/security/authorization-policy/",
			"https://istio.io/latest/docs/reference/config/analysis/ist0101/",
			"https://istio.io/latest/docs/reference/config/analysis/ist0127/",
		},
	},
	Run: runPolicySelectsNoPods,
}

func runPolicySelectsNoPods(p *rules.Pass) {
	m := p.Model
	sc := newScope(m)
	check := func(pol mesh.ScopedPolicy, effect string) {
		ns := pol.Object.Namespace
		if len(pol.Selector) == 0 || pol.TargetRefs || !sc.workloadsKnown(ns) || len(m.Select(ns, pol.Selector)) > 0 {
			return
		}
		kind := pol.Object.Kind
		f := rules.At(pol.Object, pol.Path...)
		sel := rules.LabelString(pol.Selector)
		f.Message = fmt.Sprintf("%s %s/%s selects pods with %s, but no workload in namespace %s has these pod labels", kind, ns, pol.Object.Name, sel, ns)
		field := "spec:\n  selector:\n    matchLabels:\n"
		indent := "      "
		if kind == "Sidecar" {
			field = "spec:\n  workloadSelector:\n    labels:\n"
		}
		if w := objectLabelMatch(m.WorkloadsIn(ns), pol.Selector); w != nil {
			f.Message += fmt.Sprintf("; %s %s/%s carries them on its own metadata.labels, but selectors match pod labels (spec.template.metadata.labels)", w.Kind, w.Namespace, w.Name)
			f.Fix = fmt.Sprintf("add the labels to the pod template of %s %s/%s:\nspec:\n  template:\n    metadata:\n      labels:\n%s", w.Kind, w.Namespace, w.Name, rules.LabelsYAML(pol.Selector, "        "))
		} else if w, diff := closestWorkload(m.WorkloadsIn(ns), pol.Selector); w != nil {
			f.Message += fmt.Sprintf("; closest is %s %s/%s, whose pods %s", w.Kind, w.Namespace, w.Name, diff)
			f.Fix = fmt.Sprintf("if the %s is for %s %s/%s, select its pod labels:\n%s%s", kind, w.Kind, w.Namespace, w.Name, field, rules.LabelsYAML(proposedSelector(pol.Selector, w.Labels), indent))
		} else {
			return // unlike every workload here: its pods are elsewhere
		}
		f.Symptom = effect
		p.Report(f)
	}
	for _, pol := range m.SidecarPolicies() {
		check(pol, "the Sidecar scopes no proxy: the workloads it was written for keep the namespace's default Sidecar (or none), so its egress hosts, ingress listeners and outbound traffic policy do not apply to them")
	}
	for _, pol := range m.TelemetryPolicies() {
		check(pol, "the Telemetry applies to no proxy: the tracing, metrics or access-logging overrides it sets are missing for the workloads it was written for")
	}
	for _, ap := range m.AuthorizationPolicies() {
		if m.MeshWide(ap.Object.Namespace) {
			continue // selects pods in every namespace, most outside the input
		}
		effect := "the policy is enforced on no workload: its rules do not apply, so requests it should deny reach the workload"
		switch ap.Action().String() {
		case "ALLOW":
			effect = "the ALLOW policy applies to no workload: the pods it was written for accept every request unless another ALLOW policy selects them (then requests only this one allows get HTTP 403 \"RBAC: access denied\")"
		case "CUSTOM":
			effect = "the CUSTOM policy applies to no workload: the external authorizer is never asked for the pods it was written for"
		case "AUDIT":
			effect = "the AUDIT policy applies to no workload: the requests it should log are not audited"
		}
		check(ap.Scoped(), effect)
	}
}
