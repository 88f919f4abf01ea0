package rules

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/mesh"
)

// The helpers below write the parts of messages and fixes that rules of
// every area share, so that findings name things the same way.

// ListUpTo joins at most n items and says how many more there are: a
// message naming every one of fifty workloads hides what matters.
func ListUpTo(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:n], ", "), len(items)-n)
}

// WorkloadList names workloads as "Kind namespace/name", at most n of them.
func WorkloadList(ws []*mesh.Workload, n int) string {
	names := make([]string, 0, len(ws))
	for _, w := range ws {
		names = append(names, w.Kind+" "+w.Namespace+"/"+w.Name)
	}
	return ListUpTo(names, n)
}

// LabelString writes labels or a selector the way kubectl -l takes them
// (app=web,version=v1), keys sorted.
func LabelString(labels map[string]string) string { return mesh.LabelString(labels) }

// LabelsYAML writes labels as YAML map entries for a fix, one per line with
// the given indent, keys sorted, without a final newline.
func LabelsYAML(labels map[string]string, indent string) string {
	lines := make([]string, 0, len(labels))
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		lines = append(lines, indent+k+": "+labels[k])
	}
	return strings.Join(lines, "\n")
}
