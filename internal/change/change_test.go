package change_test

import (
	"strings"
	"testing"

	"github.com/meshdoctor/meshdoctor/internal/analysis"
	"github.com/meshdoctor/meshdoctor/internal/catalog"
	"github.com/meshdoctor/meshdoctor/internal/change"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

func load(t testing.TB, yaml string) *manifest.Result {
	t.Helper()
	res, err := manifest.Load([]string{"-"}, manifest.Options{DefaultNamespace: "default", Stdin: strings.NewReader(yaml)})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// reviews is seed 003's service: two versions, a DestinationRule that
// defines subset v1 only.
const reviews = `
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews-v1, namespace: shop}
spec:
  selector: {matchLabels: {app: reviews, version: v1}}
  template:
    metadata: {labels: {app: reviews, version: v1}}
    spec: {containers: [{name: reviews, image: example/reviews:1}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews-v3, namespace: shop}
spec:
  selector: {matchLabels: {app: reviews, version: v3}}
  template:
    metadata: {labels: {app: reviews, version: v3}}
    spec: {containers: [{name: reviews, image: example/reviews:3}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: shop}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
`

const routeToV3 = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v1}
      weight: 80
    - destination: {host: reviews, subset: v3}
      weight: 20
`

const subsetV3 = `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: shop}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v3, labels: {version: v3}}
`

func opts() analysis.Options { return analysis.Options{Rules: catalog.All()} }

func newRules(res *analysis.Result) []string {
	var out []string
	for _, f := range res.Findings {
		if !f.PreExisting {
			out = append(out, f.Rule+" "+f.Resource.String())
		}
	}
	return out
}

func state(t testing.TB, yaml string) *change.State {
	s := change.NewState(opts(), "")
	for _, o := range load(t, yaml).Objects {
		s.Put(o)
	}
	return s
}

// The route to a subset applied before the DestinationRule that defines
// it is the 503 of seed 003; in the right order nothing is new.
func TestRouteBeforeSubset(t *testing.T) {
	for _, analyze := range []struct {
		name string
		run  func(live string, c change.Change) *analysis.Result
	}{
		{"whole", func(live string, c change.Change) *analysis.Result {
			l := load(t, live)
			return change.Analyze(l, c, opts(), analysis.Run(l, opts()))
		}},
		{"scoped", func(live string, c change.Change) *analysis.Result { return state(t, live).Analyze(c) }},
	} {
		t.Run(analyze.name, func(t *testing.T) {
			got := newRules(analyze.run(reviews, change.Change{Apply: load(t, routeToV3)}))
			if len(got) != 1 || got[0] != "subset-not-found VirtualService/shop/reviews" {
				t.Errorf("route first: new findings %q, want subset-not-found on the VirtualService", got)
			}
			if got := newRules(analyze.run(reviews, change.Change{Apply: load(t, subsetV3)})); len(got) != 0 {
				t.Errorf("subset first: new findings %q, want none", got)
			}
			if got := newRules(analyze.run(reviews+"---"+subsetV3, change.Change{Apply: load(t, routeToV3)})); len(got) != 0 {
				t.Errorf("route second: new findings %q, want none", got)
			}
			// Both in one apply: healthy once done, a 503 while the
			// proxies get one before the other.
			got = newRules(analyze.run(reviews, change.Change{Apply: load(t, routeToV3+"---"+subsetV3)}))
			if len(got) != 1 || !strings.HasPrefix(got[0], "rollout-order ") {
				t.Errorf("together: new findings %q, want rollout-order", got)
			}
			// Deleting the subset a route uses breaks it.
			withRoute := reviews + "---" + subsetV3 + "---" + routeToV3
			del := manifest.ID{Group: "networking.istio.io", Kind: "DestinationRule", Namespace: "shop", Name: "reviews"}
			if got := newRules(analyze.run(withRoute, change.Change{Delete: []manifest.ID{del}})); len(got) == 0 {
				t.Errorf("deleting the DestinationRule: no new finding")
			}
		})
	}
}

// A finding the cluster already has is not the change's.
func TestPreExisting(t *testing.T) {
	s := state(t, reviews+"---"+routeToV3)
	unrelated := `
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
data: {a: b}
`
	res := s.Analyze(change.Change{Apply: load(t, unrelated)})
	if got := newRules(res); len(got) != 0 {
		t.Errorf("new findings %q, want none", got)
	}
	pre := 0
	for _, f := range res.Findings {
		if f.PreExisting && f.Rule == "subset-not-found" {
			pre++
		}
	}
	if pre != 1 {
		t.Errorf("pre-existing subset-not-found: %d, want 1", pre)
	}
}

// A change in one namespace is analyzed with the namespaces its routes
// name: a route in another namespace to a subset that does not exist.
func TestScopeFollowsReferences(t *testing.T) {
	s := state(t, reviews)
	other := `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews-canary, namespace: frontend}
