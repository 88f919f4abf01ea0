package analysis_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshdoctor/meshdoctor/internal/analysis"
	"github.com/meshdoctor/meshdoctor/internal/catalog"
	"github.com/meshdoctor/meshdoctor/internal/cluster"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

// TestRolloutHazards: the plan's from/ state stands for the cluster and
// its to/ state for the files applied over it (the whole state: objects
// equal to the cluster's are no change). The rollout-order finding names
// the planner's order; a change whose order does not matter has none.
func TestRolloutHazards(t *testing.T) {
	for _, tc := range []struct {
		name, want string // want: the fix, "" for no finding
	}{
		{"add-subset", "apply DestinationRule shop/reviews first; wait: the proxies have it: `istioctl proxy-status` shows SYNCED; then apply VirtualService shop/reviews"},
		{"remove-subset", "apply VirtualService shop/reviews first; wait: the proxies have it: `istioctl proxy-status` shows SYNCED; then apply DestinationRule shop/reviews"},
		{"rename-subset", "apply an intermediate version of DestinationRule shop/reviews that carries the subsets of both states"},
		{"serviceentry", ""},
		// v9 is missing before and after: subset-not-found reports it, not
		// the rollout (the change is the files: testdata/rollout).
		{"still-missing", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join("../../testdata/plan", tc.name)
			if tc.name == "still-missing" {
				dir = filepath.Join("../../testdata/rollout", tc.name)
			}
			live, change := loadState(t, filepath.Join(dir, "from")), loadState(t, filepath.Join(dir, "to"))
			opts := analysis.Options{Rules: catalog.All()}
			final := cluster.Overlay(live, change)
			after, before := analysis.Run(final, opts), analysis.Run(live, opts)
			analysis.AddRolloutHazards(after, final, live, change, cluster.Overlay, catalog.ByName("subset-not-found"), opts, before)
			var fixes []string
			missing := false
			for _, f := range after.Findings {
				missing = missing || f.Rule == "subset-not-found" && strings.Contains(f.Message, "v9")
				if f.Rule == "rollout-order" {
					fixes = append(fixes, f.Fix)
					if f.Resource.Name != "reviews" || f.Resource.Kind != "VirtualService" {
						t.Errorf("the hazard is on the route, got %v", f.Resource)
					}
				}
			}
			if tc.name == "still-missing" && !missing {
				t.Errorf("subset v9 is missing after the change: subset-not-found expected")
			}
			switch {
			case tc.want == "" && len(fixes) > 0:
				t.Errorf("no order matters here, got %q", fixes)
			case tc.want != "" && (len(fixes) != 1 || !strings.Contains(fixes[0], tc.want)):
				t.Errorf("fixes %q, want one with %q", fixes, tc.want)
			}
		})
	}
}

func loadState(t *testing.T, dir string) *manifest.Result {
	t.Helper()
	res, err := manifest.Load([]string{dir}, manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}
