// Package ruledoc renders the rule catalog as documentation: the Markdown
// reference in docs/rules.md and the terminal text of `meshdoctor rules NAME`.
// Both come from the rule values, so docs are never written twice.
package ruledoc

import (
	"fmt"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// Markdown renders the whole catalog.
func Markdown(rs []*rules.Rule) string {
	var b strings.Builder
	b.WriteString("# meshdoctor rules\n\n")
	b.WriteString("<!-- Generated from the rule definitions by `go run ./cmd/meshdoctor rules --markdown > docs/rules.md`. Do not edit. -->\n\n")
	b.WriteString("| Code | Rule | Severity | Area | Summary |\n|---|---|---|---|---|\n")
	for _, r := range rs {
		fmt.Fprintf(&b, "| %s | [%s](#%s) | %s | %s | %s |\n", r.Code, r.Name, r.Name, r.Severity, r.Area, r.Summary)
	}
	for _, r := range rs {
		fmt.Fprintf(&b, "\n## %s\n\n", r.Name)
		fmt.Fprintf(&b, "`%s` · severity **%s** · area %s · since %s", r.Code, r.Severity, r.Area, r.Since)
		if len(r.IST) > 0 {
			fmt.Fprintf(&b, " · covers istioctl analyze %s", strings.Join(r.IST, ", "))
		}
		b.WriteString("\n\n")
		fmt.Fprintf(&b, "%s\n\n", r.Summary)
		fmt.Fprintf(&b, "**Mechanism.** %s\n\n", r.Doc.Mechanism)
		fmt.Fprintf(&b, "**Symptom.** %s\n\n", r.Doc.Symptom)
		fmt.Fprintf(&b, "**Fix.** %s\n\n", r.Doc.Fix)
		if r.Doc.Before != "" {
			fmt.Fprintf(&b, "Before:\n\n```yaml\n%s\n```\n\n", strings.TrimRight(r.Doc.Before, "\n"))
		}
		if r.Doc.After != "" {
			fmt.Fprintf(&b, "After:\n\n```yaml\n%s\n```\n\n", strings.TrimRight(r.Doc.After, "\n"))
		}
		if len(r.Doc.Sources) > 0 {
			b.WriteString("Sources:\n\n")
			for _, s := range r.Doc.Sources {
				fmt.Fprintf(&b, "- %s\n", s)
			}
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "Silence with the annotation `meshdoctor.io/ignore: \"%s\"` on the resource, or `--ignore %s`.\n", r.Name, r.Name)
	}
	return b.String()
}

// Text renders one rule for the terminal.
func Text(r *rules.Rule) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s) — %s, area %s, since %s\n", r.Name, r.Code, r.Severity, r.Area, r.Since)
	if len(r.IST) > 0 {
		fmt.Fprintf(&b, "covers istioctl analyze %s\n", strings.Join(r.IST, ", "))
	}
	fmt.Fprintf(&b, "\n%s\n\n", r.Summary)
	fmt.Fprintf(&b, "MECHANISM\n  %s\n\nSYMPTOM\n  %s\n\nFIX\n  %s\n", wrap(r.Doc.Mechanism), wrap(r.Doc.Symptom), wrap(r.Doc.Fix))
	if r.Doc.Before != "" {
		fmt.Fprintf(&b, "\nBEFORE\n%s\n", indentBlock(r.Doc.Before))
	}
	if r.Doc.After != "" {
		fmt.Fprintf(&b, "\nAFTER\n%s\n", indentBlock(r.Doc.After))
	}
	if len(r.Doc.Sources) > 0 {
		b.WriteString("\nSOURCES\n")
		for _, s := range r.Doc.Sources {
			fmt.Fprintf(&b, "  %s\n", s)
		}
	}
	return b.String()
}

func indentBlock(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = "  " + l
	}
	return strings.Join(lines, "\n")
}

// wrap folds prose at about 78 columns with a two-space indent.
func wrap(s string) string {
	var out strings.Builder
	col := 0
	for i, w := range strings.Fields(s) {
		if i > 0 {
			if col+1+len(w) > 76 {
				out.WriteString("\n  ")
				col = 0
			} else {
				out.WriteByte(' ')
				col++
			}
		}
		out.WriteString(w)
		col += len(w)
	}
	return out.String()
}
