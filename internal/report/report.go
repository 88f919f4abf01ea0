// Package report renders analysis results as text for terminals, JSON and
// YAML for tools, and SARIF for code-scanning UIs.
package report

import (
	"bufio"
	"bytes"
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

// Write renders res in format. Text, JSON and SARIF are written finding by
// finding through a buffer, never built whole: a neglected cluster's tens
// of thousands of findings would otherwise be held twice more in memory
// (the encoded document and its indented copy).
func Write(w io.Writer, format string, res *analysis.Result, opts Options) error {
	switch format {
	case "text", "", "json", "sarif":
		b := bufio.NewWriterSize(w, 64<<10)
		var err error
		switch format {
		case "json":
			err = writeJSON(b, res)
		case "sarif":
			err = writeSARIF(b, res, opts)
		default:
			err = writeText(b, res, opts)
		}
		if ferr := b.Flush(); err == nil {
			err = ferr
		}
		return err
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

// writeJSON writes document(res) exactly as json.Encoder with a two-space
// indent would, one finding at a time.
func writeJSON(w *bufio.Writer, res *analysis.Result) error {
	var scratch bytes.Buffer
	w.WriteString("{\n  \"findings\": ")
	writeArray(w, len(res.Findings), "  ", func(b []byte, i int, prefix string) []byte {
		return appendFinding(b, &res.Findings[i], prefix)
	})
	w.WriteString(",\n  \"summary\": ")
	if err := writeIndented(w, &scratch, res.Summary(), "  "); err != nil {
		return err
	}
	w.WriteString("\n}\n")
	return nil
}

// writeArray writes n elements as an indented JSON array whose opening
// bracket is already at indentation prefix, as MarshalIndent lays it out;
// elem appends element i, its first line at the inner indentation.
func writeArray(w *bufio.Writer, n int, prefix string, elem func(b []byte, i int, prefix string) []byte) {
	if n == 0 {
		w.WriteString("[]")
		return
	}
	w.WriteByte('[')
	inner := prefix + "  "
	var b []byte
	for i := 0; i < n; i++ {
		if i > 0 {
			w.WriteByte(',')
		}
		w.WriteString("\n" + inner)
		b = elem(b[:0], i, inner)
		w.Write(b)
	}
	w.WriteString("\n" + prefix + "]")
}

// writeIndented writes v as MarshalIndent(v, prefix, "  ") would, its
// first line already at prefix.
func writeIndented(w *bufio.Writer, scratch *bytes.Buffer, v any, prefix string) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	scratch.Reset()
	if err := json.Indent(scratch, b, prefix, "  "); err != nil {
		return err
	}
	_, err = w.Write(scratch.Bytes())
	return err
}
