// Package plan orders a change between two states of a cluster so that no
// intermediate state breaks traffic. Istio pushes each resource to the
// proxies as it arrives, so the order of kubectl applies is the order the
// mesh sees: a route to a subset before the DestinationRule that defines
// it is a 503 until the second arrives (seed 003's make-before-break).
//
// The planner diffs the states per resource, proposes steps in dependency
// order (what others reference first, references next, tightening last,
// deletions in reverse), and checks every intermediate state with the
// analysis: a step may not add an error that neither the start nor the end
// has. A step that would is deferred; when nothing can go next safely, the
// plan offers a safe intermediate (a DestinationRule carrying both the old
// and the new subsets) or says which resources conflict and why.
package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	secapi "istio.io/api/security/v1beta1"
	istiosec "istio.io/client-go/pkg/apis/security/v1"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

// Check returns the findings of a state of the cluster. The planner takes
// the analysis as a function rather than importing it, so that the
// analysis can in turn ask the planner (the rollout-order finding of
// `analyze --kube` is a view of the plan): the CLI passes
// analysis.Options.Check with every rule, the rollout view the one rule
// whose intermediate states it reports.
type Check func(*manifest.Result) []finding.Finding

// Step is one kubectl apply or delete, in order.
type Step struct {
	Action    string         `json:"action"` // apply | delete
	Resources []manifest.Ref `json:"resources"`
	// Wait is what to wait for before the next step.
	Wait string `json:"wait,omitempty"`
	Why  string `json:"why"`
	// Intermediate marks a step that applies a version of a resource
	// that is neither the start's nor the end's (a safe bridge).
	Intermediate bool `json:"intermediate,omitempty"`
	// Unsafe marks steps the planner could not order safely.
	Unsafe bool `json:"unsafe,omitempty"`

	objects []*manifest.Object
	// deleted are the objects a delete step removes.
	deleted []*manifest.Object
	// yaml holds generated manifests (intermediate objects), by index
	// into objects.
	yaml map[int][]byte
	// changes are the differences between the states the step applies
	// (none for an intermediate step).
	changes []change
	// bridges says what an intermediate version does.
	bridges string
}

// Conflict is a set of changes no order applies safely.
type Conflict struct {
	Resources []manifest.Ref `json:"resources"`
	Errors    []string       `json:"errors"`

	findings []finding.Finding
}

// Plan is the ordered change.
type Plan struct {
	Steps     []Step     `json:"steps"`
	Conflicts []Conflict `json:"conflicts,omitempty"`
	// StatesChecked counts the intermediate states analyzed.
	StatesChecked int `json:"statesChecked"`
	// Unchanged counts resources equal in both states.
	Unchanged int `json:"unchanged"`

	// states checks the states between the start and the end (Hazards).
	states *states
}

// states analyzes states between a start and an end: the start with some
// changes applied. An error counts only when neither end has it.
type states struct {
	check    Check
	baseline map[findingKey]bool
	start    map[manifest.ID]*manifest.Object
	// order is the start's object order, so that a state lists its
	// objects as the files did (stable findings).
	order   []manifest.ID
	checked *int
}

// errors analyzes state with cs (and extra objects) applied and returns
// the errors neither end state has.
func (s *states) errors(state map[manifest.ID]*manifest.Object, order []manifest.ID, cs []change, extra ...*manifest.Object) []finding.Finding {
	*s.checked++
	res := &manifest.Result{Unknown: map[string]int{}}
	next := apply(state, cs, extra)
	for _, id := range order {
		if o := next[id]; o != nil {
			res.Objects = append(res.Objects, o)
		}
	}
	for _, c := range cs {
		if c.action == "apply" && state[c.id] == nil {
			res.Objects = append(res.Objects, c.after)
		}
	}
	res.Objects = append(res.Objects, extraNew(state, extra)...)
	var out []finding.Finding
	for _, f := range s.check(res) {
		if f.Severity >= finding.Error && !s.baseline[keyOf(f)] {
			out = append(out, f)
		}
	}
	return out
}

// change is one resource's difference between the states.
type change struct {
	action        string // apply | delete
	before, after *manifest.Object
	id            manifest.ID
	prio          int
}

func (c change) ref() manifest.Ref {
	if c.after != nil {
		return c.after.Ref()
	}
	return c.before.Ref()
}

