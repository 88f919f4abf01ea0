// Package analysis is the pipeline: loaded objects -> model -> rules ->
// suppressions -> a result the report package renders.
package analysis

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
	"github.com/meshdoctor/meshdoctor/internal/spelling"
)

// IgnoreAnnotation lists rule names to silence on the annotated resource.
const IgnoreAnnotation = "meshdoctor.io/ignore"

// Options configure a run.
type Options struct {
	Rules  []*rules.Rule
	Mesh   mesh.Options
	Ignore []Ignore
	// Denied lists kinds a live cluster would not let meshdoctor read;
	// each becomes a partial-access finding.
	Denied []Denied
	// Fallback is the one namespace a live cluster was read in because
	// no namespaced kind could be listed across namespaces (info finding).
	Fallback string
	// Catalog is every rule there is, for telling a meshdoctor.io/ignore
	// entry that names no rule (a warning) from one naming a rule this
	// run does not include. Nil: entries are not checked.
	Catalog []*rules.Rule
}

// Denied is a kind the credentials may not list (RBAC).
type Denied struct {
	Group, Kind string
	Resource    string // plural resource name (virtualservices)
	Namespace   string // "" when denied cluster-wide
	Verb        string // "list" (default) or "get"
	Reason      string
}

// Ignore silences a rule everywhere, or only on one resource.
type Ignore struct {
	Rule     string
	Resource *manifest.Ref // nil: everywhere
}

// ParseIgnore reads "rule" or "rule=Kind/namespace/name", or Kind/name:
// cluster-scoped kinds have no namespace, and for the others it is
// namespace, as kubectl's -n would make it. resolve gives a rule's name
// from its name or code (any case), or "" for none.
func ParseIgnore(s string, resolve func(string) string, namespace string) (Ignore, error) {
	name, res, hasRes := strings.Cut(s, "=")
	rule := resolve(name)
	if rule == "" {
		return Ignore{}, fmt.Errorf("--ignore %s: no rule named %q (see `meshdoctor rules`)", s, name)
	}
	ig := Ignore{Rule: rule}
	if hasRes {
		parts := strings.Split(res, "/")
		switch len(parts) {
		case 2:
			ig.Resource = &manifest.Ref{Kind: parts[0], Name: parts[1]}
			if !manifest.ClusterScoped(parts[0]) {
				ig.Resource.Namespace = namespace
			}
		case 3:
			ig.Resource = &manifest.Ref{Kind: parts[0], Namespace: parts[1], Name: parts[2]}
		default:
			return Ignore{}, fmt.Errorf("--ignore %s: resource must be Kind/namespace/name", s)
		}
	}
	return ig, nil
}

// Result is the outcome of a run.
type Result struct {
	Findings   []finding.Finding
	Suppressed int
	Objects    int
	Files      int
	Unknown    map[string]int // unknown kinds skipped, by Kind.group
	// NotManifests are files skipped in directories: tool configuration
	// (kustomization.yaml…), Helm charts, files without a Kubernetes object.
	NotManifests []string
	// Unreadable counts input files that could not be read at all
	// (permission denied, binary): a run with any is no pass.
	Unreadable int
	Model      *mesh.Model
	// Phase timings, for --stats and benchmarks.
	ModelTime, RulesTime time.Duration
}

// Check is the findings of one state under these options: the planner's
// (internal/plan) view of the analysis.
func (o Options) Check(loaded *manifest.Result) []finding.Finding {
	return Run(loaded, o).Findings
}

// Run analyzes loaded objects.
func Run(loaded *manifest.Result, opts Options) *Result {
	start := time.Now()
	mopts := opts.Mesh
	mopts.Generators = append(mopts.Generators, generators(loaded.NotManifests)...)
	m := mesh.Build(loaded.Objects, mopts)
	res := &Result{Objects: len(loaded.Objects), Files: loaded.Files, Unknown: loaded.Unknown, NotManifests: loaded.NotManifests, Model: m}
	res.ModelTime = time.Since(start)
	start = time.Now()
	for _, p := range loaded.Problems {
		if p.Unreadable {
			res.Unreadable++
		}
	}
	extra := problemFindings(loaded.Problems)
	extra = append(extra, deniedFindings(opts.Denied, opts.Rules)...)
	if opts.Fallback != "" {
		extra = append(extra, fallbackFinding(opts.Fallback))
	}
	fs := rules.Analyze(m, opts.Rules) // sorted
	if opts.Catalog != nil {
		extra = append(extra, unknownIgnores(loaded.Objects, opts.Catalog)...)
	}
	if len(extra) > 0 {
		// The rules' findings are the bulk: copied once more only when
		// the driver has findings of its own.
		fs = append(extra, fs...)
		rules.Sort(fs)
	}
	res.RulesTime = time.Since(start)
	res.Findings, res.Suppressed = suppress(fs, loaded.Objects, opts.Ignore)
	return res
}

