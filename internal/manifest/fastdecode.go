package manifest

import (
	"bytes"

	jsoniter "github.com/json-iterator/go"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"gopkg.in/yaml.v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// decodeFast decodes the ordinary document — one object of a known kind,
// with apiVersion, kind and metadata.name, that decodes without error and
// whose Istio spec has no unknown field — straight from the fast parser's
// tree. It reports false, having added nothing to out, for anything else;
// decodeNode then does the whole document again and produces the problems
// with their positions. So the fast path never changes a result, only how
// quickly the common case gets there (TestFastDecodeMatches checks it).
func decodeFast(p *fastParser, root int32, c chunk, opts Options, buf *bytes.Buffer, out *decoded) bool {
	r := &p.slab[root]
	if r.kind != yaml.MappingNode {
		return false
	}
	var apiVersion, kindName, name, namespace string
	spec := int32(noNode)
	seen := 0
	for k := r.first; k != noNode; k = p.slab[p.slab[k].next].next {
		v := p.slab[k].next
		bit := 0
		switch p.slab[k].value {
		case "apiVersion":
			bit, apiVersion = 1, p.scalar(v)
		case "kind":
			bit, kindName = 2, p.scalar(v)
		case "metadata":
			bit = 4
			var ok bool
			if name, namespace, ok = p.identity(v); !ok {
				return false
			}
		case "spec":
			bit, spec = 8, v
		case "items":
			return false // a List, or an object decodeNode must judge
		}
		// A repeated key means different things to the first-match
		// lookups and to JSON decoding (the last wins): leave it.
		if seen&bit != 0 {
			return false
		}
		seen |= bit
	}
	if apiVersion == "" || kindName == "" || name == "" {
		return false
	}
	o := &Object{APIVersion: p.keep(apiVersion), Kind: p.keep(kindName), Name: p.keep(name), Namespace: p.keep(namespace),
		File: c.file, Line: int(r.line) + c.line - 1, src: c.src}
	k, known := kinds[GroupKind{o.Group(), o.Kind}]
	if !known {
		return false
	}
	typedObj := k.new()
	meta, ok := typedObj.(metav1.Object)
	if !ok {
		return false
	}
	skip := ""
	if k.spec != nil {
		skip = "spec" // decoded below, as protojson would
	}
	dec := fastJSON
	if checksGoFields(o, k) {
		// Strict, as the API server: an unknown or miscapitalized field
		// fails here, and decodeNode reports it.
		dec = strictJSON
	}
	// Straight from the tree (fastgo.go) where it can be decided exactly
	// as the JSON decoder would; else through JSON.
	if !p.decodeGo(typedObj, root, skip, dec, buf) {
		typedObj = k.new()
		if meta, ok = typedObj.(metav1.Object); !ok {
			return false
		}
		buf.Reset()
		p.appendJSON(buf, root, skip, 0)
		if dec.Unmarshal(buf.Bytes(), typedObj) != nil {
			return false
		}
	}
	if k.spec != nil && spec != noNode {
		// Straight from the tree (fastproto.go) where it can be decided
		// exactly as protojson would; else through JSON as before.
		if msg := k.spec(typedObj); !p.protoSpec(msg, spec, buf) {
			proto.Reset(msg.Interface())
			buf.Reset()
			p.appendJSON(buf, spec, "", 0)
			// Strict: an unknown field fails here, and decodeNode reports it.
			if strictSpec.Unmarshal(buf.Bytes(), msg.Interface()) != nil {
				return false
			}
		}
	}
	o.place(k, opts)
	o.Typed = typedObj
	o.Labels, o.Annotations = meta.GetLabels(), meta.GetAnnotations()
	out.objects = append(out.objects, o)
	return true
}

var strictSpec = protojson.UnmarshalOptions{}

// strictJSON is fastJSON that refuses unknown fields and matches names
// exactly, as the API server's strict field validation does.
var strictJSON = jsoniter.Config{EscapeHTML: true, SortMapKeys: true, ValidateJsonRawMessage: true, DisallowUnknownFields: true, CaseSensitive: true}.Froze()

// exactJSON matches names exactly but drops unknown fields, as the API
// server does under non-strict validation.
var exactJSON = jsoniter.Config{EscapeHTML: true, SortMapKeys: true, ValidateJsonRawMessage: true, CaseSensitive: true}.Froze()

// scalar returns the text of a scalar node, "" for anything else (as the
// slow path's lookups do).
func (p *fastParser) scalar(i int32) string {
	if n := &p.slab[i]; n.kind == yaml.ScalarNode {
		return n.value
	}
	return ""
}

// identity reads metadata's name and namespace; ok is false when metadata
// is anything but a plain mapping with at most one of each (generateName,
// odd values and repeated keys are decodeNode's to judge).
func (p *fastParser) identity(meta int32) (name, namespace string, ok bool) {
	m := &p.slab[meta]
	if m.kind != yaml.MappingNode {
		return "", "", false
	}
	var haveName, haveNS bool
	for k := m.first; k != noNode; k = p.slab[p.slab[k].next].next {
		v := p.slab[k].next
		switch p.slab[k].value {
		case "name":
			if haveName || p.slab[v].kind != yaml.ScalarNode {
				return "", "", false
			}
			name, haveName = p.slab[v].value, true
		case "namespace":
			if haveNS || p.slab[v].kind != yaml.ScalarNode {
				return "", "", false
			}
			namespace, haveNS = p.slab[v].value, true
		}
	}
	return name, namespace, true
}

// appendJSON writes the subtree at i as JSON, leaving out the top-level key
// skip; the same conversion as the yaml.Node appendJSON.
func (p *fastParser) appendJSON(buf *bytes.Buffer, i int32, skip string, depth int) {
	n := &p.slab[i]
	if depth > maxDepth {
		buf.WriteString("null")
		return
	}
	switch n.kind {
	case yaml.MappingNode:
		buf.WriteByte('{')
		first := true
		for k := n.first; k != noNode; k = p.slab[p.slab[k].next].next {
			key := p.slab[k].value
			if skip != "" && key == skip {
				continue
			}
			if !first {
				buf.WriteByte(',')
			}
			first = false
			writeString(buf, key)
			buf.WriteByte(':')
			p.appendJSON(buf, p.slab[k].next, "", depth+1)
		}
		buf.WriteByte('}')
	case yaml.SequenceNode:
		buf.WriteByte('[')
		for c := n.first; c != noNode; c = p.slab[c].next {
			if c != n.first {
				buf.WriteByte(',')
			}
			p.appendJSON(buf, c, "", depth+1)
		}
		buf.WriteByte(']')
	default:
		tag := "!!str"
		if n.style == 0 {
			tag = plainTag(n.value)
		}
		appendScalarValue(buf, tag, n.value)
	}
}

// plainTag resolves a plain scalar's tag with yaml.v3's rules. Most plain
// scalars in manifests are words, which no rule turns into anything but a
// string; only those that can start a number, bool or null are asked.
func plainTag(v string) string {
	if v == "" {
		return "!!null"
	}
	switch c := v[0]; {
	case c >= '0' && c <= '9', c == '-', c == '+', c == '.', c == '~',
		c == 't', c == 'T', c == 'f', c == 'F', c == 'n', c == 'N', c == 'y', c == 'Y', c == 'o', c == 'O':
		n := yaml.Node{Kind: yaml.ScalarNode, Value: v}
		return n.ShortTag()
	}
	return "!!str"
}
