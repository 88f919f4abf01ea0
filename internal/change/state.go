package change

import (
	"cmp"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/meshdoctor/meshdoctor/internal/analysis"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
)

// State is a live cluster held by a long-running process (kept current by
// watches), indexed by namespace so that a change is analyzed on the part
// of the cluster it can affect instead of all of it: the full analysis of
// 20k objects takes hundreds of milliseconds, an admission decision must
// take tens.
//
// The part a change can affect is its scope: the namespaces of its
// objects, the namespaces those objects refer to (route hosts and
// destinations, DestinationRule hosts, Gateway and parent references) and
// those that refer to them (from the last whole-cluster model, see
// Relate), the Istio root namespace (the control plane and mesh-wide
// policy) and every cluster-scoped object. A change in the root namespace
// can affect every proxy, so its scope is the whole cluster.
//
// Both sides of the comparison (the scope as it is, and with the change)
// are analyzed on the same objects, so what the scope leaves out cannot
// show up as a new finding; it can only hide one, in a namespace no link
// names (a VirtualService that reaches a service through a wildcard host,
// a ServiceEntry's hosts). The continuous mode analyzes the whole cluster.
type State struct {
	opts analysis.Options
	root string

	mu     sync.RWMutex
	gen    uint64
	spaces map[string]*space // by namespace; "" holds cluster-scoped objects
	links  map[string][]string
	domain string
	// baseline holds each scope's analysis as it is, by scope key, with
	// the generations of its namespaces when it was made: a change in
	// another namespace (pods come and go all the time) leaves it valid.
	baseline map[string]baseline
}

type baseline struct {
	res   *analysis.Result
	stamp []uint64
}

// space is one namespace's objects, with their sorted list built on
// demand (analysis output follows input order: keep it deterministic).
type space struct {
	objects  map[manifest.ID]*manifest.Object
	problems map[manifest.ID]manifest.Problem
	sorted   []*manifest.Object
	gen      uint64 // State.gen when the namespace last changed
}

// NewState holds an empty cluster analyzed with opts; root is Istio's root
// namespace ("" for istio-system).
func NewState(opts analysis.Options, root string) *State {
	if root == "" {
		root = "istio-system"
	}
	return &State{opts: opts, root: root, spaces: map[string]*space{}, links: map[string][]string{}}
}

func (s *State) space(ns string) *space {
	sp := s.spaces[ns]
	if sp == nil {
		sp = &space{objects: map[manifest.ID]*manifest.Object{}, problems: map[manifest.ID]manifest.Problem{}}
		s.spaces[ns] = sp
	}
	return sp
}

// Put records an object as created or updated.
func (s *State) Put(o *manifest.Object) {
	id := o.ID()
	s.mu.Lock()
	defer s.mu.Unlock()
	sp := s.space(o.Namespace)
	sp.objects[id] = o
	delete(sp.problems, id)
	s.changed(sp)
}

// PutProblem records an object that could not be decoded (the object
// itself is then absent, as it is from a Load).
func (s *State) PutProblem(id manifest.ID, p manifest.Problem) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sp := s.space(id.Namespace)
	delete(sp.objects, id)
	sp.problems[id] = p
	s.changed(sp)
}

// Delete records an object as deleted.
func (s *State) Delete(id manifest.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sp := s.spaces[id.Namespace]
	if sp == nil {
		return
	}
	delete(sp.objects, id)
	delete(sp.problems, id)
	s.changed(sp)
}

func (s *State) changed(sp *space) {
	s.gen++
	sp.sorted, sp.gen = nil, s.gen
}

// Generation counts the changes recorded: equal generations hold the same
// objects.
func (s *State) Generation() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.gen
}

// Len is the number of objects held.
func (s *State) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	for _, sp := range s.spaces {
		n += len(sp.objects)
	}
	return n
}

// Snapshot is every object held, in a deterministic order.
func (s *State) Snapshot() *manifest.Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.slice(nil)
}

// slice gathers the namespaces named (all for nil), sorted; s.mu is held
// for writing (sorted lists are cached).
func (s *State) slice(namespaces []string) *manifest.Result {
	if namespaces == nil {
		for ns := range s.spaces {
			namespaces = append(namespaces, ns)
		}
		sort.Strings(namespaces)
	}
	out := &manifest.Result{Unknown: map[string]int{}}
	for _, ns := range namespaces {
		sp := s.spaces[ns]
		if sp == nil {
			continue
		}
		if sp.sorted == nil {
			sp.sorted = make([]*manifest.Object, 0, len(sp.objects))
			for _, o := range sp.objects {
				sp.sorted = append(sp.sorted, o)
			}
			slices.SortFunc(sp.sorted, func(a, b *manifest.Object) int { return compareIDs(a.ID(), b.ID()) })
		}
		out.Objects = append(out.Objects, sp.sorted...)
		for _, p := range sp.problems {
			out.Problems = append(out.Problems, p)
		}
	}
	sort.SliceStable(out.Problems, func(i, j int) bool { return out.Problems[i].Message < out.Problems[j].Message })
	return out
}

func compareIDs(a, b manifest.ID) int {
	return cmp.Or(strings.Compare(a.Group, b.Group), strings.Compare(a.Kind, b.Kind),
		strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name))
}

