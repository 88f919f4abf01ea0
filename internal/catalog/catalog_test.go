package catalog

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules/ruletest"
)

// TestRules runs each rule over its testdata: testdata/rules/<rule-name>/.
func TestRules(t *testing.T) {
	for _, r := range All() {
		if r.Run == nil {
			continue
		}
		t.Run(r.Name, func(t *testing.T) {
			ruletest.Run(t, r, filepath.Join("..", "..", "testdata", "rules", r.Name))
		})
	}
}

var (
	kebab = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	code  = regexp.MustCompile(`^MD\d{4}$`)
)

// TestCatalog keeps identities unique and docs complete.
func TestCatalog(t *testing.T) {
	names, codes := map[string]bool{}, map[string]bool{}
	for _, r := range All() {
		if !kebab.MatchString(r.Name) || !code.MatchString(r.Code) {
			t.Errorf("rule %q/%q: name must be kebab-case and code MDnnnn", r.Name, r.Code)
		}
		if names[r.Name] || codes[r.Code] {
			t.Errorf("rule %s/%s: duplicate name or code", r.Name, r.Code)
		}
		names[r.Name], codes[r.Code] = true, true
		if r.Summary == "" || r.Doc.Mechanism == "" || r.Doc.Symptom == "" || r.Doc.Fix == "" || r.Since == "" || r.Area == "" {
			t.Errorf("rule %s: summary, mechanism, symptom, fix, area and since are required", r.Name)
		}
		if r.Run != nil && (r.Doc.Before == "" || r.Doc.After == "" || len(r.Doc.Sources) == 0) {
			t.Errorf("rule %s: before/after YAML and a source are required", r.Name)
		}
		for _, k := range r.Needs {
			// A kind the model does not know by a bare name would match
			// that name in any group.
			if _, ok := mesh.ParseKind(k); !ok {
				t.Errorf("rule %s: Needs %q is not a kind the model knows; write it as Kind.group", r.Name, k)
			}
		}
	}
}

// TestExamples: each seed incident under examples/ must be found, alone
// and with all examples analyzed together (the README's first command),
// and nothing else may be reported.
func TestExamples(t *testing.T) {
	root := filepath.Join("..", "..", "examples")
	t.Run("all", func(t *testing.T) { ruletest.Scenario(t, All(), root) })
	dirs, _ := filepath.Glob(filepath.Join(root, "*"))
	for _, d := range dirs {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			continue
		}
		t.Run(filepath.Base(d), func(t *testing.T) { ruletest.Scenario(t, All(), d) })
	}
}
