package manifest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// sameDecode checks that the fast JSON decoder gives exactly what
// encoding/json gives for one document of a known kind.
func sameDecode(t *testing.T, where string, doc []byte) bool {
	var n yaml.Node
	if yaml.Unmarshal(doc, &n) != nil {
		return false
	}
	root := deref(&n)
	if root == nil || root.Kind != yaml.MappingNode {
		return false
	}
	var apiVersion, kindName string
	for i := 0; i+1 < len(root.Content); i += 2 {
		switch root.Content[i].Value {
		case "apiVersion":
			apiVersion = root.Content[i+1].Value
		case "kind":
			kindName = root.Content[i+1].Value
		}
	}
	group, _, _ := strings.Cut(apiVersion, "/")
	if !strings.Contains(apiVersion, "/") {
		group = ""
	}
	k, ok := kinds[GroupKind{group, kindName}]
	if !ok {
		return false
	}
	var buf bytes.Buffer
	appendJSON(&buf, root, 0)
	fast, std := k.new(), k.new()
	errFast := fastJSON.Unmarshal(buf.Bytes(), fast)
	errStd := json.Unmarshal(buf.Bytes(), std)
	if errStd == nil && errFast != nil {
		t.Errorf("%s: fast decoder fails (%v) where encoding/json succeeds", where, errFast)
	}
	if errStd == nil && errFast == nil && !reflect.DeepEqual(fast, std) {
		t.Errorf("%s: fast decoder result differs from encoding/json for %s", where, kindName)
	}
	return true
}

// TestFastJSONMatchesStd decodes every manifest document in the repository
// with both decoders.
func TestFastJSONMatchesStd(t *testing.T) {
	n := 0
	filepath.WalkDir("../..", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			return nil
		}
		data, _ := os.ReadFile(path)
		for i, doc := range strings.Split(string(data), "\n---\n") {
			if sameDecode(t, path+"#"+string(rune('0'+i%10)), []byte(doc)) {
				n++
			}
		}
		return nil
	})
	if n < 200 {
		t.Errorf("only %d typed documents checked", n)
	}
}
