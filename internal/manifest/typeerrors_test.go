package manifest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
)

// TestTypeMismatchMessages: a value of the wrong kind is reported at its
// own line, with its full path (list indexes included), what was written
// (quoted as written) and what the schema wants, in YAML words.
func TestTypeMismatchMessages(t *testing.T) {
	const in = `apiVersion: v1
kind: Service
metadata: {name: a}
spec:
  ports:
  - port: 80
  - port: eighty
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec:
  replicas: 1.50
  selector: {matchLabels: {app: d}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: e}
spec:
  template:
    spec:
      containers: {name: c}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs}
spec:
  hosts: [a]
  http:
  - route:
    - destination: {host: a}
      weight: 50
    - destination: {host: b}
      weight: fifty
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: dr}
spec:
  host: a
  subsets: {name: v1}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: dr2}
spec:
  host: a
  trafficPolicy:
    tls: {mode: [MUTUAL]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cm}
data:
  a: 0x1F
`
	p := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(p, []byte(in), 0o644)
	res := load(t, p)
	want := []struct {
		line int
		msg  string
	}{
		{7, `spec.ports[1].port is a string ("eighty"), where an integer is expected`},
		{13, `spec.replicas is a number (1.50), where an integer is expected`},
		{22, `spec.template.spec.containers is a mapping, where a list is expected`},
		{34, `spec.http[0].route[1].weight is a string ("fifty"), where an integer is expected`},
		{41, `spec.subsets is a mapping, where a list is expected`},
		{49, `spec.trafficPolicy.tls.mode is a list, where one of DISABLE, SIMPLE, MUTUAL, ISTIO_MUTUAL is expected`},
		{55, `data.a is an integer (0x1F), where a string is expected`},
	}
	if len(res.Problems) != len(want) {
		t.Fatalf("want %d problems, got %v", len(want), res.Problems)
	}
	for i, w := range want {
		p := res.Problems[i]
		if p.Pos.Line != w.line || !strings.HasSuffix(p.Message, w.msg) {
			t.Errorf("problem %d:\n got %d: %s\nwant %d: …%s", i, p.Pos.Line, p.Message, w.line, w.msg)
		}
		for _, goWord := range []string{"int32", "[]", "json.", "v1.", "float64"} {
			if strings.Contains(p.Message, goWord) {
				t.Errorf("problem %d speaks Go (%s): %s", i, goWord, p.Message)
			}
		}
	}
}

// An integer too large for its field, and encoding/json's own error when
// the walk finds nothing, are said in YAML words too.
func TestTypeMismatchRangesAndFallback(t *testing.T) {
	res, _ := Load([]string{"-"}, Options{Stdin: strings.NewReader("apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec:\n  ports:\n  - port: 99_999_999_999\n")})
	if len(res.Problems) != 1 || res.Problems[0].Pos.Line != 6 || !strings.HasSuffix(res.Problems[0].Message, "spec.ports[0].port is an integer (99_999_999_999), where an integer from -2147483648 to 2147483647 is expected") {
		t.Errorf("overflow: %v", res.Problems)
	}
	err := json.Unmarshal([]byte(`{"spec":{"replicas":"3"}}`), &appsv1.Deployment{})
	if got := jsonErr(err); got != `spec.replicas is a string, where an integer from -2147483648 to 2147483647 is expected` {
		t.Errorf("fallback: %s", got)
	}
}

// An enum name the schema does not have is dropped by Istio's decoder (the
// field keeps its default): a warning at its line, the object still loaded.
func TestUnknownEnumNames(t *testing.T) {
	const in = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: dr, namespace: shop}
spec:
  host: a
  trafficPolicy:
    tls: {mode: MUTUALL}
  subsets:
  - name: v1
    trafficPolicy:
      loadBalancer: {simple: ROUND_ROBIN}
      portLevelSettings:
      - port: {number: 80}
        tls: {mode: 3}
  - name: v2
    trafficPolicy:
      loadBalancer: {simple: ROUND_ROBINN}
`
	res, _ := Load([]string{"-"}, Options{Stdin: strings.NewReader(in)})
	if len(res.Objects) != 1 {
		t.Fatalf("the object must still be loaded: %v", res.Problems)
	}
	want := map[int]string{
		7:  `spec.trafficPolicy.tls.mode is a string ("MUTUALL"), where one of DISABLE, SIMPLE, MUTUAL, ISTIO_MUTUAL is expected`,
		17: `spec.subsets[1].trafficPolicy.loadBalancer.simple is a string ("ROUND_ROBINN"), where one of`,
	}
	if len(res.Problems) != len(want) {
		t.Fatalf("want %d problems, got %v", len(want), res.Problems)
	}
	for _, p := range res.Problems {
		if w, ok := want[p.Pos.Line]; !ok || p.Severity != "warning" || !strings.Contains(p.Message, w) {
			t.Errorf("unexpected problem %+v", p)
		}
	}
}
