package manifest

import (
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"gopkg.in/yaml.v3"
)

// The fast parser reads the plain YAML that manifests are made of (block
// mappings and sequences, plain and quoted one-line scalars, one-line flow
// collections, literal block scalars) about ten times faster than yaml.v3,
// because decoding dominates meshdoctor's run time. It refuses anything
// else — anchors, tags, folded or multi-line scalars, tabs, odd indentation,
// syntax errors — and the caller falls back to yaml.v3, so behaviour never
// differs; FuzzFastYAML checks that.
//
// It builds a compact tree (fnode: no pointers but the scalar text, children
// linked by index) rather than yaml.Node: a yaml.Node is four times larger,
// and allocating and scanning them was half of all allocation. Callers that
// need yaml.Node (positions, unusual documents) convert with yamlNode.

// fnode is one node of the fast parser's tree; children are linked through
// first/next, which hold slab indexes (noNode for none).
type fnode struct {
	value       string
	first, next int32
	line, col   int32
	kind        yaml.Kind
	style       yaml.Style
}

const noNode = -1

// parseFast returns the yaml.Node tree yaml.v3 would build for data, or nil
// where the fast parser declines. Scalars carry their style and no tag:
// Node.ShortTag then resolves plain scalars with yaml.v3's own rules.
func parseFast(data []byte) *yaml.Node {
	p := &fastParser{}
	root := p.parse(data)
	if root == noNode {
		return nil
	}
	r := p.yamlNode(root, 0)
	return &yaml.Node{Kind: yaml.DocumentNode, Line: r.Line, Column: 1, Content: []*yaml.Node{r}}
}

// parse reads one document into p's slab and returns its root, or noNode.
// A parser can be reused: each parse starts afresh. The tree's strings
// share data's memory (documents are large and copying each was a tenth of
// all allocation): data must not change while they are in use, and
// anything kept beyond the document's decoding is cloned.
func (p *fastParser) parse(data []byte) int32 {
	p.lines, p.slab, p.failed, p.unterminated = p.lines[:0], p.slab[:0], false, false
	if !printable(data) || !p.split(unsafe.String(unsafe.SliceData(data), len(data))) {
		return noNode
	}
	i := p.next(0)
	if i >= len(p.lines) || p.lines[i].indent != 0 {
		return noNode
	}
	root, j := p.block(i, -1)
	if root == noNode || p.next(j) < len(p.lines) || p.failed {
		return noNode
	}
	return root
}

// yamlNode converts the subtree at i to yaml.Node.
func (p *fastParser) yamlNode(i int32, depth int) *yaml.Node {
	f := p.slab[i]
	n := &yaml.Node{Kind: f.kind, Style: f.style, Value: f.value, Line: int(f.line), Column: int(f.col)}
	if depth > maxDepth {
		return n
	}
	for c := f.first; c != noNode; c = p.slab[c].next {
		n.Content = append(n.Content, p.yamlNode(c, depth+1))
	}
	return n
}

