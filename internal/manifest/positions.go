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
// was a fifth of such a run. So a document's bytes are read again once and
// kept, and each look-up parses them with a pooled fast parser (the same
// tree as yaml.v3's, checked by FuzzFastYAML): a parse costs less than
// copying out and keeping the tree, which for most documents serves one or
// two look-ups. A document asked more often keeps its tree, so many
// findings in one large document stay linear. Documents the fast parser
// declines keep yaml.v3's tree, as before.

// docTree is one document's tree for position look-ups.
type docTree struct {
	// slab is the fast parser's tree (its strings point into the
	// document's bytes), root its top node; shift turns its
	// document-relative lines into file lines.
	slab  []fnode
	root  int32
	shift int
	// node is yaml.v3's tree, lines already shifted, where the fast parser
	// declined.
	node *yaml.Node
}

var positionParsers = sync.Pool{New: func() any { return new(fastParser) }}

// keepTreeAfter is how many look-ups in a document parse it afresh before
// its tree is kept.
const keepTreeAfter = 2

func noRelease() {}

// tree returns the document's tree and a function to call when done with
// it (the tree may be a pooled parser's); nil when the document cannot be
// read or parsed again.
func (s *source) tree() (*docTree, func()) {
	s.once.Do(func() {
		if data, err := s.read(); err == nil {
			s.text = data
		}
	})
	if s.text == nil {
		return nil, noRelease
	}
	if s.lookups.Add(1) > keepTreeAfter {
		s.keepOnce.Do(func() {
			p := positionParsers.Get().(*fastParser)
			if r := p.parse(s.text); r != noNode {
				s.kept = &docTree{slab: slices.Clone(p.slab), root: r, shift: s.line - 1}
			}
			positionParsers.Put(p)
		})
		if s.kept != nil {
			return s.kept, noRelease
		}
	} else {
		p := positionParsers.Get().(*fastParser)
		if r := p.parse(s.text); r != noNode {
			return &docTree{slab: p.slab, root: r, shift: s.line - 1}, func() { positionParsers.Put(p) }
		}
		positionParsers.Put(p)
	}
	s.fallbackOnce.Do(func() {
		var doc yaml.Node
		if yaml.Unmarshal(s.text, &doc) != nil {
			return
		}
		shiftLines(&doc, s.line-1, 0)
		s.fallback = &docTree{node: deref(&doc)}
	})
	return s.fallback, noRelease
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

// withCursor calls f with the object's mapping in its document's tree (a
// List item's own mapping); false when the document cannot be read again.
// The cursor is valid only during f.
func (o *Object) withCursor(f func(cursor)) bool {
	if o.src == nil {
		return false
	}
	t, release := o.src.tree()
	defer release()
	if t == nil {
		return false
	}
	c := cursor{t: t, i: t.root, node: t.node}
	for _, i := range o.item {
		_, items := c.lookup("items")
		if _, c = items.lookup(i); !c.valid() {
			return false
		}
	}
	f(c)
	return true
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