// Make plans the change from one state to the other; check analyzes
// every state (the start, the end and each one in between).
func Make(from, to *manifest.Result, check Check) *Plan {
	p := &Plan{}
	changes := diff(from.Objects, to.Objects, &p.Unchanged)
	if len(changes) == 0 {
		return p
	}
	sort.SliceStable(changes, func(i, j int) bool { return changes[i].prio < changes[j].prio })

	st := &states{check: check, baseline: map[findingKey]bool{}, start: map[manifest.ID]*manifest.Object{}, checked: &p.StatesChecked}
	for _, r := range []*manifest.Result{from, to} {
		for _, f := range check(r) {
			if f.Severity >= finding.Error {
				st.baseline[keyOf(f)] = true
			}
		}
	}
	for _, o := range from.Objects {
		id := o.ID()
		if _, dup := st.start[id]; !dup {
			st.order = append(st.order, id)
		}
		st.start[id] = o
	}
	p.states = st
	state := maps.Clone(st.start)
	order := slices.Clone(st.order)
	newErrors := func(cs []change, extra ...*manifest.Object) []finding.Finding {
		return st.errors(state, order, cs, extra...)
	}
	commit := func(cs []change) {
		for _, c := range cs {
			if _, seen := state[c.id]; !seen && c.action == "apply" {
				order = append(order, c.id)
			}
			if c.action == "delete" {
				delete(state, c.id)
			} else {
				state[c.id] = c.after
			}
		}
	}
	deferred := map[manifest.ID][]finding.Finding{}
	remaining := changes
	for len(remaining) > 0 {
		done := false
		for _, g := range groups(remaining) {
			// The whole group at once, else its members one by one.
			if errs := newErrors(g); len(errs) == 0 {
				p.Steps = append(p.Steps, stepFor(g, deferred))
				commit(g)
				remaining = without(remaining, g)
				done = true
				break
			} else {
				for _, c := range g {
					deferred[c.id] = errs
				}
			}
			if len(g) > 1 {
				for _, c := range g {
					if errs := newErrors([]change{c}); len(errs) == 0 {
						p.Steps = append(p.Steps, stepFor([]change{c}, deferred))
						commit([]change{c})
						remaining = without(remaining, []change{c})
						done = true
						break
					} else {
						deferred[c.id] = errs
					}
				}
				if done {
					break
				}
			}
		}
		if done {
			continue
		}
		// Nothing goes next safely: bridge with a DestinationRule that
		// carries the subsets of both states, if that makes a route
		// change safe.
		if bridge, c, ok := bridgeSubsets(remaining, newErrors); ok {
			st := Step{Action: "apply", Resources: []manifest.Ref{bridge.obj.Ref()}, Intermediate: true, Wait: waitFor(bridge.obj),
				Why:     fmt.Sprintf("no order of the remaining changes is safe (%s); this version of %s %s, so the rest can follow safely", errorList(deferred[c.id]), refString(bridge.obj.Ref()), bridge.what),
				objects: []*manifest.Object{bridge.obj}, yaml: map[int][]byte{0: bridge.yaml}, bridges: bridge.what}
			p.Steps = append(p.Steps, st)
			state[bridge.obj.ID()] = bridge.obj
			continue
		}
		var refs []manifest.Ref
		var errs []string
		for _, c := range remaining {
			refs = append(refs, c.ref())
			for _, f := range deferred[c.id] {
				e := fmt.Sprintf("%s: %s", f.Rule, f.Message)
				if !slices.Contains(errs, e) {
					errs = append(errs, e)
				}
			}
		}
		var fs []finding.Finding
		for _, c := range remaining {
			fs = append(fs, deferred[c.id]...)
		}
		p.Conflicts = append(p.Conflicts, Conflict{Resources: refs, Errors: errs, findings: fs})
		st := stepFor(remaining, deferred)
		st.Unsafe = true
		st.Why = "no safe order exists for these changes: every order passes through a state with " + strings.Join(errs, "; ")
		p.Steps = append(p.Steps, st)
		break
	}
	return p
}

// findingKey identifies an error across states: an object in an
// intermediate state is the very object of the start or the end, so the
// rule, resource and position compare exactly.
type findingKey struct {
	rule   string
	ref    manifest.Ref
	origin manifest.Position
}

