package manifest

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/meshdoctor/meshdoctor/internal/spelling"
)

// unknownGoFields walks a Kubernetes object against its Go type the way
// the API server's strict field validation does (kubectl apply's default
// since Kubernetes 1.27): JSON names are matched exactly, case included,
// and a field the type does not have is reported. Without strict validation
// the server drops such a field silently — a misspelled readinessProbe is
// no probe at all.
// https://kubernetes.io/docs/reference/using-api/api-concepts/#field-validation
func unknownGoFields(n *yaml.Node, t reflect.Type, path string, depth int) []unknownField {
	n = deref(n)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n == nil || depth > maxDepth || opaqueGo(t) {
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return nil
		}
		fields := goFieldsOf(t)
		var out []unknownField
		for i := 0; i+1 < len(n.Content); i += 2 {
			if merged := mergeSources(n.Content[i], n.Content[i+1]); merged != nil {
				for _, m := range merged {
					out = append(out, unknownGoFields(m, t, path, depth+1)...)
				}
				continue
			}
			key := n.Content[i].Value
			p := key
			if path != "" {
				p = path + "." + key
			}
			ft, ok := fields.byName[key]
			if !ok {
				out = append(out, unknownField{path: p, line: n.Content[i].Line, suggest: spelling.ClosestFold(key, fields.names, 2)})
				continue
			}
			out = append(out, unknownGoFields(n.Content[i+1], ft, p, depth+1)...)
		}
		return out
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode || t.Elem().Kind() == reflect.Uint8 {
			return nil
		}
		var out []unknownField
		for i, it := range n.Content {
			out = append(out, unknownGoFields(it, t.Elem(), path+"["+strconv.Itoa(i)+"]", depth+1)...)
		}
		return out
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return nil
		}
		var out []unknownField
		for i := 0; i+1 < len(n.Content); i += 2 {
			out = append(out, unknownGoFields(n.Content[i+1], t.Elem(), path+"."+n.Content[i].Value, depth+1)...)
		}
		return out
	}
	return nil
}

// kubernetesAPI is the Kubernetes minor version of the k8s.io/api types the
// fields are checked against (TestKubernetesAPIVersion keeps it in step with
// go.mod): a field added later, or an alpha field removed since, is judged
// by this version.
const kubernetesAPI = "1.37"

// strictVersions are the built-in API versions whose Go types meshdoctor
// decodes into exactly (older versions, such as extensions/v1beta1
// Ingress, decode into the newer type and would show false unknown
// fields). Gateway API is left out: its CRDs are installed separately and
// may be newer than the types meshdoctor is built with.
var strictVersions = map[string]bool{
	"v1": true, "apps/v1": true, "batch/v1": true, "discovery.k8s.io/v1": true,
	"networking.k8s.io/v1": true,
}

// checksGoFields tells whether o's fields are checked against its Go type.
func checksGoFields(o *Object, k kind) bool {
	return k.spec == nil && strictVersions[o.APIVersion] && o.Kind != "BackendConfig"
}

// mergeSources returns the mappings a "<<: *anchor" (or "<<: [*a, *b]")
// merge key folds in, so their keys are checked as the mapping's own; nil
// for any other key.
func mergeSources(key, val *yaml.Node) []*yaml.Node {
	if key.Tag != "!!merge" && !(key.Value == "<<" && key.Style == 0) {
		return nil
	}
	val = deref(val)
	if val == nil {
		return []*yaml.Node{}
	}
	if val.Kind == yaml.SequenceNode {
		return val.Content
	}
	return []*yaml.Node{val}
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// opaqueGo reports types whose JSON form is not their field layout: they
// decode themselves (IntOrString, Quantity, Time, RawExtension) or take
// anything (interfaces).
func opaqueGo(t reflect.Type) bool {
	if t.Kind() == reflect.Interface {
		return true
	}
	p := reflect.PointerTo(t)
	return t.Implements(jsonUnmarshaler) || p.Implements(jsonUnmarshaler) || p.Implements(textUnmarshaler)
}

// goFields is a struct type's JSON field names (embedded structs'
// promoted), each with its type.
type goFields struct {
	byName map[string]reflect.Type
	names  []string
}

var goFieldsCache sync.Map // reflect.Type → *goFields

func goFieldsOf(t reflect.Type) *goFields {
	if f, ok := goFieldsCache.Load(t); ok {
		return f.(*goFields)
	}
	f := &goFields{byName: map[string]reflect.Type{}}
	addGoFields(f, t, 0)
	goFieldsCache.Store(t, f)
	return f
}

func addGoFields(f *goFields, t reflect.Type, depth int) {
	if depth > 8 {
		return
	}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := sf.Type
		if sf.Anonymous && name == "" {
			// Embedded without a name (TypeMeta `json:",inline"`): its
			// fields are promoted, as encoding/json does.
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				addGoFields(f, ft, depth+1)
				continue
			}
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		if _, dup := f.byName[name]; !dup {
			f.byName[name] = sf.Type
			f.names = append(f.names, name)
		}
	}
}
