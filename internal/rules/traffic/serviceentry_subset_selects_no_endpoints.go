package traffic

import (
	"fmt"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// ServiceEntrySubsetSelectsNoEndpoints: a DestinationRule subset for a
// ServiceEntry host whose labels match none of the entry's endpoints.
var ServiceEntrySubsetSelectsNoEndpoints = &rules.Rule{
	Code: "MD1050", Name: "serviceentry-subset-selects-no-endpoints", Severity: finding.Error, Area: "traffic",
	Summary: "A DestinationRule subset of a ServiceEntry host matches none of the entry's endpoints (inline endpoints, WorkloadEntries or pods of its workloadSelector).",
	Needs:   []string{"DestinationRule", "ServiceEntry"},
	Reads:   []string{"VirtualService", "WorkloadEntry"},
	Since:   "0.3.0",
	Doc: rules.Doc{
		Mechanism: "For a ServiceEntry host, a subset's Envoy cluster holds the entry's endpoints that carry every label of the subset: the labels of its inline spec.endpoints, or, with a workloadSelector, the labels of the WorkloadEntries and pods it selects (not the selector's labels themselves). A subset whose labels no endpoint carries (a version label only the pods of another Service have, a label put on the ServiceEntry's metadata instead of the WorkloadEntry) builds a cluster with no endpoints.",
		Symptom:   "Requests routed to the subset fail with HTTP 503 and response flag UH (\"no healthy upstream\"); istioctl proxy-config endpoints shows the subset's cluster empty.",
		Fix:       "Put the subset's labels on the endpoints (spec.endpoints[].labels, or the WorkloadEntry's spec.labels), or make the subset select labels they have.",
		Before:    "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: billing-vms, namespace: shop}\nspec:\n  hosts: [billing.vm.internal]\n  location: MESH_INTERNAL\n  resolution: STATIC\n  ports: [{number: 8080, name: http, protocol: HTTP}]\n  workloadSelector:\n    labels: {app: billing}\n---\napiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata: {name: billing-vm-1, namespace: shop}\nspec:\n  address: 10.0.8.11\n  labels: {app: billing}\n---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: billing, namespace: shop}\nspec:\n  host: billing.vm.internal\n  subsets:\n  - name: v2\n    labels: {version: v2}   # no WorkloadEntry carries it\n",
		After:     "apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata: {name: billing-vm-1, namespace: shop}\nspec:\n  address: 10.0.8.11\n  labels: {app: billing, version: v2}\n",
		Sources: []string{
			"https://istio.io/latest/docs/reference/config/networking/destination-rule/#Subset",
			"https://istio.io/latest/docs/reference/config/networking/service-entry/",
			"https://istio.io/latest/docs/reference/config/networking/workload-entry/",
		},
	},
	Run: runServiceEntrySubsetSelectsNoEndpoints,
}

func runServiceEntrySubsetSelectsNoEndpoints(p *rules.Pass) {
	m := p.Model
	for _, dr := range m.DestinationRules {
		if len(dr.Spec.Subsets) == 0 || strings.HasPrefix(dr.Host, "*") {
			continue
		}
		dest := m.LookupHost(dr.Host)
		if dest.Service != nil || len(dest.Entries) == 0 {
			continue // Services are subset-selects-no-pods'
		}
		// Every entry for the host must list its endpoints: one the
		// input cannot enumerate may be the one that carries the labels.
		type entryEPs struct {
			se  *mesh.ServiceEntry
			eps []mesh.EntryEndpoint
		}
		var all []entryEPs
		known := true
		for _, se := range dest.Entries {
			eps, ok := m.EntryEndpoints(se)
			if !ok {
				known = false
				break
			}
			all = append(all, entryEPs{se, eps})
		}
		if !known {
			continue
		}
	subsets:
		for i, s := range dr.Spec.Subsets {
			if len(s.Labels) == 0 {
				continue
			}
			var have []string
			for _, e := range all {
				for _, ep := range e.eps {
					if mesh.EntrySubsetMayInclude(s.Labels, ep) {
						continue subsets
					}
					have = append(have, ep.Name(e.se)+" ("+rules.LabelString(ep.Labels)+")")
				}
			}
			f := rules.At(dr.Object, "spec", "subsets", i, "labels")
			if !m.SubsetRouted(dr.Host, s.Name) {
				f.Severity = finding.Info // nothing routes to it yet
			}
			f.Message = fmt.Sprintf("subset %q of DestinationRule %s/%s selects %s, but no endpoint of ServiceEntry %s for %s has these labels: %s",
				s.Name, dr.Namespace, dr.Name, rules.LabelString(s.Labels), entryNames(dest.Entries), dr.Host, rules.ListUpTo(have, 3))
			f.Symptom = fmt.Sprintf("requests routed to subset %s get HTTP 503 with response flag UH (no healthy upstream)", s.Name)
			if f.Severity == finding.Info {
				f.Symptom += " once a route uses it (none in the input does yet)"
			}
			f.Fix = fmt.Sprintf("label the endpoints that serve subset %s with %s (spec.endpoints[].labels, or the WorkloadEntry's spec.labels / the pods' template labels), or change the subset's labels to ones they carry", s.Name, rules.LabelString(s.Labels))
			p.Report(f)
		}
	}
}

func entryNames(ses []*mesh.ServiceEntry) string {
	names := make([]string, 0, len(ses))
	for _, se := range ses {
		names = append(names, se.Namespace+"/"+se.Name)
	}
	return rules.ListUpTo(names, 3)
}
