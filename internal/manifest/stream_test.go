package manifest

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
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