spec:
  hosts: [reviews.shop.svc.cluster.local]
  http:
  - route:
    - destination: {host: reviews.shop.svc.cluster.local, subset: v3}
`
	got := newRules(s.Analyze(change.Change{Apply: load(t, other)}))
	if len(got) != 1 || got[0] != "subset-not-found VirtualService/frontend/reviews-canary" {
		t.Errorf("new findings %q, want subset-not-found on the frontend VirtualService", got)
	}
	// The reverse: with links from a model of the cluster, removing the
	// subset in shop is analyzed with the route in frontend.
	s = state(t, reviews+"---"+subsetV3+"---"+other)
	s.Relate(analysis.Run(s.Snapshot(), opts()).Model)
	got = newRules(s.Analyze(change.Change{Apply: load(t, reviews)}))
	if len(got) != 1 || got[0] != "subset-not-found VirtualService/frontend/reviews-canary" {
		t.Errorf("removing subset v3: new findings %q, want subset-not-found on the frontend VirtualService", got)
	}
}

// The analysis of a scope as it is is reused only while its namespaces
// are unchanged.
func TestStateSeesChanges(t *testing.T) {
	s := state(t, reviews)
	route := change.Change{Apply: load(t, routeToV3)}
	if got := newRules(s.Analyze(route)); len(got) != 1 {
		t.Fatalf("before the subset: new findings %q, want 1", got)
	}
	// A change elsewhere, then the subset.
	for _, o := range load(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: elsewhere}\n").Objects {
		s.Put(o)
	}
	if got := newRules(s.Analyze(route)); len(got) != 1 {
		t.Fatalf("after a change elsewhere: new findings %q, want 1", got)
	}
	for _, o := range load(t, subsetV3).Objects {
		s.Put(o)
	}
	if got := newRules(s.Analyze(route)); len(got) != 0 {
		t.Errorf("after the subset: new findings %q, want none", got)
	}
	s.Delete(manifest.ID{Group: "networking.istio.io", Kind: "DestinationRule", Namespace: "shop", Name: "reviews"})
	// Without any DestinationRule both subsets are missing.
	if got := newRules(s.Analyze(route)); len(got) != 2 {
		t.Errorf("after deleting the DestinationRule: new findings %q, want 2", got)
	}
}

// Reviews run side by side while the watch records changes (go test
// -race checks the locking).
func TestStateConcurrent(t *testing.T) {
	s := state(t, reviews)
	route := change.Change{Apply: load(t, routeToV3)}
	extra := load(t, subsetV3).Objects
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 20; i++ {
			for _, o := range extra {
				s.Put(o)
			}
			s.Delete(extra[0].ID())
		}
	}()
	for i := 0; i < 20; i++ {
		s.Analyze(route)
	}
	<-done
	s.Relate(analysis.Run(s.Snapshot(), opts()).Model)
	if got := newRules(s.Analyze(route)); len(got) != 2 {
		t.Errorf("after the changes settle (no DestinationRule): new findings %q, want the two missing subsets", got)
	}
}