// problemFindings turns loader problems into invalid-manifest findings.
func problemFindings(ps []manifest.Problem) []finding.Finding {
	out := make([]finding.Finding, 0, len(ps))
	for _, p := range ps {
		sev := finding.Error
		symptom := "kubectl apply rejects this document, and nothing in it is analyzed"
		fix := "correct the document at this line"
		if p.Severity == "warning" {
			sev = finding.Warning
			symptom = "the field is silently ignored: the behaviour you configured does not happen"
			fix = "check the field's spelling and nesting against the Istio reference; remove it if it is not meant to be there"
			if strings.Contains(p.Message, "in the Kubernetes") {
				// Unknown fields of built-in kinds (gofields.go).
				fix = "check the field's spelling and nesting against the Kubernetes API reference (kubectl explain, or https://kubernetes.io/docs/reference/kubernetes-api/); remove it if it is not meant to be there"
			}
		}
		if p.Unreadable {
			symptom = "nothing in this file was analyzed: the run says nothing about it"
			fix = "leave the file out of the paths, or save it as UTF-8 (or UTF-16 with a byte order mark) YAML or JSON"
			if strings.Contains(p.Message, "permission denied") {
				fix = "give the user running meshdoctor read access (e.g. chmod a+r " + p.Pos.File + "), or leave the file out of the paths"
			}
		}
		f := finding.Finding{Code: rules.InvalidManifest.Code, Rule: rules.InvalidManifest.Name, Severity: sev, Origin: p.Pos, Message: p.Message, Symptom: symptom, Fix: fix}
		if p.Ref != nil {
			f.Resource = *p.Ref
		} else {
			f.Resource = manifest.Ref{Kind: "File", Name: p.Pos.File}
		}
		out = append(out, f)
	}
	return out
}

// ignoreEntries reads the annotation's comma-separated rule names and
// codes, lower-cased: one language with --ignore, in any case.
func ignoreEntries(v string) []string {
	var out []string
	for _, r := range strings.Split(v, ",") {
		if r = strings.ToLower(strings.TrimSpace(r)); r != "" {
			out = append(out, r)
		}
	}
	return out
}

func suppress(fs []finding.Finding, objs []*manifest.Object, ignores []Ignore) ([]finding.Finding, int) {
	annotated := map[manifest.Ref]map[string]bool{}
	for _, o := range objs {
		if v := o.Annotations[IgnoreAnnotation]; v != "" {
			set := map[string]bool{}
			for _, r := range ignoreEntries(v) {
				set[r] = true
			}
			annotated[o.Ref()] = set
		}
	}
	out := fs[:0]
	n := 0
	for _, f := range fs {
		set := annotated[f.Resource]
		if set[strings.ToLower(f.Rule)] || set[strings.ToLower(f.Code)] || set["all"] || ignored(f, ignores) {
			n++
			continue
		}
		out = append(out, f)
	}
	return out, n
}

func ignored(f finding.Finding, ignores []Ignore) bool {
	for _, ig := range ignores {
		if ig.Rule != f.Rule {
			continue
		}
		if ig.Resource == nil {
			return true
		}
		// Kinds as kubectl takes them, in any case (virtualservice/x).
		if r := *ig.Resource; strings.EqualFold(r.Kind, f.Resource.Kind) && r.Namespace == f.Resource.Namespace && r.Name == f.Resource.Name {
			return true
		}
	}
	return false
}

