package manifest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// sameTree compares what meshdoctor reads from a node tree: kinds, resolved
// tags, values and lines.
func sameTree(a, b *yaml.Node, path string) error {
	if (a == nil) != (b == nil) {
		return fmt.Errorf("%s: one side is nil", path)
	}
	if a == nil {
		return nil
	}
	if a.Kind != b.Kind || a.ShortTag() != b.ShortTag() || a.Value != b.Value || a.Line != b.Line {
		return fmt.Errorf("%s: fast {kind %d tag %s line %d %q} != yaml.v3 {kind %d tag %s line %d %q}", path, a.Kind, a.ShortTag(), a.Line, a.Value, b.Kind, b.ShortTag(), b.Line, b.Value)
	}
	if len(a.Content) != len(b.Content) {
		return fmt.Errorf("%s: %d children != %d", path, len(a.Content), len(b.Content))
	}
	for i := range a.Content {
		if err := sameTree(a.Content[i], b.Content[i], fmt.Sprintf("%s/%d", path, i)); err != nil {
			return err
		}
	}
	return nil
}

func checkFast(t *testing.T, data []byte) (accepted bool) {
	fast := parseFast(data)
	if fast == nil {
		return false
	}
	var ref yaml.Node
	if err := yaml.Unmarshal(data, &ref); err != nil {
		t.Fatalf("fast parser accepted what yaml.v3 rejects (%v):\n%s", err, data)
	}
	if err := sameTree(fast, &ref, ""); err != nil {
		t.Fatalf("%v\ninput:\n%s", err, data)
	}
	var a, b bytes.Buffer
	appendJSON(&a, fast, 0)
	appendJSON(&b, &ref, 0)
	if a.String() != b.String() {
		t.Fatalf("JSON differs:\nfast %s\nv3   %s\ninput:\n%s", a.String(), b.String(), data)
	}
	return true
}

// repoDocs calls fn with every YAML document of every manifest in the
// repository (split at "---" lines).
func repoDocs(fn func(where string, doc []byte)) {
	filepath.WalkDir("../..", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			return nil
		}
		data, _ := os.ReadFile(path)
		for i, doc := range strings.Split(string(data), "\n---\n") {
			fn(fmt.Sprintf("%s#%d", path, i), []byte(doc))
		}
		return nil
	})
}

// TestFastYAMLMatchesYAMLv3 runs every manifest in the repository through
// both parsers document by document; the fast path must take nearly all.
func TestFastYAMLMatchesYAMLv3(t *testing.T) {
	var docs, fast int
	repoDocs(func(_ string, doc []byte) {
		docs++
		if checkFast(t, doc) {
			fast++
		}
	})
	if docs < 100 || fast*10 < docs*8 {
		t.Errorf("fast path took %d of %d documents; it should take most manifests", fast, docs)
	}
	t.Logf("fast path: %d of %d documents", fast, docs)
}

func TestFastYAMLCases(t *testing.T) {
	for _, in := range []string{
		"a: 1\nb: true\nc: ~\nd: null\ne: 0x1F\nf: 1.5\ng: '007'\nh: \"x\\ty\"\ni:\nj: -3\n",
		"list:\n- a\n- b: 1\n  c: [x, 'y', {z: 1}]\n-\n  - nested\nafter: 1\n",
		"k:\n  - a\n  -   b: 2\n      c: 3\n",
		"script: |\n  line one\n    indented\n\n  after blank\nnext: x\n",
		"keep: |+\n  a\n\n\nstrip: |-\n  b\n\nend: 1\n",
		"empty: {}\nalso: []\nurl: http://a.b:80/x#frag\nport: \"8080\"\n",
		"# c\nmetadata: # trailing\n  name: x   # comment\n  labels: {app: a, version: v1}\n",
		"a: b: c\n", "a:\n\tb: 1\n", "a: &x 1\nb: *x\n", "a: >\n  folded\n", "a: multi\n  line\n",
		"a: [1,\n 2]\n", "- a\nb: 1\n", "a: 'it''s'\n", "a: \"\\u00e9\"\n", "a: [a: 1]\n", "? a\n: b\n",
	} {
		checkFast(t, []byte(in))
	}
	if parseFast([]byte("list:\n- a\n- b: 1\n  c: [x, 'y', {z: 1}]\n")) == nil {
		t.Error("ordinary manifest YAML must take the fast path")
	}
}

// FuzzFastYAML: whatever the fast parser accepts, yaml.v3 reads the same.
func FuzzFastYAML(f *testing.F) {
	for _, s := range []string{
		"apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  labels: {app: a}\nspec:\n  ports:\n  - name: http\n    port: 80\n",
		"a: |\n  x\n  y\nb: [1, 2]\n", "- a: 1\n  b: 'q'\n- [x]\n", "k: \"v\\n\"\nl: ~\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkFast(t, data) })
}
