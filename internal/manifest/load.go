package manifest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	jsoniter "github.com/json-iterator/go"
	"google.golang.org/protobuf/encoding/protojson"
	"gopkg.in/yaml.v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Options tune a Load.
type Options struct {
	// DefaultNamespace is given to namespaced objects without one, as
	// kubectl apply would (default "default").
	DefaultNamespace string
	// Stdin is read for the path "-".
	Stdin io.Reader
	// BeforeRead, when set, is told the total size of the files about to
	// be read (standard input not counted), e.g. to size memory settings.
	BeforeRead func(bytes int64)
}

// Result is everything a Load produced.
type Result struct {
	Objects  []*Object
	Problems []Problem
	// Unknown counts objects of kinds the loader has no type for, by
	// "Kind.group"; they are kept in Objects with a nil Typed.
	Unknown map[string]int
	Files   int
	// NotManifests lists files in the walked directories that are known
	// not to hold Kubernetes objects (kustomization.yaml, Chart.yaml,
	// values.yaml) and were skipped.
	NotManifests []string
}

// Limits on hostile input: a document larger than this is reported and
// skipped, so memory stays bounded whatever the input.
const (
	maxDocBytes  = 16 << 20
	maxLineBytes = 4 << 20
)

// Load reads every path (files, directories recursively, "-" for stdin).
// It never stops at a bad document: problems are collected and the rest is
// still loaded.
func Load(paths []string, opts Options) (*Result, error) {
	if opts.DefaultNamespace == "" {
		opts.DefaultNamespace = "default"
	}
	res := &Result{Unknown: map[string]int{}}
	var files []string
	// Files found by walking a directory, as opposed to named: only those
	// may turn out not to be manifests at all.
	walked := map[string]bool{}
	for _, p := range paths {
		if p == "-" {
			files = append(files, "-")
			continue
		}
		found, skipped, err := expand(p)
		if err != nil {
			return nil, err
		}
		if len(found) != 1 || found[0] != p { // p is a directory
			for _, f := range found {
				walked[f] = true
			}
		}
		files = append(files, found...)
		res.NotManifests = append(res.NotManifests, skipped...)
	}
	if len(files) == 0 {
		return nil, errors.New("no .yaml, .yml or .json files in " + strings.Join(paths, ", "))
	}
	if opts.BeforeRead != nil {
		var total int64
		for _, f := range files {
			if st, err := os.Stat(f); err == nil && st.Mode().IsRegular() {
				total += st.Size()
			}
		}
		opts.BeforeRead(total)
	}
	d := newDecoder(opts)
	for _, f := range files {
		var err error
		if f == "-" {
			if opts.Stdin == nil {
				return nil, errors.New("no standard input")
			}
			err = d.stream("<stdin>", opts.Stdin, nil, res)
		} else {
			err = d.file(f, res)
		}
		if err != nil {
			name := f
			if f == "-" {
				name = "<stdin>" // as the stream's documents are named
			}
			res.Problems = append(res.Problems, Problem{Pos: Position{File: name}, Severity: "error", Message: err.Error(), Unreadable: true})
		}
		res.Files++
	}
	d.finish(res, walked)
	return res, nil
}

// notManifest names files found in manifest directories that configure
// tools instead of holding objects; reading them would only produce
// "document has no kind" errors.
var notManifest = map[string]bool{
	"kustomization.yaml": true, "kustomization.yml": true, "Chart.yaml": true, "values.yaml": true, "values.yml": true,
}

