package upgrade

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/meshdoctor/meshdoctor/internal/manifest"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
)

func canaryModel(t *testing.T) *mesh.Model {
	t.Helper()
	res, err := manifest.Load([]string{"../../testdata/upgrade/canary"}, manifest.Options{DefaultNamespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	return mesh.Build(res.Objects, mesh.Options{})
}

// summarize renders a canary as sorted lines: "ns NAME moves|stays" and
// "Kind/ns/name moves|stays rev=R cp=V proxy=V skew=..." ("gw" marks
// gateways).
func summarize(c Canary) []string {
	var out []string
	for _, n := range c.Namespaces {
		out = append(out, fmt.Sprintf("ns %s moves=%v", n.Namespace, n.Moves))
	}
	for _, w := range c.Workloads {
		skew := "ok"
		switch {
		case w.Skew != "":
			skew = "UNSUPPORTED"
		case !w.SkewKnown:
			skew = "unknown"
		}
		gw := ""
		if w.Gateway {
			gw = " gw"
		}
		out = append(out, fmt.Sprintf("%s%s moves=%v rev=%s cp=%s proxy=%s skew=%s", w.Resource, gw, w.Moves, w.Revision, w.ControlPlane, w.Proxy, skew))
	}
	sort.Strings(out)
	return out
}

// TestCanary: two revisions and their tags; namespaces select them
// directly, through a tag, or through istio-injection=enabled (the
// default tag). Pinned proxy images stay whatever the labels say.
func TestCanary(t *testing.T) {
	m := canaryModel(t)
	c := EvaluateCanary(m, "1-24", v("1.24.2"))
	want := []string{
		"Deployment/cart/cart moves=true rev=1-24 cp=1.24.2 proxy=1.24.2 skew=ok",
		"Deployment/istio-ingress/ingress gw moves=true rev=1-24 cp=1.24.2 proxy=1.24.2 skew=ok",
		"Deployment/istio-system/istio-egressgateway gw moves=false rev=1-22 cp=1.22.4 proxy=1.22.4 skew=ok",
		"Deployment/legacy/batch moves=false rev=1-22 cp=1.22.4 proxy=1.20.8 skew=UNSUPPORTED",
		"Deployment/legacy/report moves=false rev=1-22 cp=1.22.4 proxy=1.21.3 skew=ok",
		"Deployment/orders/orders moves=false rev=1-22 cp=1.22.4 proxy=1.22.4 skew=ok",
		"Deployment/shop/web moves=true rev=1-24 cp=1.24.2 proxy=1.24.2 skew=ok",
		"Pod/shop/web-old moves=true rev=1-24 cp=1.24.2 proxy=1.24.2 skew=ok",
		"ns cart moves=true",
		"ns istio-ingress moves=true",
		"ns legacy moves=false",
		"ns orders moves=false",
		"ns shop moves=true",
	}
	if got := summarize(c); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if c.Unsupported != 1 || c.Installed == "" || len(c.Notes) != 0 {
		t.Errorf("unsupported %d (want 1), installed %q, notes %q", c.Unsupported, c.Installed, c.Notes)
	}
	for _, n := range c.Namespaces {
		switch n.Namespace {
		case "orders":
			// A tagged namespace moves with its tag.
			if !strings.Contains(n.How, "istioctl tag set prod-stable --revision 1-24") {
				t.Errorf("orders: %q", n.How)
			}
		case "legacy":
			if !strings.Contains(n.How, "istioctl tag set default --revision 1-24") || !strings.Contains(n.How, "kubectl label namespace legacy istio-injection- istio.io/rev=1-24") {
				t.Errorf("legacy: %q", n.How)
			}
		}
	}
	// The changes crossed (1.22 -> 1.24) for the namespaces that move
	// name shop's DestinationRule, not orders'.
	r := resultFor(c.Changes, "destinationrule-tls-external")
	if r == nil || !r.Affected || len(r.Resources) != 1 || r.Resources[0].Resource.Namespace != "shop" {
		t.Errorf("destinationrule-tls-external for the moving namespaces: %+v", r)
	}
	if resultFor(c.Changes, "auto-sni") != nil {
		t.Errorf("1.21's changes are not crossed from 1.22")
	}
}

// TestCanaryRevisionAbsent: a revision nothing selects moves nothing,
// and the report says it must be installed.
func TestCanaryRevisionAbsent(t *testing.T) {
	m := canaryModel(t)
	c := EvaluateCanary(m, "1-26", v("1.26.0"))
	for _, n := range c.Namespaces {
		if n.Moves {
			t.Errorf("namespace %s moves to a revision no label selects", n.Namespace)
		}
	}
	for _, w := range c.Workloads {
		if w.Moves {
			t.Errorf("%s moves to a revision no label selects", w.Resource)
		}
	}
	if len(c.Notes) == 0 || !strings.Contains(c.Notes[0], "revision 1-26 is not in the input") {
		t.Errorf("notes: %q", c.Notes)
	}
}
