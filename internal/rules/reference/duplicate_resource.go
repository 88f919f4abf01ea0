package reference

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// DuplicateResource: the same object (API group, kind, namespace, name) is
// defined twice with different content; applying the input keeps only one.
var DuplicateResource = &rules.Rule{
	Code: "MD5005", Name: "duplicate-resource", Severity: finding.Warning, Area: "reference",
	Summary: "The same resource is defined twice with different content; the later one silently replaces the earlier.",
	Since:   "0.1.0",
	Doc: rules.Doc{
		Mechanism: "The API server identifies an object by API group, kind, namespace and name; the version is only a representation. kubectl apply applies documents in order, so a second document with the same identity updates the object the first one created: the first definition is lost, and fields only it sets are removed by apply's three-way merge. meshdoctor compares documents from the same file or stream, or from files in the same directory without a kustomization (kustomize patches and per-environment variants legitimately repeat names); identical copies, objects without an explicit name and pairs of which only one sets metadata.namespace are left alone.",
		Symptom:   "Only the last definition is live: settings from the earlier one (routes, labels such as istio-injection, ports, selectors) have no effect, and which one wins changes with file order.",
		Fix:       "Keep a single definition: merge the two documents, or rename one of them if both objects are wanted.",
		Before:    "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\nspec:\n  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews, subset: v1}\n---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews   # replaces the one above\nspec:\n  hosts: [reviews]\n  http:\n  - timeout: 2s\n    route:\n    - destination: {host: reviews}\n",
		After:     "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\nspec:\n  hosts: [reviews]\n  http:\n  - timeout: 2s\n    route:\n    - destination: {host: reviews, subset: v1}\n",
		Sources: []string{
			"https://kubernetes.io/docs/concepts/overview/working-with-objects/names/",
			"https://kubernetes.io/docs/tasks/manage-kubernetes-objects/declarative-config/#how-apply-calculates-differences-and-merges-changes",
		},
	},
	Run: runDuplicateResource,
}

func runDuplicateResource(p *rules.Pass) {
	type key struct{ group, kind, ns, name string }
	// The first object of each identity, and the later ones (rare) apart:
	// a one-element slice per object was most of this rule's allocation.
	first := make(map[key]*manifest.Object, len(p.Model.Objects))
	later := map[key][]*manifest.Object{}
	kustomized := map[string]bool{}
	for _, o := range p.Model.Objects {
		// generateName objects get a fresh name each.
		if o.GeneratedName {
			continue
		}
		k := key{o.Group(), o.Kind, o.Namespace, o.Name}
		f, seen := first[k]
		if !seen {
			first[k] = o
			continue
		}
		prev := append([]*manifest.Object{f}, later[k]...)
		later[k] = append(later[k], o)
		for _, e := range prev {
			if !sameTarget(e, o, kustomized) {
				continue
			}
			diff := differingFields(e, o)
			if diff == nil {
				continue // identical copy: harmless
			}
			f := rules.At(o, "metadata", "name")
			where := "namespace " + o.Namespace
			if o.Namespace == "" {
				where = "the cluster"
			}
			f.Message = fmt.Sprintf("%s %s is defined twice in %s: at %s and again at %s; they differ in %s, and applying both keeps only the later one", o.Kind, refName(o), where, e.Pos("metadata", "name"), o.Pos("metadata", "name"), strings.Join(diff, ", "))
			f.Symptom = fmt.Sprintf("the definition at %s is replaced on apply: what it sets in %s is lost", e.Pos("metadata", "name"), strings.Join(diff, ", "))
			f.Fix = fmt.Sprintf("merge the two into one document (or rename one if both %ss are wanted) and delete the other", o.Kind)
			p.Report(f)
			break
		}
	}
}

func refName(o *manifest.Object) string {
	if o.Namespace == "" {
		return o.Name
	}
	return o.Namespace + "/" + o.Name
}

// sameTarget reports whether two documents certainly address the same
// object when the input is applied.
func sameTarget(a, b *manifest.Object, kustomized map[string]bool) bool {
	if a.Namespace != "" && a.NamespaceSet != b.NamespaceSet {
		// One follows the namespace of the apply, the other is pinned.
		return false
	}
	if a.File == b.File {
		return true
	}
	da, db := filepath.Dir(a.File), filepath.Dir(b.File)
	if da != db {
		return false // per-environment directories, overlays, variants
	}
	return !hasKustomization(da, kustomized)
}

// hasKustomization reports whether dir is a kustomize directory, whose
// patches repeat the names of the objects they patch.
func hasKustomization(dir string, cache map[string]bool) bool {
	if v, ok := cache[dir]; ok {
		return v
	}
	found := false
	for _, n := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
		if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
			found = true
			break
		}
	}
	cache[dir] = found
	return found
}

// differingFields names the top-level fields (and metadata labels and
// annotations) in which two documents differ; nil when they are identical
// apart from metadata bookkeeping.
func differingFields(a, b *manifest.Object) []string {
	var ma, mb map[string]any
	if json.Unmarshal(a.FieldJSON(), &ma) != nil || json.Unmarshal(b.FieldJSON(), &mb) != nil {
		return []string{"content"}
	}
	var out []string
	for _, k := range unionKeys(ma, mb) {
		// The version is only a representation of the same object.
		if k == "metadata" || k == "status" || k == "apiVersion" {
			continue
		}
		if !reflect.DeepEqual(ma[k], mb[k]) {
			out = append(out, k)
		}
	}
	metaA, _ := ma["metadata"].(map[string]any)
	metaB, _ := mb["metadata"].(map[string]any)
	for _, k := range []string{"labels", "annotations"} {
		if !reflect.DeepEqual(metaA[k], metaB[k]) {
			out = append(out, "metadata."+k)
		}
	}
	return out
}

func unionKeys(a, b map[string]any) []string {
	seen := map[string]bool{}
	var keys []string
	for _, m := range []map[string]any{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	sort.Strings(keys)
	return keys
}
