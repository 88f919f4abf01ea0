package traffic

import (
	"fmt"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
	istioapi "istio.io/api/networking/v1alpha3"
)

// SubsetNotFound: a route names a subset that no DestinationRule visible to
// it defines. Envoy gets a route to a cluster that does not exist.
var SubsetNotFound = &rules.Rule{
	Code: "MD1001", Name: "subset-not-found", Severity: finding.Error, Area: "traffic",
	Summary: "A VirtualService routes to a subset no visible DestinationRule defines.",
	Needs:   []string{"VirtualService"},
	Since:   "0.1.0",
	IST:     []string{"IST0101"},
	Doc: rules.Doc{
		Mechanism: "Istio turns each subset into an Envoy cluster named outbound|port|subset|host, built from the DestinationRule that defines it. A route naming a subset that no DestinationRule (visible from the client's namespace) defines points at a cluster that does not exist. This also happens transiently when a VirtualService and the DestinationRule adding its subset are applied together: configuration reaches istiod in no particular order.",
		Symptom:   "Requests matched by the route fail with HTTP 503 and response flag NC (no cluster found) until a DestinationRule with the subset is applied.",
		Fix:       "Define the subset in the DestinationRule for the host (labels selecting the version's pods), apply the DestinationRule first, wait for it to propagate, then apply the VirtualService (make-before-break). When removing a subset, remove it from routes first.",
		Before:    "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\nspec:\n  hosts: [reviews]\n  http:\n  - route:\n    - destination:\n        host: reviews\n        subset: v3\n---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: reviews\nspec:\n  host: reviews\n  subsets:\n  - name: v1\n    labels: {version: v1}\n",
		After:     "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: reviews\nspec:\n  host: reviews\n  subsets:\n  - name: v1\n    labels: {version: v1}\n  - name: v3\n    labels: {version: v3}\n",
		Sources:   []string{"https://istio.io/latest/docs/ops/common-problems/network-issues/#503-errors-while-reconfiguring-service-routes", "https://istio.io/latest/docs/ops/best-practices/traffic-management/#avoid-503-errors-while-reconfiguring-service-routes"},
	},
	Run: runSubsetNotFound,
}

func runSubsetNotFound(p *rules.Pass) {
	m := p.Model
	for _, vs := range m.VirtualServices {
		for _, d := range m.Destinations(vs) {
			subset := d.Destination.Subset
			if subset == "" {
				continue
			}
			drs := m.DestinationRuleFor(vs.Namespace, d.Host)
			if s, _ := mesh.Subset(drs, subset); s != nil {
				continue
			}
			if len(drs) == 0 && !m.LookupHost(d.Host).Found() {
				// Neither the host nor a rule for it is in the input:
				// partial input, and destination-host-not-found speaks
				// for the host.
				continue
			}
			f := rules.At(vs.Object, d.FieldPath("subset")...)
			if len(drs) == 0 {
				f.Message = fmt.Sprintf("VirtualService %s/%s routes to subset %q of %s, but no DestinationRule for %s is visible from namespace %s", vs.Namespace, vs.Name, subset, d.Host, d.Host, vs.Namespace)
				f.Fix = fmt.Sprintf("apply a DestinationRule for %s that defines subset %q before this VirtualService:\n%s", d.Host, subset, subsetYAML(d.Host, subset, nil))
			} else {
				var names []string
				seen := map[string]bool{}
				for _, dr := range drs {
					for _, s := range dr.Spec.Subsets {
						if !seen[s.Name] {
							seen[s.Name] = true
							names = append(names, s.Name)
						}
					}
				}
				have := "defines no subsets"
				if len(names) > 0 {
					have = "defines only " + strings.Join(names, ", ")
				}
				f.Message = fmt.Sprintf("VirtualService %s/%s routes to subset %q of %s, but DestinationRule %s/%s %s", vs.Namespace, vs.Name, subset, d.Host, drs[0].Namespace, drs[0].Name, have)
				f.Fix = fmt.Sprintf("add subset %q to DestinationRule %s/%s (and apply it before the VirtualService):\n%s", subset, drs[0].Namespace, drs[0].Name, subsetYAML(drs[0].Spec.Host, subset, drs[0].Spec.Subsets))
			}
			f.Symptom = fmt.Sprintf("requests on this route get HTTP 503 with response flag NC (cluster outbound|…|%s|%s not found)", subset, d.Host)
			p.Report(f)
		}
	}
}

// subsetYAML renders the subset to add. The label key follows the
// existing subsets' convention (usually "version"). The value is the
// subset's name only where that is the convention too (subset v1 selects
// version: v1): when the existing subsets' values differ from their names,
// the name says nothing about the pods' label, so the fix says so rather
// than propose a selector that may match no pod.
func subsetYAML(host, subset string, existing []*istioapi.Subset) string {
	key := "version"
	for _, s := range existing {
		if len(s.Labels) == 1 {
			for k := range s.Labels {
				key = k
			}
			break
		}
	}
	label := fmt.Sprintf("%s: %s   # the label your %s pods carry", key, subset, subset)
	for _, s := range existing {
		if v, ok := s.Labels[key]; ok && v != s.Name {
			label = fmt.Sprintf("%s: <value your pods carry>   # e.g. subset %s selects %s: %s", key, s.Name, key, v)
			break
		}
	}
	return fmt.Sprintf("spec:\n  host: %s\n  subsets:\n  # …keep the existing subsets…\n  - name: %s\n    labels:\n      %s", host, subset, label)
}
