package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
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
	repoDocs(func(where string, doc []byte) {
		if sameDecode(t, where, doc) {
			n++
		}
	})
	if n < 200 {
		t.Errorf("only %d typed documents checked", n)
	}
}

// sameResult compares two decodings of one document: objects with every
// field the rules read, and problems.
func sameResult(fast, slow decoded) string {
	if len(fast.objects) != len(slow.objects) || len(fast.problems) != len(slow.problems) || !reflect.DeepEqual(fast.unknown, slow.unknown) {
		return fmt.Sprintf("fast: %d objects %d problems %v; slow: %d objects %d problems %v",
			len(fast.objects), len(fast.problems), fast.unknown, len(slow.objects), len(slow.problems), slow.unknown)
	}
	for i, a := range fast.objects {
		b := slow.objects[i]
		if a.APIVersion != b.APIVersion || a.Kind != b.Kind || a.Namespace != b.Namespace || a.Name != b.Name ||
			a.GeneratedName != b.GeneratedName || a.NamespaceSet != b.NamespaceSet || a.File != b.File || a.Line != b.Line ||
			!reflect.DeepEqual(a.Labels, b.Labels) || !reflect.DeepEqual(a.Annotations, b.Annotations) {
			return fmt.Sprintf("object %d differs:\nfast %s %s/%s/%s line %d labels %v\nslow %s %s/%s/%s line %d labels %v", i, a.APIVersion, a.Kind, a.Namespace, a.Name, a.Line, a.Labels, b.APIVersion, b.Kind, b.Namespace, b.Name, b.Line, b.Labels)
		}
		ja, errA := json.Marshal(a.Typed)
		jb, errB := json.Marshal(b.Typed)
		if errA != nil || errB != nil || !bytes.Equal(ja, jb) {
			return fmt.Sprintf("object %d typed differs:\nfast %s\nslow %s", i, ja, jb)
		}
	}
	for i := range fast.problems {
		a, b := fast.problems[i], slow.problems[i]
		// Istio's own JSON decoding words some errors differently from
		// run to run (it walks maps): compare up to its message.
		a.Message, _, _ = strings.Cut(a.Message, " schema: ")
		b.Message, _, _ = strings.Cut(b.Message, " schema: ")
		if !reflect.DeepEqual(a, b) {
			return fmt.Sprintf("problem %d differs: fast %+v, slow %+v", i, fast.problems[i], slow.problems[i])
		}
	}
	return ""
}

// checkFastDecode decodes data both ways and reports whether the fast
// path took it.
func checkFastDecode(t *testing.T, where string, data []byte) bool {
	c := chunk{file: "f.yaml", line: 3, data: data, src: &source{data: data, line: 3}}
	var p fastParser
	var buf bytes.Buffer
	var viaFast decoded
	took := false
	if r := p.parse(data); r != noNode {
		took = decodeFast(&p, r, c, Options{DefaultNamespace: "default"}, &buf, &viaFast)
	}
	got := decodeChunk(c, Options{DefaultNamespace: "default"}, &p, &buf)
	want := decodeTree(c, Options{DefaultNamespace: "default"}, &p, p.parse(data))
	if d := sameResult(got, want); d != "" {
		t.Errorf("%s: %s\ninput:\n%s", where, d, data)
	}
	return took
}

// TestFastDecodeMatches: every manifest document in the repository decodes
// the same with and without the fast path, and most take it.
func TestFastDecodeMatches(t *testing.T) {
	var docs, fast int
	repoDocs(func(where string, doc []byte) {
		docs++
		if checkFastDecode(t, where, doc) {
			fast++
		}
	})
	for _, in := range []string{
		"apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: d}\nspec:\n  host: a\n  subsetz: []\n",
		"apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: d}\nspec:\n  host: a\n  trafficPolicy: {connectionPool: {tcp: {connectTimeout: 3m}}}\n",
		"apiVersion: v1\nkind: Service\nmetadata: {name: s, name: t}\n",
		"apiVersion: v1\nkind: Service\nkind: Pod\nmetadata: {name: s}\n",
		"apiVersion: v1\nkind: Service\nmetadata: {generateName: s-}\n",
		"apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: http}]}\n",
		"apiVersion: v1\nkind: List\nitems: [{apiVersion: v1, kind: Pod, metadata: {name: p}}]\n",
		"apiVersion: v1\nkind: Namespace\nmetadata: {name: n, namespace: x, labels: {a: '1', b: 2}}\n",
		"apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: ~\n  b: 0x10\n  c: .5\n  d: -.inf\n  e: 2001-12-14\n",
	} {
		checkFastDecode(t, "case", []byte(in))
	}
	if docs < 100 || fast*10 < docs*7 {
		t.Errorf("fast decode took %d of %d documents; it should take most", fast, docs)
	}
	t.Logf("fast decode: %d of %d documents", fast, docs)
}

// FuzzFastDecode: whatever the fast decode path accepts decodes as the
// yaml.Node path decodes it.
func FuzzFastDecode(f *testing.F) {
	for _, s := range []string{
		"apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  labels: {app: a}\nspec:\n  ports:\n  - name: http\n    port: 80\n",
		"apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: v, namespace: n}\nspec: {hosts: [a], http: [{route: [{destination: {host: a, subset: v1}, weight: 100}]}]}\n",
		"apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: p}\nspec: {mtls: {mode: STRICT}, portLevelMtls: {8080: {mode: DISABLE}}}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkFastDecode(t, "fuzz", data) })
}