// expand lists the manifest files below p in a stable order, and the
// tool-configuration files it skipped.
func expand(p string) (files, skipped []string, err error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, nil, err
	}
	if !st.IsDir() {
		return []string{p}, nil, nil
	}
	if isChart(p) {
		return nil, nil, fmt.Errorf("%s is a Helm chart, whose templates are not manifests yet: render it first, e.g. helm template %s | meshdoctor analyze -", p, p)
	}
	var out, patches []string
	// WalkDir does not follow a symbolic link, not even the root's: a
	// trailing separator makes the root the directory it points to.
	root := p
	if lst, err := os.Lstat(p); err == nil && lst.Mode()&fs.ModeSymlink != 0 {
		root = p + string(filepath.Separator)
	}
	err = filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			if path != root && strings.HasPrefix(e.Name(), ".") {
				return filepath.SkipDir
			}
			// A Helm chart holds templates, not manifests: they are
			// read after `helm template` renders them.
			if isChart(path) {
				skipped = append(skipped, path+string(filepath.Separator))
				return filepath.SkipDir
			}
			return nil
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".yaml", ".yml", ".json":
			if notManifest[e.Name()] {
				skipped = append(skipped, path)
				if strings.HasPrefix(e.Name(), "kustomization.") {
					patches = append(patches, kustomizePatches(path)...)
				}
			} else {
				out = append(out, path)
			}
		}
		return nil
	})
	// A Kustomize patch is a fragment of an object, not an object: it is
	// read after `kustomize build` merges it.
	if len(patches) > 0 {
		isPatch := map[string]bool{}
		for _, pp := range patches {
			isPatch[pp] = true
		}
		kept := out[:0]
		for _, f := range out {
			if isPatch[filepath.Clean(f)] {
				skipped = append(skipped, f)
			} else {
				kept = append(kept, f)
			}
		}
		out = kept
	}
	sort.Strings(out)
	return out, skipped, err
}

// kustomizePatches lists the patch files a kustomization.yaml names
// (patches, patchesStrategicMerge, patchesJson6902), as paths next to it.
// An unreadable kustomization names none: its files are then analyzed.
func kustomizePatches(kustomization string) []string {
	data, err := os.ReadFile(kustomization)
	if err != nil {
		return nil
	}
	var k struct {
		Patches               []struct{ Path string } `yaml:"patches"`
		PatchesStrategicMerge []string                `yaml:"patchesStrategicMerge"`
		PatchesJSON6902       []struct{ Path string } `yaml:"patchesJson6902"`
	}
	if yaml.Unmarshal(data, &k) != nil {
		return nil
	}
	dir := filepath.Dir(kustomization)
	var out []string
	add := func(p string) {
		// Inline patches (a YAML document instead of a file name) and
		// remote ones are not files here.
		if p != "" && !strings.ContainsAny(p, "\n:") {
			out = append(out, filepath.Clean(filepath.Join(dir, p)))
		}
	}
	for _, p := range k.Patches {
		add(p.Path)
	}
	for _, p := range k.PatchesStrategicMerge {
		add(p)
	}
	for _, p := range k.PatchesJSON6902 {
		add(p.Path)
	}
	return out
}

func isChart(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, "Chart.yaml"))
	return err == nil && !st.IsDir()
}

func (d *decoder) file(name string, res *Result) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	// A small file is read whole and its documents are pieces of it, kept
	// for positions: no copy of each document, and no second read for the
	// findings' lines (on a mesh of 100k objects with a finding on a
	// third, copying and re-reading were a tenth of the run). The text
	// kept per load is bounded; beyond it, and for large files, documents
	// are streamed and their text is read again when a position is asked.
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && st.Size() <= wholeFileLimit && d.keptText+st.Size() <= maxKeptText {
		data := make([]byte, st.Size())
		n, err := io.ReadFull(f, data)
		if err != nil && err != io.ErrUnexpectedEOF {
			return err
		}
		data = data[:n] // a file that shrank since Stat: what is there
		whole := data
		if longestLine(data) > maxLineBytes {
			whole = nil // the stream cuts such lines: its documents are not the file's bytes
		} else {
			d.keptText += int64(len(data))
		}
		if whole == nil {
			return d.stream(name, bytes.NewReader(data), nil, res)
		}
		return d.stream(name, nil, whole, res)
	}
	return d.stream(name, f, nil, res)
}

// wholeFileLimit is the largest file read whole and kept (decoder.file).
const wholeFileLimit = 16 << 20

// maxKeptText bounds the input text one load keeps (see decoder.file); a
// variable so that tests can take the streaming path with small files.
var maxKeptText int64 = 64 << 20

func longestLine(data []byte) int {
	longest := 0
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			i = len(data) - 1
		}
		longest = max(longest, i+1)
		data = data[i+1:]
	}
	return longest
}

// chunk is one YAML document of a stream, not yet parsed.
type chunk struct {
	seq  int
	file string
	line int // line of the document's first line
	data []byte
	src  *source
}

type decoded struct {
	file     string
	objects  []*Object
	problems []Problem
	unknown  []string
}

