// Package catalog lists every rule meshdoctor has, in a stable order.
package catalog

import (
	"sort"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/rules"
	"github.com/meshdoctor/meshdoctor/internal/rules/gateway"
	"github.com/meshdoctor/meshdoctor/internal/rules/reference"
	"github.com/meshdoctor/meshdoctor/internal/rules/security"
	"github.com/meshdoctor/meshdoctor/internal/rules/traffic"
	"github.com/meshdoctor/meshdoctor/internal/rules/workload"
)

var all = func() []*rules.Rule {
	var rs []*rules.Rule
	for _, area := range [][]*rules.Rule{traffic.Rules, security.Rules, gateway.Rules, workload.Rules, reference.Rules} {
		rs = append(rs, area...)
	}
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].Code < rs[j].Code })
	return append([]*rules.Rule{rules.InvalidManifest, rules.InternalError, rules.PartialAccess, rules.UpgradeChange, rules.RolloutOrder}, rs...)
}()

// All returns every rule, built-in findings first, then by code.
func All() []*rules.Rule { return all }

// ByIST lists the rules that cover an istioctl analyze code (IST0101), in
// any case.
func ByIST(code string) []*rules.Rule {
	var out []*rules.Rule
	for _, r := range all {
		for _, c := range r.IST {
			if strings.EqualFold(c, code) {
				out = append(out, r)
			}
		}
	}
	return out
}

// ByName finds a rule by its kebab-case name or its code, in any case
// (md1001, Subset-Not-Found): names are what users type.
func ByName(name string) *rules.Rule {
	for _, r := range all {
		if strings.EqualFold(r.Name, name) || strings.EqualFold(r.Code, name) {
			return r
		}
	}
	return nil
}
