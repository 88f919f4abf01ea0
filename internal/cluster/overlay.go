package cluster

import "github.com/meshdoctor/meshdoctor/internal/manifest"

// Overlay is the cluster with files applied on top, as `kubectl apply`
// would leave it: a file object replaces the cluster object with the same
// group, kind, namespace and name; the others are added. Problems and file
// counts come from both.
func Overlay(live *manifest.Result, files *manifest.Result) *manifest.Result {
	replaced := make(map[manifest.ID]bool, len(files.Objects))
	for _, o := range files.Objects {
		replaced[o.ID()] = true
	}
	out := &manifest.Result{Unknown: map[string]int{}, Files: files.Files}
	for _, o := range live.Objects {
		if !replaced[o.ID()] {
			out.Objects = append(out.Objects, o)
		}
	}
	out.Objects = append(out.Objects, files.Objects...)
	out.Problems = append(append(out.Problems, live.Problems...), files.Problems...)
	for k, n := range live.Unknown {
		out.Unknown[k] += n
	}
	for k, n := range files.Unknown {
		out.Unknown[k] += n
	}
	return out
}
