package workload

import (
	"fmt"
	"sort"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// InjectorWebhooksOverlap: two sidecar injector webhooks select the same
// namespace and pod labels, so which istiod injects depends on webhook
// order.
var InjectorWebhooksOverlap = &rules.Rule{
	Code: "MD4014", Name: "injector-webhooks-overlap", Severity: finding.Error, Area: "workload",
	Summary: "Two sidecar injector webhooks select the same injection labels: which revision injects a pod depends on the order the API server calls them.",
	Needs:   []string{"MutatingWebhookConfiguration"},
	Since:   "0.2.0",
	IST:     []string{"IST0139"},
	Doc: rules.Doc{
		Mechanism: "Each Istio revision (and each revision tag) installs injector webhooks whose namespace and object selectors are meant to be disjoint: istio-injection=enabled for the default revision, istio.io/rev=<rev> for the others, sidecar.istio.io/inject=true for single pods. When two of them match the same labels (a second install without revisions, a leftover webhook of an uninstalled revision, a tag and a revision both named default), the API server calls both, in name order; the first injects, the second sees the pod already injected and leaves it. meshdoctor tries the label combinations users write (no label, istio-injection enabled/disabled, istio.io/rev for every revision the webhooks name, sidecar.istio.io/inject true/false on the pod) against every injector webhook of the input and reports the webhooks that match a combination together, with the labels.",
		Symptom:   "Pods get the proxy and configuration of an unexpected revision (`istioctl proxy-status` shows them connected to the other istiod), a canary switch has no effect, or a removed istiod keeps injecting and its pods never connect.",
		Fix:       "Remove the stale webhook configuration (`kubectl delete mutatingwebhookconfiguration NAME`), or reinstall the revision so its webhooks select only its own labels; use `istioctl tag set default --revision REV` to move the default instead of a second default install.",
		Before:    "# two installs without revision, both serving istio-injection=enabled\nkind: MutatingWebhookConfiguration\nmetadata: {name: istio-sidecar-injector}\nwebhooks:\n- name: namespace.sidecar-injector.istio.io\n  namespaceSelector:\n    matchLabels: {istio-injection: enabled}\n---\nkind: MutatingWebhookConfiguration\nmetadata: {name: istio-sidecar-injector-old}\nwebhooks:\n- name: namespace.sidecar-injector.istio.io\n  namespaceSelector:\n    matchLabels: {istio-injection: enabled}\n",
		After:     "kind: MutatingWebhookConfiguration\nmetadata: {name: istio-sidecar-injector}\nwebhooks:\n- name: namespace.sidecar-injector.istio.io\n  namespaceSelector:\n    matchLabels: {istio-injection: enabled}\n",
		Sources: []string{
			"https://istio.io/latest/docs/setup/upgrade/canary/",
			"https://istio.io/latest/docs/ops/common-problems/injection/",
			"https://istio.io/latest/docs/reference/config/analysis/ist0139/",
		},
	},
	Run: runInjectorWebhooksOverlap,
}

func runInjectorWebhooksOverlap(p *rules.Pass) {
	hooks := p.Model.InjectorWebhooks()
	if len(hooks) < 2 {
		return
	}
	revs := map[string]bool{}
	for _, h := range hooks {
		for _, r := range h.SelectorRevisions() {
			revs[r] = true
		}
	}
	var revList []string
	for r := range revs {
		revList = append(revList, r)
	}
	sort.Strings(revList)
	// The label combinations users write, on the namespace and on the pod.
	nsSets := []map[string]string{{}, {mesh.InjectionLabel: "enabled"}, {mesh.InjectionLabel: "disabled"}}
	podSets := []map[string]string{{}, {"sidecar.istio.io/inject": "true"}, {"sidecar.istio.io/inject": "false"}}
	for _, r := range revList {
		for _, base := range []map[string]string{{}, {mesh.InjectionLabel: "enabled"}, {mesh.InjectionLabel: "disabled"}} {
			base[mesh.RevisionLabel] = r
			nsSets = append(nsSets, base)
		}
		for _, base := range []map[string]string{{}, {"sidecar.istio.io/inject": "true"}, {"sidecar.istio.io/inject": "false"}} {
			base[mesh.RevisionLabel] = r
			podSets = append(podSets, base)
		}
	}
	// For each webhook, the others it overlaps with and the first labels
	// where it does.
	type overlap struct {
		others  map[int]bool
		example string
	}
	found := map[int]*overlap{}
	for _, nl := range nsSets {
		for _, pl := range podSets {
			var match []int
			for i, h := range hooks {
				if h.Matches("app", nl, pl) {
					match = append(match, i)
				}
			}
			if len(match) < 2 {
				continue
			}
			for _, i := range match {
				o := found[i]
				if o == nil {
					o = &overlap{others: map[int]bool{}, example: fmt.Sprintf("namespace labels %s, pod labels %s", labelString(nl), labelString(pl))}
					found[i] = o
				}
				for _, j := range match {
					if j != i {
						o.others[j] = true
					}
				}
			}
		}
	}
	for i, o := range found {
		h := hooks[i]
		var others []string
		for j := range o.others {
			others = append(others, fmt.Sprintf("%s (MutatingWebhookConfiguration %s)", hooks[j].Hook.Name, hooks[j].Config.Name))
		}
		sort.Strings(others)
		f := rules.At(h.Config, "webhooks", h.Index, "name")
		f.Message = fmt.Sprintf("injector webhook %s of MutatingWebhookConfiguration %s selects the same pods as %s, e.g. with %s", h.Hook.Name, h.Config.Name, strings.Join(others, ", "), o.example)
		f.Symptom = "both webhooks are called for these pods and the first (by name) injects: pods may get another revision's proxy than intended and connect to the wrong istiod"
		f.Fix = "keep one webhook per label combination: delete the stale configuration (kubectl delete mutatingwebhookconfiguration NAME) or reinstall the revision so its selectors name only its own istio.io/rev"
		p.Report(f)
	}
}

// labelString renders labels as k=v, sorted; "none" when empty.
func labelString(l map[string]string) string {
	if len(l) == 0 {
		return "none"
	}
	var parts []string
	for k, v := range l {
		parts = append(parts, k+"="+v)
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}
