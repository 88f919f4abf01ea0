package reference

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
	"github.com/meshdoctor/meshdoctor/internal/spelling"
)

// ServiceSelectsNoPods: a Service's selector matches no pod template in its
// namespace, so the Service has no endpoints.
var ServiceSelectsNoPods = &rules.Rule{
	Code: "MD5003", Name: "service-selects-no-pods", Severity: finding.Warning, Area: "reference",
	Summary: "A Service's selector matches no workload in its namespace, so it has no endpoints.",
	Needs:   []string{"Service"},
	Since:   "0.1.0",
	Doc: rules.Doc{
		Mechanism: "The endpoints controller adds a pod to a Service's EndpointSlices only when the pod is in the Service's namespace and its labels contain every key=value of spec.selector. Services select pod labels (a Deployment's spec.template.metadata.labels), not the labels on the Deployment itself. meshdoctor reports a selector that matches no workload only when a workload in the namespace resembles it (shares a label pair, has a near-miss value, or carries the labels on the controller instead of its pods) and the namespace holds no custom resources that could create pods: a selector unlike anything in the input is for pods defined elsewhere; Services without a selector (manual EndpointSlices) and ExternalName Services are not checked.",
		Symptom:   "The Service has no endpoints: sidecar clients get HTTP 503 with response flag UH (\"no healthy upstream\"); clients without a sidecar get connection refused from kube-proxy; an Ingress backend is reported unhealthy.",
		Fix:       "Make the selector and the pod template labels agree: fix the selector, or add the missing label to spec.template.metadata.labels of the workload.",
		Before:    "apiVersion: v1\nkind: Service\nmetadata:\n  name: reviews\n  namespace: shop\nspec:\n  selector:\n    app: review   # pods are labelled app: reviews\n  ports:\n  - port: 9080\n",
		After:     "apiVersion: v1\nkind: Service\nmetadata:\n  name: reviews\n  namespace: shop\nspec:\n  selector:\n    app: reviews\n  ports:\n  - port: 9080\n",
		Sources: []string{
			"https://kubernetes.io/docs/concepts/services-networking/service/#services-without-selectors",
			"https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors",
			"https://istio.io/latest/docs/ops/common-problems/network-issues/",
		},
	},
	Run: runServiceSelectsNoPods,
}

func runServiceSelectsNoPods(p *rules.Pass) {
	m := p.Model
	sc := newScope(m)
	for _, s := range m.Services {
		if s.Spec.Type == corev1.ServiceTypeExternalName || len(s.Spec.Selector) == 0 || !sc.workloadsKnown(s.Namespace) {
			continue
		}
		if len(m.ServiceWorkloads(s)) > 0 {
			continue
		}
		f := rules.At(s.Object, "spec", "selector")
		sel := rules.LabelString(s.Spec.Selector)
		f.Message = fmt.Sprintf("Service %s/%s selects pods with %s, but no workload in namespace %s has these pod labels", s.Namespace, s.Name, sel, s.Namespace)
		// Only a workload that resembles the selector shows the Service's
		// pods are in the input and mislabelled; a selector unlike every
		// workload here is most likely for pods defined elsewhere.
		if w := objectLabelMatch(m.WorkloadsIn(s.Namespace), s.Spec.Selector); w != nil {
			f.Message += fmt.Sprintf("; %s %s/%s carries them on its own metadata.labels, but Services select pod labels (spec.template.metadata.labels)", w.Kind, w.Namespace, w.Name)
			f.Fix = fmt.Sprintf("add the labels to the pod template of %s %s/%s:\nspec:\n  template:\n    metadata:\n      labels:\n%s", w.Kind, w.Namespace, w.Name, rules.LabelsYAML(s.Spec.Selector, "        "))
		} else if w, diff := closestWorkload(m.WorkloadsIn(s.Namespace), s.Spec.Selector); w != nil {
			f.Message += fmt.Sprintf("; closest is %s %s/%s, whose pods %s", w.Kind, w.Namespace, w.Name, diff)
			f.Fix = fmt.Sprintf("if the Service is for %s %s/%s, select its pod labels (or add the selector's labels to its pod template):\nspec:\n  selector:\n%s", w.Kind, w.Namespace, w.Name, rules.LabelsYAML(proposedSelector(s.Spec.Selector, w.Labels), "    "))
		} else {
			continue
		}
		f.Symptom = "the Service has no endpoints: sidecar clients get HTTP 503 UH \"no healthy upstream\", clients without a sidecar get connection refused"
		p.Report(f)
	}
}

// closestWorkload returns the workload whose pod labels agree with the most
// selector pairs, and how they differ from the selector.
func closestWorkload(ws []*mesh.Workload, sel map[string]string) (*mesh.Workload, string) {
	var best *mesh.Workload
	bestScore := 0
	for _, w := range ws {
		// An equal pair counts most, a near-miss value (a typo) less; a
		// shared key with an unrelated value says nothing.
		score := 0
		for k, v := range sel {
			lv, ok := w.Labels[k]
			switch {
			case !ok:
			case lv == v:
				score += 3
			case similar(lv, v):
				score += 2
			}
		}
		if score > bestScore {
			best, bestScore = w, score
		}
	}
	if best == nil {
		return nil, ""
	}
	var diffs []string
	for _, k := range slices.Sorted(maps.Keys(sel)) {
		lv, ok := best.Labels[k]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("have no label %s", k))
		case lv != sel[k]:
			diffs = append(diffs, fmt.Sprintf("have %s=%s, not %s=%s", k, lv, k, sel[k]))
		}
	}
	return best, strings.Join(diffs, " and ")
}

// similar reports whether two label values are a small typo apart.
func similar(a, b string) bool {
	d := spelling.Distance(a, b)
	return d <= 2 && d*3 <= max(len(a), len(b))
}

// objectLabelMatch finds a workload whose own metadata labels (not its pod
// template's) satisfy the selector: a common mix-up.
func objectLabelMatch(ws []*mesh.Workload, sel map[string]string) *mesh.Workload {
	for _, w := range ws {
		if w.Pod == nil && mesh.Matches(sel, w.Object.Labels) {
			return w
		}
	}
	return nil
}

// proposedSelector keeps the selector's keys that the pods carry, with the
// pods' values; keys the pods lack are dropped.
func proposedSelector(sel, pod map[string]string) map[string]string {
	out := map[string]string{}
	for k := range sel {
		if v, ok := pod[k]; ok {
			out[k] = v
		}
	}
	return out
}
