package manifest

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// Limits on what YAML aliases may add to a document. yaml.v3 keeps an alias
// as a pointer to its anchor, so parsing a "billion laughs" document is
// cheap; it is turning the tree into JSON (and checking its fields) that
// follows every alias, and nine nested levels of nine aliases become
// hundreds of millions of nodes. kubectl's YAML decoder and yaml.v3's own
// Decode stop such documents the same way, by counting what aliases expand
// to. A document may grow by this many nodes through aliases (yaml.v3
// decodes up to 400,000 nodes before it even starts comparing aliases with
// the rest), and by as many bytes of scalar text as the largest document
// meshdoctor reads at all.
const (
	maxAliasNodes = 400_000
	maxAliasBytes = maxDocBytes
)

// aliasSize is what a subtree becomes once every alias in it is replaced
// by its anchor's value.
type aliasSize struct{ nodes, bytes int64 }

// checkAliases returns an error when the aliases in the document rooted at
// n expand it beyond the limits, or when an alias refers to the value that
// contains it (which would expand forever), and the line of the alias to
// blame. Documents without aliases cost one walk of the tree.
func checkAliases(n *yaml.Node) (line int, err error) {
	literal, hasAlias := literalSize(n, 0)
	if !hasAlias {
		return 0, nil
	}
	c := aliasCounter{
		limit: aliasSize{nodes: literal.nodes + maxAliasNodes, bytes: literal.bytes + maxAliasBytes},
		memo:  map[*yaml.Node]aliasSize{},
		open:  map[*yaml.Node]bool{},
	}
	c.size(n, 0)
	switch {
	case c.cycle != nil:
		return c.cycle.Line, fmt.Errorf("the YAML alias *%s refers to the value that contains it, which would expand without end: document skipped", c.cycle.Value)
	case c.stopped:
		if c.over == nil {
			// Passed where several literal values, each with aliases
			// inside, add up: blame the last alias counted.
			c.over = c.last
		}
		return c.over.Line, fmt.Errorf("YAML aliases (here *%s) would add more than %d nodes or %d MiB to this document of %d nodes (\"billion laughs\"): document skipped, as kubectl rejects it for excessive aliasing", c.over.Value, maxAliasNodes, maxAliasBytes>>20, literal.nodes)
	}
	return 0, nil
}

// literalSize measures the tree as written, aliases counted as one node,
// and tells whether there is any alias at all.
func literalSize(n *yaml.Node, depth int) (s aliasSize, hasAlias bool) {
	if n == nil || depth > maxDepth {
		return s, false
	}
	s = aliasSize{nodes: 1, bytes: int64(len(n.Value))}
	hasAlias = n.Kind == yaml.AliasNode
	for _, c := range n.Content {
		cs, ca := literalSize(c, depth+1)
		s.nodes += cs.nodes
		s.bytes += cs.bytes
		hasAlias = hasAlias || ca
	}
	return s, hasAlias
}

// aliasCounter sizes the expanded tree without expanding it: an anchored
// value is sized once and every alias to it adds that size, so the work is
// linear in the document as written.
type aliasCounter struct {
	limit aliasSize
	memo  map[*yaml.Node]aliasSize
	// open holds the anchored values being sized: an alias to one of them
	// is inside its own anchor.
	open  map[*yaml.Node]bool
	cycle *yaml.Node
	// over is the innermost alias whose expansion passed the limit, last
	// the alias counted most recently.
	over, last *yaml.Node
	stopped    bool
}

func (c *aliasCounter) size(n *yaml.Node, depth int) aliasSize {
	if n == nil || depth > maxDepth || c.cycle != nil || c.stopped {
		return aliasSize{}
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return aliasSize{nodes: 1}
		}
		if c.open[n.Alias] {
			c.cycle = n
			return aliasSize{}
		}
		s := c.size(n.Alias, depth+1)
		if c.stopped && c.over == nil {
			c.over = n
		}
		c.last = n
		return s
	}
	if s, ok := c.memo[n]; ok {
		return s
	}
	if n.Anchor != "" {
		c.open[n] = true
		defer delete(c.open, n)
	}
	s := aliasSize{nodes: 1, bytes: int64(len(n.Value))}
	for _, ch := range n.Content {
		cs := c.size(ch, depth+1)
		s.nodes += cs.nodes
		s.bytes += cs.bytes
		// Sizes multiply with each level of aliases: stop as soon as
		// the limit is passed, before the counts can overflow.
		if s.nodes > c.limit.nodes || s.bytes > c.limit.bytes {
			c.stopped = true
			if c.over == nil && ch.Kind == yaml.AliasNode {
				c.over = ch
			}
			return s
		}
	}
	if n.Anchor != "" {
		c.memo[n] = s
	}
	return s
}