func keyOf(f finding.Finding) findingKey { return findingKey{f.Rule, f.Resource, f.Origin} }

// diff pairs the resources of the two states.
func diff(from, to []*manifest.Object, unchanged *int) []change {
	before := map[manifest.ID]*manifest.Object{}
	for _, o := range from {
		before[o.ID()] = o
	}
	seen := map[manifest.ID]bool{}
	var out []change
	for _, o := range to {
		id := o.ID()
		if seen[id] {
			continue
		}
		seen[id] = true
		b := before[id]
		if b != nil && bytes.Equal(canonical(b), canonical(o)) {
			*unchanged++
			continue
		}
		out = append(out, change{action: "apply", before: b, after: o, id: id, prio: applyPriority(o)})
	}
	for _, o := range from {
		id := o.ID()
		if !seen[id] {
			seen[id] = true
			out = append(out, change{action: "delete", before: o, id: id, prio: deletePriority(o)})
		}
	}
	return out
}

// canonical is what kubectl apply would change: everything but status and
// the server's metadata.
func canonical(o *manifest.Object) []byte {
	var raw []byte
	if o.Typed != nil {
		raw, _ = json.Marshal(o.Typed)
	}
	if len(raw) == 0 {
		raw = o.FieldJSON()
	}
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return raw
	}
	delete(m, "status")
	if md, ok := m["metadata"].(map[string]any); ok {
		kept := map[string]any{}
		for _, k := range []string{"name", "namespace", "labels", "annotations"} {
			if v, ok := md[k]; ok {
				kept[k] = v
			}
		}
		if a, ok := kept["annotations"].(map[string]any); ok {
			delete(a, "kubectl.kubernetes.io/last-applied-configuration")
			if len(a) == 0 {
				delete(kept, "annotations")
			}
		}
		m["metadata"] = kept
	}
	delete(m, "apiVersion") // v1beta1 and v1 of one resource are the same object
	out, _ := json.Marshal(m)
	return out
}

// Apply order: what others reference first (namespaces, credentials,
// services and workloads, hosts), then the policies that define subsets
// and listeners, then routes, then mTLS tightening. Deletions go the other
// way: routes before what they reference.
var kindPriority = map[string]int{
	"Namespace": 0, "CustomResourceDefinition": 0,
	"Secret": 1, "ConfigMap": 1, "ServiceAccount": 1,
	"Service": 2, "ServiceEntry": 2, "WorkloadEntry": 2,
	"Deployment": 3, "StatefulSet": 3, "DaemonSet": 3, "Pod": 3, "Job": 3, "CronJob": 3, "ReplicaSet": 3,
	"DestinationRule": 4,
	"Gateway":         5,
	"VirtualService":  6, "HTTPRoute": 6, "Ingress": 6, "Sidecar": 6,
	"PeerAuthentication": 7, "AuthorizationPolicy": 7, "RequestAuthentication": 7,
}

func applyPriority(o *manifest.Object) int {
	if p, ok := kindPriority[o.Kind]; ok {
		return p
	}
	return 5
}

// deletePriority puts deletions after every apply, routes first.
func deletePriority(o *manifest.Object) int {
	return 100 + (10 - applyPriority(o))
}

// groups splits ordered changes into runs of the same action and priority.
func groups(cs []change) [][]change {
	var out [][]change
	for i := 0; i < len(cs); {
		j := i + 1
		for j < len(cs) && cs[j].prio == cs[i].prio && cs[j].action == cs[i].action {
			j++
		}
		out = append(out, cs[i:j])
		i = j
	}
	return out
}

func without(cs, drop []change) []change {
	gone := map[manifest.ID]bool{}
	for _, c := range drop {
		gone[c.id] = true
	}
	var out []change
	for _, c := range cs {
		if !gone[c.id] {
			out = append(out, c)
		}
	}
	return out
}

// apply returns the state with cs (and extra objects) applied; the state
// itself is not changed.
func apply(state map[manifest.ID]*manifest.Object, cs []change, extra []*manifest.Object) map[manifest.ID]*manifest.Object {
	next := make(map[manifest.ID]*manifest.Object, len(state)+len(cs))
	for k, v := range state {
		next[k] = v
	}
	for _, c := range cs {
		if c.action == "delete" {
			delete(next, c.id)
		} else {
			next[c.id] = c.after
		}
	}
	for _, o := range extra {
		next[o.ID()] = o
	}
	return next
}

