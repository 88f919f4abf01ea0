package manifest

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
	"gopkg.in/yaml.v3"
)

// Istio specs are protobuf messages, and protojson decoding them (after
// writing the spec out as JSON for it) was the largest part of loading a
// mesh whose objects are mostly DestinationRules and VirtualServices. So
// the fast path sets the message's fields straight from the fast parser's
// tree, making the same protoreflect calls protojson makes for the same
// JSON: the same fields are set to the same values.
//
// It takes only what it can decide exactly as strict protojson
// (google.golang.org/protobuf/encoding/protojson decode.go) would: known
// field names (JSON or proto name), strings, enum names, booleans, decimal
// integers and floats in range, nested messages, lists and maps. Anything
// else — an unknown or repeated field, a second field of a oneof, a value
// of the wrong type, an enum number, bytes, null where protojson would
// object, invalid UTF-8 — makes it decline, and the caller decodes the JSON
// with protojson as before, which gives the same result or the error (and
// through it the warnings) it always gave. Well-known types (Duration,
// wrappers, Struct) are handed to protojson as their own small JSON
// subtree, which is where their formats are defined.

// protoSpec fills m (new and empty) from the mapping at i, or reports false
// leaving m in any state: the caller then resets it and decodes via JSON.
// buf is scratch for well-known types' JSON.
func (p *fastParser) protoSpec(m protoreflect.Message, i int32, buf *bytes.Buffer) bool {
	return p.protoMessage(m, i, 0, buf)
}

// protoMessage decodes the node at i (at depth, counted as appendJSON
// counts it) into m.
func (p *fastParser) protoMessage(m protoreflect.Message, i int32, depth int, buf *bytes.Buffer) bool {
	md := m.Descriptor()
	if md.ParentFile().Package() == "google.protobuf" {
		buf.Reset()
		p.appendJSON(buf, i, "", depth)
		return protojson.Unmarshal(buf.Bytes(), m.Interface()) == nil
	}
	// Values two levels down (list items) must stay within appendJSON's
	// depth, beyond which it writes null.
	if depth+2 > maxDepth {
		return false
	}
	n := &p.slab[i]
	if n.kind != yaml.MappingNode {
		return false
	}
	fields := md.Fields()
	// Field numbers seen (protojson refuses a field given twice, also as
	// its JSON and its proto name) and oneofs set.
	var seen [32]protoreflect.FieldNumber
	nseen := 0
	var oneofs uint64
	for k := n.first; k != noNode; k = p.slab[p.slab[k].next].next {
		key := &p.slab[k]
		if key.kind != yaml.ScalarNode || !utf8.ValidString(key.value) {
			return false
		}
		fd := fields.ByJSONName(key.value)
		if fd == nil {
			fd = fields.ByTextName(key.value)
		}
		if fd == nil {
			return false
		}
		for _, s := range seen[:nseen] {
			if s == fd.Number() {
				return false
			}
		}
		if nseen == len(seen) {
			return false
		}
		seen[nseen] = fd.Number()
		nseen++
		v := key.next
		vn := &p.slab[v]
		if vn.kind == yaml.ScalarNode && scalarTag(vn) == "!!null" {
			// protojson leaves a field given null unset, except the
			// types that can hold null; those are its to decide.
			if nullable(fd) {
				return false
			}
			continue
		}
		switch {
		case fd.IsList():
			if vn.kind != yaml.SequenceNode {
				return false
			}
			list := m.Mutable(fd).List()
			for c := vn.first; c != noNode; c = p.slab[c].next {
				if isMessage(fd) {
					val := list.NewElement()
					if !p.protoMessage(val.Message(), c, depth+2, buf) {
						return false
					}
					list.Append(val)
					continue
				}
				val, ok := p.protoScalar(fd, &p.slab[c])
				if !ok {
					return false
				}
				list.Append(val)
			}
		case fd.IsMap():
			if vn.kind != yaml.MappingNode {
				return false
			}
			mp := m.Mutable(fd).Map()
			for mk := vn.first; mk != noNode; mk = p.slab[p.slab[mk].next].next {
				keyNode := &p.slab[mk]
				if keyNode.kind != yaml.ScalarNode || !utf8.ValidString(keyNode.value) {
					return false
				}
				pk, ok := p.protoMapKey(fd.MapKey(), keyNode.value)
				if !ok || mp.Has(pk) {
					return false
				}
				mv := keyNode.next
				if isMessage(fd.MapValue()) {
					val := mp.NewValue()
					if !p.protoMessage(val.Message(), mv, depth+2, buf) {
						return false
					}
					mp.Set(pk, val)
					continue
				}
				val, ok := p.protoScalar(fd.MapValue(), &p.slab[mv])
				if !ok {
					return false
				}
				mp.Set(pk, val)
			}
		default:
			if od := fd.ContainingOneof(); od != nil {
				bit := uint64(1) << uint(od.Index())
				if od.Index() >= 64 || oneofs&bit != 0 {
					return false
				}
				oneofs |= bit
			}
			if isMessage(fd) {
				val := m.NewField(fd)
				if !p.protoMessage(val.Message(), v, depth+1, buf) {
					return false
				}
				m.Set(fd, val)
				continue
			}
			val, ok := p.protoScalar(fd, vn)
			if !ok {
				return false
			}
			m.Set(fd, val)
		}
	}
	return true
}

