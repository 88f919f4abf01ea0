// Package change analyzes a change to a live cluster: the objects an apply
// creates or updates and those it deletes. It answers one question for
// `analyze --kube` and for the serve command's admission webhook alike:
// given the cluster as it is and a change, what would the change add?
package change

import (
	"github.com/meshdoctor/meshdoctor/internal/analysis"
	"github.com/meshdoctor/meshdoctor/internal/catalog"
	"github.com/meshdoctor/meshdoctor/internal/cluster"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

// Change is what one apply does to the cluster.
type Change struct {
	// Apply holds the objects created or updated (kubectl apply -f, an
	// admission request's object); nil for none.
	Apply *manifest.Result
	// Delete names the objects removed.
	Delete []manifest.ID
}

// Empty tells whether the change does nothing.
func (c Change) Empty() bool {
	return (c.Apply == nil || len(c.Apply.Objects) == 0) && len(c.Delete) == 0
}

// Analyze analyzes live with the change applied under opts: the findings
// of the cluster as the change leaves it, plus the hazards of its rollout
// (proxies receive the change's objects one by one), with those baseline
// (the analysis of live, maybe under other options, e.g. the current
// Istio version of an upgrade) already has marked pre-existing. What is
// left unmarked is what the change introduces.
func Analyze(live *manifest.Result, c Change, opts analysis.Options, baseline *analysis.Result) *analysis.Result {
	before := Without(live, c.Delete)
	apply := c.Apply
	if apply == nil {
		apply = &manifest.Result{Unknown: map[string]int{}}
	}
	final := cluster.Overlay(before, apply)
	res := analysis.Run(final, opts)
	analysis.AddRolloutHazards(res, final, before, apply, cluster.Overlay, catalog.ByName("subset-not-found"), opts, baseline)
	analysis.MarkPreExisting(res, baseline)
	return res
}

// Without is live less the deleted objects (and their decoding problems).
func Without(live *manifest.Result, deleted []manifest.ID) *manifest.Result {
	if len(deleted) == 0 {
		return live
	}
	gone := make(map[manifest.ID]bool, len(deleted))
	refs := make(map[manifest.Ref]bool, len(deleted))
	for _, id := range deleted {
		gone[id] = true
		refs[manifest.Ref{Kind: id.Kind, Namespace: id.Namespace, Name: id.Name}] = true
	}
	out := &manifest.Result{Unknown: live.Unknown, Files: live.Files, NotManifests: live.NotManifests}
	for _, o := range live.Objects {
		if !gone[o.ID()] {
			out.Objects = append(out.Objects, o)
		}
	}
	for _, p := range live.Problems {
		if p.Ref == nil || !refs[*p.Ref] {
			out.Problems = append(out.Problems, p)
		}
	}
	return out
}
