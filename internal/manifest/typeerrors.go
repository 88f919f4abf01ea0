package manifest

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
	"gopkg.in/yaml.v3"
)

// A typed decode that fails says where in Go terms: "field spec.ports.port:
// cannot use a string as int32", no list index, no line, and for Istio
// specs often only a JSON syntax error from the protobuf decoder. The user
// wrote YAML: after a failed decode the document is walked against the same
// schema to find the first value of the wrong kind, and the message names
// its full path (spec.ports[1].port), its line and both kinds in YAML
// words.

// typeMismatch is a value whose YAML kind the schema does not take.
type typeMismatch struct {
	path []any
	line int
	got  string // "a string (\"eighty\")"
	want string // "an integer"
}

func (m *typeMismatch) message() string {
	return fmt.Sprintf("%s is %s, where %s is expected", PathString(m.path), m.got, m.want)
}

// yamlWords describes what a node is, with a scalar quoted as written.
func yamlWords(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	}
	v := n.Value
	if len(v) > 40 {
		v = v[:37] + "..."
	}
	switch n.ShortTag() {
	case "!!int":
		return "an integer (" + v + ")"
	case "!!float":
		return "a number (" + v + ")"
	case "!!bool":
		return "a boolean (" + v + ")"
	}
	return "a string (" + strconv.Quote(v) + ")"
}

// scalarKind is what a scalar node becomes in the JSON the loader decodes:
// "null", "string", "integer", "number" or "bool".
func scalarKind(n *yaml.Node) string {
	switch n.ShortTag() {
	case "!!null":
		return "null"
	case "!!bool":
		return "bool"
	case "!!int":
		return "integer"
	case "!!float":
		f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
		if err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return "integer" // written 2.0, decoded as 2
		}
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return "string" // .inf and .nan are written as strings
		}
		return "number"
	}
	return "string"
}

// goMismatch finds the first value in n that the Go type t cannot decode.
func goMismatch(n *yaml.Node, t reflect.Type, path []any, depth int) *typeMismatch {
	n = deref(n)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n == nil || depth > maxDepth || opaqueGo(t) {
		return nil
	}
	if n.Kind == yaml.ScalarNode && scalarKind(n) == "null" {
		return nil // null leaves any field at its zero value
	}
	want := ""
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			want = "a mapping"
			break
		}
		fields := goFieldsOf(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			if merged := mergeSources(n.Content[i], n.Content[i+1]); merged != nil {
				for _, m := range merged {
					if mm := goMismatch(m, t, path, depth+1); mm != nil {
						return mm
					}
				}
				continue
			}
			key := n.Content[i].Value
			ft, ok := fields.byName[key]
			if !ok {
				continue // reported as an unknown field, not here
			}
			if mm := goMismatch(n.Content[i+1], ft, append(path[:len(path):len(path)], key), depth+1); mm != nil {
				if mm.line == 0 {
					mm.line = n.Content[i].Line
				}
				return mm
			}
		}
		return nil
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			want = "a mapping"
			break
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if mm := goMismatch(n.Content[i+1], t.Elem(), append(path[:len(path):len(path)], n.Content[i].Value), depth+1); mm != nil {
				if mm.line == 0 {
					mm.line = n.Content[i].Line
				}
				return mm
			}
		}
		return nil
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			if n.Kind != yaml.ScalarNode || scalarKind(n) != "string" {
				want = "a base64 string"
			}
			break
		}
		if n.Kind != yaml.SequenceNode {
			want = "a list"
			break
		}
		for i, it := range n.Content {
			if mm := goMismatch(it, t.Elem(), append(path[:len(path):len(path)], i), depth+1); mm != nil {
				if mm.line == 0 {
					mm.line = it.Line
				}
				return mm
			}
		}
		return nil
	case reflect.String:
		if n.Kind != yaml.ScalarNode || scalarKind(n) != "string" {
			want = "a string"
		}
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || scalarKind(n) != "bool" {
			want = "a boolean (true or false)"
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if n.Kind != yaml.ScalarNode || scalarKind(n) != "integer" {
			want = "an integer"
		} else if !fitsInt(n.Value, t) {
			want = goTypeWords(t)
		}
	case reflect.Float32, reflect.Float64:
		if k := scalarKind(n); n.Kind != yaml.ScalarNode || k != "integer" && k != "number" {
			want = "a number"
		}
	}
	if want == "" {
		return nil
	}
	return &typeMismatch{path: path, got: yamlWords(n), want: want}
}

