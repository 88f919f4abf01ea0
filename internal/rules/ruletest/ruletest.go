// Package ruletest runs a rule over testdata manifests whose expectations
// are written inline, on the line a finding must point to:
//
//	subset: v3   # want: subset-not-found "subset v3"
//
// A want may pin the finding's severity, for rules whose severity depends
// on the case: `# want: subset-selects-no-pods@info "subset v3"`.
//
// A finding without a matching want is a false positive; a want without a
// finding is a miss. Every rule needs at least one file with a want
// (positive case) and one without (negative case).
//
// A file may set model options in a header comment:
//
//	# options: istio-version=1.22.2 mesh-config=mesh.yaml
//
// upgrade-to=1.26.0 simulates --upgrade-to (istiod moves to that version).
package ruletest

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/meshdoctor/meshdoctor/internal/analysis"
	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

var (
	wantRE    = regexp.MustCompile(`#\s*want:\s*(.*)$`)
	wantItem  = regexp.MustCompile(`([a-z0-9-]+)(?:@(error|warning|info))?(?:\s+"((?:[^"\\]|\\.)*)")?`)
	optionsRE = regexp.MustCompile(`^#\s*options:\s*(.*)$`)
)

type want struct {
	file string
	line int
	rule string
	sev  string // "" for any severity
	re   *regexp.Regexp
	raw  string
}

// Run checks rule r against every .yaml file in dir.
func Run(t *testing.T, r *rules.Rule, dir string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if len(files) == 0 {
		t.Fatalf("rule %s has no testdata in %s", r.Name, dir)
	}
	positive, negative := 0, 0
	for _, f := range files {
		wants, opts := parse(t, f)
		if len(wants) > 0 {
			positive++
		} else {
			negative++
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			check(t, []*rules.Rule{r}, []string{f}, wants, opts)
		})
	}
	if positive == 0 {
		t.Errorf("rule %s: no positive case (a file with a `# want: %s` comment) in %s", r.Name, r.Name, dir)
	}
	if negative == 0 {
		t.Errorf("rule %s: no negative case (a file with no want comment) in %s", r.Name, dir)
	}
}

func parse(t *testing.T, file string) ([]*want, map[string]string) {
	fh, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var wants []*want
	opts := map[string]string{}
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if m := optionsRE.FindStringSubmatch(strings.TrimSpace(text)); m != nil {
			for _, kv := range strings.Fields(m[1]) {
				k, v, _ := strings.Cut(kv, "=")
				if k == "mesh-config" {
					v = filepath.Join(filepath.Dir(file), v)
				}
				opts[k] = v
			}
			continue
		}
		m := wantRE.FindStringSubmatch(text)
		if m == nil {
			continue
		}
		for _, it := range wantItem.FindAllStringSubmatch(m[1], -1) {
			w := &want{file: file, line: line, rule: it[1], sev: it[2], raw: it[0]}
			if it[3] != "" {
				re, err := regexp.Compile(strings.ReplaceAll(it[3], `\"`, `"`))
				if err != nil {
					t.Fatalf("%s:%d: bad want regexp: %v", file, line, err)
				}
				w.re = re
			}
			wants = append(wants, w)
		}
	}
	return wants, opts
}

// Scenario analyzes every manifest below dir together with all rules, the
// way a user runs meshdoctor on a directory, and checks the want comments of
// all its files: every finding must be wanted, at its line.
func Scenario(t *testing.T, all []*rules.Rule, dir string) {
	t.Helper()
	var wants []*want
	opts := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if ext := filepath.Ext(path); ext == ".yaml" || ext == ".yml" || ext == ".json" {
			w, o := parse(t, path)
			wants = append(wants, w...)
			for k, v := range o {
				opts[k] = v
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(wants) == 0 {
		t.Fatalf("scenario %s has no want comments", dir)
	}
	check(t, all, []string{dir}, wants, opts)
}

func check(t *testing.T, rs []*rules.Rule, paths []string, wants []*want, opts map[string]string) {
	loaded, err := manifest.Load(paths, manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var mopts analysis.Options
	mopts.Rules = rs
	if v := opts["istio-version"]; v != "" {
		mopts.Mesh.IstioVersion, mopts.Mesh.IstioVersionSource = mesh.VersionOf(v), "--istio-version"
		if mopts.Mesh.IstioVersion == nil {
			t.Fatalf("options: istio-version %q is not a version", v)
		}
	}
	if v := opts["upgrade-to"]; v != "" {
		// As --upgrade-to: every istiod of the input moves to v.
		mopts.Mesh.IstioVersion, mopts.Mesh.IstioVersionSource, mopts.Mesh.Upgrade = mesh.VersionOf(v), "--upgrade-to", true
		if mopts.Mesh.IstioVersion == nil {
			t.Fatalf("options: upgrade-to %q is not a version", v)
		}
	}
	if mc := opts["mesh-config"]; mc != "" {
		b, err := os.ReadFile(mc)
		if err != nil {
			t.Fatal(err)
		}
		mopts.Mesh.MeshConfig, mopts.Mesh.MeshConfigSource = b, "--mesh-config"
	}
	res := analysis.Run(loaded, mopts)
	testsInvalid := len(rs) == 1 && rs[0] == rules.InvalidManifest
	for _, f := range res.Findings {
		if f.Rule == rules.InvalidManifest.Name && !testsInvalid && !wanted(wants, f) {
			t.Errorf("%s: testdata is invalid: %s", f.Origin, f.Message)
			continue
		}
		checkQuality(t, f)
		if !claim(wants, f) {
			t.Errorf("%s: unexpected finding %s: %s", f.Origin, f.Rule, f.Message)
		}
	}
	for _, w := range wants {
		if w.line > 0 {
			t.Errorf("%s:%d: missing finding %s", w.file, w.line, w.raw)
		}
	}
}

func wanted(wants []*want, f finding.Finding) bool {
	for _, w := range wants {
		if w.rule == f.Rule && w.line == f.Origin.Line {
			return true
		}
	}
	return false
}

// claim marks the first want f satisfies as used (line set to 0).
func claim(wants []*want, f finding.Finding) bool {
	for _, w := range wants {
		if w.line == 0 || w.line != f.Origin.Line || w.rule != f.Rule || !sameFile(w.file, f.Origin.File) {
			continue
		}
		if w.re != nil && !w.re.MatchString(f.Message) {
			continue
		}
		if w.sev != "" && w.sev != f.Severity.String() {
			continue
		}
		w.line = 0
		return true
	}
	return false
}

func sameFile(a, b string) bool { return filepath.Clean(a) == filepath.Clean(b) }

// checkQuality holds every finding to the project's bar: it names the
// resource and says what breaks and how to fix it.
func checkQuality(t *testing.T, f finding.Finding) {
	t.Helper()
	var missing []string
	if f.Message == "" {
		missing = append(missing, "message")
	}
	if f.Symptom == "" {
		missing = append(missing, "symptom")
	}
	if f.Fix == "" {
		missing = append(missing, "fix")
	}
	if f.Resource.Kind == "" || f.Resource.Name == "" {
		missing = append(missing, "resource")
	}
	if f.Origin.Line == 0 {
		missing = append(missing, "line")
	}
	if len(missing) > 0 {
		t.Errorf("%s: finding %s lacks %s", f.Origin, f.Rule, strings.Join(missing, ", "))
	}
	if strings.Contains(f.Message+f.Fix, "%!") {
		t.Errorf("%s: finding %s has a formatting error: %s", f.Origin, f.Rule, fmt.Sprint(f.Message))
	}
}
