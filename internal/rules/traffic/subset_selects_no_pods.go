package traffic

import (
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// SubsetSelectsNoPods: a DestinationRule subset whose labels match none of
// the host Service's pods.
var SubsetSelectsNoPods = &rules.Rule{
	Code: "MD1003", Name: "subset-selects-no-pods", Severity: finding.Error, Area: "traffic",
	Summary: "A DestinationRule subset's labels match none of the pods behind its host Service.",
	Needs:   []string{"DestinationRule"},
	Reads:   []string{"VirtualService"},
	Since:   "0.1.0",
	IST:     []string{"IST0173"},
	Doc: rules.Doc{
		Mechanism: "A subset is the Service's endpoints filtered by the subset's labels: istiod builds the Envoy cluster outbound|port|subset|host from the Service's pods that carry every label of the subset. When no pod does, the cluster exists but has no endpoints.",
		Symptom:   "Requests routed to the subset fail with HTTP 503 and response flag UH (\"no healthy upstream\").",
		Fix:       "Make the subset's labels match the pod template labels of the version's workload (or add the label to the pods).",
		Before:    "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: reviews\nspec:\n  host: reviews\n  subsets:\n  - name: v2\n    labels:\n      version: v2   # pods are labelled version: v2.0\n",
		After:     "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: reviews\nspec:\n  host: reviews\n  subsets:\n  - name: v2\n    labels:\n      version: v2.0\n",
		Sources: []string{
			"https://istio.io/latest/docs/reference/config/networking/destination-rule/#Subset",
			"https://istio.io/latest/docs/ops/common-problems/network-issues/#503-errors-after-setting-destination-rule",
			"https://www.envoyproxy.io/docs/envoy/latest/configuration/observability/access_log/usage#command-operators (UH)",
		},
	},
	Run: runSubsetSelectsNoPods,
}

func runSubsetSelectsNoPods(p *rules.Pass) {
	m := p.Model
	// Subsets some mesh route sends traffic to, by host and name.
	for _, dr := range m.DestinationRules {
		if len(dr.Spec.Subsets) == 0 || strings.HasPrefix(dr.Host, "*") {
			continue
		}
		svc := m.ServiceByHost(dr.Host)
		if svc == nil {
			continue // ServiceEntry or a Service not in the input
		}
		ws := m.ServiceWorkloads(svc)
		if len(ws) == 0 {
			continue // pods not in the input (service-selects-no-pods speaks otherwise)
		}
	subsets:
		for i, s := range dr.Spec.Subsets {
			if len(s.Labels) == 0 {
				continue
			}
			// The model decides membership, as trace does.
			for _, w := range ws {
				if mesh.SubsetMayInclude(s.Labels, w) {
					continue subsets
				}
			}
			f := rules.At(dr.Object, "spec", "subsets", i, "labels")
			if !m.SubsetRouted(dr.Host, s.Name) {
				// No route sends traffic to it: nothing fails yet. Defining
				// subsets ahead of the versions that will serve them is
				// common (Istio's own bookinfo destination-rule-all.yaml
				// lists ratings v2-mysql-vm, served by a VM), so this is
				// only information until a route uses the subset.
				f.Severity = finding.Info
			}
			// Concatenation, not fmt: a neglected mesh has a finding
			// here for every service, and formatting was a third of the
			// rule's time.
			name := strconv.Quote(s.Name)
			f.Message = "subset " + name + " of DestinationRule " + dr.Namespace + "/" + dr.Name + " selects " + rules.LabelString(s.Labels) +
				", but none of the pods behind Service " + svc.Namespace + "/" + svc.Name + " has these labels: " + actualLabels(s.Labels, ws)
			f.Symptom = "requests routed to subset " + s.Name + " get HTTP 503 with response flag UH (no healthy upstream)"
			if f.Severity == finding.Info {
				f.Symptom += " once a route uses it (none in the input does yet)"
			}
			f.Fix = "make the labels of subset " + name + " match the pod template labels of the workload that serves it, e.g.\n  subsets:\n  - name: " + s.Name + "\n    labels:\n" + suggestLabels(s.Labels, ws)
			p.Report(f)
		}
	}
}

// actualLabels says, for each key of the subset, which values the
// Service's pods have ("pods have version=v1, v2"; "no pod has label
// track").
func actualLabels(sel map[string]string, ws []*mesh.Workload) string {
	var b strings.Builder
	type seen struct {
		value string
		who   []string
	}
	var vals []seen
	var index map[string]int // for services with many workloads
	for i, k := range slices.Sorted(maps.Keys(sel)) {
		if i > 0 {
			b.WriteString("; ")
		}
		vals = vals[:0]
		if len(ws) > 16 {
			index = map[string]int{}
		}
		for _, w := range ws {
			v, ok := w.Labels[k]
			if !ok {
				continue
			}
			j := -1
			if index != nil {
				if x, ok := index[v]; ok {
					j = x
				} else {
					index[v] = len(vals)
				}
			} else {
				j = slices.IndexFunc(vals, func(s seen) bool { return s.value == v })
			}
			if j < 0 {
				j = len(vals)
				vals = append(vals, seen{value: v})
			}
			vals[j].who = append(vals[j].who, w.Kind+" "+w.Name)
		}
		if len(vals) == 0 {
			b.WriteString("no pod has label " + k)
			continue
		}
		vs := make([]string, len(vals))
		for j, s := range vals {
			vs[j] = s.value + " (" + strings.Join(s.who, ", ") + ")"
		}
		sort.Strings(vs)
		b.WriteString("pods have " + k + "=" + strings.Join(vs, ", "))
	}
	return b.String()
}

func suggestLabels(sel map[string]string, ws []*mesh.Workload) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(sel)) {
		v := sel[k]
		for _, w := range ws {
			if pv, ok := w.Labels[k]; ok && pv != "" && (strings.Contains(pv, v) || strings.Contains(v, pv)) {
				v = pv
				break
			}
		}
		b.WriteString("      " + k + ": " + v + "   # the value on the pods that should receive this subset\n")
	}
	return strings.TrimRight(b.String(), "\n")
}