// protoMismatch finds the first value in n that the Istio spec's message md
// cannot take, as protojson (and Istio's own decoder) reads it.
func protoMismatch(n *yaml.Node, md protoreflect.MessageDescriptor, path []any, depth int) *typeMismatch {
	n = deref(n)
	if n == nil || depth > maxDepth || opaque(md) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		if n.Kind == yaml.ScalarNode && scalarKind(n) == "null" {
			return nil
		}
		return &typeMismatch{path: path, got: yamlWords(n), want: "a mapping"}
	}
	fields := md.Fields()
	for i := 0; i+1 < len(n.Content); i += 2 {
		if merged := mergeSources(n.Content[i], n.Content[i+1]); merged != nil {
			for _, m := range merged {
				if mm := protoMismatch(m, md, path, depth+1); mm != nil {
					return mm
				}
			}
			continue
		}
		key := n.Content[i].Value
		fd := protoField(fields, key)
		if fd == nil {
			continue
		}
		p := append(path[:len(path):len(path)], key)
		mm := protoFieldMismatch(n.Content[i+1], fd, p, depth+1)
		if mm != nil {
			if mm.line == 0 {
				mm.line = n.Content[i].Line
			}
			return mm
		}
	}
	return nil
}

func protoFieldMismatch(v *yaml.Node, fd protoreflect.FieldDescriptor, path []any, depth int) *typeMismatch {
	v = deref(v)
	if v == nil || v.Kind == yaml.ScalarNode && scalarKind(v) == "null" {
		return nil
	}
	switch {
	case fd.IsMap():
		if v.Kind != yaml.MappingNode {
			return &typeMismatch{path: path, got: yamlWords(v), want: "a mapping"}
		}
		for j := 0; j+1 < len(v.Content); j += 2 {
			if mm := protoValueMismatch(v.Content[j+1], fd.MapValue(), append(path[:len(path):len(path)], v.Content[j].Value), depth+1); mm != nil {
				if mm.line == 0 {
					mm.line = v.Content[j].Line
				}
				return mm
			}
		}
		return nil
	case fd.IsList():
		if v.Kind != yaml.SequenceNode {
			return &typeMismatch{path: path, got: yamlWords(v), want: "a list"}
		}
		for j, it := range v.Content {
			if mm := protoValueMismatch(it, fd, append(path[:len(path):len(path)], j), depth+1); mm != nil {
				if mm.line == 0 {
					mm.line = it.Line
				}
				return mm
			}
		}
		return nil
	}
	return protoValueMismatch(v, fd, path, depth)
}

// protoValueMismatch checks one value (a list item, a map value, or a
// singular field) against the field's kind.
func protoValueMismatch(v *yaml.Node, fd protoreflect.FieldDescriptor, path []any, depth int) *typeMismatch {
	v = deref(v)
	if v == nil || v.Kind == yaml.ScalarNode && scalarKind(v) == "null" {
		return nil
	}
	want := ""
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		md := fd.Message()
		if opaque(md) {
			return nil
		}
		return protoMismatch(v, md, path, depth+1)
	case protoreflect.StringKind, protoreflect.BytesKind:
		if v.Kind != yaml.ScalarNode || scalarKind(v) != "string" {
			want = "a string"
		}
	case protoreflect.EnumKind:
		// A name or a number; Istio's decoder drops an unknown name
		// rather than fail, so only other kinds of value are errors.
		if v.Kind != yaml.ScalarNode || scalarKind(v) == "bool" || scalarKind(v) == "number" {
			want = "one of " + enumNames(fd.Enum())
		}
	case protoreflect.BoolKind:
		if v.Kind != yaml.ScalarNode || scalarKind(v) != "bool" {
			want = "a boolean (true or false)"
		}
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		if k := scalarKind(v); v.Kind != yaml.ScalarNode || k != "integer" && k != "number" {
			want = "a number"
		}
	default: // the integer kinds; protojson also takes them quoted
		if v.Kind != yaml.ScalarNode {
			want = "an integer"
		} else if k := scalarKind(v); k != "integer" {
			if _, err := strconv.ParseInt(v.Value, 10, 64); k != "string" || err != nil {
				want = "an integer"
			}
		}
	}
	if want == "" {
		return nil
	}
	return &typeMismatch{path: path, got: yamlWords(v), want: want}
}

func enumNames(ed protoreflect.EnumDescriptor) string {
	vals := ed.Values()
	names := make([]string, 0, vals.Len())
	for i := 0; i < vals.Len() && i < 8; i++ {
		names = append(names, string(vals.Get(i).Name()))
	}
	if vals.Len() > 8 {
		names = append(names, "…")
	}
	return strings.Join(names, ", ")
}

