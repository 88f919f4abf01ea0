package cluster

import (
	"context"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"

	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

// Resource is a kind meshdoctor reads and where the API server serves it,
// for callers that watch instead of list (the serve command's informers).
type Resource struct{ r resource }

// GroupKind is the kind as the model knows it.
func (r Resource) GroupKind() manifest.GroupKind { return r.r.gk }

// GroupVersionResource is where the kind is served.
func (r Resource) GroupVersionResource() schema.GroupVersionResource {
	return r.r.gv.WithResource(r.r.plural)
}

// Namespaced tells whether objects of the kind live in a namespace.
func (r Resource) Namespaced() bool { return r.r.namespaced }

// NewResource is the Resource of an object the API server names by its
// kind and resource (an admission request), or false when meshdoctor does
// not read that kind.
func NewResource(gvk schema.GroupVersionKind, plural string, namespaced bool) (Resource, bool) {
	gk := manifest.GroupKind{Group: gvk.Group, Kind: gvk.Kind}
	if manifest.NewTyped(gk) == nil {
		return Resource{}, false
	}
	return Resource{resource{gk: gk, gv: gvk.GroupVersion(), plural: plural, namespaced: namespaced}}, true
}

// Discover lists the kinds Load reads that the server serves (Secrets
// apart: Load reads them one by one, by reference), each at the version
// Load reads it.
func Discover(ctx context.Context, cfg *rest.Config) ([]Resource, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, &Error{Host: cfg.Host, Err: err}
	}
	rs, err := discover(ctx, dc)
	if err != nil {
		return nil, &Error{Host: cfg.Host, Err: err}
	}
	out := make([]Resource, 0, len(rs))
	for _, r := range rs {
		if r.gk.Kind != secretKind {
			out = append(out, Resource{r})
		}
	}
	return out, nil
}
