package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

// sameAsEncodingJSON checks that appendFn writes v as encoding/json's
// MarshalIndent(v, prefix, "  ") does.
func sameAsEncodingJSON[T any](t *testing.T, v *T, prefix string, appendFn func([]byte, *T, string) []byte) {
	t.Helper()
	want, err := json.MarshalIndent(v, prefix, "  ")
	if err != nil {
		t.Fatal(err)
	}
	if got := appendFn(nil, v, prefix); !bytes.Equal(got, want) {
		t.Errorf("hand-written encoding differs from encoding/json\ngot  %s\nwant %s", got, want)
	}
}

func checkAppendFinding(t *testing.T, f finding.Finding) {
	t.Helper()
	sameAsEncodingJSON(t, &f, "    ", appendFinding)
}

func TestAppendFindingMatches(t *testing.T) {
	base := finding.Finding{Code: "MD1003", Rule: "subset-selects-no-pods", Severity: finding.Error,
		Resource: manifest.Ref{Kind: "DestinationRule", Namespace: "prod", Name: "reviews"},
		Origin:   manifest.Position{File: "a/b.yaml", Line: 12},
		Message:  `subset "v2" selects version=v2`, Symptom: "HTTP 503 <UH> & more", Fix: "spec:\n  host: a\t# tab"}
	checkAppendFinding(t, base)
	f := base
	f.Resource.Namespace, f.Origin.Line, f.PreExisting, f.Severity = "", 0, true, finding.Info
	checkAppendFinding(t, f)
	for _, s := range []string{"", "\x00\x01\x1f\x7f", "\xff\xfe bad", "line\u2028sep\u2029", "\\back\\slash", "é ü 漢字 🙂", "\b\f\r"} {
		f := base
		f.Message, f.Fix, f.Resource.Name, f.Origin.File = s, s, s, s
		checkAppendFinding(t, f)
	}
}

func FuzzAppendFinding(f *testing.F) {
	f.Add("a<b>&c", "x\u2028y", 3, true)
	f.Add("\xff", "", 0, false)
	f.Fuzz(func(t *testing.T, msg, ns string, line int, pre bool) {
		checkAppendFinding(t, finding.Finding{Code: "MD0001", Rule: "r", Severity: finding.Warning,
			Resource: manifest.Ref{Kind: "K", Namespace: ns, Name: msg}, Origin: manifest.Position{File: ns, Line: line},
			Message: msg, Symptom: ns, Fix: msg + ns, PreExisting: pre})
	})
}

func TestAppendSARIFResultMatches(t *testing.T) {
	for _, r := range []sarifResult{
		{RuleID: "MD1003", RuleIndex: 4, Level: "error", Message: sarifText{"a <b> & \"c\"\nSymptom: d"},
			Locations: []sarifLocation{{Physical: &sarifPhysical{Artifact: sarifArtifact{URI: "a/b.yaml"}, Region: &sarifRegion{StartLine: 3}},
				Logical: []sarifLogical{{FullyQualifiedName: "DestinationRule/ns/n", Kind: "resource"}}}}},
		{RuleID: "MD0001", Level: "note", Locations: []sarifLocation{{Physical: &sarifPhysical{Artifact: sarifArtifact{URI: "x"}}}}},
		{RuleID: "MD0002", Level: "warning", Locations: []sarifLocation{{Logical: []sarifLogical{{"a", "resource"}, {"b\xff", "resource"}}}}},
		{RuleID: "MD0003", Locations: []sarifLocation{{}}},
		{RuleID: "MD0004"},
	} {
		sameAsEncodingJSON(t, &r, "      ", appendSARIFResult)
	}
}

// TestAppendSARIFMessageParts: a message written in pieces is the message
// written whole, also where a rune is split between pieces.
func TestAppendSARIFMessageParts(t *testing.T) {
	for _, parts := range [][]string{{"a"}, {"a <b>", "\nSymptom: ", "c & d"}, {"\xe6\xbc", "\xa2"}, {"x\xff", "y"}} {
		whole := sarifResult{RuleID: "r", Message: sarifText{strings.Join(parts, "")}}
		inParts := sarifResult{RuleID: "r", messageParts: parts}
		if got, want := appendSARIFResult(nil, &inParts, ""), appendSARIFResult(nil, &whole, ""); !bytes.Equal(got, want) {
			t.Errorf("%q: in parts %s, whole %s", parts, got, want)
		}
	}
}
