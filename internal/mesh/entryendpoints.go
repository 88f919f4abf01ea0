package mesh

import (
	istionet "istio.io/client-go/pkg/apis/networking/v1"

	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

// WorkloadEntry is an Istio WorkloadEntry: a VM or other non-Kubernetes
// endpoint with labels, selected by ServiceEntries' workloadSelector.
type WorkloadEntry struct {
	*manifest.Object
	Labels map[string]string
}

func (m *Model) indexWorkloadEntries() {
	m.workloadEntriesByNS = map[string][]*WorkloadEntry{}
	for _, o := range m.Objects {
		if t, ok := o.Typed.(*istionet.WorkloadEntry); ok {
			m.workloadEntriesByNS[o.Namespace] = append(m.workloadEntriesByNS[o.Namespace], &WorkloadEntry{Object: o, Labels: t.Spec.GetLabels()})
		}
	}
}

// EntryEndpoint is one endpoint of a ServiceEntry with the labels
// DestinationRule subsets are matched against.
type EntryEndpoint struct {
	Labels map[string]string
	// Exactly one of these says where it comes from: an inline
	// spec.endpoints entry (Index), a WorkloadEntry, or a pod.
	Index         int
	WorkloadEntry *WorkloadEntry
	Workload      *Workload
}

// Name describes the endpoint for messages.
func (e EntryEndpoint) Name(se *ServiceEntry) string {
	switch {
	case e.WorkloadEntry != nil:
		return "WorkloadEntry " + e.WorkloadEntry.Namespace + "/" + e.WorkloadEntry.Name
	case e.Workload != nil:
		return e.Workload.Kind + " " + e.Workload.Namespace + "/" + e.Workload.Name
	}
	return "ServiceEntry " + se.Namespace + "/" + se.Name + " spec.endpoints[" + itoa(uint32(e.Index)) + "]"
}

// EntryEndpoints answers "which endpoints, with which labels, does a
// ServiceEntry have": its inline spec.endpoints, or with a
// workloadSelector the pods and WorkloadEntries of its namespace whose
// labels match (https://istio.io/latest/docs/reference/config/networking/service-entry/#ServiceEntry,
// workloadSelector). known is false when the input cannot list them: a
// ServiceEntry resolved from its hosts alone (DNS, NONE), or a
// workloadSelector nothing in the input matches (the workloads may be
// elsewhere).
func (m *Model) EntryEndpoints(se *ServiceEntry) (eps []EntryEndpoint, known bool) {
	if sel := se.Spec.GetWorkloadSelector().GetLabels(); len(sel) > 0 {
		for _, w := range m.Select(se.Namespace, sel) {
			eps = append(eps, EntryEndpoint{Labels: w.Labels, Workload: w, Index: -1})
		}
		for _, we := range m.workloadEntriesByNS[se.Namespace] {
			if Matches(sel, we.Labels) {
				eps = append(eps, EntryEndpoint{Labels: we.Labels, WorkloadEntry: we, Index: -1})
			}
		}
		return eps, len(eps) > 0
	}
	for i, e := range se.Spec.GetEndpoints() {
		eps = append(eps, EntryEndpoint{Labels: e.GetLabels(), Index: i})
	}
	return eps, len(eps) > 0
}

// EntrySubsetMayInclude is SubsetMayInclude for a ServiceEntry endpoint:
// pods as for Services; WorkloadEntries and inline endpoints by their own
// labels, which are all there is (no injector or controller adds any).
func EntrySubsetMayInclude(labels map[string]string, e EntryEndpoint) bool {
	if e.Workload != nil {
		return SubsetMayInclude(labels, e.Workload)
	}
	return Matches(labels, e.Labels)
}
