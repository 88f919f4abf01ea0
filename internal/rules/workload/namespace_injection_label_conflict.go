package workload

import (
	"fmt"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// NamespaceInjectionLabelConflict: a namespace labelled for more than one
// dataplane; one label silently loses.
var NamespaceInjectionLabelConflict = &rules.Rule{
	Code: "MD4009", Name: "namespace-injection-label-conflict", Severity: finding.Warning, Area: "workload",
	Summary: "A namespace has more than one injection label (istio-injection=enabled with istio.io/rev, or either with istio.io/dataplane-mode=ambient): one of them is silently ignored.",
	Needs:   []string{"Namespace"},
	Since:   "0.2.0",
	IST:     []string{"IST0123"},
	Doc: rules.Doc{
		Mechanism: "Sidecar injection is chosen by the injector's webhooks: istio-injection=enabled is served by the default revision's webhook, and every revision's webhook (istio.io/rev=<rev>) requires istio-injection to be absent, so with both labels the default revision injects and istio.io/rev is ignored. This is the usual leftover of a canary upgrade that added istio.io/rev without removing istio-injection: the namespace never moves to the new revision. A pod with a sidecar is skipped by ztunnel, so istio.io/dataplane-mode=ambient next to an injection label does not make the namespace ambient. meshdoctor reports the combinations where a label really loses; unlike istioctl analyze, istio-injection=disabled (which wins deliberately) and istio.io/dataplane-mode=none (which only says \"not ambient\") are not reported.",
		Symptom:   "Pods run the other revision's proxy than the one the namespace names (`istioctl proxy-status` shows them on the old istiod after a canary switch), or a namespace meant for ambient mode keeps sidecars.",
		Fix:       "Keep one label: for a revision, `kubectl label namespace NS istio-injection- istio.io/rev=REV --overwrite` and restart the workloads; for ambient, remove the injection labels and restart.",
		Before:    "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n    istio-injection: enabled\n    istio.io/rev: canary\n",
		After:     "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n    istio.io/rev: canary\n",
		Sources: []string{
			"https://istio.io/latest/docs/setup/upgrade/canary/#data-plane",
			"https://istio.io/latest/docs/ambient/usage/add-workloads/",
			"https://istio.io/latest/docs/reference/config/analysis/ist0123/",
		},
	},
	Run: runNamespaceInjectionLabelConflict,
}

func runNamespaceInjectionLabelConflict(p *rules.Pass) {
	for _, ns := range p.Model.Namespaces {
		c, ok := ns.InjectionConflict()
		if !ok {
			continue
		}
		f := rules.At(ns.Object, "metadata", "labels")
		f.Message = fmt.Sprintf("Namespace %s has more than one injection label (%s): %s is ignored", ns.Name, strings.Join(c.Labels, ", "), c.Ignored)
		f.Symptom = c.Effect
		keep := c.Labels[len(c.Labels)-1]
		if len(c.Labels) == 3 {
			keep = c.Labels[1]
		}
		var remove []string
		for _, l := range c.Labels {
			if l != keep {
				key, _, _ := strings.Cut(l, "=")
				remove = append(remove, key+"-")
			}
		}
		f.Fix = fmt.Sprintf("keep the label you mean, e.g. %s:\n  kubectl label namespace %s %s\nthen restart the namespace's workloads so the webhook injects them again", keep, ns.Name, strings.Join(remove, " "))
		p.Report(f)
	}
}