// printable accepts what YAML allows in a stream, minus tabs and the byte
// order mark (left to yaml.v3): https://yaml.org/spec/1.2.2/#51-character-set
func printable(data []byte) bool {
	for i := 0; i < len(data); {
		c := data[i]
		if c < utf8.RuneSelf {
			if (c < 0x20 && c != '\n') || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError || r == 0xFEFF || (r < 0xA0 && r != 0x85) || (r >= 0xD800 && r < 0xE000) || r == 0xFFFE || r == 0xFFFF {
			return false
		}
		i += size
	}
	return true
}

type fastLine struct {
	num    int    // 1-based line number
	indent int    // leading spaces
	text   string // the rest of the line, untrimmed on the right
}

type fastParser struct {
	lines []fastLine
	// slab holds every node of the document: one growing allocation,
	// reused by the next parse.
	slab   []fnode
	failed bool
	// unterminated: the input's last line has no newline, which changes
	// how a block scalar ending there is chomped; left to yaml.v3.
	unterminated bool
	// interned holds the short strings decoding kept (keep).
	interned map[string]string
}

// keep returns s, which points into the document, as a string of its own
// for decoded objects to hold. Short strings repeat across a mesh's
// objects (namespaces, label keys and values, API versions, port names,
// protocols), and one copy serves them all: on a mesh of 100k objects that
// was a third of the decoder's string allocations. The table lives as long
// as the parser (one load's worker) and is bounded.
func (p *fastParser) keep(s string) string {
	switch {
	case s == "":
		return ""
	case len(s) > maxInterned:
		return strings.Clone(s)
	}
	if v, ok := p.interned[s]; ok {
		return v
	}
	c := strings.Clone(s)
	if p.interned == nil {
		p.interned = make(map[string]string, 1024)
	}
	if len(p.interned) < maxInternedCount {
		p.interned[c] = c
	}
	return c
}

const (
	maxInterned      = 40
	maxInternedCount = 1 << 16
)

// split cuts data into lines; it refuses input with tabs in indentation,
// carriage returns, directives and document markers.
func (p *fastParser) split(s string) bool {
	if n := strings.Count(s, "\n") + 1; cap(p.lines) < n {
		p.lines = make([]fastLine, 0, n)
	}
	num := 0
	for len(s) > 0 {
		num++
		var l string
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			l, s = s[:i], s[i+1:]
		} else {
			l, s = s, ""
			p.unterminated = true
		}
		if strings.IndexByte(l, '\r') >= 0 {
			return false
		}
		ind := 0
		for ind < len(l) && l[ind] == ' ' {
			ind++
		}
		rest := l[ind:]
		if strings.HasPrefix(rest, "\t") || (ind == 0 && (strings.HasPrefix(rest, "%") || strings.HasPrefix(rest, "---") || strings.HasPrefix(rest, "..."))) {
			return false
		}
		p.lines = append(p.lines, fastLine{num: num, indent: ind, text: rest})
	}
	return true
}

// blank reports lines without content (empty or comment only).
func (l fastLine) blank() bool {
	t := strings.TrimRight(l.text, " ")
	return t == "" || t[0] == '#'
}

// next skips blank lines from i.
func (p *fastParser) next(i int) int {
	for i < len(p.lines) && p.lines[i].blank() {
		i++
	}
	return i
}

// newNode adds n to the slab and returns its index.
func (p *fastParser) newNode(n fnode) int32 {
	if len(p.slab) == cap(p.slab) && cap(p.slab) == 0 {
		// A block line makes one or two nodes.
		p.slab = make([]fnode, 0, 2*len(p.lines)+8)
	}
	n.first, n.next = noNode, noNode
	p.slab = append(p.slab, n)
	return int32(len(p.slab) - 1)
}

// children appends nodes to a parent's child list in order.
type children struct {
	p            *fastParser
	parent, last int32
}

func (c *children) add(i int32) {
	if c.last == noNode {
		c.p.slab[c.parent].first = i
	} else {
		c.p.slab[c.last].next = i
	}
	c.last = i
}

func (p *fastParser) fail() int32 {
	p.failed = true
	return noNode
}

// block parses the mapping or sequence starting at line i, whose parent has
// indentation parent.
func (p *fastParser) block(i, parent int) (int32, int) {
	l := p.lines[i]
	if l.indent <= parent {
		return p.fail(), i
	}
	if isSeqItem(l.text) {
		return p.seq(i, l.indent)
	}
	return p.mapping(i, l.indent, l.text)
}

func isSeqItem(t string) bool {
	return t == "-" || strings.HasPrefix(t, "- ") || strings.HasPrefix(t, "-\t")
}

