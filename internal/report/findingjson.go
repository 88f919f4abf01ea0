package report

import (
	"strconv"
	"unicode/utf8"

	"github.com/meshdoctor/meshdoctor/internal/finding"
)

// Findings and SARIF results are encoded by hand, laid out as
// json.MarshalIndent lays them out: a neglected mesh has tens of thousands
// of findings, and encoding each by reflection and indenting it afterwards
// was most of the report's time. TestAppendFindingMatches and
// TestAppendSARIFResultMatches hold them to encoding/json's output.

// jsonWriter appends indented JSON; prefix is the indentation of the
// value being written (its first line is already in place).
type jsonWriter struct {
	b      []byte
	prefix string
	first  []bool // per open object or array: no member yet
}

func (w *jsonWriter) open(c byte) {
	w.b = append(w.b, c)
	w.first = append(w.first, true)
	w.prefix += "  "
}

func (w *jsonWriter) close(c byte) {
	w.prefix = w.prefix[:len(w.prefix)-2]
	empty := w.first[len(w.first)-1]
	w.first = w.first[:len(w.first)-1]
	if !empty {
		w.b = append(w.b, '\n')
		w.b = append(w.b, w.prefix...)
	}
	w.b = append(w.b, c)
}

// member starts the next member of the open object (key != "") or array.
func (w *jsonWriter) member(key string) {
	top := len(w.first) - 1
	if !w.first[top] {
		w.b = append(w.b, ',')
	}
	w.first[top] = false
	w.b = append(w.b, '\n')
	w.b = append(w.b, w.prefix...)
	if key != "" {
		w.b = appendString(w.b, key)
		w.b = append(w.b, ": "...)
	}
}

func (w *jsonWriter) str(key, v string) {
	w.member(key)
	w.b = appendString(w.b, v)
}

func (w *jsonWriter) int(key string, v int) {
	w.member(key)
	w.b = strconv.AppendInt(w.b, int64(v), 10)
}

// appendFinding appends f as json.MarshalIndent(f, prefix, "  ") would.
func appendFinding(b []byte, f *finding.Finding, prefix string) []byte {
	w := jsonWriter{b: b, prefix: prefix}
	w.open('{')
	w.str("code", f.Code)
	w.str("rule", f.Rule)
	w.str("severity", f.Severity.String())
	w.member("resource")
	w.open('{')
	w.str("kind", f.Resource.Kind)
	if f.Resource.Namespace != "" {
		w.str("namespace", f.Resource.Namespace)
	}
	w.str("name", f.Resource.Name)
	w.close('}')
	w.member("origin")
	w.open('{')
	w.str("file", f.Origin.File)
	w.int("line", f.Origin.Line)
	w.close('}')
	w.str("message", f.Message)
	w.str("symptom", f.Symptom)
	w.str("fix", f.Fix)
	if f.PreExisting {
		w.member("preExisting")
		w.b = append(w.b, "true"...)
	}
	w.close('}')
	return w.b
}

// appendSARIFResult appends r as json.MarshalIndent(r, prefix, "  ") would.
func appendSARIFResult(b []byte, r *sarifResult, prefix string) []byte {
	w := jsonWriter{b: b, prefix: prefix}
	w.open('{')
	w.str("ruleId", r.RuleID)
	w.int("ruleIndex", r.RuleIndex)
	w.str("level", r.Level)
	w.member("message")
	w.open('{')
	if r.messageParts != nil {
		w.member("text")
		w.b = appendStrings(w.b, r.messageParts...)
	} else {
		w.str("text", r.Message.Text)
	}
	w.close('}')
	w.member("locations")
	if r.Locations == nil {
		w.b = append(w.b, "null"...)
	} else {
		w.open('[')
		for _, l := range r.Locations {
			w.member("")
			w.open('{')
			if p := l.Physical; p != nil {
				w.member("physicalLocation")
				w.open('{')
				w.member("artifactLocation")
				w.open('{')
				w.str("uri", p.Artifact.URI)
				w.close('}')
				if p.Region != nil {
					w.member("region")
					w.open('{')
					w.int("startLine", p.Region.StartLine)
					w.close('}')
				}
				w.close('}')
			}
			if len(l.Logical) > 0 {
				w.member("logicalLocations")
				w.open('[')
				for _, lg := range l.Logical {
					w.member("")
					w.open('{')
					w.str("fullyQualifiedName", lg.FullyQualifiedName)
					w.str("kind", lg.Kind)
					w.close('}')
				}
				w.close(']')
			}
			w.close('}')
		}
		w.close(']')
	}
	w.close('}')
	return w.b
}

// appendStrings appends the concatenation of parts as one JSON string,
// without building it.
func appendStrings(b []byte, parts ...string) []byte {
	for _, p := range parts {
		if !utf8.ValidString(p) {
			// A rune split between parts would be escaped differently.
			var s string
			for _, p := range parts {
				s += p
			}
			return appendString(b, s)
		}
	}
	b = append(b, '"')
	for _, p := range parts {
		b = appendStringBody(b, p)
	}
	return append(b, '"')
}

// appendString appends s as encoding/json writes a string: HTML-safe
// (<, > and & escaped), U+2028 and U+2029 escaped, invalid UTF-8 as U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendStringBody(b, s)
	return append(b, '"')
}

// appendStringBody is appendString without the quotes.
func appendStringBody(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(b, s[start:]...)
}
