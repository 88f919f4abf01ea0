package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/upgrade"
)

// upgradeFormats are the output formats of meshdoctor upgrade.
var upgradeFormats = []string{"text", "json"}

type upgradeFlags struct {
	in           inputFlags
	to           string
	output       string
	onlyAffected bool
}

func newUpgrade(streams IO) *cobra.Command {
	f := upgradeFlags{in: newInputFlags()}
	cmd := &cobra.Command{
		Use:   "upgrade --to VERSION [PATH|-]...",
		Short: "Report every Istio behaviour change an upgrade crosses, and what it does to this configuration",
		Long: `Report every Istio behaviour change between the current version and --to
(changed defaults, removed flags and opt-outs, removed APIs), each with the
resources of this configuration it affects (file and line), what will happen
to them, and the fix to apply before upgrading.

The current version is istiod's (or the gateway proxies') in the input, or
--istio-version. Inputs are as for analyze: files and directories, - for
stdin, no PATH for the live cluster, --kube PATH... for the cluster with the
files applied.

Exit codes: 0 nothing in the configuration is affected, 1 something is,
2 bad input (a --to older than the current version, not a version).`,
		Example: `  meshdoctor upgrade --to 1.24.3 ./k8s
  meshdoctor upgrade --to 1.22.2 --istio-version 1.20.6 --only-affected ./k8s
  meshdoctor upgrade --to 1.24.3 -o json            # the live cluster`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runUpgrade(cmd.Context(), streams, f, args, cmd.Flags().Changed("namespace"))
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.to, "to", "", "the Istio version to upgrade to (e.g. 1.24.3)")
	fl.StringVarP(&f.output, "output", "o", "text", "output format: "+strings.Join(upgradeFormats, "|"))
	fl.BoolVar(&f.onlyAffected, "only-affected", false, "list only the changes that affect this configuration")
	f.in.add(fl, "the current Istio version (default: from istiod's image in the input)",
		"the live cluster with the given files applied on top",
		"files: namespace for objects that set none; cluster: read only this namespace (plus istio-system)")
	return cmd
}

// upgradeReport is the JSON shape of meshdoctor upgrade.
type upgradeReport struct {
	From    string           `json:"from"`
	To      string           `json:"to"`
	Source  string           `json:"currentVersionSource"`
	Changes []upgrade.Result `json:"changes"`
	Summary struct {
		Crossed  int `json:"crossed"`
		Affected int `json:"affected"`
	} `json:"summary"`
	// Newest is the newest release meshdoctor knows changes of, when --to
	// is beyond it.
	Newest string `json:"newestKnown,omitempty"`
}

func runUpgrade(ctx context.Context, streams IO, f upgradeFlags, args []string, namespaceSet bool) error {
	if err := checkFormat(f.output, upgradeFormats); err != nil {
		return err
	}
	if f.to == "" {
		return usageErr("--to is required: the Istio version to upgrade to (e.g. 1.24.3)")
	}
	to, ok := mesh.ParseVersion(f.to)
	if !ok {
		return usageErr("--to: %q is not a version (want e.g. 1.24.3)", f.to)
	}
	opts, err := f.in.options()
	if err != nil {
		return err
	}
	res, err := analyzeInput(ctx, streams, f.in, args, namespaceSet, opts)
	if err != nil {
		return err
	}
	m := res.Model
	cur := m.Istio
	if !cur.VersionKnown {
		return usageErr("the current Istio version is not in the input (no istiod, IstioOperator or proxy image): set --istio-version")
	}
	if to.Less(cur.Version) {
		return usageErr("--to %s is older than the current Istio %s (%s)", f.to, cur.Version, cur.VersionSource)
	}
	rep := upgradeReport{From: cur.Version.String(), To: to.String(), Source: cur.VersionSource}
	rep.Changes = []upgrade.Result{}
	for _, r := range upgrade.Evaluate(m, cur.Version, to) {
		rep.Summary.Crossed++
		if r.Affected {
			rep.Summary.Affected++
		}
		if f.onlyAffected && !r.Affected {
			continue
		}
		rep.Changes = append(rep.Changes, r)
	}
	if newerMinor(to, upgrade.NewestReviewed) {
		rep.Newest = upgrade.NewestReviewed.MinorString()
	}
	if f.output == "json" {
		enc := json.NewEncoder(streams.Out)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		err = writeUpgradeText(streams.Out, rep)
	}
	if err != nil {
		return usageErr("writing output: %v", err)
	}
	if rep.Summary.Affected > 0 {
		return &exitError{code: ExitFindings}
	}
	return nil
}

func writeUpgradeText(w io.Writer, rep upgradeReport) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Upgrade: Istio %s → %s (current version from %s)\n", rep.From, rep.To, rep.Source)
	verb := "affect"
	if rep.Summary.Affected == 1 {
		verb = "affects"
	}
	fmt.Fprintf(&b, "%d behaviour changes crossed, %d %s this configuration\n", rep.Summary.Crossed, rep.Summary.Affected, verb)
	if rep.Newest != "" {
		fmt.Fprintf(&b, "note: meshdoctor knows changes up to Istio %s; later ones are not listed\n", rep.Newest)
	}
	for _, r := range rep.Changes {
		c := r.Change
		mark := "✓"
		state := "not affected"
		switch {
		case r.Affected:
			mark, state = "✗", fmt.Sprintf("affected (%d)", len(r.Resources))
		case r.OptedOut != "":
			mark, state = "–", "opted out"
		}
		fmt.Fprintf(&b, "\n%s %s %s: %s — %s\n", mark, c.Release, c.ID, c.Title, state)
		change := fmt.Sprintf("%s %s: %s → %s", c.Kind, c.Flag, c.Old, c.New)
		if c.OptOutRemoved != "" {
			change += "; opt-out removed in " + c.OptOutRemoved
		}
		fmt.Fprintf(&b, "    change:    %s\n", change)
		if !slices.Contains(r.Crossed, "release") {
			fmt.Fprintf(&b, "    crossed:   the opt-out's removal in %s (the change itself came in %s)\n", c.OptOutRemoved, c.Release)
		}
		if r.OptedOut != "" {
			fmt.Fprintf(&b, "    opted out: %s\n", r.OptedOut)
		}
		for _, res := range r.Resources {
			fmt.Fprintf(&b, "    %s  (%s)\n        %s\n", res.Origin, res.Resource, res.Detail)
		}
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "    note:      %s\n", n)
		}
		if !r.Affected && r.OptedOut == "" {
			fmt.Fprintf(&b, "    checked:   %s\n", c.Affects)
			fmt.Fprintf(&b, "    source:    %s\n", c.Sources[0])
			continue
		}
		fmt.Fprintf(&b, "    mechanism: %s\n", c.Mechanism)
		fmt.Fprintf(&b, "    symptom:   %s\n", c.Symptom)
		fmt.Fprintf(&b, "    fix:       %s\n", c.Fix)
		fmt.Fprintf(&b, "    sources:   %s\n", strings.Join(c.Sources, "\n               "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
