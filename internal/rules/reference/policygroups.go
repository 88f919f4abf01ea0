package reference

import (
	"fmt"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// policyNames names a group's policies in istiod's order.
func policyNames(g mesh.PolicyGroup) []string {
	out := make([]string, len(g.Policies))
	for i, p := range g.Policies {
		out[i] = p.Object.Name
	}
	return out
}

// orderNote says how istiod ordered the group: by creation time, or, for
// resources not yet applied or created in the same second, by name.
func orderNote(g mesh.PolicyGroup) string {
	if g.SameCreationTime() {
		return "the oldest first, by name when not yet applied or created in the same second"
	}
	return "the oldest first"
}

// workloadsOf names a group's shared workloads.
func workloadsOf(g mesh.PolicyGroup) string {
	return rules.WorkloadList(g.Workloads, 3)
}

// quoted writes names as "a", "b".
func quoted(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}
