package manifest

import (
	"bytes"
	"reflect"
	"sort"
	"testing"

	jsoniter "github.com/json-iterator/go"
)

// kindTypes is one zero value of every Go type the loader decodes into,
// in a fixed order.
func kindTypes() []func() any {
	var keys []GroupKind
	for gk := range kinds {
		keys = append(keys, gk)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].Group+"/"+keys[i].Kind < keys[j].Group+"/"+keys[j].Kind })
	var out []func() any
	for _, gk := range keys {
		out = append(out, kinds[gk].new)
	}
	return out
}

// checkGoTree decodes data's tree into every kind's type with the tree
// decoder and through JSON, with the lenient and the strict configuration:
// whatever the tree decoder accepts must be exactly what JSON decoding
// gives. It returns how many decodings the tree decoder took.
func checkGoTree(t *testing.T, where string, data []byte) int {
	var p fastParser
	root := p.parse(data)
	if root == noNode {
		return 0
	}
	took := 0
	var buf bytes.Buffer
	for _, newT := range kindTypes() {
		for _, api := range []jsoniter.API{fastJSON, strictJSON} {
			got := newT()
			if !p.decodeGo(got, root, "", api, &buf) {
				continue
			}
			took++
			want := newT()
			buf.Reset()
			p.appendJSON(&buf, root, "", 0)
			if err := api.Unmarshal(buf.Bytes(), want); err != nil {
				t.Errorf("%s: %T: the tree decoder accepts what JSON decoding refuses (%v)\ninput:\n%s", where, got, err, data)
				continue
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: %T: tree decoding differs from JSON decoding\ntree %+v\njson %+v\ninput:\n%s", where, got, got, want, data)
			}
		}
	}
	return took
}

var goTreeCases = []string{
	// Ordinary objects, and the types that decode themselves.
	"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\n  creationTimestamp: null\n  labels: {app: a}\nspec:\n  replicas: 3\n  selector: {matchLabels: {app: a}}\n  template:\n    metadata: {labels: {app: a, version: v1}}\n    spec:\n      containers:\n      - name: a\n        image: a:1\n        ports: [{containerPort: 8080, name: http}]\n        resources: {limits: {cpu: 500m, memory: 1Gi}}\n        readinessProbe: {httpGet: {path: /, port: http}}\n      terminationGracePeriodSeconds: 30\n",
	"apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports:\n  - {name: http, port: 80, targetPort: 8080, appProtocol: http}\n  - {name: grpc, port: 81, targetPort: grpc}\n  selector: {app: a}\n  publishNotReadyAddresses: yes\n",
	// Scalars the decoders must agree on, or the tree decoder declines.
	"apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 0x50}, {port: 1_000}, {port: '80'}, {port: 80.0}, {port: 99999999999}]}\n",
	"apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{targetPort: 0x1F90}, {targetPort: '8080'}, {targetPort: 99999999999}, {targetPort: true}, {targetPort: ~}, {targetPort: 1.5}]}\n",
	"apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{targetPort: -1_0}]}\n",
	"apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {a: 1, b: true, c: ~, d: '2'}}\n",
	"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {hostNetwork: True, enableServiceLinks: false, automountServiceAccountToken: ~}\n",
	"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [~, {name: a}]}\n",
	// Keys that name no field exactly, repeated fields, odd shapes.
	"apiVersion: v1\nkind: Service\nmetadata: {Name: s}\nSpec: {type: NodePort}\n",
	"apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {type: NodePort, type: ClusterIP}\n",
	"apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: [a]\n",
	"apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: {a: b}}\n",
	"apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {a: aGk=}\nstringData: {b: c}\n",
	"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: '1', b: ''}\nbinaryData: {c: aGk=}\n",
	"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {overhead: {cpu: 1}, nodeSelector: {}, tolerations: []}\n",
}

// TestGoTreeMatchesJSON: the tree decoder gives exactly what JSON decoding
// gives, on every manifest document in the repository and the cases above,
// and takes most documents of the repository.
func TestGoTreeMatchesJSON(t *testing.T) {
	docs, took := 0, 0
	repoDocs(func(where string, doc []byte) {
		docs++
		if checkGoTree(t, where, doc) > 0 {
			took++
		}
	})
	for _, c := range goTreeCases {
		checkGoTree(t, "case", []byte(c))
	}
	if docs < 100 || took*10 < docs*7 {
		t.Errorf("the tree decoder took %d of %d documents; it should take most", took, docs)
	}
	t.Logf("tree decoder: %d of %d documents", took, docs)
}

// TestGoTreeDeclines: where the JSON decoders could decide differently
// from an exact-name walk, the tree decoder leaves the document to them.
func TestGoTreeDeclines(t *testing.T) {
	for _, c := range []struct{ kind, doc string }{
		{"Service", "apiVersion: v1\nkind: Service\nmetadata: {Name: s}\n"},                           // case-insensitive match
		{"Service", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {type: A, type: B}\n"}, // repeated field
		{"Service", "apiVersion: v1\nkind: Service\nmetadata: {name: s, labels: {a: 1}}\n"},           // number into string
		{"Pod", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [~]}\n"},          // null list item
		{"Service", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 99999999999}]}\n"},
	} {
		var p fastParser
		root := p.parse([]byte(c.doc))
		if root == noNode {
			t.Fatalf("fast parser declines %q", c.doc)
		}
		var buf bytes.Buffer
		if v := kinds[GroupKind{"", c.kind}].new(); p.decodeGo(v, root, "", fastJSON, &buf) {
			t.Errorf("tree decoder took %q", c.doc)
		}
	}
	// And takes the ordinary document.
	var p fastParser
	var buf bytes.Buffer
	if root := p.parse([]byte(goTreeCases[0])); !p.decodeGo(kinds[GroupKind{"apps", "Deployment"}].new(), root, "", strictJSON, &buf) {
		t.Error("tree decoder declines an ordinary Deployment")
	}
}

// FuzzGoTree: whatever the tree decoder accepts, JSON decoding gives the
// same.
func FuzzGoTree(f *testing.F) {
	for _, c := range goTreeCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkGoTree(t, "fuzz", data) })
}
