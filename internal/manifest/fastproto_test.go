package manifest

import (
	"bytes"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"gopkg.in/yaml.v3"
)

// checkProtoSpec decodes an Istio document's spec from the fast parser's
// tree and through JSON with protojson: what the tree decoder takes must be
// what protojson takes, decoded to an equal message. It reports whether the
// tree decoder took it (false also for documents without an Istio spec).
func checkProtoSpec(t *testing.T, where string, doc []byte) bool {
	t.Helper()
	var p fastParser
	root := p.parse(doc)
	if root == noNode || p.slab[root].kind != yaml.MappingNode {
		return false
	}
	var apiVersion, kindName string
	spec := int32(noNode)
	for k := p.slab[root].first; k != noNode; k = p.slab[p.slab[k].next].next {
		switch p.slab[k].value {
		case "apiVersion":
			apiVersion = p.scalar(p.slab[k].next)
		case "kind":
			kindName = p.scalar(p.slab[k].next)
		case "spec":
			spec = p.slab[k].next
		}
	}
	group, _, ok := strings.Cut(apiVersion, "/")
	if !ok {
		group = ""
	}
	k, known := kinds[GroupKind{group, kindName}]
	if !known || k.spec == nil || spec == noNode {
		return false
	}
	var buf bytes.Buffer
	fromTree := k.spec(k.new())
	took := p.protoSpec(fromTree, spec, &buf)
	buf.Reset()
	p.appendJSON(&buf, spec, "", 0)
	viaJSON := k.spec(k.new())
	err := protojson.Unmarshal(buf.Bytes(), viaJSON.Interface())
	switch {
	case took && err != nil:
		t.Errorf("%s: the tree decoder takes a spec protojson refuses (%v):\n%s", where, err, doc)
	case took && !proto.Equal(fromTree.Interface(), viaJSON.Interface()):
		t.Errorf("%s: the tree decoder gives\n%v\nprotojson gives\n%v\ninput:\n%s", where, fromTree.Interface(), viaJSON.Interface(), doc)
	}
	return took
}