// decoder parses documents on all cores: parsing and typed decoding are the
// bulk of the work and each document is independent.
type decoder struct {
	opts Options
	work chan chunk
	wg   sync.WaitGroup
	mu   sync.Mutex
	// results by document sequence number, in blocks of resultBlock;
	// grown by submit, written by the workers, both under mu. (A map of
	// 100k entries was a twentieth of the load phase in growing and
	// rehashing, and one growing slice still a fortieth in copying.)
	results [][]decoded
	seq     int
	// keptText is the size of the files kept whole (decoder.file).
	keptText int64
}

func newDecoder(opts Options) *decoder {
	d := &decoder{opts: opts, work: make(chan chunk, 64)}
	n := runtime.GOMAXPROCS(0)
	for i := 0; i < n; i++ {
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			// Each worker reuses its parser's slab and its JSON buffer.
			var p fastParser
			var buf bytes.Buffer
			for c := range d.work {
				out := decodeChunk(c, d.opts, &p, &buf)
				out.file = c.file
				d.mu.Lock()
				*d.result(c.seq) = out
				d.mu.Unlock()
			}
		}()
	}
	return d
}

// finish collects the documents' results in input order. A file met while
// walking a directory whose documents all lack apiVersion and kind (Helm
// values under another name, package.json, an OpenAPI spec) is no manifest:
// it is listed as skipped, not reported document by document.
func (d *decoder) finish(res *Result, walked map[string]bool) {
	close(d.work)
	d.wg.Wait()
	// A walked file stays a candidate while every document that produced
	// anything is a non-object; comment-only documents prove nothing.
	dataOnly := map[string]bool{}
	for i := 0; i < d.seq; i++ {
		r := d.result(i)
		if !walked[r.file] || (len(r.objects) == 0 && len(r.problems) == 0) {
			continue
		}
		if v, seen := dataOnly[r.file]; seen && !v {
			continue
		}
		dataOnly[r.file] = len(r.objects) == 0 && allNotObject(r.problems)
	}
	nObjects := 0
	for i := 0; i < d.seq; i++ {
		nObjects += len(d.result(i).objects)
	}
	res.Objects = slices.Grow(res.Objects, nObjects)
	for i := 0; i < d.seq; i++ {
		r := d.result(i)
		if dataOnly[r.file] {
			continue
		}
		res.Objects = append(res.Objects, r.objects...)
		res.Problems = append(res.Problems, r.problems...)
		for _, u := range r.unknown {
			res.Unknown[u]++
		}
	}
	var skipped []string
	for f, skip := range dataOnly {
		if skip {
			skipped = append(skipped, f)
		}
	}
	sort.Strings(skipped)
	res.NotManifests = append(res.NotManifests, skipped...)
}

func allNotObject(ps []Problem) bool {
	for _, p := range ps {
		if !p.notObject {
			return false
		}
	}
	return true
}

const resultBlock = 1024

// result is the slot of document seq.
func (d *decoder) result(seq int) *decoded {
	return &d.results[seq/resultBlock][seq%resultBlock]
}

func (d *decoder) submit(file string, line int, data []byte, src *source) {
	if d.seq%resultBlock == 0 {
		d.mu.Lock()
		d.results = append(d.results, make([]decoded, resultBlock))
		d.mu.Unlock()
	}
	d.work <- chunk{seq: d.seq, file: file, line: line, data: data, src: src}
	d.seq++
}

