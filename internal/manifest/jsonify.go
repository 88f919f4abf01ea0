package manifest

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// appendJSON writes n as JSON. Going from the YAML node straight to JSON
// bytes (instead of through map[string]any) keeps one decoding pass cheap;
// the typed decode then uses the types' own JSON tags and unmarshalers.
func appendJSON(buf *bytes.Buffer, n *yaml.Node, depth int) {
	n = derefAlias(n)
	if n == nil || depth > maxDepth {
		buf.WriteString("null")
		return
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			buf.WriteString("null")
			return
		}
		appendJSON(buf, n.Content[0], depth+1)
	case yaml.MappingNode:
		buf.WriteByte('{')
		first := true
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := derefAlias(n.Content[i])
			if k == nil {
				continue
			}
			if k.Tag == "!!merge" {
				// "<<: *anchor": fold the anchored mapping's keys in.
				if m := derefAlias(n.Content[i+1]); m != nil && m.Kind == yaml.MappingNode {
					for j := 0; j+1 < len(m.Content); j += 2 {
						if !first {
							buf.WriteByte(',')
						}
						first = false
						writeString(buf, m.Content[j].Value)
						buf.WriteByte(':')
						appendJSON(buf, m.Content[j+1], depth+1)
					}
				}
				continue
			}
			if !first {
				buf.WriteByte(',')
			}
			first = false
			writeString(buf, k.Value)
			buf.WriteByte(':')
			appendJSON(buf, n.Content[i+1], depth+1)
		}
		buf.WriteByte('}')
	case yaml.SequenceNode:
		buf.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				buf.WriteByte(',')
			}
			appendJSON(buf, c, depth+1)
		}
		buf.WriteByte(']')
	case yaml.ScalarNode:
		appendScalar(buf, n)
	default:
		buf.WriteString("null")
	}
}

// appendJSONExcept writes the mapping n as JSON without the top-level key
// skip.
func appendJSONExcept(buf *bytes.Buffer, n *yaml.Node, skip string) {
	n = derefAlias(n)
	if n == nil || n.Kind != yaml.MappingNode {
		appendJSON(buf, n, 0)
		return
	}
	trimmed := *n
	trimmed.Content = nil
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value != skip {
			trimmed.Content = append(trimmed.Content, n.Content[i], n.Content[i+1])
		}
	}
	appendJSON(buf, &trimmed, 0)
}

// maxDepth bounds recursion on hostile input (deeply nested flow sequences).
const maxDepth = 200

func appendScalar(buf *bytes.Buffer, n *yaml.Node) {
	appendScalarValue(buf, n.ShortTag(), n.Value)
}

// appendScalarValue writes a scalar of the resolved YAML tag as JSON.
func appendScalarValue(buf *bytes.Buffer, tag, value string) {
	switch tag {
	case "!!null":
		buf.WriteString("null")
	case "!!bool":
		if b, err := strconv.ParseBool(strings.ToLower(value)); err == nil && b {
			buf.WriteString("true")
		} else {
			buf.WriteString("false")
		}
	case "!!int":
		v := strings.ReplaceAll(value, "_", "")
		if i, err := strconv.ParseInt(v, 0, 64); err == nil {
			buf.WriteString(strconv.FormatInt(i, 10))
		} else if u, err := strconv.ParseUint(v, 0, 64); err == nil {
			buf.WriteString(strconv.FormatUint(u, 10))
		} else {
			writeString(buf, value)
		}
	case "!!float":
		f, err := strconv.ParseFloat(strings.ReplaceAll(value, "_", ""), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			writeString(buf, value)
			return
		}
		buf.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
	default:
		writeString(buf, value)
	}
}

// writeString writes s as a JSON string. Hand-written because it runs for
// every key and value of every document; invalid UTF-8 becomes U+FFFD as
// encoding/json would make it.
func writeString(buf *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	buf.WriteByte('"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			buf.WriteString(s[start:i])
			switch c {
			case '"', '\\':
				buf.WriteByte('\\')
				buf.WriteByte(c)
			case '\n':
				buf.WriteString(`\n`)
			case '\t':
				buf.WriteString(`\t`)
			case '\r':
				buf.WriteString(`\r`)
			default:
				buf.WriteString(`\u00`)
				buf.WriteByte(hex[c>>4])
				buf.WriteByte(hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf.WriteString(s[start:i])
			buf.WriteString(`\ufffd`)
			i++
			start = i
			continue
		}
		i += size
	}
	buf.WriteString(s[start:])
	buf.WriteByte('"')
}

func derefAlias(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < maxDepth; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.AliasNode {
		return nil
	}
	return n
}

// YAMLToJSON converts one YAML document (such as the mesh config embedded in
// the istio ConfigMap) to JSON with the same rules the loader uses.
func YAMLToJSON(data []byte) ([]byte, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil {
		return nil, err
	}
	if _, err := checkAliases(&n); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	appendJSON(&buf, &n, 0)
	return buf.Bytes(), nil
}
