package manifest

import (
	"strconv"

	"google.golang.org/protobuf/reflect/protoreflect"
	"gopkg.in/yaml.v3"

	"github.com/meshdoctor/meshdoctor/internal/spelling"
)

type unknownField struct {
	path    string
	line    int
	suggest string // closest known field, if any is close
	removed string // what replaced a field an older Istio API had, if it was one
}

// removedIstioFields are fields older Istio APIs had and later removed, by
// the message that held them and the key as users wrote it: old tutorials
// and charts still carry them, and "misspelled?" would mislead. istio/api
// removed the HTTPRoute ones in Istio 1.5 (istio/api#1214), after a year
// of deprecation in favour of headers.
var removedIstioFields = map[string]string{
	"istio.networking.v1alpha3.HTTPRoute.appendHeaders":         "headers.request.add (removed in Istio 1.5)",
	"istio.networking.v1alpha3.HTTPRoute.appendRequestHeaders":  "headers.request.add (removed in Istio 1.5)",
	"istio.networking.v1alpha3.HTTPRoute.removeRequestHeaders":  "headers.request.remove (removed in Istio 1.5)",
	"istio.networking.v1alpha3.HTTPRoute.appendResponseHeaders": "headers.response.add (removed in Istio 1.5)",
	"istio.networking.v1alpha3.HTTPRoute.removeResponseHeaders": "headers.response.remove (removed in Istio 1.5)",
	"istio.networking.v1alpha3.HTTPRoute.websocketUpgrade":      "nothing: WebSocket upgrades are always allowed (removed in Istio 1.5)",
}

// hint is the message's advice: the suggestion, else otherwise.
func (u unknownField) hint(otherwise string) string {
	if u.removed != "" {
		return "a field older Istio APIs had; write " + u.removed
	}
	if u.suggest != "" {
		return "did you mean " + u.suggest + "?"
	}
	return otherwise
}

// unknownFields walks an Istio spec against its protobuf schema. Istio's
// JSON decoding silently drops unknown fields, which hides typos such as
// "subsets" under a route or "sni" at the wrong level; the API server would
// reject them only when CRD validation is installed and strict.
func unknownFields(n *yaml.Node, md protoreflect.MessageDescriptor, path string, depth int) []unknownField {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode || depth > maxDepth || opaque(md) {
		return nil
	}
	var out []unknownField
	fields := md.Fields()
	for i := 0; i+1 < len(n.Content); i += 2 {
		if merged := mergeSources(n.Content[i], n.Content[i+1]); merged != nil {
			for _, m := range merged {
				out = append(out, unknownFields(m, md, path, depth+1)...)
			}
			continue
		}
		key := n.Content[i].Value
		fd := protoField(fields, key)
		p := path + "." + key
		if fd == nil {
			out = append(out, unknownField{path: p, line: n.Content[i].Line, suggest: closest(key, fields), removed: removedIstioFields[string(md.FullName())+"."+key]})
			continue
		}
		val := deref(n.Content[i+1])
		switch {
		case fd.IsMap():
			if fd.MapValue().Kind() == protoreflect.MessageKind && val != nil && val.Kind == yaml.MappingNode {
				for j := 0; j+1 < len(val.Content); j += 2 {
					out = append(out, unknownFields(val.Content[j+1], fd.MapValue().Message(), p+"."+val.Content[j].Value, depth+1)...)
				}
			}
		case fd.Kind() == protoreflect.MessageKind:
			if fd.IsList() {
				if val != nil && val.Kind == yaml.SequenceNode {
					for j, it := range val.Content {
						out = append(out, unknownFields(it, fd.Message(), p+"["+strconv.Itoa(j)+"]", depth+1)...)
					}
				}
			} else {
				out = append(out, unknownFields(val, fd.Message(), p, depth+1)...)
			}
		}
	}
	return out
}

// opaque reports messages whose JSON form is not their field layout
// (well-known types: Duration is a string, Struct any object, wrappers a
// scalar).
func opaque(md protoreflect.MessageDescriptor) bool {
	return md.ParentFile().Package() == "google.protobuf"
}

// closest returns the field whose JSON name is within two edits of key,
// ignoring case: a mistyped capital is still the same field.
func closest(key string, fields protoreflect.FieldDescriptors) string {
	names := make([]string, fields.Len())
	for i := range names {
		names[i] = fields.Get(i).JSONName()
	}
	return spelling.ClosestFold(key, names, 2)
}

// protoField is the field a YAML key names: its JSON name, as Istio's
// decoder reads it, else the proto name, which it accepts too.
func protoField(fields protoreflect.FieldDescriptors, key string) protoreflect.FieldDescriptor {
	if fd := fields.ByJSONName(key); fd != nil {
		return fd
	}
	return fields.ByName(protoreflect.Name(key))
}