// stream splits r into documents at "---" lines without holding more than
// one document in memory, so huge inputs stay bounded.
//
// whole, when set, is all of r: documents are then pieces of it, not
// copies, and keep it for positions.
func (d *decoder) stream(name string, r io.Reader, whole []byte, res *Result) error {
	var br *bufio.Reader
	var head []byte
	if whole != nil {
		head = whole[:min(len(whole), 8000)]
	} else {
		br = bufio.NewReaderSize(r, 64<<10)
		head, _ = br.Peek(8000)
	}
	// kubectl reads UTF-16 with a byte order mark (Windows editors and
	// PowerShell's > write it); its NUL bytes are not binary.
	utf16 := utf16Order(head)
	if utf16 != nil {
		if whole != nil {
			br = bufio.NewReaderSize(bytes.NewReader(whole), 64<<10)
			whole = nil
		}
		br = bufio.NewReaderSize(&utf16Reader{r: br, order: utf16}, 64<<10)
	} else if bytes.IndexByte(head, 0) >= 0 {
		return errBinary
	}
	var doc bytes.Buffer
	start, line := 1, 0
	var offset, startOffset int64
	// A document can be read again from its file region for positions;
	// stdin, decoded UTF-16 (whose offsets are not the file's), and a
	// document starting on its "---" line keep their bytes.
	rereadable := name != "<stdin>" && utf16 == nil
	inline := false
	tooBig := false
	reader := &fileReader{name: name}
	// docLen is the current document's length; with whole, doc holds only
	// a document that starts on its "---" line (its text is not the
	// file's).
	docLen := 0
	flush := func(end int64) {
		text := doc.Bytes()
		if whole != nil && !inline {
			text = whole[startOffset:end:end]
		}
		if tooBig {
			d.mu.Lock()
			res.Problems = append(res.Problems, Problem{Pos: Position{File: name, Line: start}, Severity: "error",
				Message: fmt.Sprintf("document larger than %d MiB, skipped", maxDocBytes>>20)})
			d.mu.Unlock()
		} else if len(bytes.TrimSpace(text)) > 0 {
			var src *source
			switch {
			case whole != nil && !inline:
				src = &source{data: text, line: start}
			case !rereadable || inline:
				text = bytes.Clone(text)
				src = &source{data: text, line: start}
			default:
				text = bytes.Clone(text)
				src = &source{file: name, offset: startOffset, length: len(text), line: start, reader: reader}
			}
			d.submit(name, start, text, src)
		}
		doc.Reset()
		docLen = 0
		tooBig, inline = false, false
	}
	var scratch []byte
	rest := whole
	for {
		var l []byte
		var err error
		if whole != nil {
			// Lines of the text in memory, as readLine would return them
			// (decoder.file keeps no text with a line it would cut).
			if i := bytes.IndexByte(rest, '\n'); i >= 0 {
				l, rest = rest[:i+1], rest[i+1:]
			} else {
				l, rest, err = rest, nil, io.EOF
			}
		} else {
			l, err = readLine(br, &scratch)
		}
		lineStart := offset
		offset += int64(len(l))
		if len(l) > 0 || err == nil {
			line++
			if isSeparator(l) {
				flush(lineStart)
				start, startOffset = line+1, offset
				// "--- {…}" or "--- key: v" carries content on the marker line.
				if rest := bytes.TrimSpace(l[3:]); len(rest) > 0 && rest[0] != '#' {
					start, startOffset, inline = line, lineStart, true
					doc.Write(rest)
					doc.WriteByte('\n')
					docLen = doc.Len()
				}
			} else if !tooBig {
				if docLen+len(l) > maxDocBytes {
					tooBig = true
					doc.Reset()
				} else {
					if whole == nil || inline {
						doc.Write(l)
					}
					docLen += len(l)
				}
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	flush(offset)
	return nil
}

// readLine returns one line including its newline, valid until the next
// read: the reader's own buffer, or scratch for a line longer than it. A
// line longer than maxLineBytes is cut (the document will then fail to
// parse and be reported).
func readLine(br *bufio.Reader, scratch *[]byte) ([]byte, error) {
	l, err := br.ReadSlice('\n')
	if err != bufio.ErrBufferFull {
		return l, err
	}
	out := append((*scratch)[:0], l...)
	for err == bufio.ErrBufferFull {
		l, err = br.ReadSlice('\n')
		if len(out)+len(l) <= maxLineBytes {
			out = append(out, l...)
		}
	}
	*scratch = out
	return out, err
}

func isSeparator(l []byte) bool {
	if !bytes.HasPrefix(l, []byte("---")) {
		return false
	}
	return len(l) == 3 || l[3] == ' ' || l[3] == '\t' || l[3] == '\n' || l[3] == '\r'
}

var yamlErrLine = regexp.MustCompile(`line (\d+)`)

// decodeChunk decodes one document: the ordinary case straight from the
// fast parser's tree, everything else through a yaml.Node tree.
func decodeChunk(c chunk, opts Options, p *fastParser, buf *bytes.Buffer) (out decoded) {
	r := p.parse(c.data)
	if r != noNode && decodeFast(p, r, c, opts, buf, &out) {
		return out
	}
	return decodeTree(c, opts, p, r)
}

// decodeTree decodes a document through yaml.Node: the fast parser's tree r
// converted, or, where it declined (noNode), yaml.v3's.
func decodeTree(c chunk, opts Options, p *fastParser, r int32) (out decoded) {
	defer templateHint(c.data, &out)
	var root yaml.Node
	if r != noNode {
		root = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{p.yamlNode(r, 0)}}
	} else if err := yaml.Unmarshal(c.data, &root); err != nil {
		line := c.line
		msg := err.Error()
		if m := yamlErrLine.FindStringSubmatch(msg); m != nil {
			n, _ := strconv.Atoi(m[1])
			// For parser errors yaml.v3 gives the line where the
			// enclosing block starts, which can be a line or more
			// above the mistake.
			line = c.line + n - 1
			msg = strings.Replace(msg, m[0], "line "+strconv.Itoa(line), 1)
		}
		out.problems = append(out.problems, Problem{Pos: Position{File: c.file, Line: line}, Severity: "error", Message: "cannot parse: " + msg})
		return out
	}
	shiftLines(&root, c.line-1, 0)
	// The fast parser declines anchors, so only yaml.v3's trees can hold
	// aliases; everything below follows them.
	if r == noNode {
		if line, err := checkAliases(&root); err != nil {
			out.problems = append(out.problems, Problem{Pos: Position{File: c.file, Line: line}, Severity: "error", Message: err.Error()})
			return out
		}
	}
	n := deref(&root)
	// A document of comments only (license headers, "# Source:" lines of
	// helm template, disabled components) parses to no node at all.
	if n == nil || n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null") {
		return out
	}
	decodeNode(n, c.file, c.src, nil, opts, &out)
	return out
}

// templateHint explains errors in a document that still holds template
// placeholders (Helm, Jinja/Salt, envsubst-style "{{ … }}"): the text is not
// a manifest until it is rendered, which is the fix.
func templateHint(data []byte, out *decoded) {
	if !bytes.Contains(data, []byte("{{")) || !bytes.Contains(data, []byte("}}")) {
		return
	}
	for i := range out.problems {
		if out.problems[i].Severity == "error" {
			out.problems[i].Message += " (the document contains template placeholders {{ … }}: analyze the rendered output, e.g. helm template … | meshdoctor analyze -)"
		}
	}
}

// manifestLike reports a mapping with a key that only Kubernetes objects
// have, whatever its case ("Kind", "apiversion", "metadata"): a manifest
// with a typo, to be reported, not skipped as a data file.
func manifestLike(n *yaml.Node) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch strings.ToLower(n.Content[i].Value) {
		case "apiversion", "kind", "metadata":
			return true
		}
	}
	return false
}

