package cluster

import "github.com/meshdoctor/meshdoctor/internal/manifest"

// identity is what makes two objects the same resource for kubectl apply.
type identity struct{ group, kind, namespace, name string }

func idOf(o *manifest.Object) identity {
	g := o.Group()
	// extensions/v1beta1 Ingress is the same resource as networking.k8s.io's.
	if g == "extensions" && o.Kind == "Ingress" {
		g = "networking.k8s.io"
	}
	return identity{g, o.Kind, o.Namespace, o.Name}
}

// Overlay is the cluster with files applied on top, as `kubectl apply`
// would leave it: a file object replaces the cluster object with the same
// group, kind, namespace and name; the others are added. Problems and file
// counts come from both.
func Overlay(live *manifest.Result, files *manifest.Result) *manifest.Result {
	replaced := make(map[identity]bool, len(files.Objects))
	for _, o := range files.Objects {
		replaced[idOf(o)] = true
	}
	out := &manifest.Result{Unknown: map[string]int{}, Files: files.Files}
	for _, o := range live.Objects {
		if !replaced[idOf(o)] {
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
