package manifest

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// laughs builds a "billion laughs" ConfigMap: levels lists of nine
// aliases to the level below, so the document of a few hundred bytes
// expands to 9^levels scalars.
func laughs(levels int) string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol, namespace: shop}\ndata:\n")
	b.WriteString(`  l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]` + "\n")
	for i := 1; i < levels; i++ {
		p := fmt.Sprintf("*l%d", i-1)
		fmt.Fprintf(&b, "  l%d: &l%d [%s]\n", i, i, strings.Repeat(p+",", 8)+p)
	}
	return b.String()
}

const goodService = `apiVersion: v1
kind: Service
metadata: {name: after, namespace: shop}
spec:
  ports: [{port: 80}]
`

// loadBounded loads data from stdin and fails the test when it takes more
// than the given memory (allocated in total, not only live) or time.
func loadBounded(t *testing.T, data string, maxAlloc uint64, maxTime time.Duration) *Result {
	t.Helper()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	res, err := Load([]string{"-"}, Options{Stdin: strings.NewReader(data)})
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > maxAlloc {
		t.Errorf("loading %d bytes allocated %d MiB, more than the ceiling of %d MiB", len(data), alloc>>20, maxAlloc>>20)
	}
	if took > maxTime {
		t.Errorf("loading %d bytes took %s, more than %s", len(data), took, maxTime)
	}
	return res
}

// TestBillionLaughs: nine levels of nine aliases (387 million scalars once
// expanded, gigabytes as JSON) are stopped at the alias that passes the
// limit, in little memory and time, and the next document is still read.
func TestBillionLaughs(t *testing.T) {
	in := laughs(9) + "---\n" + goodService
	res := loadBounded(t, in, 64<<20, 5*time.Second)
	if len(res.Objects) != 1 || res.Objects[0].Name != "after" {
		t.Errorf("the document after the hostile one must still be loaded: %v", res.Objects)
	}
	if len(res.Problems) != 1 {
		t.Fatalf("want one problem, got %v", res.Problems)
	}
	p := res.Problems[0]
	if p.Severity != "error" || !strings.Contains(p.Message, "YAML aliases (here *l") || !strings.Contains(p.Message, "document skipped") {
		t.Errorf("problem: %+v", p)
	}
	// The line of an alias, not of the document.
	if p.Pos.Line < 6 || p.Pos.Line > 13 {
		t.Errorf("problem should point at an alias line (6-13): %+v", p)
	}
}

// A few levels of aliases stay within the limits and decode as written.
func TestModestAliasesStillDecode(t *testing.T) {
	res := loadBounded(t, laughs(3), 64<<20, 5*time.Second)
	if len(res.Problems) != 1 || !strings.Contains(res.Problems[0].Message, "does not match the ConfigMap schema") {
		// data values are lists, which a ConfigMap does not take: the
		// document got as far as the typed decode.
		t.Errorf("want only the schema problem, got %v", res.Problems)
	}
	const merge = `apiVersion: v1
kind: Service
metadata:
  name: web
  labels: &base {app: web, tier: front}
spec:
  selector: {<<: *base, extra: "1"}
  ports: [{port: 80}]
`
	res = loadBounded(t, merge, 64<<20, 5*time.Second)
	if len(res.Objects) != 1 || len(res.Problems) != 0 {
		t.Fatalf("merge keys and aliases: %v %v", res.Objects, res.Problems)
	}
	if sel := res.Objects[0].Typed.(*corev1.Service).Spec.Selector; sel["tier"] != "front" || sel["extra"] != "1" {
		t.Errorf("selector through a merge key: %v", sel)
	}
}

// An alias inside the value it refers to would expand forever; two of them
// double with each level of the (bounded) recursion.
func TestSelfReferentialAlias(t *testing.T) {
	in := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  a: &x [*x, *x]\n---\n" + goodService
	res := loadBounded(t, in, 64<<20, 5*time.Second)
	if len(res.Objects) != 1 || len(res.Problems) != 1 || res.Problems[0].Pos.Line != 5 || !strings.Contains(res.Problems[0].Message, "*x refers to the value that contains it") {
		t.Errorf("objects %v, problems %v", res.Objects, res.Problems)
	}
}

// Wide rather than deep: one anchor aliased many times passes the byte
// limit through long scalars.
func TestAliasBytesBounded(t *testing.T) {
	big := strings.Repeat("x", 1<<20)
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  a: &a " + big + "\n")
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&b, "  k%d: *a\n", i)
	}
	res := loadBounded(t, b.String(), 256<<20, 10*time.Second)
	if len(res.Problems) != 1 || !strings.Contains(res.Problems[0].Message, "16 MiB") {
		t.Errorf("problems %v", res.Problems)
	}
}

// Many literal values, each under the limit through its aliases, add up
// past it: the message still names an alias.
func TestAliasesAddingUp(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n")
	b.WriteString(`  l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]` + "\n")
	for i := 1; i < 5; i++ {
		p := fmt.Sprintf("*l%d", i-1)
		fmt.Fprintf(&b, "  l%d: &l%d [%s]\n", i, i, strings.Repeat(p+",", 8)+p)
	}
	// l4 is about 66,000 nodes: seven literal lists of it pass 400,000.
	for i := 0; i < 7; i++ {
		fmt.Fprintf(&b, "  m%d: [*l4]\n", i)
	}
	res := loadBounded(t, b.String(), 256<<20, 10*time.Second)
	if len(res.Problems) != 1 || !strings.Contains(res.Problems[0].Message, "(here *l4)") || res.Problems[0].Pos.Line < 10 {
		t.Errorf("problems %v", res.Problems)
	}
}

func TestYAMLToJSONBounded(t *testing.T) {
	if _, err := YAMLToJSON([]byte(laughs(9))); err == nil || !strings.Contains(err.Error(), "aliases") {
		t.Errorf("YAMLToJSON must refuse a billion laughs: %v", err)
	}
}

// FuzzAliasExpansion: whatever the shape of anchors and aliases, a small
// document is loaded within a fixed memory and time ceiling. The seeds are
// alias bombs of various shapes; run with `go test -fuzz AliasExpansion`.
func FuzzAliasExpansion(f *testing.F) {
	for _, seed := range []string{
		laughs(9),
		"a: &x [*x, *x]\n",
		"a: &a {x: 1, <<: *a}\n",
		"a: &a [1,2,3,4,5,6,7,8,9,10]\nb: &b {<<: [*a, *a], c: [*a,*a,*a,*a]}\nc: [*b,*b,*b,*b,*b,*b,*b,*b]\n",
		"apiVersion: v1\nkind: Service\nmetadata: &m {name: s, labels: &l {a: b}}\nspec: {selector: *l}\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4096 {
			return
		}
		res := loadBounded(t, string(data), 256<<20, 10*time.Second)
		for _, p := range res.Problems {
			if p.Pos.File == "" || p.Message == "" {
				t.Fatalf("problem without position or message: %+v", p)
			}
		}
	})
}
