package manifest

import (
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"gopkg.in/yaml.v3"
)

// Positions are looked up only for objects with findings, but a neglected
// mesh has findings on a third of its objects, and parsing each document
// again with yaml.v3 (a tree of yaml.Node, four times the fast parser's)
// was a fifth of such a run. So a document is parsed again at most once,
// by the fast parser where it can (the same tree as yaml.v3's, checked by
// FuzzFastYAML), and its compact tree is kept on the document's source,
// shared by the objects of a List. Documents the fast parser declines keep
// yaml.v3's tree, as before.

// docTree is one document's tree for position look-ups.
type docTree struct {
	// slab is the fast parser's tree (its strings point into the
	// document's bytes, which it keeps alive), root its top node; shift
	// turns its document-relative lines into file lines.
	slab  []fnode
	root  int32
	shift int
	// node is yaml.v3's tree, lines already shifted, where the fast parser
	// declined; nil with a nil slab when the source is gone or unparsable.
	node *yaml.Node
}

var positionParsers = sync.Pool{New: func() any { return new(fastParser) }}

// tree parses the document once, whichever of its objects asks first.
func (s *source) tree() *docTree {
	s.once.Do(func() {
		data, err := s.read()
		if err != nil {
			return
		}
		p := positionParsers.Get().(*fastParser)
		if r := p.parse(data); r != noNode {
			// Cloned: the pooled parser reuses its slab.
			s.parsed = &docTree{slab: slices.Clone(p.slab), root: r, shift: s.line - 1}
		}
		positionParsers.Put(p)
		if s.parsed != nil {
			return
		}
		var doc yaml.Node
		if yaml.Unmarshal(data, &doc) != nil {
			return
		}
		shiftLines(&doc, s.line-1, 0)
		s.parsed = &docTree{node: deref(&doc)}
	})
	return s.parsed
}

// cursor is a node in either kind of tree.
type cursor struct {
	t    *docTree
	i    int32      // fast tree node, when t.slab is set
	node *yaml.Node // yaml.v3 node otherwise
}

func (c cursor) valid() bool {
	if c.t.slab != nil {
		return c.i != noNode
	}
	return c.node != nil
}

func (c cursor) line() int {
	if c.t.slab != nil {
		return int(c.t.slab[c.i].line) + c.t.shift
	}
	return c.node.Line
}

// lookup is the package's lookup on either tree: the key (or list item)
// and the value for step; invalid cursors when absent.
func (c cursor) lookup(step any) (key, value cursor) {
	key, value = cursor{t: c.t, i: noNode}, cursor{t: c.t, i: noNode}
	if !c.valid() {
		return key, value
	}
	if c.t.slab == nil {
		k, v := lookup(c.node, step)
		key.node, value.node = k, v
		return key, value
	}
	slab := c.t.slab
	n := &slab[c.i]
	switch s := step.(type) {
	case string:
		if n.kind != yaml.MappingNode {
			return key, value
		}
		for k := n.first; k != noNode; k = slab[slab[k].next].next {
			if slab[k].value == s {
				key.i, value.i = k, slab[k].next
				return key, value
			}
		}
	case int:
		if n.kind != yaml.SequenceNode || s < 0 {
			return key, value
		}
		for k := n.first; k != noNode; k = slab[k].next {
			if s == 0 {
				key.i, value.i = k, k
				return key, value
			}
			s--
		}
	}
	return key, value
}

// objectCursor returns the object's mapping in its document's tree (a List
// item's own mapping), or false when the document cannot be read again.
func (o *Object) objectCursor() (cursor, bool) {
	if o.src == nil {
		return cursor{}, false
	}
	t := o.src.tree()
	if t == nil {
		return cursor{}, false
	}
	c := cursor{t: t, i: t.root, node: t.node}
	for _, i := range o.item {
		_, items := c.lookup("items")
		if _, c = items.lookup(i); !c.valid() {
			return cursor{}, false
		}
	}
	return c, true
}

// fileReader reads a file's documents again through one handle, opened on
// the first position look-up in the file: an open, stat, read and close for
// every document with a finding was a tenth of the CPU time (half of it in
// the kernel) of a run where a third of the documents have findings.
type fileReader struct {
	name string
	once sync.Once
	f    *os.File // nil when it could not be opened, or too many are
}

// maxKeptOpen bounds the handles kept open at once, far below the usual
// limit of 1024 descriptors; files beyond it are opened for each read, as
// before. A handle is closed when its file's objects are garbage.
const maxKeptOpen = 128

var keptOpen atomic.Int32

// read returns length bytes at offset, or false to let the caller open the
// file itself.
func (r *fileReader) read(offset int64, length int) ([]byte, bool) {
	r.once.Do(func() {
		if keptOpen.Add(1) > maxKeptOpen {
			keptOpen.Add(-1)
			return
		}
		f, err := os.Open(r.name)
		if err != nil {
			keptOpen.Add(-1)
			return
		}
		r.f = f
		runtime.AddCleanup(r, func(f *os.File) {
			f.Close()
			keptOpen.Add(-1)
		}, f)
	})
	if r.f == nil {
		return nil, false
	}
	buf := make([]byte, length)
	if _, err := r.f.ReadAt(buf, offset); err != nil {
		return nil, false
	}
	return buf, true
}
