package plan

import (
	"bytes"
	"encoding/json"
	"fmt"

	secapi "istio.io/api/security/v1beta1"
	istionet "istio.io/client-go/pkg/apis/networking/v1"
	istiosec "istio.io/client-go/pkg/apis/security/v1"
	"sigs.k8s.io/yaml"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

// bridge is a generated intermediate version of a resource.
type bridge struct {
	obj  *manifest.Object
	yaml []byte
	what string // what the intermediate version does, for the step's why
}

// bridgeSubsets looks for the safe intermediate of a subset rename: when a
// DestinationRule change drops subsets that routes still use until their
// own change, and those changes need the new subsets, the rule's end
// state plus the dropped subsets lets both old and new routes resolve. It
// returns the bridge and the DestinationRule change it stands in for.
func bridgeSubsets(remaining []change, newErrors func([]change, ...*manifest.Object) []finding.Finding) (bridge, change, bool) {
	if b, c, ok := bridgeMTLS(remaining, newErrors); ok {
		return b, c, true
	}
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
		b.what = "carries the subsets of both states, so routes to either exist"
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

// bridgeMTLS is the safe intermediate of an mTLS switch in one go (STRICT
// to DISABLE or back, while the clients' TLS changes too): PERMISSIVE
// accepts both plaintext and mTLS, so the clients can move in between.
// https://istio.io/latest/docs/tasks/security/authentication/mtls-migration/
func bridgeMTLS(remaining []change, newErrors func([]change, ...*manifest.Object) []finding.Finding) (bridge, change, bool) {
	for _, c := range remaining {
		if c.action != "apply" || c.before == nil || c.after.Kind != "PeerAuthentication" {
			continue
		}
		before, ok1 := c.before.Typed.(*istiosec.PeerAuthentication)
		after, ok2 := c.after.Typed.(*istiosec.PeerAuthentication)
		if !ok1 || !ok2 {
			continue
		}
		permissive := secapi.PeerAuthentication_MutualTLS_PERMISSIVE
		if before.Spec.GetMtls().GetMode() == permissive || after.Spec.GetMtls().GetMode() == permissive {
			continue
		}
		mid := after.DeepCopy()
		mid.Spec.Mtls = &secapi.PeerAuthentication_MutualTLS{Mode: permissive}
		for _, pm := range mid.Spec.PortLevelMtls {
			pm.Mode = permissive
		}
		b, err := render(mid, c.after)
		if err != nil || len(newErrors(nil, b.obj)) > 0 {
			continue
		}
		b.what = "is PERMISSIVE: it accepts plaintext and mTLS while the clients change"
		for _, o := range remaining {
			if o.id != c.id && len(newErrors([]change{o}, b.obj)) == 0 {
				return b, c, true
			}
		}
	}
	return bridge{}, change{}, false
}
