package manifest

import (
	"bytes"
	"reflect"
	"strconv"
	"strings"
	"sync"

	jsoniter "github.com/json-iterator/go"
	"gopkg.in/yaml.v3"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Kubernetes types (and the metadata of Istio and Gateway API objects) are
// decoded straight from the fast parser's tree into their Go structs,
// without writing the document out as JSON and reading it back with
// json-iterator: on a mesh of 100k objects that round trip was a third of
// the load phase. The result must be exactly what decoding appendJSON's
// output with the same json-iterator configuration gives, so the decoder
// handles natively only what it can decide exactly — structs by exact field
// name, pointers, slices, string-keyed maps, strings, bools and integers —
// and hands any other value (a type with its own UnmarshalJSON such as
// resource.Quantity, intstr.IntOrString or metav1.Time; floats; []byte;
// interfaces) to json-iterator as JSON of that subtree alone. Anything
// where the two could differ — a key that names no field exactly (the JSON
// decoders match case-insensitively), a repeated field, a null inside a
// list or map, a scalar whose type does not fit — makes it decline, and the
// caller decodes the document through JSON as before. TestGoTreeMatchesJSON
// and FuzzGoTree hold the equivalence.

// goKind is how the tree decoder treats a Go type.
type goKind uint8

const (
	goDelegate goKind = iota // JSON of the subtree, decoded by json-iterator
	goStruct
	goPtr
	goSlice
	goMap
	goStringMap // map[string]string, the labels and annotations of every object
	goString
	goBool
	goInt
	goUint
	goIntOrString // intstr.IntOrString: its UnmarshalJSON, without encoding/json
)

type goType struct {
	kind   goKind
	t      reflect.Type
	elem   *goType            // pointer, slice and map element
	fields map[string]goField // struct fields by JSON name
	nField int
}

type goField struct {
	index []int // through embedded structs
	ord   int   // for telling a repeated key
	t     *goType
}

var (
	goTypes   sync.Map // reflect.Type → *goType, complete ones only
	goTypesMu sync.Mutex

	stringMapType   = reflect.TypeFor[map[string]string]()
	intOrStringType = reflect.TypeFor[intstr.IntOrString]()
)

// goTypeOf returns how t is decoded from the tree.
func goTypeOf(t reflect.Type) *goType {
	if g, ok := goTypes.Load(t); ok {
		return g.(*goType)
	}
	goTypesMu.Lock()
	defer goTypesMu.Unlock()
	built := map[reflect.Type]*goType{}
	g := buildGoType(t, built)
	// Published only when complete: a recursive type refers to itself
	// while it is being built.
	for t, g := range built {
		goTypes.Store(t, g)
	}
	return g
}

func buildGoType(t reflect.Type, built map[reflect.Type]*goType) *goType {
	if g, ok := goTypes.Load(t); ok {
		return g.(*goType)
	}
	if g := built[t]; g != nil {
		return g
	}
	g := &goType{t: t}
	built[t] = g
	if t == intOrStringType {
		// Every Service port's targetPort: its UnmarshalJSON runs
		// encoding/json once more for the value inside.
		g.kind = goIntOrString
		return g
	}
	if p := reflect.PointerTo(t); p.Implements(jsonUnmarshaler) || p.Implements(textUnmarshaler) {
		return g // the type's own decoding
	}
	switch t.Kind() {
	case reflect.String:
		g.kind = goString
	case reflect.Bool:
		g.kind = goBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		g.kind = goInt
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		g.kind = goUint
	case reflect.Pointer:
		g.kind, g.elem = goPtr, buildGoType(t.Elem(), built)
	case reflect.Slice:
		if t.Elem().Kind() != reflect.Uint8 { // []byte is base64 in JSON
			g.kind, g.elem = goSlice, buildGoType(t.Elem(), built)
		}
	case reflect.Map:
		if t == stringMapType {
			g.kind = goStringMap
		} else if t.Key().Kind() == reflect.String && !reflect.PointerTo(t.Key()).Implements(textUnmarshaler) {
			g.kind, g.elem = goMap, buildGoType(t.Elem(), built)
		}
	case reflect.Struct:
		if fields, ok := jsonFields(t, built); ok {
			g.kind, g.fields, g.nField = goStruct, fields, len(fields)
		}
	}
	return g
}

// jsonFields lists a struct's fields by the names encoding/json gives them,
// with the fields of embedded structs promoted; false for anything this
// decoder does not model exactly (a ",string" option, an embedded pointer,
// two fields of one name), which is then left to json-iterator.
func jsonFields(t reflect.Type, built map[reflect.Type]*goType) (map[string]goField, bool) {
	fields := map[string]goField{}
	depthOf := map[string]int{}
	var walk func(t reflect.Type, index []int, depth int) bool
	walk = func(t reflect.Type, index []int, depth int) bool {
		for i := range t.NumField() {
			sf := t.Field(i)
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if strings.Contains(","+opts+",", ",string,") {
				return false
			}
			idx := append(append([]int(nil), index...), i)
			if sf.Anonymous && name == "" {
				if sf.Type.Kind() == reflect.Struct {
					if !walk(sf.Type, idx, depth+1) {
						return false
					}
					continue
				}
				if sf.Type.Kind() == reflect.Pointer {
					return false
				}
			}
			if !sf.IsExported() {
				continue
			}
			if name == "" {
				name = sf.Name
			}
			if d, ok := depthOf[name]; ok {
				if d == depth {
					return false // encoding/json drops both: not modelled
				}
				if d < depth {
					continue // the shallower field wins
				}
			}
			depthOf[name] = depth
			fields[name] = goField{index: idx, t: buildGoType(sf.Type, built)}
		}
		return true
	}
	if !walk(t, nil, 0) {
		return nil, false
	}
	ord := 0
	for name, f := range fields {
		f.ord = ord
		fields[name] = f
		ord++
	}
	return fields, true
}

// goDecoder carries what one document's decoding shares.
type goDecoder struct {
	p   *fastParser
	api jsoniter.API // for delegated subtrees: the document's configuration
	buf *bytes.Buffer
}

// decodeGo fills the struct v points to from the mapping at root, leaving
// out the top-level key skip; false when it declines (v is then partly
// filled and must be discarded).
func (p *fastParser) decodeGo(v any, root int32, skip string, api jsoniter.API, buf *bytes.Buffer) bool {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return false
	}
	g := goTypeOf(rv.Type().Elem())
	if g.kind != goStruct {
		return false
	}
	d := goDecoder{p: p, api: api, buf: buf}
	return d.structValue(rv.Elem(), g, root, skip, 0)
}