// mapping parses a block mapping whose keys sit at column ind; first is the
// text of its first entry (which may follow a "- " on a sequence line).
func (p *fastParser) mapping(i, ind int, first string) (int32, int) {
	m := p.newNode(fnode{kind: yaml.MappingNode, line: int32(p.lines[i].num), col: int32(ind + 1)})
	kids := children{p: p, parent: m, last: noNode}
	text := first
	for {
		key, rest, ok := p.splitKey(text)
		if !ok {
			return p.fail(), i
		}
		p.slab[key].line, p.slab[key].col = int32(p.lines[i].num), int32(ind+1)
		val, j := p.value(rest, i, ind, true)
		if val == noNode {
			return p.fail(), i
		}
		kids.add(key)
		kids.add(val)
		j = p.next(j)
		if j >= len(p.lines) || p.lines[j].indent < ind {
			return m, j
		}
		if p.lines[j].indent > ind || isSeqItem(p.lines[j].text) {
			return p.fail(), j
		}
		i, text = j, p.lines[j].text
	}
}

// seq parses a block sequence whose dashes sit at column ind.
func (p *fastParser) seq(i, ind int) (int32, int) {
	s := p.newNode(fnode{kind: yaml.SequenceNode, line: int32(p.lines[i].num), col: int32(ind + 1)})
	kids := children{p: p, parent: s, last: noNode}
	for {
		t := p.lines[i].text
		spaces := 1
		for spaces < len(t) && t[spaces] == ' ' {
			spaces++
		}
		rest := t[spaces:]
		var item int32
		var j int
		switch {
		case strings.TrimSpace(stripComment(rest)) == "":
			if k := p.next(i + 1); k < len(p.lines) && p.lines[k].indent > ind {
				item, j = p.block(k, ind)
			} else {
				item, j = p.newNode(fnode{kind: yaml.ScalarNode, line: int32(p.lines[i].num), col: int32(ind + 1)}), i+1
			}
		case isSeqItem(rest):
			return p.fail(), i
		case looksLikeKey(rest):
			item, j = p.mapping(i, ind+spaces, rest)
		default:
			item, j = p.value(rest, i, ind, false)
		}
		if item == noNode {
			return p.fail(), i
		}
		kids.add(item)
		j = p.next(j)
		if j >= len(p.lines) || p.lines[j].indent < ind {
			return s, j
		}
		if p.lines[j].indent > ind || !isSeqItem(p.lines[j].text) {
			if p.lines[j].indent == ind {
				return s, j // a mapping key after an indentless sequence
			}
			return p.fail(), j
		}
		i = j
	}
}

// value parses what follows "key:" (inMap) or "- " on line i, whose
// mapping or sequence sits at column ind.
func (p *fastParser) value(rest string, i, ind int, inMap bool) (int32, int) {
	num := int32(p.lines[i].num)
	col := int32(ind + 1)
	r := strings.TrimSpace(rest)
	if r == "" || r[0] == '#' {
		k := p.next(i + 1)
		if k < len(p.lines) {
			nl := p.lines[k]
			if nl.indent > ind {
				return p.block(k, ind)
			}
			if inMap && nl.indent == ind && isSeqItem(nl.text) {
				return p.seq(k, ind) // "key:\n- a" (indentless sequence)
			}
		}
		return p.newNode(fnode{kind: yaml.ScalarNode, line: num, col: col}), i + 1
	}
	switch r[0] {
	case '|':
		return p.literal(r, i, ind)
	case '{', '[':
		f := &flow{p: p, s: stripCommentFlow(r), line: num}
		n := f.node()
		if n == noNode || f.skipSpace() < len(f.s) {
			return p.fail(), i
		}
		return n, p.continuationFree(i, ind)
	case '"', '\'':
		v, after, ok := quoted(r)
		if !ok || !emptyOrComment(after) {
			return p.fail(), i
		}
		style := yaml.DoubleQuotedStyle
		if r[0] == '\'' {
			style = yaml.SingleQuotedStyle
		}
		return p.newNode(fnode{kind: yaml.ScalarNode, style: style, value: v, line: num, col: col}), p.continuationFree(i, ind)
	}
	v := strings.TrimRight(stripComment(r), " ")
	if !plainOK(v, false) {
		return p.fail(), i
	}
	return p.newNode(fnode{kind: yaml.ScalarNode, value: v, line: num, col: col}), p.continuationFree(i, ind)
}