// Relate records which namespaces refer to which, from a model of the
// whole cluster (built after changes settle): a change in one namespace is
// then analyzed with the namespaces linked to it.
func (s *State) Relate(m *mesh.Model) {
	links := map[string][]string{}
	for from, tos := range references(m) {
		for _, to := range tos {
			links[from] = appendNew(links[from], to)
			links[to] = appendNew(links[to], from)
		}
	}
	for _, tos := range links {
		sort.Strings(tos)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Scopes computed with other links may differ: recompute them. The
	// refresh after every settled change (pods come and go) mostly finds
	// the same links, and keeps the baselines.
	if s.domain != m.ClusterDomain || !maps.EqualFunc(s.links, links, slices.Equal) {
		s.baseline = nil
	}
	s.links, s.domain = links, m.ClusterDomain
}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// references are the namespaces each namespace's routing configuration
// names, as the model resolves it.
func references(m *mesh.Model) map[string][]string {
	out := map[string][]string{}
	add := func(from, to string) {
		if to != "" && to != from {
			out[from] = appendNew(out[from], to)
		}
	}
	for _, vs := range m.VirtualServices {
		for _, h := range vs.Hosts {
			add(vs.Namespace, m.ServiceNamespace(h))
		}
		for _, d := range m.Destinations(vs) {
			add(vs.Namespace, m.ServiceNamespace(d.Host))
		}
		if vs.Spec != nil {
			for _, g := range vs.Spec.GetGateways() {
				if gw, _ := m.GatewayByName(g, vs.Namespace); gw != nil {
					add(vs.Namespace, gw.Namespace)
				} else if ns, _, ok := strings.Cut(g, "/"); ok {
					add(vs.Namespace, ns)
				}
			}
		}
	}
	for _, dr := range m.DestinationRules {
		add(dr.Namespace, m.ServiceNamespace(dr.Host))
	}
	for _, r := range m.HTTPRoutes {
		if r.Spec == nil {
			continue
		}
		for _, p := range r.Spec.ParentRefs {
			if p.Namespace != nil {
				add(r.Namespace, string(*p.Namespace))
			}
		}
		for _, rule := range r.Spec.Rules {
			for _, b := range rule.BackendRefs {
				if b.Namespace != nil {
					add(r.Namespace, string(*b.Namespace))
				}
			}
		}
	}
	return out
}

// scope is the namespaces a change can affect, sorted, or nil for all.
func (s *State) scope(c Change) []string {
	set := map[string]bool{"": true, s.root: true}
	seeds := map[string]bool{}
	for _, id := range c.Delete {
		seeds[id.Namespace] = true
		if id.Kind == "Namespace" && id.Group == "" {
			seeds[id.Name] = true
		}
	}
	if c.Apply != nil {
		for _, o := range c.Apply.Objects {
			seeds[o.Namespace] = true
			if o.Kind == "Namespace" && o.Group() == "" {
				seeds[o.Name] = true
			}
		}
		// What the change's own objects refer to (the links of the
		// cluster know only what is already there).
		m := mesh.Build(c.Apply.Objects, mesh.Options{ClusterDomain: s.domain})
		for _, tos := range references(m) {
			for _, to := range tos {
				seeds[to] = true
			}
		}
	}
	if seeds[s.root] {
		return nil
	}
	for ns := range seeds {
		set[ns] = true
		for _, to := range s.links[ns] {
			set[to] = true
		}
	}
	out := make([]string, 0, len(set))
	for ns := range set {
		out = append(out, ns)
	}
	sort.Strings(out)
	return out
}

// Analyze analyzes the change on its scope of the cluster held (see
// State); the analysis of the scope as it is is kept until one of its
// namespaces changes, so requests in a row pay for it once.
func (s *State) Analyze(c Change) *analysis.Result {
	scope := s.scope(c)
	key := "*"
	if scope != nil {
		key = strings.Join(scope, ",")
	}
	s.mu.Lock()
	live := s.slice(scope)
	stamp := s.stamp(scope)
	base := s.baseline[key]
	s.mu.Unlock()
	if base.res != nil && slices.Equal(base.stamp, stamp) {
		return Analyze(live, c, s.opts, base.res)
	}
	res := analysis.Run(live, s.opts)
	s.mu.Lock()
	if s.baseline == nil || len(s.baseline) >= maxBaselines {
		s.baseline = map[string]baseline{}
	}
	if slices.Equal(s.stamp(scope), stamp) {
		s.baseline[key] = baseline{res, stamp}
	}
	s.mu.Unlock()
	return Analyze(live, c, s.opts, res)
}

// maxBaselines bounds the cache of scope analyses (each holds a model of
// its scope); past it the cache starts over.
const maxBaselines = 256

// stamp is the generations of the scope's namespaces (all for nil);
// s.mu is held.
func (s *State) stamp(scope []string) []uint64 {
	if scope == nil {
		return []uint64{s.gen}
	}
	out := make([]uint64, len(scope))
	for i, ns := range scope {
		if sp := s.spaces[ns]; sp != nil {
			out[i] = sp.gen
		}
	}
	return out
}