// tag is the resolved tag of a scalar node, as appendJSON resolves it.
func (d *goDecoder) tag(n *fnode) string {
	if n.style != 0 {
		return "!!str"
	}
	return plainTag(n.value)
}

func (d *goDecoder) isNull(i int32) bool {
	n := &d.p.slab[i]
	return n.kind == yaml.ScalarNode && d.tag(n) == "!!null"
}

// collection checks the node at i for a list or a map (kind): null leaves
// the value as it is (ok, nothing more to do), any other node declines.
func (d *goDecoder) collection(i int32, kind yaml.Kind) (more, ok bool) {
	if d.isNull(i) {
		return false, true
	}
	k := d.p.slab[i].kind
	return k == kind, k == kind
}

func (d *goDecoder) value(v reflect.Value, g *goType, i int32, depth int) bool {
	if depth > maxDepth {
		return false
	}
	n := &d.p.slab[i]
	switch g.kind {
	case goDelegate:
		d.buf.Reset()
		d.p.appendJSON(d.buf, i, "", depth)
		return d.api.Unmarshal(d.buf.Bytes(), v.Addr().Interface()) == nil
	case goStruct:
		return d.structValue(v, g, i, "", depth)
	case goPtr:
		if d.isNull(i) {
			return true // stays nil
		}
		e := reflect.New(g.elem.t)
		if !d.value(e.Elem(), g.elem, i, depth) {
			return false
		}
		v.Set(e)
		return true
	case goSlice:
		if more, ok := d.collection(i, yaml.SequenceNode); !more {
			return ok
		}
		count := 0
		for c := n.first; c != noNode; c = d.p.slab[c].next {
			count++
		}
		s := reflect.MakeSlice(g.t, count, count)
		j := 0
		for c := n.first; c != noNode; c = d.p.slab[c].next {
			if d.isNull(c) || !d.value(s.Index(j), g.elem, c, depth+1) {
				return false
			}
			j++
		}
		v.Set(s)
		return true
	case goStringMap:
		if more, ok := d.collection(i, yaml.MappingNode); !more {
			return ok
		}
		m := v.Addr().Interface().(*map[string]string)
		if *m == nil {
			*m = make(map[string]string)
		}
		for k := n.first; k != noNode; k = d.p.slab[d.p.slab[k].next].next {
			key, val := &d.p.slab[k], &d.p.slab[d.p.slab[k].next]
			if key.kind != yaml.ScalarNode || val.kind != yaml.ScalarNode || d.tag(val) != "!!str" {
				return false
			}
			(*m)[d.p.keep(key.value)] = d.p.keep(val.value)
		}
		return true
	case goMap:
		if more, ok := d.collection(i, yaml.MappingNode); !more {
			return ok
		}
		if v.IsNil() {
			v.Set(reflect.MakeMap(g.t))
		}
		for k := n.first; k != noNode; k = d.p.slab[d.p.slab[k].next].next {
			key, val := &d.p.slab[k], d.p.slab[k].next
			if key.kind != yaml.ScalarNode || d.isNull(val) {
				return false
			}
			e := reflect.New(g.elem.t).Elem()
			if !d.value(e, g.elem, val, depth+1) {
				return false
			}
			v.SetMapIndex(reflect.ValueOf(d.p.keep(key.value)).Convert(g.t.Key()), e)
		}
		return true
	}
	// Scalars.
	if n.kind != yaml.ScalarNode {
		return false
	}
	tag := d.tag(n)
	if g.kind == goIntOrString {
		// As IntOrString.UnmarshalJSON: a JSON string is the string
		// form, anything else the int32 form; null and other types are
		// left to it.
		p := v.Addr().Interface().(*intstr.IntOrString)
		switch tag {
		case "!!str":
			*p = intstr.IntOrString{Type: intstr.String, StrVal: d.p.keep(n.value)}
			return true
		case "!!int":
			x, err := strconv.ParseInt(strings.ReplaceAll(n.value, "_", ""), 0, 32)
			if err != nil {
				return false
			}
			*p = intstr.IntOrString{Type: intstr.Int, IntVal: int32(x)}
			return true
		}
		return false
	}
	if tag == "!!null" {
		return true // null leaves a value as it is
	}
	switch g.kind {
	case goString:
		if tag != "!!str" {
			return false
		}
		v.SetString(d.p.keep(n.value))
	case goBool:
		if tag != "!!bool" {
			return false
		}
		b, err := strconv.ParseBool(strings.ToLower(n.value))
		v.SetBool(err == nil && b)
	case goInt:
		if tag != "!!int" {
			return false
		}
		x, err := strconv.ParseInt(strings.ReplaceAll(n.value, "_", ""), 0, 64)
		if err != nil || v.OverflowInt(x) {
			return false
		}
		v.SetInt(x)
	case goUint:
		if tag != "!!int" {
			return false
		}
		x, err := strconv.ParseInt(strings.ReplaceAll(n.value, "_", ""), 0, 64)
		if err != nil || x < 0 || v.OverflowUint(uint64(x)) {
			return false
		}
		v.SetUint(uint64(x))
	default:
		return false
	}
	return true
}

func (d *goDecoder) structValue(v reflect.Value, g *goType, i int32, skip string, depth int) bool {
	n := &d.p.slab[i]
	if n.kind == yaml.ScalarNode && d.isNull(i) {
		return true
	}
	if n.kind != yaml.MappingNode {
		return false
	}
	var seen uint64
	var seenMore []bool
	if g.nField > 64 {
		seenMore = make([]bool, g.nField)
	}
	for k := n.first; k != noNode; k = d.p.slab[d.p.slab[k].next].next {
		key := &d.p.slab[k]
		if key.kind != yaml.ScalarNode {
			return false
		}
		if skip != "" && key.value == skip {
			continue
		}
		f, ok := g.fields[key.value]
		if !ok {
			return false
		}
		if seenMore != nil {
			if seenMore[f.ord] {
				return false
			}
			seenMore[f.ord] = true
		} else {
			if seen&(1<<f.ord) != 0 {
				return false
			}
			seen |= 1 << f.ord
		}
		fv := v.Field(f.index[0])
		for _, x := range f.index[1:] {
			fv = fv.Field(x)
		}
		if !d.value(fv, f.t, key.next, depth+1) {
			return false
		}
	}
	return true
}
