package manifest

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf16"
)

func encodeUTF16(s string, order binary.ByteOrder) []byte {
	var b bytes.Buffer
	for _, u := range utf16.Encode([]rune("\uFEFF" + s)) {
		_ = binary.Write(&b, order, u)
	}
	return b.Bytes()
}

const twoDocs = `apiVersion: v1
kind: Service
metadata: {name: café, namespace: shop}
spec:
  ports: [{port: 80}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs, namespace: shop}
spec:
  hosts: [a]
  http:
  - route:
    - destination: {host: "a-🙂"}
`

// UTF-16 files with a byte order mark (either order) load like their UTF-8
// text, positions included.
func TestUTF16WithBOM(t *testing.T) {
	dir := t.TempDir()
	for name, order := range map[string]binary.ByteOrder{"le.yaml": binary.LittleEndian, "be.yaml": binary.BigEndian} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, encodeUTF16(twoDocs, order), 0o644); err != nil {
			t.Fatal(err)
		}
		res := load(t, p)
		if len(res.Problems) != 0 || len(res.Objects) != 2 {
			t.Fatalf("%s: objects %d, problems %v", name, len(res.Objects), res.Problems)
		}
		if o := res.Objects[0]; o.Name != "café" || o.Line != 1 {
			t.Errorf("%s: first object %s at line %d", name, o.Name, o.Line)
		}
		vs := res.Objects[1]
		if pos := vs.Pos("spec", "http", 0, "route", 0, "destination"); pos.Line != 14 {
			t.Errorf("%s: destination at line %d, want 14", name, pos.Line)
		}
		if js := vs.FieldJSON("spec", "http", 0, "route", 0, "destination", "host"); string(js) != `"a-🙂"` {
			t.Errorf("%s: host %s", name, js)
		}
	}
}

// The decoder gives the same text whatever the read sizes, and replaces
// unpaired surrogates and a trailing odd byte.
func TestUTF16Reader(t *testing.T) {
	data := encodeUTF16(twoDocs, binary.LittleEndian)
	got, err := io.ReadAll(&utf16Reader{r: iotest.OneByteReader(bytes.NewReader(data)), order: binary.LittleEndian})
	if err != nil || string(got) != twoDocs {
		t.Errorf("one byte at a time: %v\n%q", err, got)
	}
	bad := []byte{0xFF, 0xFE, 'a', 0, 0x00, 0xD8, 'b', 0, 0x00, 0xDC, 'c'}
	got, _ = io.ReadAll(&utf16Reader{r: bytes.NewReader(bad), order: binary.LittleEndian})
	if string(got) != "a\uFFFDb\uFFFD\uFFFD" {
		t.Errorf("unpaired surrogates: %q", got)
	}
}

// NUL bytes without a byte order mark are binary: the file is reported as
// unreadable, not document by document.
func TestBinaryIsUnreadable(t *testing.T) {
	p := filepath.Join(t.TempDir(), "image.yaml")
	os.WriteFile(p, []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), 0o644)
	res := load(t, p)
	if len(res.Problems) != 1 || !res.Problems[0].Unreadable || !strings.Contains(res.Problems[0].Message, "binary file") {
		t.Errorf("binary: %+v", res.Problems)
	}
}

// A symbolic link to a directory, given as the path, is walked.
func TestSymlinkToDirectoryIsWalked(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	os.MkdirAll(filepath.Join(real, "sub"), 0o755)
	os.WriteFile(filepath.Join(real, "sub", "svc.yaml"), []byte("apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {ports: [{port: 80}]}\n"), 0o644)
	link := filepath.Join(dir, "link")
	if err := os.Symlink(real, link); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	res := load(t, link)
	if len(res.Objects) != 1 || res.Objects[0].File != filepath.Join(link, "sub", "svc.yaml") {
		t.Fatalf("objects %v problems %v", res.Objects, res.Problems)
	}
	if pos := res.Objects[0].Pos("spec", "ports"); pos.Line != 4 {
		t.Errorf("position through the link: %v", pos)
	}
}