// withoutKey is the mapping n without its top-level key (when drop): an
// Istio object's spec is checked against its protobuf schema instead.
func withoutKey(n *yaml.Node, key string, drop bool) *yaml.Node {
	n = deref(n)
	if !drop || n == nil || n.Kind != yaml.MappingNode {
		return n
	}
	trimmed := *n
	trimmed.Content = nil
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value != key {
			trimmed.Content = append(trimmed.Content, n.Content[i], n.Content[i+1])
		}
	}
	return &trimmed
}

// fitsInt tells whether the integer written as v fits the Go integer type
// t (a port of 99999999999 does not fit an int32).
func fitsInt(v string, t reflect.Type) bool {
	v = strings.ReplaceAll(v, "_", "")
	if f, err := strconv.ParseFloat(v, 64); err == nil && f == math.Trunc(f) && !strings.ContainsAny(v, "xXoObB") {
		v = strconv.FormatFloat(f, 'f', -1, 64) // 2.0, 1e3
	}
	switch t.Kind() {
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		u, err := strconv.ParseUint(v, 0, 64)
		return err == nil && !reflect.Zero(t).OverflowUint(u)
	}
	i, err := strconv.ParseInt(v, 0, 64)
	return err == nil && !reflect.Zero(t).OverflowInt(i)
}

// goTypeWords names a Go type the way the YAML that fills it is written.
func goTypeWords(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean (true or false)"
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		bits := t.Bits()
		return fmt.Sprintf("an integer from %d to %d", -(int64(1) << (bits - 1)), int64(1)<<(bits-1)-1)
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uint:
		if t.Bits() == 64 {
			return "an integer from 0 to 18446744073709551615"
		}
		return fmt.Sprintf("an integer from 0 to %d", uint64(1)<<t.Bits()-1)
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return "a base64 string"
		}
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping"
	}
	return "another kind of value"
}

// jsonValueWords turns encoding/json's description of a value ("string",
// "number 1.5", "array", "object", "bool") into YAML words.
func jsonValueWords(v string) string {
	kind, rest, _ := strings.Cut(v, " ")
	words := map[string]string{"string": "a string", "number": "a number", "array": "a list", "object": "a mapping", "bool": "a boolean"}[kind]
	if words == "" {
		return v
	}
	if rest != "" {
		return words + " (" + rest + ")"
	}
	return words
}

// unknownEnums lists the enum fields of an Istio spec set to a name the
// enum does not have (mode: MUTUALL). Istio's decoder drops such a value
// without a word, so the field keeps its default (tls.mode DISABLE) — the
// opposite of what was meant — while the API server, whose CRD schema
// lists the names, rejects the object.
func unknownEnums(n *yaml.Node, md protoreflect.MessageDescriptor, path []any, depth int) []typeMismatch {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode || depth > maxDepth || opaque(md) {
		return nil
	}
	var out []typeMismatch
	fields := md.Fields()
	for i := 0; i+1 < len(n.Content); i += 2 {
		if merged := mergeSources(n.Content[i], n.Content[i+1]); merged != nil {
			for _, m := range merged {
				out = append(out, unknownEnums(m, md, path, depth+1)...)
			}
			continue
		}
		key := n.Content[i].Value
		fd := protoField(fields, key)
		if fd == nil {
			continue
		}
		p := append(path[:len(path):len(path)], key)
		v := deref(n.Content[i+1])
		if v == nil {
			continue
		}
		check := func(item *yaml.Node, at []any, line int) {
			item = deref(item)
			if item == nil {
				return
			}
			switch fd.Kind() {
			case protoreflect.EnumKind:
				if item.Kind == yaml.ScalarNode && scalarKind(item) == "string" && fd.Enum().Values().ByName(protoreflect.Name(item.Value)) == nil {
					out = append(out, typeMismatch{path: at, line: line, got: yamlWords(item), want: "one of " + enumNames(fd.Enum())})
				}
			case protoreflect.MessageKind:
				out = append(out, unknownEnums(item, fd.Message(), at, depth+1)...)
			}
		}
		switch {
		case fd.IsMap():
			if v.Kind == yaml.MappingNode && fd.MapValue().Kind() == protoreflect.MessageKind {
				for j := 0; j+1 < len(v.Content); j += 2 {
					out = append(out, unknownEnums(v.Content[j+1], fd.MapValue().Message(), append(p[:len(p):len(p)], v.Content[j].Value), depth+1)...)
				}
			}
		case fd.IsList():
			if v.Kind == yaml.SequenceNode {
				for j, it := range v.Content {
					check(it, append(p[:len(p):len(p)], j), it.Line)
				}
			}
		default:
			check(v, p, n.Content[i].Line)
		}
	}
	return out
}
