package report

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/analysis"
	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

type palette struct{ err, warn, info, bold, dim, reset string }

func colors(on bool) palette {
	if !on {
		return palette{}
	}
	return palette{err: "\x1b[31;1m", warn: "\x1b[33;1m", info: "\x1b[36m", bold: "\x1b[1m", dim: "\x1b[2m", reset: "\x1b[0m"}
}

// writeText groups findings by severity (worst first), then by resource, so
// a reader sees what breaks traffic before what merely looks odd.
func writeText(w io.Writer, res *analysis.Result, opts Options) error {
	c := colors(opts.Color)
	ew := &errWriter{w: w}
	for _, sev := range []finding.Severity{finding.Error, finding.Warning, finding.Info} {
		// Findings by resource, as indexes (tens of thousands of findings
		// are not copied).
		var order []manifest.Ref
		groups := map[manifest.Ref][]int32{}
		for i := range res.Findings {
			f := &res.Findings[i]
			if f.Severity != sev {
				continue
			}
			if _, ok := groups[f.Resource]; !ok {
				order = append(order, f.Resource)
			}
			groups[f.Resource] = append(groups[f.Resource], int32(i))
		}
		// Each resource's block is built in b and written at once:
		// formatting tens of thousands of findings with fmt was most of
		// the text report's time.
		label := fmt.Sprintf("%-7s", strings.ToUpper(sev.String()))
		var b []byte
		for _, ref := range order {
			b = cat(b[:0], sevColor(c, sev), label, c.reset, " ", c.bold, ref.String(), c.reset, "\n")
			for _, i := range groups[ref] {
				f := &res.Findings[i]
				b = cat(b, "  ", c.dim, f.Origin.String(), c.reset, "  ", f.Rule, " [", f.Code, "]")
				if f.PreExisting {
					b = cat(b, " (pre-existing)")
				}
				b = cat(b, "\n    ")
				b = appendIndented(b, f.Message, "    ")
				b = cat(b, "\n")
				b = appendLabelled(b, c, "symptom:", f.Symptom, "    ")
				b = appendLabelled(b, c, "fix:", f.Fix, "      ")
			}
			b = append(b, '\n')
			ew.write(b)
		}
	}
	s := res.Summary()
	if line := analysis.SkippedLine(s.Skipped); line != "" {
		ew.printf("%s%s%s\n", c.dim, line, c.reset)
	}
	if len(s.SkippedFiles) > 0 {
		// The full list is in -o json; a terminal gets the first few.
		list := s.SkippedFiles
		more := ""
		if len(list) > 8 {
			list, more = list[:8], fmt.Sprintf(" and %d more (-o json lists all)", len(s.SkippedFiles)-8)
		}
		ew.printf("%sskipped %s that are not Kubernetes manifests (tool configuration, Helm charts, Kustomize patches, data files): %s%s%s\n", c.dim, plural(len(s.SkippedFiles), "file"), strings.Join(list, ", "), more, c.reset)
	}
	if len(res.Findings) == 0 {
		ew.printf("No problems found in %d objects from %s.\n", s.Objects, files(s.Files))
	} else {
		// Many findings: an overview by rule first, most frequent first,
		// so a large cluster's report starts with what dominates it.
		if len(res.Findings) > 20 {
			ew.printf("%sby rule: %s%s\n", c.dim, byRule(res.Findings), c.reset)
		}
		ew.printf("%s, %s, %s in %d objects from %s", plural(s.Errors, "error"), plural(s.Warnings, "warning"), plural(s.Infos, "info"), s.Objects, files(s.Files))
		if s.Suppressed > 0 {
			ew.printf(" (%d suppressed)", s.Suppressed)
		}
		ew.printf(".\n")
	}
	return ew.err
}

// byRule counts findings per rule: "mtls-mode-conflict 12, subset-not-found 3".
func byRule(fs []finding.Finding) string {
	count := map[string]int{}
	var rules []string
	for _, f := range fs {
		if count[f.Rule] == 0 {
			rules = append(rules, f.Rule)
		}
		count[f.Rule]++
	}
	sort.SliceStable(rules, func(i, j int) bool {
		if count[rules[i]] != count[rules[j]] {
			return count[rules[i]] > count[rules[j]]
		}
		return rules[i] < rules[j]
	})
	parts := make([]string, len(rules))
	for i, r := range rules {
		parts[i] = fmt.Sprintf("%s %d", r, count[r])
	}
	return strings.Join(parts, ", ")
}

func sevColor(c palette, s finding.Severity) string {
	switch s {
	case finding.Error:
		return c.err
	case finding.Warning:
		return c.warn
	}
	return c.info
}

// cat appends the strings to b.
func cat(b []byte, parts ...string) []byte {
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// appendLabelled appends "    label: text" (text indented by pad on its
// later lines) and a newline; nothing when text is empty.
func appendLabelled(b []byte, c palette, label, text, pad string) []byte {
	if text == "" {
		return b
	}
	b = cat(b, "    ", c.bold, label, c.reset, " ")
	b = appendIndented(b, text, pad)
	return append(b, '\n')
}

// appendIndented appends s with pad after each of its newlines.
func appendIndented(b []byte, s, pad string) []byte {
	for {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			return append(b, s...)
		}
		b = append(b, s[:i+1]...)
		b = append(b, pad...)
		s = s[i+1:]
	}
}

func plural(n int, word string) string {
	if n == 1 || word == "info" {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func files(n int) string {
	if n == 0 {
		return "the cluster"
	}
	if n == 1 {
		return "1 file"
	}
	return fmt.Sprintf("%d files", n)
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) write(b []byte) {
	if e.err == nil {
		_, e.err = e.w.Write(b)
	}
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