func extraNew(state map[manifest.ID]*manifest.Object, extra []*manifest.Object) []*manifest.Object {
	var out []*manifest.Object
	for _, o := range extra {
		if state[o.ID()] == nil {
			out = append(out, o)
		}
	}
	return out
}

// stepFor describes a step: what it does and why it comes here.
func stepFor(cs []change, deferred map[manifest.ID][]finding.Finding) Step {
	st := Step{Action: cs[0].action, changes: cs}
	var whys []string
	var waits []string
	for _, c := range cs {
		st.Resources = append(st.Resources, c.ref())
		if c.after != nil {
			st.objects = append(st.objects, c.after)
		} else {
			st.deleted = append(st.deleted, c.before)
		}
		w := ""
		if c.action == "apply" {
			w = waitFor(c.after)
		} else {
			w = "the proxies drop it: `istioctl proxy-status` SYNCED"
		}
		if w != "" && !slices.Contains(waits, w) {
			waits = append(waits, w)
		}
	}
	whys = append(whys, reason(cs[0]))
	for _, c := range cs {
		if errs := deferred[c.id]; len(errs) > 0 {
			whys = append(whys, fmt.Sprintf("%s comes only now: earlier it would cause %s", refString(c.ref()), errorList(errs)))
		}
	}
	st.Why = strings.Join(whys, "; ")
	st.Wait = strings.Join(waits, "; then ")
	return st
}

// reason is why a kind goes where it goes.
func reason(c change) string {
	k := c.ref().Kind
	if c.action == "delete" {
		return "deletions last, routes before what they reference, so nothing routes to a resource that is gone"
	}
	switch applyPriority(c.after) {
	case 0, 1:
		return k + ": what later steps reference (namespaces, credentials, configuration) exists first"
	case 2:
		return k + ": the hosts routes will send traffic to exist before any route does"
	case 3:
		return k + ": workloads are running and ready before traffic shifts to them"
	case 4:
		return k + ": subsets and traffic policies exist before the routes that use them (make before break)"
	case 5:
		return k + ": listeners exist before the routes bound to them"
	case 6:
		return k + ": routes change once everything they reference exists"
	case 7:
		if pa, ok := c.after.Typed.(*istiosec.PeerAuthentication); ok && pa.Spec.GetMtls().GetMode() != secapi.PeerAuthentication_MutualTLS_STRICT {
			return k + ": mTLS is loosened before any client loses its sidecar"
		}
		return k + ": security policies last, once every client and server is in place (STRICT only after all clients have sidecars)"
	}
	return k
}

// waitFor is what to wait for after applying o.
func waitFor(o *manifest.Object) string {
	switch o.Kind {
	case "Deployment", "StatefulSet", "DaemonSet":
		return fmt.Sprintf("kubectl rollout status %s/%s -n %s", strings.ToLower(o.Kind), o.Name, o.Namespace)
	case "Namespace":
		if _, ok := o.Labels["istio-injection"]; ok {
			return fmt.Sprintf("restart the workloads of namespace %s so they get (or lose) their sidecars: kubectl rollout restart deployment -n %s", o.Name, o.Name)
		}
		if _, ok := o.Labels["istio.io/rev"]; ok {
			return fmt.Sprintf("restart the workloads of namespace %s so they get their sidecars: kubectl rollout restart deployment -n %s", o.Name, o.Name)
		}
	}
	if strings.HasSuffix(o.Group(), "istio.io") || o.Group() == "gateway.networking.k8s.io" {
		return "the proxies have it: `istioctl proxy-status` shows SYNCED"
	}
	return ""
}

func refString(r manifest.Ref) string {
	if r.Namespace == "" {
		return r.Kind + " " + r.Name
	}
	return r.Kind + " " + r.Namespace + "/" + r.Name
}

func errorList(fs []finding.Finding) string {
	var parts []string
	for _, f := range fs {
		s := fmt.Sprintf("%s on %s", f.Rule, refString(f.Resource))
		if !slices.Contains(parts, s) {
			parts = append(parts, s)
		}
		if len(parts) == 3 {
			break
		}
	}
	return strings.Join(parts, ", ")
}
