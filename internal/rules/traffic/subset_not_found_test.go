package traffic

import (
	"strings"
	"testing"

	istioapi "istio.io/api/networking/v1alpha3"
)

func TestSubsetYAMLLabel(t *testing.T) {
	for _, c := range []struct {
		name     string
		subset   string
		existing []*istioapi.Subset
		want     string
	}{
		{"no existing subsets", "v2", nil, "version: v2   # the label your v2 pods carry"},
		{"values are the names", "v2", []*istioapi.Subset{{Name: "v1", Labels: map[string]string{"version": "v1"}}}, "version: v2   #"},
		{"key from existing subsets", "canary", []*istioapi.Subset{{Name: "stable", Labels: map[string]string{"track": "stable"}}}, "track: canary   #"},
		{"values differ from the names", "version-v1", []*istioapi.Subset{{Name: "version-v2", Labels: map[string]string{"version": "v2"}}}, "version: <value your pods carry>   # e.g. subset version-v2 selects version: v2"},
	} {
		got := subsetYAML("reviews", c.subset, c.existing)
		if !strings.Contains(got, "\n      "+c.want) {
			t.Errorf("%s: subsetYAML =\n%s\nwant a label line starting %q", c.name, got, c.want)
		}
	}
}
