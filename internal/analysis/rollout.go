package analysis

import (
	"fmt"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
	"github.com/meshdoctor/meshdoctor/internal/plan"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// AddRolloutHazards analyzes a change to a live cluster as proxies may receive
// it, as a view of the planner: internal/plan orders the change so that
// every intermediate state is safe, and its hazards are the states one
// kubectl apply of the whole change can pass through that its order
// avoids (a VirtualService routing to a subset reaching the proxies
// before the DestinationRule that adds it). Each becomes a rollout-order
// finding that names the order the planner chose and what the other order
// breaks. check is the rule the intermediate states are analyzed with
// (subset-not-found): what it reports there, and neither before nor after
// the change, exists only during the rollout. overlay applies files to
// the cluster.
// https://istio.io/latest/docs/ops/best-practices/traffic-management/#avoid-503-errors-while-reconfiguring-service-routes
//
// The planner takes the analysis as a function (Options.Check), so this
// package can ask it without an import cycle: plan sits below analysis
// and knows nothing of rules.
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
	// One object has no order (an admission request, usually).
	if len(change.Objects) < 2 {
		return nil
	}
	only := Options{Rules: []*rules.Rule{check}, Mesh: opts.Mesh}
	// The two ends are analyzed already (before and after, with every
	// rule): the planner's baseline reuses them, and analyzes only the
	// states in between, one model each.
	to := overlay(live, change)
	ends := func(r *manifest.Result) []finding.Finding {
		switch r {
		case live:
			return before.Findings
		case to:
			return after.Findings
		}
		return only.Check(r)
	}
	p := plan.Make(live, to, ends)
	// A route already broken before or after the change is not a rollout
	// problem (the planner compares with the ends at the target version;
	// before may run at the current one).
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
	var out []finding.Finding
	seen := map[manifest.Ref]bool{}
	for _, hz := range p.Hazards() {
		f := hz.Error
		if f.Rule != check.Name || known[route{f.Rule, f.Resource, f.Origin}] || seen[f.Resource] {
			continue
		}
		seen[f.Resource] = true
		h := f
		h.Code, h.Rule, h.Severity = rules.RolloutOrder.Code, rules.RolloutOrder.Name, rules.RolloutOrder.Severity
		if hz.Unsafe {
			h.Message = fmt.Sprintf("no order of %s avoids a state where: %s", opList(hz.Early), f.Message)
			h.Fix = "no order of these changes is safe: apply them in one step at a quiet time, or split them so that one can go first (`meshdoctor plan --kube` with these files shows the conflict)"
		} else {
			h.Message = fmt.Sprintf("applied together with %s, %s can reach the proxies first, and then: %s", opList(hz.First), opList(hz.Early), f.Message)
			h.Fix = "make before break, in the order `meshdoctor plan --kube` gives: " + plan.Sentence(hz.Order)
		}
		h.Symptom = "for seconds after the apply, until every proxy has every change: " + f.Symptom + "; the finished change is healthy"
		out = append(out, h)
	}
	return out
}

func opList(ops []plan.Op) string {
	var parts []string
	for _, o := range ops {
		parts = append(parts, o.String())
	}
	return strings.Join(parts, ", ")
}
