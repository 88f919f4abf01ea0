package manifest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// oldPos and oldValuePos are Pos and ValuePos as they were before
// positions came from the cached fast tree: a walk over the object's
// yaml.v3 tree (root). The new mechanism must give the same line for every
// path.
func oldPos(o *Object, path ...any) Position {
	line := o.Line
	n := o.root()
	for _, step := range path {
		k, v := lookup(n, step)
		if k == nil {
			break
		}
		line = k.Line
		n = v
	}
	return Position{File: o.File, Line: line}
}

func oldValuePos(o *Object, path ...any) (Position, bool) {
	n := o.root()
	for _, step := range path {
		if _, n = lookup(n, step); n == nil {
			return Position{File: o.File, Line: o.Line}, false
		}
	}
	return Position{File: o.File, Line: n.Line}, true
}

// paths lists every path below n, and for each mapping and sequence one
// that does not exist (a missing key, an index past the end), since
// findings about missing fields point at the nearest ancestor.
func paths(n *yaml.Node, prefix []any, out *[][]any, depth int) {
	n = deref(n)
	if n == nil || depth > 30 {
		return
	}
	add := func(step any) []any {
		p := append(append([]any{}, prefix...), step)
		*out = append(*out, p)
		return p
	}
	switch n.Kind {
	case yaml.MappingNode:
		add("no-such-field")
		for i := 0; i+1 < len(n.Content); i += 2 {
			paths(n.Content[i+1], add(n.Content[i].Value), out, depth+1)
		}
	case yaml.SequenceNode:
		add(len(n.Content))
		add(-1)
		for i, c := range n.Content {
			paths(c, add(i), out, depth+1)
		}
	}
}

// TestPositionsMatchYAMLv3 compares the cached-tree positions with the
// yaml.v3 walk for every field of every object in the repository's YAML
// (rule scenarios, examples, healthy configurations, loader testdata),
// including Lists, inline documents and documents the fast parser
// declines.
func TestPositionsMatchYAMLv3(t *testing.T) {
	var files []string
	for _, root := range []string{"../../testdata", "../../examples", "testdata"} {
		filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".json")) {
				files = append(files, p)
			}
			return nil
		})
	}
	dir := t.TempDir()
	// A List, an inline document, an anchor (yaml.v3's tree) and a
	// document starting below a comment, in one stream.
	extra := filepath.Join(dir, "extra.yaml")
	os.WriteFile(extra, []byte(`# leading comment
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata: {name: a, namespace: x}
  spec:
    ports:
    - {name: http, port: 80}
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: b
  data:
    k: |
      line
--- {apiVersion: v1, kind: ConfigMap, metadata: {name: inline}, data: {k: v}}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: anchored
  labels: &l {app: x}
  annotations: *l
data:
  k: v
`), 0o644)
	files = append(files, extra)
	if len(files) < 50 {
		t.Fatalf("only %d files found; the corpus moved?", len(files))
	}
	objects, compared := 0, 0
	for _, f := range files {
		res, err := Load([]string{f}, Options{})
		if err != nil {
			continue
		}
		for _, o := range res.Objects {
			objects++
			var ps [][]any
			paths(o.root(), nil, &ps, 0)
			ps = append(ps, nil, []any{"spec", "no", "such", 3})
			for _, p := range ps {
				compared++
				if got, want := o.Pos(p...), oldPos(o, p...); got != want {
					t.Errorf("%s %s: Pos(%v) = %v, yaml.v3 walk %v", f, o.Ref(), p, got, want)
				}
				if len(p) == 0 {
					continue
				}
				got, gotOK := o.ValuePos(p...)
				want, wantOK := oldValuePos(o, p...)
				if got != want || gotOK != wantOK {
					t.Errorf("%s %s: ValuePos(%v) = %v %v, yaml.v3 walk %v %v", f, o.Ref(), p, got, gotOK, want, wantOK)
				}
			}
		}
	}
	t.Logf("%d objects from %d files, %d paths", objects, len(files), compared)
}

// TestFileReaderBound: beyond maxKeptOpen handles a file is read as before
// (opened per document), and positions stay right.
func TestFileReaderBound(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "a.yaml")
	os.WriteFile(f, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\ndata:\n  k: v\n"), 0o644)
	saved := keptOpen.Load()
	keptOpen.Store(maxKeptOpen)
	defer keptOpen.Store(saved)
	savedText := maxKeptText
	maxKeptText = 0 // streamed, as a file beyond the text a load keeps
	defer func() { maxKeptText = savedText }()
	res, err := Load([]string{f}, Options{})
	if err != nil || len(res.Objects) != 2 {
		t.Fatal(err, res)
	}
	if r := res.Objects[1].src.reader; r == nil {
		t.Fatal("no shared reader")
	} else if _, ok := r.read(0, 4); ok {
		t.Error("read through a handle beyond the bound")
	}
	if got := res.Objects[1].Pos("data", "k"); got.Line != 11 {
		t.Errorf("Pos(data.k) = %v, want line 11", got)
	}
}

// TestPositionsConcurrent: rules run in parallel and ask positions of the
// same documents; under -race this checks the per-document state.
func TestPositionsConcurrent(t *testing.T) {
	res, err := Load([]string{"testdata/multi.yaml"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	vs := res.Objects[3]
	want := oldPos(vs, "spec", "http", 0, "route", 0, "destination", "subset")
	done := make(chan bool)
	for g := 0; g < 8; g++ {
		go func() {
			for i := 0; i < 20; i++ {
				if got := vs.Pos("spec", "http", 0, "route", 0, "destination", "subset"); got != want {
					t.Errorf("Pos = %v, want %v", got, want)
				}
			}
			done <- true
		}()
	}
	for g := 0; g < 8; g++ {
		<-done
	}
}
