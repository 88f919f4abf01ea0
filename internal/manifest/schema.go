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
}

// hint is the message's advice: the suggestion, else otherwise.
func (u unknownField) hint(otherwise string) string {
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
			out = append(out, unknownField{path: p, line: n.Content[i].Line, suggest: closest(key, fields)})
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
