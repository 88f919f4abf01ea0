package plan_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshdoctor/meshdoctor/internal/analysis"
	"github.com/meshdoctor/meshdoctor/internal/catalog"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
	"github.com/meshdoctor/meshdoctor/internal/plan"
)

func load(t *testing.T, dir string) *manifest.Result {
	t.Helper()
	res, err := manifest.Load([]string{dir}, manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// summary renders a plan's steps as "apply Kind/ns/name,..." lines, with
// markers for intermediate and unsafe steps.
func summary(p *plan.Plan) string {
	var lines []string
	for _, s := range p.Steps {
		var refs []string
		for _, r := range s.Resources {
			refs = append(refs, r.Kind+"/"+r.Name)
		}
		l := s.Action + " " + strings.Join(refs, ",")
		if s.Intermediate {
			l += " (intermediate)"
		}
		if s.Unsafe {
			l += " (unsafe)"
		}
		lines = append(lines, l)
	}
	return strings.Join(lines, "\n")
}

// TestPlans: each testdata/plan/<case> has a from/ and a to/ state; the
// plan's steps are pinned, and each encodes an ordering hazard.
func TestPlans(t *testing.T) {
	for _, tc := range []struct {
		name, want string
	}{
		// Seed 003, adding a subset: the DestinationRule first.
		{"add-subset", "apply DestinationRule/reviews\napply VirtualService/reviews"},
		// Removing one: the route stops using it first.
		{"remove-subset", "apply VirtualService/reviews\napply DestinationRule/reviews"},
		// Renaming v1 to v2 has no safe order; a rule with both bridges.
		{"rename-subset", "apply DestinationRule/reviews (intermediate)\napply VirtualService/reviews\napply DestinationRule/reviews"},
		// Deletions: the route before what it references.
		{"delete-all", "delete VirtualService/reviews\ndelete DestinationRule/reviews"},
		// The credential before the Gateway, the Gateway before its routes.
		{"gateway-secret", "apply Secret/web-cert\napply Gateway/web\napply VirtualService/web"},
		// The host before the route to it.
		{"serviceentry", "apply ServiceEntry/payments\napply VirtualService/payments"},
		// Tightening: clients get sidecars before STRICT.
		{"mtls-tighten", "apply Namespace/batch\napply PeerAuthentication/default"},
		// Loosening: PERMISSIVE before the clients lose their sidecars.
		{"mtls-loosen", "apply PeerAuthentication/default\napply Namespace/batch"},
		// STRICT to DISABLE with the clients' TLS: PERMISSIVE in between
		// (Istio's mTLS migration).
		{"mtls-switch", "apply PeerAuthentication/default (intermediate)\napply DestinationRule/web\napply PeerAuthentication/default"},
		// Relabeling the pods a subset selects, in place: no order keeps
		// the subset's endpoints.
		{"relabel", "apply Deployment/web,DestinationRule/web (unsafe)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join("../../testdata/plan", tc.name)
			p := plan.Make(load(t, filepath.Join(dir, "from")), load(t, filepath.Join(dir, "to")), analysis.Options{Rules: catalog.All()}.Check)
			if got := summary(p); got != tc.want {
				t.Errorf("steps:\n%s\nwant:\n%s\n%s", got, tc.want, explain(p))
			}
			for _, s := range p.Steps {
				if s.Why == "" {
					t.Errorf("a step without why: %+v", s)
				}
			}
		})
	}
}

func explain(p *plan.Plan) string {
	var b strings.Builder
	for i, s := range p.Steps {
		fmt.Fprintf(&b, "%d. %s %v\n   why: %s\n   wait: %s\n", i+1, s.Action, s.Resources, s.Why, s.Wait)
	}
	for _, c := range p.Conflicts {
		fmt.Fprintf(&b, "conflict %v: %v\n", c.Resources, c.Errors)
	}
	return b.String()
}

func TestConflictNamesResources(t *testing.T) {
	dir := "../../testdata/plan/relabel"
	p := plan.Make(load(t, dir+"/from"), load(t, dir+"/to"), analysis.Options{Rules: catalog.All()}.Check)
	if len(p.Conflicts) != 1 || len(p.Conflicts[0].Resources) != 2 || len(p.Conflicts[0].Errors) == 0 {
		t.Fatalf("conflicts: %+v", p.Conflicts)
	}
}

func TestNothingToDo(t *testing.T) {
	dir := "../../testdata/plan/add-subset/to"
	p := plan.Make(load(t, dir), load(t, dir), analysis.Options{Rules: catalog.All()}.Check)
	if len(p.Steps) != 0 || p.Unchanged == 0 {
		t.Errorf("same state twice: %+v", p)
	}
}

// hazardSummary renders hazards as "early < first: rule on resource |
// order" lines.
func hazardSummary(p *plan.Plan) string {
	var lines []string
	for _, h := range p.Hazards() {
		var early, first []string
		for _, o := range h.Early {
			early = append(early, o.Action+" "+o.Resource.Kind+"/"+o.Resource.Name)
		}
		for _, o := range h.First {
			first = append(first, o.Action+" "+o.Resource.Kind+"/"+o.Resource.Name)
		}
		lines = append(lines, fmt.Sprintf("%s before %s: %s on %s/%s | %s", strings.Join(early, ","), strings.Join(first, ","), h.Error.Rule, h.Error.Resource.Kind, h.Error.Resource.Name, plan.Sentence(h.Order)))
	}
	return strings.Join(lines, "\n")
}

// TestHazards: the states one apply of the whole change can pass
// through that the plan avoids, and the order that avoids them. Changes
// whose order does not matter have none.
func TestHazards(t *testing.T) {
	sync := "; wait: the proxies have it: `istioctl proxy-status` shows SYNCED; "
	for _, tc := range []struct {
		name, want string
	}{
		{"add-subset", "apply VirtualService/reviews before apply DestinationRule/reviews: subset-not-found on VirtualService/reviews | apply DestinationRule shop/reviews first" + sync + "then apply VirtualService shop/reviews"},
		{"remove-subset", "apply DestinationRule/reviews before apply VirtualService/reviews: subset-not-found on VirtualService/reviews | apply VirtualService shop/reviews first" + sync + "then apply DestinationRule shop/reviews"},
		{"delete-all", "delete DestinationRule/reviews before delete VirtualService/reviews: subset-not-found on VirtualService/reviews | delete VirtualService shop/reviews first; wait: the proxies drop it: `istioctl proxy-status` SYNCED; then delete DestinationRule shop/reviews"},
		// The order includes the bridge.
		{"rename-subset", "apply DestinationRule/reviews before apply VirtualService/reviews: subset-not-found on VirtualService/reviews | apply an intermediate version of DestinationRule shop/reviews that carries the subsets of both states, so routes to either exist (`meshdoctor plan --write DIR` writes it) first" + sync + "then apply VirtualService shop/reviews" + sync + "then apply DestinationRule shop/reviews"},
		{"mtls-loosen", "apply Namespace/batch before apply PeerAuthentication/default: non-mesh-client-strict-mtls on CronJob/report | apply PeerAuthentication shop/default first" + sync + "then apply Namespace batch"},
		// No hazard: no order of these changes adds an error; the
		// plan's order is by convention only.
		{"serviceentry", ""},
		// Renaming a Service port its route names breaks in either
		// order (destination-port-not-found on the route, once per
		// side): no safe order, both states' errors are hazards.
		{"port-rename", "apply Service/web,apply VirtualService/web before : destination-port-not-found on VirtualService/web | apply Service shop/web, VirtualService shop/web\napply Service/web,apply VirtualService/web before : destination-port-not-found on VirtualService/web | apply Service shop/web, VirtualService shop/web"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join("../../testdata/plan", tc.name)
			p := plan.Make(load(t, filepath.Join(dir, "from")), load(t, filepath.Join(dir, "to")), analysis.Options{Rules: catalog.All()}.Check)
			if got := hazardSummary(p); got != tc.want {
				t.Errorf("hazards:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
	// A conflict is a hazard no order avoids.
	dir := "../../testdata/plan/relabel"
	p := plan.Make(load(t, dir+"/from"), load(t, dir+"/to"), analysis.Options{Rules: catalog.All()}.Check)
	hs := p.Hazards()
	if len(hs) == 0 || !hs[0].Unsafe || len(hs[0].Early) != 2 {
		t.Errorf("relabel: want an unsafe hazard naming both changes, got %+v", hs)
	}
}
