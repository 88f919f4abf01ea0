package conformance

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const samplesFile = "../../testdata/conformance/istio-samples.yaml"

// sampleExpectations is testdata/conformance/istio-samples.yaml.
type sampleExpectations struct {
	Sets []*sampleSet `yaml:"sets"`
	// Skip lists the sample files (or directories, ending in /) that are
	// not analyzed, each with why: Helm values, templates, tool
	// configuration.
	Skip []*skipped `yaml:"skip"`
}

type sampleSet struct {
	Name      string   `yaml:"name"`
	Namespace string   `yaml:"namespace"`
	Docs      string   `yaml:"docs,omitempty"`
	Files     []string `yaml:"files,flow"`
	// Each lists files applied one at a time on top of Files, as the
	// docs' tasks do (each replaces the same VirtualService or route):
	// one run per file.
	Each []string `yaml:"each,omitempty"`
	// Findings are the errors and warnings that remain, each real.
	Findings []*flaggedExpect `yaml:"findings,omitempty"`
}

type skipped struct {
	Path   string `yaml:"path"`
	Reason string `yaml:"reason"`
}

// TestIstioSamples analyzes the Istio samples as the docs apply them (a
// sample's files together, in the namespace its docs use): every error or
// warning must be listed in istio-samples.yaml with why it is real, and
// every sample manifest must be in a set or skipped with a reason.
func TestIstioSamples(t *testing.T) {
	root := filepath.Join(istioSource(t), "samples")
	b, err := os.ReadFile(samplesFile)
	if err != nil {
		t.Fatal(err)
	}
	var exp sampleExpectations
	if err := yaml.Unmarshal(b, &exp); err != nil {
		t.Fatalf("%s: %v", samplesFile, err)
	}
	used := map[string]bool{}
	var fails []string
	failf := func(format string, args ...any) { fails = append(fails, fmt.Sprintf(format, args...)) }
	for _, s := range exp.Sets {
		paths := func(rel []string) []string {
			var out []string
			for _, f := range rel {
				used[f] = true
				p := filepath.Join(root, f)
				if _, err := os.Stat(p); err != nil {
					t.Fatalf("set %s: %v", s.Name, err)
				}
				out = append(out, p)
			}
			return out
		}
		base := paths(s.Files)
		runs := [][]string{base}
		if len(s.Each) > 0 {
			runs = nil
			for _, e := range paths(s.Each) {
				runs = append(runs, append(applyOver(t, base, e, s.Namespace), e))
			}
		}
		var found []reported
		for _, files := range runs {
			found = append(found, analyze(t, append([]string{"-n", s.Namespace}, files...)...)...)
		}
		for i := range found {
			if rel, err := filepath.Rel(root, found[i].Origin.File); err == nil {
				found[i].Origin.File = rel
			}
		}
		s.Findings = quietCheck("sample set "+s.Name, found, s.Findings, failf)
	}
	// Every manifest of the samples is analyzed or skipped with a reason,
	// so a sample Istio adds is not silently left out.
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			if skippedBy(exp.Skip, rel+"/") != nil {
				return filepath.SkipDir
			}
			return nil
		}
		if ext := filepath.Ext(p); ext != ".yaml" && ext != ".yml" || used[rel] {
			return nil
		}
		if sk := skippedBy(exp.Skip, rel); sk == nil {
			failf("sample %s is in no set and not skipped", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, sk := range exp.Skip {
		if strings.TrimSpace(sk.Reason) == "" {
			failf("skip %s has no reason", sk.Path)
		}
		if _, err := os.Stat(filepath.Join(root, sk.Path)); err != nil {
			failf("skip %s: %v", sk.Path, err)
		}
	}
	if *update {
		var buf bytes.Buffer
		buf.WriteString(samplesHeader)
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		if err := enc.Encode(&exp); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(samplesFile, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, f := range fails {
			t.Log("updated: " + f)
		}
		return
	}
	sort.Strings(fails)
	for _, f := range fails {
		t.Error(f)
	}
}

const samplesHeader = `# The Istio samples (samples/ in the istio module that
# internal/conformance reads) as a user applies them: each set's files
# together, in the namespace the sample's docs use; each: files applied one
# at a time on top of the set's files. findings: the errors and warnings
# meshdoctor reports on a set, each real (reason). skip: sample files that
# are not Kubernetes manifests, or are templates. TestIstioSamples fails on
# an unlisted finding and on a sample file in no set and not skipped;
# -update rewrites the findings and keeps their reasons.
`

// applyOver returns the base files as they are after kubectl apply -f
// over: the objects over defines are dropped from copies of the base
// files (the later apply replaces them), so that a task's file replacing
// the sample's VirtualService is not a duplicate.
func applyOver(t *testing.T, base []string, over, namespace string) []string {
	t.Helper()
	replaced := map[objectID]bool{}
	for _, d := range documents(t, over) {
		replaced[d.id(namespace)] = true
	}
	dir := t.TempDir()
	var out []string
	for i, f := range base {
		var buf bytes.Buffer
		enc := yaml.NewEncoder(&buf)
		kept := 0
		for _, d := range documents(t, f) {
			if !replaced[d.id(namespace)] {
				kept++
				if err := enc.Encode(d.node); err != nil {
					t.Fatal(err)
				}
			}
		}
		if kept == 0 {
			continue
		}
		if err := enc.Close(); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, fmt.Sprintf("%d-%s", i, filepath.Base(f)))
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

type objectID struct{ group, kind, namespace, name string }

type document struct {
	node *yaml.Node
	meta struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Metadata   struct{ Name, Namespace string }
	}
}

func (d document) id(namespace string) objectID {
	group, _, _ := strings.Cut(d.meta.APIVersion, "/")
	if !strings.Contains(d.meta.APIVersion, "/") {
		group = "" // core: v1
	}
	ns := d.meta.Metadata.Namespace
	if ns == "" {
		ns = namespace
	}
	return objectID{group, d.meta.Kind, ns, d.meta.Metadata.Name}
}

// documents decodes the YAML documents of a sample file.
func documents(t *testing.T, path string) []document {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []document
	dec := yaml.NewDecoder(f)
	for {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			if err == io.EOF {
				return out
			}
			t.Fatalf("%s: %v", path, err)
		}
		d := document{node: &n}
		if err := n.Decode(&d.meta); err != nil || d.meta.Kind == "" {
			continue
		}
		out = append(out, d)
	}
}

func skippedBy(skips []*skipped, rel string) *skipped {
	for _, sk := range skips {
		if rel == sk.Path || strings.HasSuffix(sk.Path, "/") && strings.HasPrefix(rel, sk.Path) {
			return sk
		}
	}
	return nil
}