// continuationFree returns the line after i, failing when the next content
// line continues the scalar (more indented): multi-line scalars are left to
// yaml.v3.
func (p *fastParser) continuationFree(i, ind int) int {
	k := p.next(i + 1)
	if k < len(p.lines) && p.lines[k].indent > ind {
		p.failed = true
	}
	return i + 1
}

// literal parses a "|", "|-" or "|+" block scalar.
func (p *fastParser) literal(header string, i, ind int) (int32, int) {
	h := strings.TrimSpace(stripComment(header))
	chomp := byte(0)
	switch h {
	case "|":
	case "|-":
		chomp = '-'
	case "|+":
		chomp = '+'
	default:
		return p.fail(), i
	}
	j := i + 1
	content := -1
	var b strings.Builder
	trailing := 0 // empty lines after the last content line
	started := false
	for ; j < len(p.lines); j++ {
		l := p.lines[j]
		if strings.TrimRight(l.text, " ") == "" {
			if content < 0 && l.indent > 0 {
				return p.fail(), i // leading whitespace-only lines: leave to yaml.v3
			}
			trailing++
			continue
		}
		if content < 0 {
			if l.indent <= ind {
				break
			}
			content = l.indent
		}
		if l.indent < content {
			if l.indent > ind {
				return p.fail(), i
			}
			break
		}
		if strings.TrimRight(l.text, " ") == "" {
			trailing++
			continue
		}
		if started {
			b.WriteByte('\n')
		}
		for ; trailing > 0; trailing-- {
			b.WriteByte('\n')
		}
		started = true
		b.WriteString(strings.Repeat(" ", l.indent-content))
		b.WriteString(l.text)
	}
	if j == len(p.lines) && p.unterminated {
		return p.fail(), i
	}
	v := b.String()
	if v != "" {
		switch chomp {
		case 0:
			v += "\n"
		case '+':
			v += "\n" + strings.Repeat("\n", trailing)
		}
	} else if chomp == '+' {
		v = strings.Repeat("\n", trailing)
	}
	// Lines that are empty but indented deeper than content keep their
	// extra spaces in YAML; any whitespace-only line inside is left to
	// yaml.v3 to stay exact.
	for k := i + 1; k < j; k++ {
		if l := p.lines[k]; strings.TrimRight(l.text, " ") == "" && l.indent > 0 {
			return p.fail(), i
		}
	}
	return p.newNode(fnode{kind: yaml.ScalarNode, style: yaml.LiteralStyle, value: v, line: int32(p.lines[i].num), col: int32(ind + 1)}), j
}

// splitKey splits "key: rest" (or "key:" at the end); ok is false for
// anything that is not a simple plain or quoted key.
func (p *fastParser) splitKey(t string) (key int32, rest string, ok bool) {
	if t == "" {
		return noNode, "", false
	}
	if t[0] == '"' || t[0] == '\'' {
		v, after, ok := quoted(t)
		if !ok || !strings.HasPrefix(after, ":") || (len(after) > 1 && after[1] != ' ') || len(t)-len(after) > maxImplicitKey {
			return noNode, "", false
		}
		style := yaml.DoubleQuotedStyle
		if t[0] == '\'' {
			style = yaml.SingleQuotedStyle
		}
		return p.newNode(fnode{kind: yaml.ScalarNode, style: style, value: v}), after[1:], true
	}
	i := strings.Index(t, ": ")
	if i < 0 {
		if strings.HasSuffix(strings.TrimRight(t, " "), ":") {
			i = len(strings.TrimRight(t, " ")) - 1
		} else {
			return noNode, "", false
		}
	}
	k := strings.TrimRight(t[:i], " ")
	if i > maxImplicitKey || !plainOK(k, true) || strings.Contains(k, " #") || k == "<<" {
		return noNode, "", false
	}
	return p.newNode(fnode{kind: yaml.ScalarNode, value: k}), t[i+1:], true
}