func shiftLines(n *yaml.Node, by, depth int) {
	if n == nil || depth > maxDepth {
		return
	}
	n.Line += by
	for _, c := range n.Content {
		shiftLines(c, by, depth+1)
	}
}

// decodeNode turns one mapping node into an Object, or a List into many.
func decodeNode(n *yaml.Node, file string, src *source, item []int, opts Options, out *decoded) {
	pos := Position{File: file, Line: n.Line}
	if n.Kind != yaml.MappingNode {
		out.problems = append(out.problems, Problem{Pos: pos, Severity: "error", Message: "document is not a Kubernetes object (expected a mapping with apiVersion and kind)", notObject: true})
		return
	}
	str := func(path ...any) string {
		v := n
		for _, p := range path {
			if _, v = lookup(v, p); v == nil {
				return ""
			}
		}
		if v.Kind != yaml.ScalarNode {
			return ""
		}
		// A copy: node values point into the document's text, which
		// must not stay alive with the object.
		return strings.Clone(v.Value)
	}
	o := &Object{APIVersion: str("apiVersion"), Kind: str("kind"), Name: str("metadata", "name"), Namespace: str("metadata", "namespace"), File: file, Line: n.Line, src: src, item: item}
	if o.Kind == "" {
		msg := "document has no kind"
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i].Value; k != "kind" && strings.EqualFold(k, "kind") {
				msg += fmt.Sprintf(" (it has %q: keys are case-sensitive)", k)
			}
		}
		out.problems = append(out.problems, Problem{Pos: pos, Severity: "error", Message: msg, notObject: o.APIVersion == "" && !manifestLike(n)})
		return
	}
	if _, items := lookup(n, "items"); items != nil && strings.HasSuffix(o.Kind, "List") {
		if items.Kind == yaml.SequenceNode {
			for i, it := range items.Content {
				if it = deref(it); it != nil {
					decodeNode(it, file, src, append(append([]int{}, item...), i), opts, out)
				}
			}
		}
		return
	}
	if o.APIVersion == "" {
		out.problems = append(out.problems, Problem{Pos: pos, Severity: "error", Ref: refp(o), Message: fmt.Sprintf("%s has no apiVersion", o.Kind)})
		return
	}
	_, known := kinds[GroupKind{o.Group(), o.Kind}]
	if o.Name == "" && !known {
		// Kinds meshdoctor does not analyze may be inputs of other tools
		// (istioctl install -f takes an IstioOperator without a name):
		// keep and count them, don't judge them.
		o.Name = "(unnamed)"
	}
	if o.Name == "" {
		if _, gn := lookup(n, "metadata"); gn == nil || str("metadata", "generateName") == "" {
			at := pos
			if k, _ := lookup(n, "metadata"); k != nil {
				at.Line = k.Line
			}
			out.problems = append(out.problems, Problem{Pos: at, Severity: "error", Ref: refp(o), Message: fmt.Sprintf("%s has no metadata.name", o.Kind)})
			return
		}
		o.Name = str("metadata", "generateName")
		o.GeneratedName = true
	}
	k := kinds[GroupKind{o.Group(), o.Kind}]
	o.place(k, opts)
	if !known {
		o.Labels = stringMap(n, "metadata", "labels")
		o.Annotations = stringMap(n, "metadata", "annotations")
	}
	if !known {
		g := o.Group()
		if g == "" {
			g = "core"
		}
		out.unknown = append(out.unknown, o.Kind+"."+g)
		out.objects = append(out.objects, o)
		return
	}
	var buf bytes.Buffer
	typedObj := k.new()
	if k.spec == nil {
		appendJSON(&buf, n, 0)
	} else {
		// Istio specs are protobuf messages: protojson decodes them
		// several times faster than the jsonpb shim their UnmarshalJSON
		// uses, with the same leniency (unknown fields are dropped and
		// reported by unknownFields instead).
		appendJSONExcept(&buf, n, "spec")
	}
	if err := decodeTyped(buf.Bytes(), typedObj, checksGoFields(o, k)); err != nil {
		at, why := pos, jsonErr(err)
		if mm := goMismatch(withoutKey(n, "spec", k.spec != nil), reflect.TypeOf(typedObj), nil, 0); mm != nil {
			at.Line, why = max(mm.line, pos.Line), mm.message()
		}
		out.problems = append(out.problems, Problem{Pos: at, Severity: "error", Ref: refp(o), Message: fmt.Sprintf("%s does not match the %s schema: %s", o.Ref(), o.Kind, why)})
		return
	}
	if k.spec != nil {
		if _, spec := lookup(n, "spec"); spec != nil {
			buf.Reset()
			appendJSON(&buf, spec, 0)
			if specDecoder.Unmarshal(buf.Bytes(), k.spec(typedObj).Interface()) != nil {
				// protojson is stricter than Istio, which also takes Go
				// durations ("3m", "1h30m") where the proto JSON form is
				// "180s": decode as Istio does, through the type's own
				// UnmarshalJSON.
				buf.Reset()
				appendJSON(&buf, n, 0)
				typedObj = k.new()
				if err := json.Unmarshal(buf.Bytes(), typedObj); err != nil {
					at, why := Position{File: file, Line: spec.Line}, jsonErr(err)
					if mm := protoMismatch(spec, k.spec(typedObj).Descriptor(), []any{"spec"}, 0); mm != nil {
						at.Line, why = max(mm.line, spec.Line), mm.message()
					}
					out.problems = append(out.problems, Problem{Pos: at, Severity: "error", Ref: refp(o), Message: fmt.Sprintf("%s does not match the %s schema: %s", o.Ref(), o.Kind, why)})
					return
				}
			}
		}
	}
	o.Typed = typedObj
	// Share the typed object's metadata maps rather than holding copies.
	if meta, ok := typedObj.(metav1.Object); ok {
		o.Labels, o.Annotations = meta.GetLabels(), meta.GetAnnotations()
	} else {
		o.Labels = stringMap(n, "metadata", "labels")
		o.Annotations = stringMap(n, "metadata", "annotations")
	}
	if checksGoFields(o, k) {
		for _, u := range unknownGoFields(n, reflect.TypeOf(typedObj), "", 0) {
			out.problems = append(out.problems, Problem{Pos: Position{File: file, Line: u.line}, Severity: "warning", Ref: refp(o),
				Message: fmt.Sprintf("%s %s: unknown field %s in the Kubernetes %s API (%s): the API server drops it; kubectl apply, strict by default, rejects the whole object, while Helm and controllers only get a warning", o.Kind, nsName(o), u.path, kubernetesAPI, u.hint("misspelled, wrongly capitalized or at the wrong level?"))})
		}
	}
	if k.spec != nil {
		if _, spec := lookup(n, "spec"); spec != nil {
			for _, u := range unknownFields(spec, k.spec(typedObj).Descriptor(), "spec", 0) {
				out.problems = append(out.problems, Problem{Pos: Position{File: file, Line: u.line}, Severity: "warning", Ref: refp(o),
					Message: fmt.Sprintf("%s %s/%s: unknown field %s: Istio ignores it (%s)", o.Kind, o.Namespace, o.Name, u.path, u.hint("misspelled or at the wrong level?"))})
			}
			for _, e := range unknownEnums(spec, k.spec(typedObj).Descriptor(), []any{"spec"}, 0) {
				out.problems = append(out.problems, Problem{Pos: Position{File: file, Line: e.line}, Severity: "warning", Ref: refp(o),
					Message: fmt.Sprintf("%s %s/%s: %s: Istio ignores the value, so the field keeps its default, and the API server rejects the object where Istio's CRDs validate", o.Kind, o.Namespace, o.Name, e.message())})
			}
		}
	}
	out.objects = append(out.objects, o)
}

