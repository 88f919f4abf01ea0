package plan

import (
	"bytes"
	"encoding/json"
	"fmt"

	istionet "istio.io/client-go/pkg/apis/networking/v1"
	"sigs.k8s.io/yaml"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

// bridge is a generated intermediate version of a resource.
type bridge struct {
	obj  *manifest.Object
	yaml []byte
}

// bridgeSubsets looks for the safe intermediate of a subset rename: when a
// DestinationRule change drops subsets that routes still use until their
// own change, and those changes need the new subsets, the rule's end
// state plus the dropped subsets lets both old and new routes resolve. It
// returns the bridge and the DestinationRule change it stands in for.
func bridgeSubsets(remaining []change, newErrors func([]change, ...*manifest.Object) []finding.Finding) (bridge, change, bool) {
	for _, c := range remaining {
		if c.action != "apply" || c.before == nil || c.after.Kind != "DestinationRule" {
			continue
		}
		before, ok1 := c.before.Typed.(*istionet.DestinationRule)
		after, ok2 := c.after.Typed.(*istionet.DestinationRule)
		if !ok1 || !ok2 {
			continue
		}
		have := map[string]bool{}
		for _, s := range after.Spec.Subsets {
			have[s.Name] = true
		}
		union := after.DeepCopy()
		added := 0
		for _, s := range before.Spec.Subsets {
			if !have[s.Name] {
				union.Spec.Subsets = append(union.Spec.Subsets, s.DeepCopy())
				added++
			}
		}
		if added == 0 {
			continue
		}
		b, err := render(union, c.after)
		if err != nil {
			continue
		}
		// The bridge must be safe now, and must make some other change
		// safe that was not.
		if len(newErrors(nil, b.obj)) > 0 {
			continue
		}
		for _, o := range remaining {
			if o.id == c.id {
				continue
			}
			if len(newErrors([]change{o}, b.obj)) == 0 {
				return b, c, true
			}
		}
	}
	return bridge{}, change{}, false
}

// render writes a generated object as a manifest and loads it back, so the
// analysis sees it as it sees any file.
func render(v any, like *manifest.Object) (bridge, error) {
	js, err := json.Marshal(v)
	if err != nil {
		return bridge{}, err
	}
	var m map[string]any
	if err := json.Unmarshal(js, &m); err != nil {
		return bridge{}, err
	}
	delete(m, "status")
	m["apiVersion"], m["kind"] = like.APIVersion, like.Kind
	m["metadata"] = map[string]any{"name": like.Name, "namespace": like.Namespace}
	y, err := yaml.Marshal(m)
	if err != nil {
		return bridge{}, err
	}
	res, err := manifest.Load([]string{"-"}, manifest.Options{DefaultNamespace: like.Namespace, Stdin: bytes.NewReader(y)})
	if err != nil || len(res.Objects) != 1 {
		return bridge{}, fmt.Errorf("intermediate %s/%s does not load: %v", like.Kind, like.Name, err)
	}
	return bridge{obj: res.Objects[0], yaml: y}, nil
}
