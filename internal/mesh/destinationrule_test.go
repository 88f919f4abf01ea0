package mesh

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

// buildYAML loads documents (joined by ---) as one input and builds the
// model.
func buildYAML(t *testing.T, opts Options, docs ...string) *Model {
	t.Helper()
	f := filepath.Join(t.TempDir(), "in.yaml")
	if err := os.WriteFile(f, []byte(strings.Join(docs, "\n---\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := manifest.Load([]string{f}, manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return Build(res.Objects, opts)
}

// dr is a DestinationRule named name in ns for host, with an optional
// exportTo list (flow YAML, e.g. `[".", "b"]`).
func dr(name, ns, host, exportTo string) string {
	s := "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: " + name + ", namespace: " + ns + "}\nspec:\n  host: \"" + host + "\"\n"
	if exportTo != "" {
		s += "  exportTo: " + exportTo + "\n"
	}
	return s
}

func drNames(drs []*DestinationRule) string {
	var names []string
	for _, d := range drs {
		names = append(names, d.Namespace+"/"+d.Name)
	}
	return strings.Join(names, ",")
}

// Each case is one rule of Istio's PushContext.destinationRule
// (pilot/pkg/model/push_context.go) and setDestinationRules' indexes.
func TestDestinationRuleFor(t *testing.T) {
	const host = "reviews.prod.svc.cluster.local"
	svc := "apiVersion: v1\nkind: Service\nmetadata: {name: reviews, namespace: prod}\nspec:\n  ports: [{port: 80}]\n"
	for _, tc := range []struct {
		name   string
		docs   []string
		client string
		want   string
	}{
		{"the client namespace's rule comes first",
			[]string{dr("client", "web", host, ""), dr("svc", "prod", host, ""), dr("root", "istio-system", host, "")}, "web", "web/client"},
		{"then the rule the service namespace exports",
			[]string{dr("svc", "prod", host, ""), dr("root", "istio-system", host, "")}, "web", "prod/svc"},
		{"then the rule the root namespace exports",
			[]string{dr("root", "istio-system", "*.svc.cluster.local", "")}, "web", "istio-system/root"},
		{"a rule in a third namespace does not reach other clients",
			[]string{dr("third", "other", host, "")}, "web", ""},
		{"a rule in a third namespace exported to the client still does not apply",
			[]string{dr("third", "other", host, `["web"]`)}, "web", ""},
		{"a third-namespace rule applies to its own namespace's clients",
			[]string{dr("third", "other", host, "")}, "other", "other/third"},
		{"the service namespace's private rule is not exported",
			[]string{dr("svc", "prod", host, `["."]`), dr("root", "istio-system", host, "")}, "web", "istio-system/root"},
		{"the service namespace's rule exported to the client",
			[]string{dr("svc", "prod", host, `["web"]`)}, "web", "prod/svc"},
		{"the service namespace's rule exported elsewhere",
			[]string{dr("svc", "prod", host, `["shop"]`)}, "web", ""},
		{"a client-namespace rule exported only elsewhere is not local",
			[]string{dr("client", "web", host, `["shop"]`), dr("svc", "prod", host, "")}, "web", "prod/svc"},
		{"root clients: the service namespace's rule before the root's exported catch-all",
			[]string{dr("root", "istio-system", "*.svc.cluster.local", ""), dr("svc", "prod", host, "")}, "istio-system", "prod/svc"},
		{"root clients: the root's exported rule when the service namespace has none",
			[]string{dr("root", "istio-system", "*.svc.cluster.local", "")}, "istio-system", "istio-system/root"},
		{"root clients: the root's private rule first (rootNamespaceLocal)",
			[]string{dr("root", "istio-system", host, `["."]`), dr("svc", "prod", host, "")}, "istio-system", "istio-system/root"},
		{"the root's private rule does not reach other clients",
			[]string{dr("root", "istio-system", host, `["."]`)}, "web", ""},
		{"most specific host first within a namespace",
			[]string{dr("wide", "web", "*.svc.cluster.local", ""), dr("narrow", "web", "*.prod.svc.cluster.local", ""), dr("exact", "web", host, "")}, "web", "web/exact"},
		{"most specific wildcard within a namespace",
			[]string{dr("wide", "web", "*.svc.cluster.local", ""), dr("narrow", "web", "*.prod.svc.cluster.local", "")}, "web", "web/narrow"},
		{"the most specific exported rule not exported to the client hides the namespace's less specific ones",
			[]string{dr("exact", "prod", host, `["shop"]`), dr("wide", "prod", "*.prod.svc.cluster.local", ""), dr("root", "istio-system", host, "")}, "web", "istio-system/root"},
		{"several rules for one host are merged",
			[]string{dr("a", "prod", host, ""), dr("b", "prod", host, "")}, "web", "prod/a,prod/b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := buildYAML(t, Options{}, append([]string{svc}, tc.docs...)...)
			if got := drNames(m.DestinationRuleFor(tc.client, host)); got != tc.want {
				t.Errorf("DestinationRuleFor(%q) = %q, want %q", tc.client, got, tc.want)
			}
		})
	}
}

// A rule's own short host resolves in its namespace: "reviews" in web is
// reviews.web, not the client's target.
func TestDestinationRuleForShortHostInClientNamespace(t *testing.T) {
	const host = "reviews.prod.svc.cluster.local"
	m := buildYAML(t, Options{}, dr("short", "web", "reviews", ""))
	if got := drNames(m.DestinationRuleFor("web", host)); got != "" {
		t.Errorf("got %q, want none", got)
	}
}

// A ServiceEntry host belongs to the ServiceEntry's namespace; a rule
// there reaches clients the entry is visible to.
func TestDestinationRuleForServiceEntryHost(t *testing.T) {
	se := "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: api, namespace: egress}\nspec:\n  hosts: [api.example.com]\n  ports: [{number: 443, name: tls, protocol: TLS}]\n  resolution: DNS\n"
	m := buildYAML(t, Options{}, se, dr("api", "egress", "api.example.com", ""))
	if got := drNames(m.DestinationRuleFor("web", "api.example.com")); got != "egress/api" {
		t.Errorf("got %q, want egress/api", got)
	}
}

// The different answers DistinctDestinationRules gives must be every
// answer DestinationRuleFor gives over the client namespaces.
func TestDistinctDestinationRulesCoversEveryClient(t *testing.T) {
	const host = "reviews.prod.svc.cluster.local"
	svc := "apiVersion: v1\nkind: Service\nmetadata: {name: reviews, namespace: prod}\nspec:\n  ports: [{port: 80}]\n"
	m := buildYAML(t, Options{}, svc,
		dr("svc", "prod", host, `["web", "."]`),
		dr("root", "istio-system", "*.svc.cluster.local", `["shop"]`),
		dr("third", "other", "*.prod.svc.cluster.local", ""),
	)
	clients := NewClientNamespaces([]string{"web", "shop", "prod", "other", "a", "b", "istio-system"})
	got := map[string]bool{}
	for _, drs := range m.DistinctDestinationRules(host, clients) {
		got[drNames(drs)] = true
	}
	want := map[string]bool{}
	for _, ns := range clients.names {
		want[drNames(m.DestinationRuleFor(ns, host))] = true
	}
	if len(got) != len(want) {
		t.Fatalf("DistinctDestinationRules = %v, want %v", got, want)
	}
	for k := range want {
		if !got[k] {
			t.Errorf("DistinctDestinationRules lacks %q (got %v)", k, got)
		}
	}
}