var specDecoder = protojson.UnmarshalOptions{DiscardUnknown: true}

// fastJSON decodes Kubernetes types about 40% faster than encoding/json with
// the same rules (case-insensitive keys, the types' own UnmarshalJSON).
var fastJSON = jsoniter.ConfigCompatibleWithStandardLibrary

// decodeTyped decodes with fastJSON; on error it decodes again with
// encoding/json, whose messages name the field and type.
//
// exact matches field names case-sensitively, as the API server does for
// the built-in kinds: "Type: NodePort" in a Service is dropped there, so it
// is dropped here too (and reported as an unknown field).
func decodeTyped(data []byte, v any, exact bool) error {
	dec := fastJSON
	if exact {
		dec = exactJSON
	}
	if dec.Unmarshal(data, v) == nil {
		return nil
	}
	// Start from zero: the failed attempt may have filled some fields.
	rv := reflect.ValueOf(v).Elem()
	rv.Set(reflect.Zero(rv.Type()))
	return json.Unmarshal(data, v)
}

// place settles the object's namespace as kubectl apply would: the
// document's own, else the default for namespaced kinds, none for
// cluster-scoped ones.
func (o *Object) place(k kind, opts Options) {
	o.NamespaceSet = o.Namespace != ""
	if o.Namespace == "" && !k.clustered && !clusterScoped[o.Kind] {
		o.Namespace = opts.DefaultNamespace
	}
	if k.clustered {
		o.Namespace = ""
	}
}

// nsName is namespace/name, or name for cluster-scoped objects.
func nsName(o *Object) string {
	if o.Namespace == "" {
		return o.Name
	}
	return o.Namespace + "/" + o.Name
}

func refp(o *Object) *Ref { r := o.Ref(); return &r }

func jsonErr(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("%s is %s, where %s is expected", te.Field, jsonValueWords(te.Value), goTypeWords(te.Type))
	}
	return err.Error()
}

func stringMap(n *yaml.Node, path ...any) map[string]string {
	v := n
	for _, p := range path {
		if _, v = lookup(v, p); v == nil {
			return nil
		}
	}
	if v.Kind != yaml.MappingNode {
		return nil
	}
	m := make(map[string]string, len(v.Content)/2)
	for i := 0; i+1 < len(v.Content); i += 2 {
		if val := deref(v.Content[i+1]); val != nil && val.Kind == yaml.ScalarNode {
			m[strings.Clone(v.Content[i].Value)] = strings.Clone(val.Value)
		}
	}
	return m
}
