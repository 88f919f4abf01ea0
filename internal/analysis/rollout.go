package analysis

import (
	"fmt"
	"slices"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// AddRolloutHazards analyzes a change to a live cluster as proxies may receive
// it: routes first (the change without its DestinationRules) and subsets
// first (only its DestinationRules). check is the rule that finds routes to
// missing subsets; what it reports in those intermediate states, and
// neither before nor after the change, exists only during the rollout and
// becomes a rollout-order finding. overlay applies files to the cluster.
// https://istio.io/latest/docs/ops/best-practices/traffic-management/#avoid-503-errors-while-reconfiguring-service-routes
//
// The findings are added to after (the analysis of the finished change,
// whose objects final holds), with its suppressions.
func AddRolloutHazards(after *Result, final, live, change *manifest.Result, overlay func(live, files *manifest.Result) *manifest.Result, check *rules.Rule, opts Options, before *Result) {
	fs := rolloutHazards(live, change, overlay, check, opts, before, after)
	kept, n := suppress(fs, final.Objects, opts.Ignore)
	after.Findings = append(after.Findings, kept...)
	after.Suppressed += n
	rules.Sort(after.Findings)
}

func rolloutHazards(live, change *manifest.Result, overlay func(live, files *manifest.Result) *manifest.Result, check *rules.Rule, opts Options, before, after *Result) []finding.Finding {
	drs := &manifest.Result{Unknown: map[string]int{}}
	rest := &manifest.Result{Unknown: map[string]int{}}
	inChange := map[*manifest.Object]bool{}
	for _, o := range change.Objects {
		inChange[o] = true
		if o.Kind == "DestinationRule" && o.Group() == "networking.istio.io" {
			drs.Objects = append(drs.Objects, o)
		} else {
			rest.Objects = append(rest.Objects, o)
		}
	}
	if len(drs.Objects) == 0 || len(rest.Objects) == 0 {
		return nil
	}
	// The changed DestinationRules by host, and the VirtualServices, as
	// the finished change resolves them: a route's hazard names only the
	// rules for its own hosts.
	drsByHost := map[string][]string{}
	for _, dr := range after.Model.DestinationRules {
		if inChange[dr.Object] {
			drsByHost[dr.Host] = append(drsByHost[dr.Host], "DestinationRule "+dr.Namespace+"/"+dr.Name)
		}
	}
	vsByRef := map[manifest.Ref]*mesh.VirtualService{}
	for _, vs := range after.Model.VirtualServices {
		vsByRef[vs.Ref()] = vs
	}
	rulesFor := func(ref manifest.Ref) string {
		var names []string
		if vs := vsByRef[ref]; vs != nil {
			for _, d := range after.Model.Destinations(vs) {
				if d.Destination.Subset == "" {
					continue
				}
				for _, n := range drsByHost[d.Host] {
					if !slices.Contains(names, n) {
						names = append(names, n)
					}
				}
			}
		}
		if len(names) == 0 {
			return "the DestinationRules of this change"
		}
		return strings.Join(names, ", ")
	}
	// A route already broken before or after the change is not a rollout
	// problem. Matched by the route's field, not the message: the message
	// lists the subsets the DestinationRule has, which differ by state.
	type route struct {
		rule   string
		ref    manifest.Ref
		origin manifest.Position
	}
	known := map[route]bool{}
	for _, r := range []*Result{before, after} {
		for _, f := range r.Findings {
			known[route{f.Rule, f.Resource, f.Origin}] = true
		}
	}
	only := Options{Rules: []*rules.Rule{check}, Mesh: opts.Mesh}
	var out []finding.Finding
	seen := map[manifest.Ref]bool{}
	for _, state := range []struct {
		routesFirst bool
		res         *Result
	}{
		{true, Run(overlay(live, rest), only)},
		{false, Run(overlay(live, drs), only)},
	} {
		for _, f := range state.res.Findings {
			if f.Rule != check.Name || known[route{f.Rule, f.Resource, f.Origin}] || seen[f.Resource] {
				continue
			}
			seen[f.Resource] = true
			h := f
			h.Code, h.Rule, h.Severity = rules.RolloutOrder.Code, rules.RolloutOrder.Name, rules.RolloutOrder.Severity
			dr := rulesFor(f.Resource)
			if state.routesFirst {
				h.Message = fmt.Sprintf("applied together with %s, %s %s/%s can reach the proxies first, and then: %s", dr, f.Resource.Kind, f.Resource.Namespace, f.Resource.Name, f.Message)
				h.Fix = fmt.Sprintf("make before break: apply %s first, wait until `istioctl proxy-status` shows it SYNCED, then apply %s %s/%s", dr, f.Resource.Kind, f.Resource.Namespace, f.Resource.Name)
			} else {
				h.Message = fmt.Sprintf("applied together with the change to %s %s/%s, %s can reach the proxies first, and then: %s", f.Resource.Kind, f.Resource.Namespace, f.Resource.Name, dr, f.Message)
				h.Fix = fmt.Sprintf("make before break: apply the change to %s %s/%s first (it stops using the subset), wait until `istioctl proxy-status` shows it SYNCED, then apply %s", f.Resource.Kind, f.Resource.Namespace, f.Resource.Name, dr)
			}
			h.Symptom = "for seconds after the apply, until every proxy has both changes, requests on that route get HTTP 503 with response flag NC; the finished change is healthy"
			out = append(out, h)
		}
	}
	return out
}
