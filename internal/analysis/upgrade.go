package analysis

import (
	"github.com/meshdoctor/meshdoctor/internal/rules"
	"github.com/meshdoctor/meshdoctor/internal/upgrade"
)

// AddUpgradeChanges adds to res (the analysis at the target version) the
// Istio behaviour changes between the current version (current's) and the
// target that affect this configuration, from the upgrade catalog, with
// the run's suppressions. They are new by nature: the current version
// does not have them.
func AddUpgradeChanges(res, current *Result, opts Options) {
	from, to := current.Model.Istio.Version, res.Model.Istio.Version
	fs := upgrade.Findings(upgrade.Evaluate(current.Model, from, to))
	kept, n := suppress(fs, res.Model.Objects, opts.Ignore)
	res.Findings = append(res.Findings, kept...)
	res.Suppressed += n
	rules.Sort(res.Findings)
}
