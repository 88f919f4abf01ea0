package conformance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/meshdoctor/meshdoctor/internal/cli"
	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

// istioModule is the Istio release (1.31 development) whose analyzer tests
// and samples the conformance tests read.
const istioModule = "istio.io/istio@v0.0.0-20260827124520-eed52ebb66ad"

var (
	istioDirOnce sync.Once
	istioDir     string
	istioDirErr  error
)

// istioSource returns the directory of the Istio module: `go mod download`
// finds it in the module cache (offline) or fetches it through the module
// proxy (CI). It runs in an empty directory so that our go.mod is neither
// read nor changed.
func istioSource(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: the Istio module may need downloading")
	}
	istioDirOnce.Do(func() {
		tmp, err := os.MkdirTemp("", "meshdoctor-istio-module")
		if err != nil {
			istioDirErr = err
			return
		}
		defer os.RemoveAll(tmp)
		cmd := exec.Command("go", "mod", "download", "-json", istioModule)
		cmd.Dir = tmp
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GO111MODULE=on")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		var mod struct{ Dir, Error string }
		if jerr := json.Unmarshal(out, &mod); jerr != nil && err == nil {
			err = jerr
		}
		switch {
		case mod.Error != "":
			istioDirErr = fmt.Errorf("go mod download %s: %s", istioModule, mod.Error)
		case err != nil:
			istioDirErr = fmt.Errorf("go mod download %s: %v %s", istioModule, err, stderr.String())
		case mod.Dir == "":
			istioDirErr = fmt.Errorf("go mod download %s: no directory in %s", istioModule, out)
		default:
			istioDir = mod.Dir
		}
	})
	if istioDirErr != nil {
		t.Fatal(istioDirErr)
	}
	return istioDir
}

// resource is an object as Istio's analyzer tests name it: "Kind name" or
// "Kind namespace/name" (diag's Origin.FriendlyName).
type resource struct{ Kind, Namespace, Name string }

func parseResource(s string) (resource, error) {
	kind, full, ok := strings.Cut(s, " ")
	if !ok || kind == "" || full == "" {
		return resource{}, fmt.Errorf("resource %q: want \"Kind [namespace/]name\"", s)
	}
	ns, name, hasNS := strings.Cut(full, "/")
	if !hasNS {
		ns, name = "", full
	}
	return resource{Kind: kind, Namespace: ns, Name: name}, nil
}

func (r resource) String() string {
	if r.Namespace == "" {
		return r.Kind + " " + r.Name
	}
	return r.Kind + " " + r.Namespace + "/" + r.Name
}

// names tells whether the finding's resource is r. An object without a
// namespace in Istio's test input is named without one; meshdoctor places
// it in the namespace kubectl apply would (default) and cluster-scoped
// kinds have none.
func (r resource) names(ref manifest.Ref) bool {
	if r.Kind != ref.Kind || r.Name != ref.Name {
		return false
	}
	if r.Namespace == "" {
		return ref.Namespace == "" || ref.Namespace == "default"
	}
	return r.Namespace == ref.Namespace
}

// analyzerCase is one entry of the testGrid table in Istio's
// pkg/config/analysis/analyzers/analyzers_test.go.
type analyzerCase struct {
	Name         string
	Analyzer     string // e.g. annotations.K8sAnalyzer
	Files        []string
	MeshConfig   string
	MeshNetworks string
	Expected     []istioMessage
	SkipAll      bool
}

type istioMessage struct {
	Name     string // msg.<Name> in the table
	Code     string // IST0101, from messages.yaml
	Resource string
}