// TestProtoSpecMatchesProtojson: every Istio spec in the repository, and
// cases at the edges of protojson's rules, decode from the tree as
// protojson decodes their JSON, or are declined; most are taken.
func TestProtoSpecMatchesProtojson(t *testing.T) {
	var specs, took int
	repoDocs(func(where string, doc []byte) {
		if !bytes.Contains(doc, []byte("istio.io/")) {
			return
		}
		specs++
		if checkProtoSpec(t, where, doc) {
			took++
		}
	})
	if specs < 100 || took*10 < specs*7 {
		t.Errorf("the tree decoder took %d of %d Istio documents; it should take most", took, specs)
	}
	t.Logf("tree decoder: %d of %d Istio documents", took, specs)

	const dr = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: d}\nspec:\n"
	const vs = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: v}\nspec:\n"
	const pa = "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: p}\nspec:\n"
	for _, c := range []struct {
		doc  string
		take bool
	}{
		{dr + "  host: a\n  subsets: [{name: v1, labels: {version: v1}}]\n", true},
		{dr + "  host: a\n  trafficPolicy: {connectionPool: {tcp: {maxConnections: 100, connectTimeout: 3s}}}\n", true},
		{dr + "  host: a\n  trafficPolicy: {connectionPool: {tcp: {connectTimeout: 3m}}}\n", false},
		{dr + "  host: a\n  trafficPolicy: {outlierDetection: {consecutive5xxErrors: 7, maxEjectionPercent: 100}}\n", true},
		{dr + "  host: a\n  trafficPolicy: {outlierDetection: {consecutive5xxErrors: \"7\"}}\n", true},
		{dr + "  host: a\n  trafficPolicy: {outlierDetection: {consecutive5xxErrors: seven}}\n", false},
		{dr + "  host: a\n  trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST}}\n", true},
		{dr + "  host: a\n  trafficPolicy: {loadBalancer: {simple: 3}}\n", false},
		{dr + "  host: a\n  trafficPolicy: {loadBalancer: {simple: LEAST_REQUESTS}}\n", false},
		{dr + "  host: a\n  trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN, consistentHash: {httpHeaderName: x}}}\n", false},
		{dr + "  host: a\n  trafficPolicy: {tls: {mode: ISTIO_MUTUAL, sni: x, insecureSkipVerify: true}}\n", true},
		{dr + "  host: a\n  trafficPolicy: {tls: {insecureSkipVerify: yes}}\n", false},
		{dr + "  host: a\n  trafficPolicy: {tls: {mode: null}}\n", true},
		{dr + "  host: a\n  trafficPolicy: {tls: ~}\n", true},
		{dr + "  host: a\n  trafficPolicy:\n  subsets: []\n", true},
		{dr + "  host: a\n  host: b\n", false},
		{dr + "  host: a\n  export_to: [\".\"]\n", true},
		{dr + "  host: a\n  exportTo: [\".\"]\n  export_to: [\"*\"]\n", false},
		{dr + "  host: 1\n", false},
		{dr + "  host: \"1\"\n", true},
		{dr + "  host: 0x1z\n", true},
		{dr + "  host: a\n  subsets: [{name: v1, labels: {version: 1}}]\n", false},
		{dr + "  host: a\n  subsets: [~]\n", false},
		{dr + "  host: a\n  subsetz: []\n", false},
		{dr + "  host: a\n  trafficPolicy: {portLevelSettings: [{port: {number: 8080}, loadBalancer: {simple: RANDOM}}]}\n", true},
		{dr + "  host: a\n  trafficPolicy: {portLevelSettings: [{port: {number: 4294967296}}]}\n", false},
		{dr + "  host: a\n  trafficPolicy: {portLevelSettings: [{port: {number: -1}}]}\n", false},
		{dr + "  host: a\n  trafficPolicy: {portLevelSettings: [{port: {number: 8_080}}]}\n", true},
		{dr + "  host: a\n  trafficPolicy: {portLevelSettings: [{port: {number: 8080.0}}]}\n", false},
		{vs + "  hosts: [a]\n  http:\n  - route:\n    - destination: {host: a}\n      weight: 90\n    timeout: 1.5s\n    retries: {attempts: 3, perTryTimeout: 2s, retryOn: 5xx}\n", true},
		{vs + "  hosts: [a]\n  http:\n  - fault: {abort: {percentage: {value: 12.5}, httpStatus: 503}}\n    route: [{destination: {host: a}}]\n", true},
		{vs + "  hosts: [a]\n  http:\n  - fault: {abort: {percentage: {value: 1e400}, httpStatus: 503}}\n", false},
		{vs + "  hosts: [a]\n  http:\n  - match: [{headers: {x: {exact: \"true\"}}, uri: {prefix: /}}]\n    headers: {request: {set: {a: b}}}\n", true},
		{vs + "  hosts: [a]\n  http:\n  - match: [{uri: {prefix: /, exact: /x}}]\n", false},
		{vs + "  hosts: [a]\n  http:\n  - match: [{uri: {prefix: /}, uri: {exact: /x}}]\n", false},
		{vs + "  hosts: [a]\n  http:\n  - mirrorPercent: 50\n    mirror: {host: b}\n", true},
		{vs + "  hosts: [a, ~]\n", false},
		{vs + "  hosts: a\n", false},
		{vs + "  hosts: [a]\n  http: [{corsPolicy: {allowCredentials: true, maxAge: 24h}}]\n", false},
		{vs + "  hosts: [a]\n  http: [{corsPolicy: {allowCredentials: false, maxAge: 86400s}}]\n", true},
		{pa + "  mtls: {mode: STRICT}\n  portLevelMtls: {8080: {mode: DISABLE}}\n", true},
		{pa + "  portLevelMtls: {http: {mode: DISABLE}}\n", false},
		{pa + "  portLevelMtls: {8080: {mode: DISABLE}, \"8080\": {mode: STRICT}}\n", false},
		{pa + "  selector: {matchLabels: {app: a, v: \"2\"}}\n", true},
		{pa + "  selector: {matchLabels: {app: a, v: 2}}\n", false},
		{"apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata: {name: e}\nspec:\n  configPatches:\n  - applyTo: HTTP_FILTER\n    patch:\n      operation: INSERT_BEFORE\n      value: {name: x, typed_config: {\"@type\": t, a: [1, 2.5, true, null, {b: c}]}}\n", true},
	} {
		if got := checkProtoSpec(t, "case", []byte(c.doc)); got != c.take {
			t.Errorf("tree decoder took=%v, want %v:\n%s", got, c.take, c.doc)
		}
	}
}

// FuzzProtoSpec: whatever the tree decoder takes, protojson takes and
// decodes the same.
func FuzzProtoSpec(f *testing.F) {
	for _, s := range []string{
		"apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: v, namespace: n}\nspec: {hosts: [a], http: [{route: [{destination: {host: a, subset: v1}, weight: 100}], timeout: 3s}]}\n",
		"apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: p}\nspec: {mtls: {mode: STRICT}, portLevelMtls: {8080: {mode: DISABLE}}}\n",
		"apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: d}\nspec: {host: a, trafficPolicy: {outlierDetection: {consecutive5xxErrors: 7, interval: 1s}}}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkProtoSpec(t, "fuzz", data) })
}