// maxImplicitKey stays under YAML's 1024-character limit on implicit keys
// (yaml.v3 counts differently for multi-byte text; longer keys go to it).
const maxImplicitKey = 1000

// looksLikeKey tells a "- key: value" item from a "- scalar" item.
func looksLikeKey(t string) bool {
	if t == "" || t[0] == '{' || t[0] == '[' || t[0] == '|' || t[0] == '>' {
		return false
	}
	if t[0] == '"' || t[0] == '\'' {
		_, after, ok := quoted(t)
		return ok && strings.HasPrefix(after, ":")
	}
	c := stripComment(t)
	return strings.Contains(c, ": ") || strings.HasSuffix(strings.TrimRight(c, " "), ":")
}

// plainOK accepts plain scalars that start like plain scalars and contain
// nothing YAML would read as structure.
func plainOK(v string, key bool) bool {
	if v == "" {
		return !key
	}
	switch v[0] {
	case ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`', '?', ':':
		return false
	case '-':
		if len(v) == 1 || v[1] == ' ' {
			return false
		}
	}
	if v == "<<" || strings.Contains(v, ": ") || strings.Contains(v, " #") || strings.HasSuffix(v, ":") || strings.ContainsAny(v, "\t") {
		return false
	}
	return true
}

// stripComment drops a trailing " # comment" from plain text.
func stripComment(t string) string {
	if strings.HasPrefix(t, "#") {
		return ""
	}
	if i := strings.Index(t, " #"); i >= 0 {
		return t[:i]
	}
	return t
}

// stripCommentFlow drops a comment after a one-line flow collection,
// ignoring "#" inside quotes.
func stripCommentFlow(t string) string {
	var q byte
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case q != 0:
			if c == q {
				q = 0
			} else if c == '\\' && q == '"' {
				i++
			}
		case c == '"' || c == '\'':
			q = c
		case c == '#' && i > 0 && t[i-1] == ' ':
			return strings.TrimRight(t[:i], " ")
		}
	}
	return strings.TrimRight(t, " ")
}

func emptyOrComment(s string) bool {
	s = strings.TrimLeft(s, " ")
	return s == "" || s[0] == '#'
}

// quoted reads a one-line single- or double-quoted scalar at the start of t.
func quoted(t string) (val, after string, ok bool) {
	q := t[0]
	var b strings.Builder
	for i := 1; i < len(t); i++ {
		c := t[i]
		switch {
		case c == q && q == '\'' && i+1 < len(t) && t[i+1] == '\'':
			b.WriteByte('\'')
			i++
		case c == q:
			return b.String(), t[i+1:], true
		case c == '\\' && q == '"':
			if i+1 >= len(t) {
				return "", "", false
			}
			i++
			switch t[i] {
			case '\\', '"', '/':
				b.WriteByte(t[i])
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'u':
				if i+4 >= len(t) {
					return "", "", false
				}
				r, err := strconv.ParseUint(t[i+1:i+5], 16, 32)
				if err != nil || (r >= 0xD800 && r < 0xE000) {
					return "", "", false
				}
				b.WriteRune(rune(r))
				i += 4
			default:
				return "", "", false
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", "", false
}

// flow parses a one-line flow collection.
type flow struct {
	p     *fastParser
	s     string
	i     int
	line  int32
	depth int
}

func (f *flow) skipSpace() int {
	for f.i < len(f.s) && f.s[f.i] == ' ' {
		f.i++
	}
	return f.i
}

func (f *flow) node() int32 {
	if f.depth++; f.depth > maxDepth {
		return noNode
	}
	defer func() { f.depth-- }()
	f.skipSpace()
	if f.i >= len(f.s) {
		return noNode
	}
	switch f.s[f.i] {
	case '[':
		f.i++
		n := f.p.newNode(fnode{kind: yaml.SequenceNode, style: yaml.FlowStyle, line: f.line})
		kids := children{p: f.p, parent: n, last: noNode}
		if f.skipSpace() < len(f.s) && f.s[f.i] == ']' {
			f.i++
			return n
		}
		for {
			item := f.node()
			if item == noNode || f.p.slab[item].kind == yaml.ScalarNode && f.p.slab[item].style == 0 && f.peekColon() {
				return noNode
			}
			kids.add(item)
			if !f.sep(']') {
				return noNode
			}
			if f.s[f.i-1] == ']' {
				return n
			}
		}
	case '{':
		f.i++
		n := f.p.newNode(fnode{kind: yaml.MappingNode, style: yaml.FlowStyle, line: f.line})
		kids := children{p: f.p, parent: n, last: noNode}
		if f.skipSpace() < len(f.s) && f.s[f.i] == '}' {
			f.i++
			return n
		}
		for {
			k := f.scalar(true)
			if k == noNode || f.p.slab[k].value == "<<" && f.p.slab[k].style == 0 {
				return noNode
			}
			f.skipSpace()
			if f.i >= len(f.s) || f.s[f.i] != ':' || (f.i+1 < len(f.s) && f.s[f.i+1] != ' ') {
				return noNode
			}
			f.i++
			v := f.node()
			if v == noNode {
				return noNode
			}
			kids.add(k)
			kids.add(v)
			if !f.sep('}') {
				return noNode
			}
			if f.s[f.i-1] == '}' {
				return n
			}
		}
	}
	return f.scalar(false)
}

func (f *flow) peekColon() bool {
	j := f.i
	for j < len(f.s) && f.s[j] == ' ' {
		j++
	}
	return j < len(f.s) && f.s[j] == ':'
}

// sep consumes ", " (not before the closing bracket) or the closing bracket.
func (f *flow) sep(end byte) bool {
	f.skipSpace()
	if f.i >= len(f.s) {
		return false
	}
	switch f.s[f.i] {
	case end:
		f.i++
		return true
	case ',':
		f.i++
		f.skipSpace()
		return f.i < len(f.s) && f.s[f.i] != end && f.s[f.i] != ','
	}
	return false
}

func (f *flow) scalar(key bool) int32 {
	f.skipSpace()
	if f.i >= len(f.s) {
		return noNode
	}
	if c := f.s[f.i]; c == '"' || c == '\'' {
		v, after, ok := quoted(f.s[f.i:])
		if !ok {
			return noNode
		}
		f.i = len(f.s) - len(after)
		style := yaml.DoubleQuotedStyle
		if c == '\'' {
			style = yaml.SingleQuotedStyle
		}
		return f.p.newNode(fnode{kind: yaml.ScalarNode, style: style, value: v, line: f.line})
	}
	start := f.i
	for f.i < len(f.s) {
		c := f.s[f.i]
		if c == ',' || c == ']' || c == '}' || c == '[' || c == '{' || (c == ':' && (f.i+1 == len(f.s) || f.s[f.i+1] == ' ')) {
			break
		}
		f.i++
	}
	v := strings.TrimRight(f.s[start:f.i], " ")
	if v == "" || !plainOK(v, key) || strings.ContainsAny(v, "#") {
		return noNode
	}
	if f.i < len(f.s) && (f.s[f.i] == '[' || f.s[f.i] == '{') {
		return noNode
	}
	return f.p.newNode(fnode{kind: yaml.ScalarNode, value: v, line: f.line})
}