// unknownIgnores warns about meshdoctor.io/ignore entries that name no
// rule (a typo, a rule renamed): they silence nothing, and the user
// believes they do. A warning rather than an error, since the annotation
// may be written for a newer meshdoctor.
func unknownIgnores(objs []*manifest.Object, catalog []*rules.Rule) []finding.Finding {
	known := map[string]bool{"all": true}
	for _, r := range catalog {
		known[strings.ToLower(r.Name)], known[strings.ToLower(r.Code)] = true, true
	}
	var out []finding.Finding
	for _, o := range objs {
		v := o.Annotations[IgnoreAnnotation]
		if v == "" {
			continue
		}
		for _, e := range ignoreEntries(v) {
			if known[e] {
				continue
			}
			msg := fmt.Sprintf("%s %s names no rule %q: it silences nothing", IgnoreAnnotation, o.Ref(), e)
			names := make([]string, 0, len(catalog))
			for _, r := range catalog {
				names = append(names, r.Name)
			}
			if s := spelling.Closest(e, names, 3); s != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", s)
			}
			out = append(out, finding.Finding{
				Code: rules.InvalidManifest.Code, Rule: rules.InvalidManifest.Name, Severity: finding.Warning,
				Resource: o.Ref(), Origin: o.Pos("metadata", "annotations", IgnoreAnnotation), Message: msg,
				Symptom: "the findings it was meant to silence are still reported",
				Fix:     "use rule names or codes from `meshdoctor rules`, separated by commas, or all",
			})
		}
	}
	return out
}

// Summary counts findings by severity.
type Summary struct {
	Errors     int            `json:"errors" yaml:"errors"`
	Warnings   int            `json:"warnings" yaml:"warnings"`
	Infos      int            `json:"infos" yaml:"infos"`
	Objects    int            `json:"objects" yaml:"objects"`
	Files      int            `json:"files" yaml:"files"`
	Suppressed int            `json:"suppressed" yaml:"suppressed"`
	Skipped    map[string]int `json:"skippedKinds,omitempty" yaml:"skippedKinds,omitempty"`
	// SkippedFiles are files (and Helm chart directories) in the given
	// directories that are not manifests: tool configuration
	// (kustomization.yaml, values.yaml), charts, files without an object.
	SkippedFiles []string `json:"skippedFiles,omitempty" yaml:"skippedFiles,omitempty"`
}

// Summary of the result.
func (r *Result) Summary() Summary {
	s := Summary{Objects: r.Objects, Files: r.Files, Suppressed: r.Suppressed, Skipped: r.Unknown, SkippedFiles: r.NotManifests}
	for _, f := range r.Findings {
		switch f.Severity {
		case finding.Error:
			s.Errors++
		case finding.Warning:
			s.Warnings++
		case finding.Info:
			s.Infos++
		}
	}
	if len(s.Skipped) == 0 {
		s.Skipped = nil
	}
	return s
}

// Worst returns the highest severity among findings (0 when none).
func (r *Result) Worst() finding.Severity {
	var w finding.Severity
	for _, f := range r.Findings {
		if f.Severity > w {
			w = f.Severity
		}
	}
	return w
}

// SkippedLine describes unknown kinds in one line, e.g.
// "skipped 3 objects of kinds meshdoctor does not analyze: Certificate.cert-manager.io (2), Foo.example.com (1)".
func SkippedLine(unknown map[string]int) string {
	if len(unknown) == 0 {
		return ""
	}
	keys := make([]string, 0, len(unknown))
	total := 0
	for k, n := range unknown {
		keys = append(keys, k)
		total += n
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s (%d)", k, unknown[k])
	}
	noun := "objects"
	if total == 1 {
		noun = "object"
	}
	return fmt.Sprintf("skipped %d %s of kinds meshdoctor does not analyze: %s", total, noun, strings.Join(parts, ", "))
}

// generators are the skipped files that create objects when rendered:
// Helm chart directories (listed with a trailing separator) and
// kustomizations.
func generators(skipped []string) []string {
	var out []string
	for _, p := range skipped {
		base := filepath.Base(p)
		if strings.HasSuffix(p, string(filepath.Separator)) || base == "kustomization.yaml" || base == "kustomization.yml" {
			out = append(out, p)
		}
	}
	return out
}
