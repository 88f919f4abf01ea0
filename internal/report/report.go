// Package report renders analysis results as text for terminals, JSON and
// YAML for tools, and SARIF for code-scanning UIs.
package report

import (
	"encoding/json"
	"fmt"
	"io"

	"sigs.k8s.io/yaml"

	"github.com/meshdoctor/meshdoctor/internal/analysis"
	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// Formats lists the -o values.
var Formats = []string{"text", "json", "yaml", "sarif"}

// Options tune rendering.
type Options struct {
	Color   bool
	Version string        // meshdoctor version, for SARIF
	Rules   []*rules.Rule // the catalog, for SARIF rule metadata
}

// Document is the JSON/YAML shape other tools parse; keep it stable.
type Document struct {
	Findings []finding.Finding `json:"findings"`
	Summary  analysis.Summary  `json:"summary"`
}

// Write renders res in format.
func Write(w io.Writer, format string, res *analysis.Result, opts Options) error {
	switch format {
	case "text", "":
		return writeText(w, res, opts)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(document(res))
	case "yaml":
		b, err := json.Marshal(document(res))
		if err != nil {
			return err
		}
		y, err := yaml.JSONToYAML(b)
		if err != nil {
			return err
		}
		_, err = w.Write(y)
		return err
	case "sarif":
		return writeSARIF(w, res, opts)
	}
	return fmt.Errorf("unknown output format %q (want text, json, yaml or sarif)", format)
}

func document(res *analysis.Result) Document {
	fs := res.Findings
	if fs == nil {
		fs = []finding.Finding{}
	}
	return Document{Findings: fs, Summary: res.Summary()}
}