func isMessage(fd protoreflect.FieldDescriptor) bool {
	return fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind
}

// nullable: the field types for which protojson gives null a value
// (google.protobuf.Value and NullValue) rather than leaving them unset.
func nullable(fd protoreflect.FieldDescriptor) bool {
	switch {
	case isMessage(fd):
		return fd.Message().FullName() == "google.protobuf.Value"
	case fd.Kind() == protoreflect.EnumKind:
		return fd.Enum().FullName() == "google.protobuf.NullValue"
	}
	return false
}

// scalarTag is the tag appendJSON resolves a scalar node with.
func scalarTag(n *fnode) string {
	if n.style != 0 {
		return "!!str"
	}
	return plainTag(n.value)
}

// protoScalar is the value protojson gives a scalar field (or list item or
// map value) of fd's kind for the JSON appendScalarValue writes for n; ok
// is false wherever protojson might decide otherwise or fail.
func (p *fastParser) protoScalar(fd protoreflect.FieldDescriptor, n *fnode) (protoreflect.Value, bool) {
	if n.kind != yaml.ScalarNode {
		return protoreflect.Value{}, false
	}
	// The JSON token appendScalarValue writes: a number (its text), true
	// or false, or a string (the value itself); null is declined.
	var number string
	switch scalarTag(n) {
	case "!!null":
		return protoreflect.Value{}, false
	case "!!bool":
		b, err := strconv.ParseBool(strings.ToLower(n.value))
		if fd.Kind() != protoreflect.BoolKind {
			return protoreflect.Value{}, false
		}
		return protoreflect.ValueOfBool(err == nil && b), true
	case "!!int":
		v := strings.ReplaceAll(n.value, "_", "")
		if i, err := strconv.ParseInt(v, 0, 64); err == nil {
			number = strconv.FormatInt(i, 10)
		} else if u, err := strconv.ParseUint(v, 0, 64); err == nil {
			number = strconv.FormatUint(u, 10)
		}
	case "!!float":
		f, err := strconv.ParseFloat(strings.ReplaceAll(n.value, "_", ""), 64)
		if err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			number = strconv.FormatFloat(f, 'g', -1, 64)
			// Only float fields take it here: protojson's reading of a
			// fraction or exponent into an integer is its own.
			switch fd.Kind() {
			case protoreflect.FloatKind, protoreflect.DoubleKind:
			default:
				return protoreflect.Value{}, false
			}
		}
	}
	if number != "" {
		return protoNumber(fd, number)
	}
	s := n.value
	if !utf8.ValidString(s) {
		return protoreflect.Value{}, false
	}
	switch fd.Kind() {
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(p.keep(s)), true
	case protoreflect.EnumKind:
		if fd.Enum().FullName() == "google.protobuf.NullValue" {
			return protoreflect.Value{}, false
		}
		if ev := fd.Enum().Values().ByName(protoreflect.Name(s)); ev != nil {
			return protoreflect.ValueOfEnum(ev.Number()), true
		}
	}
	return protoreflect.Value{}, false
}

// protoNumber reads a JSON number (a decimal integer, or a float's 'g'
// text) into a numeric field as protojson does: integers must fit the
// field's size, floats go through strconv.ParseFloat at the field's size.
func protoNumber(fd protoreflect.FieldDescriptor, s string) (protoreflect.Value, bool) {
	switch fd.Kind() {
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		if i, err := strconv.ParseInt(s, 10, 32); err == nil {
			return protoreflect.ValueOfInt32(int32(i)), true
		}
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return protoreflect.ValueOfInt64(i), true
		}
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		if u, err := strconv.ParseUint(s, 10, 32); err == nil {
			return protoreflect.ValueOfUint32(uint32(u)), true
		}
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		if u, err := strconv.ParseUint(s, 10, 64); err == nil {
			return protoreflect.ValueOfUint64(u), true
		}
	case protoreflect.FloatKind:
		if f, err := strconv.ParseFloat(s, 32); err == nil {
			return protoreflect.ValueOfFloat32(float32(f)), true
		}
	case protoreflect.DoubleKind:
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return protoreflect.ValueOfFloat64(f), true
		}
	}
	return protoreflect.Value{}, false
}

// protoMapKey reads a map key as protojson's unmarshalMapKey does.
func (p *fastParser) protoMapKey(fd protoreflect.FieldDescriptor, s string) (protoreflect.MapKey, bool) {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(p.keep(s)).MapKey(), true
	case protoreflect.BoolKind:
		switch s {
		case "true":
			return protoreflect.ValueOfBool(true).MapKey(), true
		case "false":
			return protoreflect.ValueOfBool(false).MapKey(), true
		}
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		if i, err := strconv.ParseInt(s, 10, 32); err == nil {
			return protoreflect.ValueOfInt32(int32(i)).MapKey(), true
		}
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return protoreflect.ValueOfInt64(i).MapKey(), true
		}
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		if u, err := strconv.ParseUint(s, 10, 32); err == nil {
			return protoreflect.ValueOfUint32(uint32(u)).MapKey(), true
		}
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		if u, err := strconv.ParseUint(s, 10, 64); err == nil {
			return protoreflect.ValueOfUint64(u).MapKey(), true
		}
	}
	return protoreflect.MapKey{}, false
}
