package manifest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// TestLoadStreams: documents are decoded as they are read, and their text
// is not kept (positions re-read it from the file), so the memory a load
// holds follows the objects it keeps, not the input's bytes: 48 MB of
// documents whose bodies no object keeps leave a few MB on the heap.
func TestLoadStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 48 MB")
	}
	path := filepath.Join(t.TempDir(), "widgets.yaml")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	pad := strings.Repeat("x", 4000)
	const n = 12000
	for i := 0; i < n; i++ {
		fmt.Fprintf(w, "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w-%d\n  namespace: ns\nspec:\n  blob: %q\n---\n", i, pad)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	res, err := Load([]string{path}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if len(res.Objects) != n {
		t.Fatalf("%d objects, want %d", len(res.Objects), n)
	}
	held := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("held %d KB for %d objects", held>>10, n)
	if held > 16<<20 {
		t.Errorf("a load of 48 MB of documents holds %d MB: the input's text is kept", held>>20)
	}
	runtime.KeepAlive(res)
}

// TestWholeFileMatchesStream: a file read whole (its documents pieces of
// it) loads exactly as the same file streamed (documents copied, text read
// again for positions): objects, problems and positions, over every
// manifest in the repository and separator corner cases.
func TestWholeFileMatchesStream(t *testing.T) {
	var files []string
	filepath.WalkDir("../..", func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml") || strings.HasSuffix(path, ".json")) {
			files = append(files, path)
		}
		return nil
	})
	dir := t.TempDir()
	for i, c := range []string{
		"--- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n--- \napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n---\n---\n# only a comment\n---\r\napiVersion: v1\r\nkind: ConfigMap\r\nmetadata:\r\n  name: d\r\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: e\ndata:\n  k: v", // no final newline
		"--- apiVersion: v1\nkind: Service\nmetadata: {name: s}\n---\nkind: [\n",
	} {
		f := filepath.Join(dir, fmt.Sprintf("case%d.yaml", i))
		os.WriteFile(f, []byte(c), 0o644)
		files = append(files, f)
	}
	compared := 0
	for _, f := range files {
		compared += compareWholeAndStreamed(t, f)
	}
	if compared < 1000 {
		t.Errorf("only %d positions compared", compared)
	}
}

// compareWholeAndStreamed loads file kept whole and streamed and reports
// any difference; it returns how many positions it compared.
func compareWholeAndStreamed(t *testing.T, f string) int {
	saved := maxKeptText
	defer func() { maxKeptText = saved }()
	whole, errW := Load([]string{f}, Options{})
	maxKeptText = 0
	streamed, errS := Load([]string{f}, Options{})
	if (errW == nil) != (errS == nil) {
		t.Errorf("%s: whole %v, streamed %v", f, errW, errS)
		return 0
	}
	if errW != nil {
		return 0
	}
	if len(whole.Objects) != len(streamed.Objects) || !reflect.DeepEqual(whole.Problems, streamed.Problems) {
		t.Errorf("%s: whole %d objects %v; streamed %d objects %v", f, len(whole.Objects), whole.Problems, len(streamed.Objects), streamed.Problems)
		return 0
	}
	compared := 0
	for i, a := range whole.Objects {
		b := streamed.Objects[i]
		ja, _ := json.Marshal(a.Typed)
		jb, _ := json.Marshal(b.Typed)
		if a.Ref() != b.Ref() || a.Line != b.Line || !bytes.Equal(ja, jb) {
			t.Errorf("%s: object %d differs: %s line %d, %s line %d", f, i, a.Ref(), a.Line, b.Ref(), b.Line)
		}
		for _, p := range [][]any{nil, {"metadata", "name"}, {"spec"}, {"spec", "ports", 0, "port"}, {"data"}} {
			compared++
			if pa, pb := a.Pos(p...), b.Pos(p...); pa != pb {
				t.Errorf("%s: %s Pos(%v): whole %v, streamed %v", f, a.Ref(), p, pa, pb)
			}
		}
	}
	return compared
}

// FuzzWholeFile: whatever a file holds, reading it whole loads exactly as
// streaming it.
func FuzzWholeFile(f *testing.F) {
	f.Add([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n--- {kind: x}\napiVersion: v1\nkind: Service\nmetadata:\n  name: s\n"))
	f.Add([]byte("--- apiVersion: v1\nkind: Pod\nmetadata: {name: p}\r\n---\r\n# c\n"))
	f.Add([]byte("\xff\xfea\x00:\x00 \x00b\x00\n\x00"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		fh, err := os.CreateTemp(dir, "in-*.yaml")
		if err != nil {
			t.Fatal(err)
		}
		defer os.Remove(fh.Name())
		if _, err := fh.Write(data); err != nil {
			t.Fatal(err)
		}
		fh.Close()
		compareWholeAndStreamed(t, fh.Name())
	})
}
