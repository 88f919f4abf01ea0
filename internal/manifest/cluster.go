package manifest

import "sort"

// KnownKinds lists every group/kind the loader decodes into a Go type, in a
// stable order, so a loader reading a live API server lists exactly what the
// file loader understands.
func KnownKinds() []GroupKind {
	out := make([]GroupKind, 0, len(kinds))
	for gk := range kinds {
		out = append(out, gk)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Group != out[j].Group {
			return out[i].Group < out[j].Group
		}
		return out[i].Kind < out[j].Kind
	})
	return out
}

// NewTyped returns a new, empty value of the Go type for gk (a pointer, as
// in Object.Typed), or nil for a kind the loader does not know.
func NewTyped(gk GroupKind) any {
	k, ok := kinds[gk]
	if !ok {
		return nil
	}
	return k.new()
}

// ClusterOriginPrefix starts the origin of objects read from a live API
// server ("cluster://Kind/namespace/name"). Such objects have no file or
// line; positions name the resource, and SARIF renders them as logical
// locations (it skips "://" origins as files).
const ClusterOriginPrefix = "cluster://"

// ClusterOrigin is the origin of a resource read from a live API server.
func ClusterOrigin(r Ref) string { return ClusterOriginPrefix + r.String() }

// FromCluster reports whether o was read from a live API server.
func (o *Object) FromCluster() bool {
	return len(o.File) >= len(ClusterOriginPrefix) && o.File[:len(ClusterOriginPrefix)] == ClusterOriginPrefix
}
