// Package finding defines what meshdoctor reports: one problem, pinned to a
// resource and the line to change, with the symptom and the fix.
package finding

import (
	"fmt"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

// Severity orders findings; CI gates on it (--fail-on).
type Severity int

// Severities, least to most severe.
const (
	Info Severity = iota + 1
	Warning
	Error
)

func (s Severity) String() string {
	switch s {
	case Info:
		return "info"
	case Warning:
		return "warning"
	case Error:
		return "error"
	}
	return "none"
}

// ParseSeverity reads "info", "warning", "error" (and "none" as 0).
func ParseSeverity(s string) (Severity, error) {
	switch strings.ToLower(s) {
	case "info":
		return Info, nil
	case "warning", "warn":
		return Warning, nil
	case "error":
		return Error, nil
	case "none":
		return 0, nil
	}
	return 0, fmt.Errorf("unknown severity %q (want none, info, warning or error)", s)
}

// MarshalText renders the severity as its name in JSON and YAML.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Finding is one reported problem.
type Finding struct {
	Code     string            `json:"code" yaml:"code"`
	Rule     string            `json:"rule" yaml:"rule"`
	Severity Severity          `json:"severity" yaml:"severity"`
	Resource manifest.Ref      `json:"resource" yaml:"resource"`
	Origin   manifest.Position `json:"origin" yaml:"origin"`
	// Message names the objects, hosts and ports involved.
	Message string `json:"message" yaml:"message"`
	// Symptom is what the user will see when traffic flows.
	Symptom string `json:"symptom" yaml:"symptom"`
	// Fix is the concrete change, usually YAML to apply.
	Fix string `json:"fix" yaml:"fix"`
	// PreExisting marks findings on cluster resources the overlay did not
	// change (--kube with files).
	PreExisting bool `json:"preExisting,omitempty" yaml:"preExisting,omitempty"`
}
