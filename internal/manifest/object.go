// Package manifest loads Kubernetes, Istio and Gateway API resources from
// YAML or JSON, keeping for every resource the file and line it came from so
// that findings can point at the exact field a user must change.
package manifest

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"gopkg.in/yaml.v3"
)

// Object is one resource from the input, decoded into its real Go type when
// the kind is known.
type Object struct {
	APIVersion  string
	Kind        string
	Namespace   string // defaulted for namespaced kinds without one
	Name        string
	Labels      map[string]string
	Annotations map[string]string
	// GeneratedName is true when the name comes from metadata.generateName
	// (every apply creates a new object); NamespaceSet when the document
	// itself sets metadata.namespace (else it follows the apply's -n).
	GeneratedName, NamespaceSet bool

	// Origin of the document (or List item) that holds the object.
	File string
	Line int

	// Typed is a pointer to the k8s.io/api, istio.io/client-go or
	// sigs.k8s.io/gateway-api type for the kind, or nil for unknown kinds.
	Typed any

	// The YAML tree is not kept after decoding (it is several times the
	// size of the typed object); it is parsed again from src on the first
	// position look-up, which only findings need.
	src      *source
	item     []int // List item indexes leading to the object in its document
	nodeOnce sync.Once
	node     *yaml.Node
}

// source is where a document's bytes can be read again: the file region,
// or the bytes themselves for standard input.
type source struct {
	file   string
	offset int64
	length int
	line   int
	data   []byte
	// reader is the file's shared handle, when it has one (positions.go).
	reader *fileReader

	// Positions (positions.go): the document's bytes read again on the
	// first look-up, the number of look-ups, the tree kept once they are
	// many, and yaml.v3's tree where the fast parser declines.
	once                   sync.Once
	text                   []byte
	lookups                atomic.Int32
	keepOnce, fallbackOnce sync.Once
	kept, fallback         *docTree
}

func (s *source) read() ([]byte, error) {
	if s.data != nil {
		return s.data, nil
	}
	if s.reader != nil {
		if buf, ok := s.reader.read(s.offset, s.length); ok {
			return buf, nil
		}
	}
	f, err := os.Open(s.file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, s.length)
	_, err = f.ReadAt(buf, s.offset)
	return buf, err
}

// root returns the object's mapping node as yaml.Node, parsing its document
// again with yaml.v3 if needed; nil when the source is gone. Only Field and
// FieldJSON need it (kinds without a Go type); positions use the document's
// cached tree (positions.go).
func (o *Object) root() *yaml.Node {
	o.nodeOnce.Do(func() {
		if o.node != nil || o.src == nil {
			return
		}
		data, err := o.src.read()
		if err != nil {
			return
		}
		var doc yaml.Node
		if yaml.Unmarshal(data, &doc) != nil {
			return
		}
		shiftLines(&doc, o.src.line-1, 0)
		n := deref(&doc)
		for _, i := range o.item {
			_, items := lookup(n, "items")
			if items == nil || items.Kind != yaml.SequenceNode || i >= len(items.Content) {
				return
			}
			n = deref(items.Content[i])
		}
		o.node = n
	})
	return o.node
}

// Ref names an object the way kubectl does: Kind/namespace/name.
type Ref struct {
	Kind      string `json:"kind" yaml:"kind"`
	Namespace string `json:"namespace,omitempty" yaml:"namespace,omitempty"`
	Name      string `json:"name" yaml:"name"`
}

func (r Ref) String() string {
	if r.Namespace == "" {
		return r.Kind + "/" + r.Name
	}
	return r.Kind + "/" + r.Namespace + "/" + r.Name
}

// Ref returns the object's reference.
func (o *Object) Ref() Ref {
	return Ref{Kind: o.Kind, Namespace: o.Namespace, Name: o.Name}
}

// ID is what makes two objects the same resource for kubectl apply: the
// group, kind, namespace and name (not the API version).
type ID struct{ Group, Kind, Namespace, Name string }

// ID returns the object's identity. extensions/v1beta1 Ingress is the same
// resource as networking.k8s.io's.
func (o *Object) ID() ID {
	g := o.Group()
	if g == "extensions" && o.Kind == "Ingress" {
		g = "networking.k8s.io"
	}
	return ID{g, o.Kind, o.Namespace, o.Name}
}

