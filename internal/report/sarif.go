package report

import (
	"bufio"
	"bytes"
	"path/filepath"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/analysis"
	"github.com/meshdoctor/meshdoctor/internal/finding"
)

// SARIF 2.1.0, the subset GitHub code scanning reads:
// https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string            `json:"id"`
	Name                 string            `json:"name"`
	ShortDescription     sarifText         `json:"shortDescription"`
	FullDescription      sarifText         `json:"fullDescription"`
	Help                 sarifHelp         `json:"help"`
	DefaultConfiguration sarifRuleConfig   `json:"defaultConfiguration"`
	Properties           map[string]string `json:"properties,omitempty"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifHelp struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifRuleConfig struct {
	Level string `json:"level"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations"`
	// messageParts, when set, are Message.Text in pieces, written
	// without joining them (appendSARIFResult).
	messageParts []string
}

type sarifLocation struct {
	Physical *sarifPhysical `json:"physicalLocation,omitempty"`
	Logical  []sarifLogical `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	Artifact sarifArtifact `json:"artifactLocation"`
	Region   *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifLogical struct {
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

func level(s finding.Severity) string {
	switch s {
	case finding.Error:
		return "error"
	case finding.Warning:
		return "warning"
	}
	return "note"
}

func writeSARIF(w *bufio.Writer, res *analysis.Result, opts Options) error {
	drv := sarifDriver{Name: "meshdoctor", Version: opts.Version, InformationURI: "https://github.com/meshdoctor/meshdoctor", Rules: []sarifRule{}}
	index := map[string]int{}
	for _, r := range opts.Rules {
		index[r.Name] = len(drv.Rules)
		help := r.Doc.Mechanism + "\n\nSymptom: " + r.Doc.Symptom + "\n\nFix: " + r.Doc.Fix
		drv.Rules = append(drv.Rules, sarifRule{
			ID: r.Code, Name: r.Name,
			ShortDescription:     sarifText{r.Summary},
			FullDescription:      sarifText{r.Doc.Mechanism},
			Help:                 sarifHelp{Text: help, Markdown: help},
			DefaultConfiguration: sarifRuleConfig{level(r.Severity)},
			Properties:           map[string]string{"area": r.Area},
		})
	}
	result := func(i int) sarifResult {
		f := &res.Findings[i]
		parts := []string{f.Message}
		if f.Symptom != "" {
			parts = append(parts, "\nSymptom: ", f.Symptom)
		}
		if f.Fix != "" {
			parts = append(parts, "\nFix: ", f.Fix)
		}
		loc := sarifLocation{Logical: []sarifLogical{{FullyQualifiedName: f.Resource.String(), Kind: "resource"}}}
		if f.Origin.File != "" && !strings.HasPrefix(f.Origin.File, "<") && !strings.Contains(f.Origin.File, "://") {
			loc.Physical = &sarifPhysical{Artifact: sarifArtifact{URI: filepath.ToSlash(f.Origin.File)}}
			if f.Origin.Line > 0 {
				loc.Physical.Region = &sarifRegion{StartLine: f.Origin.Line}
			}
		}
		return sarifResult{RuleID: f.Code, RuleIndex: index[f.Rule], Level: level(f.Severity), messageParts: parts, Locations: []sarifLocation{loc}}
	}
	// The sarifLog of one run, laid out as json.Encoder with a two-space
	// indent would, the results streamed one by one.
	var scratch bytes.Buffer
	w.WriteString("{\n  \"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\",\n  \"version\": \"2.1.0\",\n  \"runs\": [\n    {\n      \"tool\": ")
	if err := writeIndented(w, &scratch, sarifTool{Driver: drv}, "      "); err != nil {
		return err
	}
	w.WriteString(",\n      \"results\": ")
	writeArray(w, len(res.Findings), "      ", func(b []byte, i int, prefix string) []byte {
		r := result(i)
		return appendSARIFResult(b, &r, prefix)
	})
	w.WriteString("\n    }\n  ]\n}\n")
	return nil
}
