package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

// Hazard is a state that applying the whole change at once can pass
// through and the plan's order avoids. Istio pushes each resource to the
// proxies as it arrives, so one kubectl apply of every change may reach a
// proxy in any order: here Early before First, and the state has Error,
// which neither end has.
type Hazard struct {
	Early []Op            `json:"early"`
	First []Op            `json:"first"`
	Error finding.Finding `json:"error"`
	// Order is the plan's steps for these resources only: the order that
	// avoids the state (it may apply an intermediate version).
	Order []Step `json:"order"`
	// Unsafe: no order of these changes avoids the error (a conflict).
	Unsafe bool `json:"unsafe,omitempty"`
}

// Op is one resource's change: apply or delete.
type Op struct {
	Action   string       `json:"action"`
	Resource manifest.Ref `json:"resource"`
}

func (o Op) String() string {
	if o.Action == "delete" {
		return "the deletion of " + refString(o.Resource)
	}
	return refString(o.Resource)
}

// maxTries bounds the states analyzed to narrow a hazard down to the
// changes that cause it; beyond it the hazard names the whole steps.
const maxTries = 8

// Hazards are the states a single apply can reach that the plan avoids.
// At each boundary between two steps, the later steps' changes arrive
// (applied to the start) before the earlier ones: one state per boundary,
// so the cost grows with the steps, not with the orders of the changes
// (factorial). A state where only some later changes arrive early is not
// checked. A conflict is a hazard no order avoids.
func (p *Plan) Hazards() []Hazard {
	if p.states == nil {
		return nil
	}
	var steps [][]change
	for _, s := range p.Steps {
		if len(s.changes) > 0 && !s.Unsafe {
			steps = append(steps, s.changes)
		}
	}
	seen := map[findingKey]bool{}
	var out []Hazard
	for k := 1; k < len(steps); k++ {
		early, first := slices.Concat(steps[k:]...), slices.Concat(steps[:k]...)
		for _, f := range p.states.errors(p.states.start, p.states.order, early) {
			if seen[keyOf(f)] {
				continue
			}
			seen[keyOf(f)] = true
			blamed := p.blame(early, f)
			h := Hazard{Error: f, Early: ops(blamed), First: ops(p.needed(first, blamed, f))}
			h.Order = p.orderOf(append(slices.Clone(h.Early), h.First...))
			out = append(out, h)
		}
	}
	for _, c := range p.Conflicts {
		var cs []Op
		for _, s := range p.Steps {
			if s.Unsafe {
				cs = append(cs, ops(s.changes)...)
			}
		}
		for _, f := range c.findings {
			if !seen[keyOf(f)] {
				seen[keyOf(f)] = true
				out = append(out, Hazard{Error: f, Early: cs, Unsafe: true, Order: p.orderOf(cs)})
			}
		}
	}
	return out
}

// has reports whether the start with cs applied has f.
func (p *Plan) has(cs []change, f finding.Finding) bool {
	for _, g := range p.states.errors(p.states.start, p.states.order, cs) {
		if keyOf(g) == keyOf(f) {
			return true
		}
	}
	return false
}

// blame narrows the changes that arrived early to those that cause f on
// their own: the change of the resource f is on, if it does, else each
// one tried alone.
func (p *Plan) blame(early []change, f finding.Finding) []change {
	if len(early) == 1 {
		return early
	}
	if i := slices.IndexFunc(early, func(c change) bool { return c.ref() == f.Resource }); i >= 0 && p.has(early[i:i+1], f) {
		return early[i : i+1]
	}
	if len(early) > maxTries {
		return early
	}
	var out []change
	for i := range early {
		if p.has(early[i:i+1], f) {
			out = append(out, early[i])
		}
	}
	if len(out) == 0 {
		return early
	}
	return out
}

// needed narrows the changes the plan applies first to those that, there
// with the early ones, clear f: what the early ones wait for.
func (p *Plan) needed(first, early []change, f finding.Finding) []change {
	if len(first) == 1 {
		return first
	}
	clears := func(c change) bool { return !p.has(append(slices.Clone(early), c), f) }
	if i := slices.IndexFunc(first, func(c change) bool { return c.ref() == f.Resource }); i >= 0 && clears(first[i]) {
		return first[i : i+1]
	}
	if len(first) > maxTries {
		return first
	}
	var out []change
	for _, c := range first {
		if clears(c) {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return first
	}
	return out
}

func ops(cs []change) []Op {
	out := make([]Op, 0, len(cs))
	for _, c := range cs {
		out = append(out, Op{Action: c.action, Resource: c.ref()})
	}
	return out
}

// orderOf is the plan's steps restricted to the resources of these ops,
// with the waits for what remains of each step.
func (p *Plan) orderOf(of []Op) []Step {
	keep := map[manifest.Ref]bool{}
	for _, o := range of {
		keep[o.Resource] = true
	}
	var out []Step
	for _, s := range p.Steps {
		st := Step{Action: s.Action, Why: s.Why, Intermediate: s.Intermediate, Unsafe: s.Unsafe, bridges: s.bridges}
		var waits []string
		for i, r := range s.Resources {
			if !keep[r] {
				continue
			}
			st.Resources = append(st.Resources, r)
			w := "the proxies drop it: `istioctl proxy-status` SYNCED"
			if s.Action == "apply" && i < len(s.objects) {
				w = waitFor(s.objects[i])
			}
			if w != "" && !slices.Contains(waits, w) {
				waits = append(waits, w)
			}
		}
		if len(st.Resources) > 0 {
			st.Wait = strings.Join(waits, "; then ")
			out = append(out, st)
		}
	}
	return out
}

// Sentence is the order as one instruction: "apply A first; wait: ...;
// then apply B".
func Sentence(steps []Step) string {
	var b strings.Builder
	for i, s := range steps {
		var refs []string
		for _, r := range s.Resources {
			refs = append(refs, refString(r))
		}
		what := s.Action + " " + strings.Join(refs, ", ")
		if s.Intermediate {
			what = fmt.Sprintf("apply an intermediate version of %s that %s (`meshdoctor plan --write DIR` writes it)", strings.Join(refs, ", "), s.bridges)
		}
		switch {
		case i == 0 && len(steps) > 1:
			b.WriteString(what + " first")
		case i == 0:
			b.WriteString(what)
		default:
			b.WriteString("; then " + what)
		}
		if s.Wait != "" && i < len(steps)-1 {
			b.WriteString("; wait: " + s.Wait)
		}
	}
	return b.String()
}