// Group returns the API group of the object ("" for the core group).
func (o *Object) Group() string {
	for i := 0; i < len(o.APIVersion); i++ {
		if o.APIVersion[i] == '/' {
			return o.APIVersion[:i]
		}
	}
	return ""
}

// Position is a place in the input.
type Position struct {
	File string `json:"file" yaml:"file"`
	Line int    `json:"line" yaml:"line"`
}

func (p Position) String() string {
	if p.Line == 0 {
		return p.File
	}
	return p.File + ":" + strconv.Itoa(p.Line)
}

// Pos returns the position of the field at path, a sequence of map keys
// (string) and list indexes (int) below the object's root, e.g.
// Pos("spec", "http", 0, "route", 1, "destination", "subset"). It points at
// the key (where an editor puts the cursor for "this field"). When the full
// path does not exist it returns the deepest ancestor that does, so a
// finding about a missing field points at its parent.
func (o *Object) Pos(path ...any) Position {
	line := o.Line
	o.withCursor(func(c cursor) {
		for _, step := range path {
			k, v := c.lookup(step)
			if !k.valid() {
				break
			}
			line = k.line()
			c = v
		}
	})
	return Position{File: o.File, Line: line}
}

// PathString renders a Pos path the way kubectl explain and the docs write
// it, e.g. spec.trafficPolicy.portLevelSettings[0].tls, for messages that
// tell the user which field to change.
func PathString(path []any) string {
	var b strings.Builder
	for _, s := range path {
		switch v := s.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", v)
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			fmt.Fprint(&b, v)
		}
	}
	return b.String()
}

// ValuePos is Pos for a field's value rather than its key: for a block
// scalar ("|") it is the line of the indicator, whose content starts one line
// below. ok is false when the path does not exist.
func (o *Object) ValuePos(path ...any) (pos Position, ok bool) {
	pos = Position{File: o.File, Line: o.Line}
	o.withCursor(func(c cursor) {
		for _, step := range path {
			if _, c = c.lookup(step); !c.valid() {
				return
			}
		}
		pos.Line, ok = c.line(), true
	})
	return pos, ok
}

// lookup returns the key (or list item) node and the value node for step.
func lookup(n *yaml.Node, step any) (key, value *yaml.Node) {
	n = deref(n)
	if n == nil {
		return nil, nil
	}
	switch s := step.(type) {
	case string:
		if n.Kind != yaml.MappingNode {
			return nil, nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == s {
				return n.Content[i], deref(n.Content[i+1])
			}
		}
	case int:
		if n.Kind != yaml.SequenceNode || s < 0 || s >= len(n.Content) {
			return nil, nil
		}
		return n.Content[s], deref(n.Content[s])
	}
	return nil, nil
}

func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		return deref(n.Content[0])
	}
	return n
}

// Problem is input the loader could not use as a resource.
type Problem struct {
	Pos      Position
	Severity string // "error" or "warning"
	Ref      *Ref   // the object concerned, when known
	Message  string
	// notObject: the document has neither apiVersion nor kind, so it may
	// be no manifest at all (a values file, package.json).
	notObject bool
	// Unreadable: the whole file could not be read (permission denied,
	// binary), so nothing in it was analyzed.
	Unreadable bool
}

func (p Problem) Error() string { return fmt.Sprintf("%s: %s", p.Pos, p.Message) }

// NewObject makes an Object for a resource that did not come from a file
// (a live cluster): positions then name the resource instead of a line.
func NewObject(apiVersion, kind, namespace, name string, labels, annotations map[string]string, typed any, origin string) *Object {
	return &Object{APIVersion: apiVersion, Kind: kind, Namespace: namespace, Name: name, Labels: labels, Annotations: annotations, Typed: typed, File: origin}
}

// Field returns the scalar at path (for kinds without a Go type, such as
// IstioOperator), and whether it exists.
func (o *Object) Field(path ...any) (string, bool) {
	n := o.root()
	for _, p := range path {
		if _, n = lookup(n, p); n == nil {
			return "", false
		}
	}
	if n.Kind != yaml.ScalarNode {
		return "", false
	}
	return n.Value, true
}

// FieldJSON returns the subtree at path as JSON, or nil when absent.
func (o *Object) FieldJSON(path ...any) []byte {
	n := o.root()
	for _, p := range path {
		if _, n = lookup(n, p); n == nil {
			return nil
		}
	}
	var buf bytes.Buffer
	appendJSON(&buf, n, 0)
	return buf.Bytes()
}
