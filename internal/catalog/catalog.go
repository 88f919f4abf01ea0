// Package catalog lists every rule meshdoctor has, in a stable order.
package catalog

import (
	"github.com/meshdoctor/meshdoctor/internal/rules"
	"github.com/meshdoctor/meshdoctor/internal/rules/traffic"
)

// All returns every rule, built-in findings first, then by code.
func All() []*rules.Rule {
	return []*rules.Rule{
		rules.InvalidManifest,
		rules.InternalError,
		traffic.SubsetNotFound,
	}
}

// ByName finds a rule by its kebab-case name or its code.
func ByName(name string) *rules.Rule {
	for _, r := range All() {
		if r.Name == name || r.Code == name {
			return r
		}
	}
	return nil
}