// analyzerCases reads the table of Istio's analyzer tests from its source:
// the cases are whatever the module holds, not a copy.
func analyzerCases(t *testing.T, dir string) []analyzerCase {
	t.Helper()
	codes := messageCodes(t, dir)
	path := filepath.Join(dir, "pkg", "config", "analysis", "analyzers", "analyzers_test.go")
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var table *ast.CompositeLit
	ast.Inspect(f, func(n ast.Node) bool {
		cl, ok := n.(*ast.CompositeLit)
		if !ok || table != nil {
			return table == nil
		}
		if at, ok := cl.Type.(*ast.ArrayType); ok {
			if id, ok := at.Elt.(*ast.Ident); ok && id.Name == "testCase" {
				table = cl
				return false
			}
		}
		return true
	})
	if table == nil {
		t.Fatalf("%s: no []testCase table", path)
	}
	bad := func(n ast.Node, what string) {
		t.Fatalf("%s: %s", fset.Position(n.Pos()), what)
	}
	var out []analyzerCase
	for _, el := range table.Elts {
		cl, ok := el.(*ast.CompositeLit)
		if !ok {
			bad(el, "test case is not a composite literal")
		}
		var c analyzerCase
		for _, fe := range cl.Elts {
			kv, ok := fe.(*ast.KeyValueExpr)
			if !ok {
				bad(fe, "test case field without a key")
			}
			key, _ := kv.Key.(*ast.Ident)
			if key == nil {
				bad(kv, "test case field key")
			}
			switch key.Name {
			case "name":
				c.Name = stringLit(t, fset, kv.Value)
			case "inputFiles":
				for _, e := range compositeElts(t, fset, kv.Value) {
					c.Files = append(c.Files, stringLit(t, fset, e))
				}
			case "meshConfigFile":
				c.MeshConfig = stringLit(t, fset, kv.Value)
			case "meshNetworksFile":
				c.MeshNetworks = stringLit(t, fset, kv.Value)
			case "skipAll":
				id, _ := kv.Value.(*ast.Ident)
				c.SkipAll = id != nil && id.Name == "true"
			case "analyzer":
				c.Analyzer = analyzerName(kv.Value)
			case "expected":
				for _, e := range compositeElts(t, fset, kv.Value) {
					parts := compositeElts(t, fset, e)
					if len(parts) != 2 {
						bad(e, "expected message is not {msg.Type, origin}")
					}
					sel, ok := parts[0].(*ast.SelectorExpr)
					if !ok {
						bad(parts[0], "message type is not msg.Name")
					}
					m := istioMessage{Name: sel.Sel.Name, Code: codes[sel.Sel.Name], Resource: stringLit(t, fset, parts[1])}
					if m.Code == "" {
						bad(sel, "message "+m.Name+" is not in messages.yaml")
					}
					c.Expected = append(c.Expected, m)
				}
			}
		}
		out = append(out, c)
	}
	return out
}

func compositeElts(t *testing.T, fset *token.FileSet, e ast.Expr) []ast.Expr {
	t.Helper()
	cl, ok := e.(*ast.CompositeLit)
	if !ok {
		t.Fatalf("%s: not a composite literal", fset.Position(e.Pos()))
	}
	return cl.Elts
}

func stringLit(t *testing.T, fset *token.FileSet, e ast.Expr) string {
	t.Helper()
	bl, ok := e.(*ast.BasicLit)
	if !ok || bl.Kind != token.STRING {
		t.Fatalf("%s: not a string literal", fset.Position(e.Pos()))
	}
	s, err := strconv.Unquote(bl.Value)
	if err != nil {
		t.Fatalf("%s: %v", fset.Position(e.Pos()), err)
	}
	return s
}

// analyzerName renders &pkg.Type{} (or a call) as pkg.Type, to say which
// Istio analyzer a case tests.
func analyzerName(e ast.Expr) string {
	if u, ok := e.(*ast.UnaryExpr); ok {
		e = u.X
	}
	switch v := e.(type) {
	case *ast.CompositeLit:
		e = v.Type
	case *ast.CallExpr:
		e = v.Fun
	}
	if sel, ok := e.(*ast.SelectorExpr); ok {
		if id, ok := sel.X.(*ast.Ident); ok {
			return id.Name + "." + sel.Sel.Name
		}
	}
	return ""
}

// messageCodes maps message names (ReferencedResourceNotFound) to their
// IST codes from Istio's message catalog.
func messageCodes(t *testing.T, dir string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "pkg", "config", "analysis", "msg", "messages.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Messages []struct{ Name, Code string }
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	out := make(map[string]string, len(doc.Messages))
	for _, m := range doc.Messages {
		out[m.Name] = m.Code
	}
	return out
}

// reported is a finding as meshdoctor's JSON output has it.
type reported struct {
	Code, Rule, Severity, Message string
	Resource                      manifest.Ref
	Origin                        manifest.Position
}

// serious tells errors and warnings from infos.
func (r reported) serious() bool {
	s, err := finding.ParseSeverity(r.Severity)
	return err != nil || s >= finding.Warning
}

// analyze runs `meshdoctor analyze -o json` in-process, as a user would on
// these files, and returns its findings.
func analyze(t *testing.T, args ...string) []reported {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Main(append([]string{"analyze", "-o", "json", "--fail-on", "none"}, args...), cli.IO{
		In: strings.NewReader(""), Out: &out, Err: &errb,
		Getenv: func(string) string { return "" },
	})
	if code != cli.ExitOK {
		t.Fatalf("meshdoctor analyze %s: exit %d: %s", strings.Join(args, " "), code, errb.String())
	}
	var res struct{ Findings []reported }
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("meshdoctor analyze %s: %v", strings.Join(args, " "), err)
	}
	return res.Findings
}
