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
	revision     string
	kubeVersion  string
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

With --revision REV (a canary upgrade: the new control plane runs beside
the old one as revision REV), it also says which namespaces and gateways
move to REV (their injector label selects REV, directly or through a
revision tag) and which stay, how to move those that stay, the revision
and control plane each proxy is left with and whether its version skew is
supported (istiod at most one minor ahead, never behind), and the changes
crossed for the resources of the namespaces that move.

The cluster's Kubernetes version (the live API server's, or --kube-version)
is checked against the versions --to supports (istio.io's support table).

Exit codes: 0 nothing in the configuration is affected, 1 something is
(or, with --revision, a proxy is left outside the supported skew, or
--to does not support the cluster's Kubernetes version), 2 bad
input (a --to older than the current version, not a version).`,
		Example: `  meshdoctor upgrade --to 1.24.3 ./k8s
  meshdoctor upgrade --to 1.22.2 --istio-version 1.20.6 --only-affected ./k8s
  meshdoctor upgrade --to 1.24.3 -o json            # the live cluster
  meshdoctor upgrade --to 1.24.3 --revision 1-24-3  # canary: what moves to revision 1-24-3`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runUpgrade(cmd.Context(), streams, f, args, cmd.Flags().Changed("namespace"))
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.to, "to", "", "the Istio version to upgrade to (e.g. 1.24.3)")
	fl.StringVar(&f.kubeVersion, "kube-version", "", "the cluster's Kubernetes version (e.g. 1.29), to check against the versions --to supports (default: the live API server's; unknown for files)")
	fl.StringVar(&f.revision, "revision", "", "canary upgrade: the revision (istio.io/rev) the new control plane runs as")
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
	// Canary is the --revision report.
	Canary *upgrade.Canary `json:"canary,omitempty"`
	// Kubernetes is --to's support for the cluster's Kubernetes version.
	Kubernetes upgrade.Kubernetes `json:"kubernetes"`
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
	if f.kubeVersion != "" {
		kv, ok := mesh.ParseVersion(f.kubeVersion)
		if !ok {
			return usageErr("--kube-version: %q is not a version (want e.g. 1.29)", f.kubeVersion)
		}
		opts.Mesh.KubernetesVersion, opts.Mesh.KubernetesVersionSource = &kv, "--kube-version"
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
	rep.Kubernetes = upgrade.CheckKubernetes(to, m.Kubernetes, m.KubernetesSource)
	if f.revision != "" {
		c := upgrade.EvaluateCanary(m, f.revision, to)
		rep.Canary = &c
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
	if rep.Summary.Affected > 0 || rep.Canary != nil && rep.Canary.Unsupported > 0 || rep.Kubernetes.Problem != "" {
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
	switch k := rep.Kubernetes; {
	case k.Problem != "":
		fmt.Fprintf(&b, "✗ Kubernetes %s (%s): %s (%s)\n", k.Version, k.Source, k.Problem, k.Ref)
	case k.Version != "" && k.Supported != "":
		fmt.Fprintf(&b, "✓ Kubernetes %s (%s) is supported by Istio %s (%s)\n", k.Version, k.Source, rep.To, k.Supported)
	case k.Supported != "":
		fmt.Fprintf(&b, "note: Istio %s supports Kubernetes %s; %s\n", rep.To, k.Supported, k.Note)
	case k.Note != "":
		fmt.Fprintf(&b, "note: %s\n", k.Note)
	}
	if rep.Canary != nil {
		writeCanaryText(&b, rep.Canary)
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

// writeCanaryText renders the --revision report: revisions, namespaces
// and gateways that move or stay, each proxy's skew, and the changes for
// the namespaces that move.
func writeCanaryText(b *strings.Builder, c *upgrade.Canary) {
	fmt.Fprintf(b, "\nCanary: revision %s at Istio %s", c.Revision, c.To)
	if c.Installed != "" {
		fmt.Fprintf(b, " (%s)", c.Installed)
	}
	b.WriteString("\n")
	for _, n := range c.Notes {
		fmt.Fprintf(b, "  note: %s\n", n)
	}
	for _, r := range c.Revisions {
		v := r.Version
		if v == "" {
			v = "version unknown"
		}
		tags := ""
		if len(r.Tags) > 0 {
			tags = "; tags " + strings.Join(r.Tags, ", ")
		}
		fmt.Fprintf(b, "  revision %s: Istio %s (%s%s)\n", r.Name, v, r.Source, tags)
	}
	for _, moves := range []bool{true, false} {
		title := "Namespaces that move to " + c.Revision + " (their new pods get its proxy):"
		if !moves {
			title = "Namespaces that stay:"
		}
		first := true
		for _, n := range c.Namespaces {
			if n.Moves != moves {
				continue
			}
			if first {
				fmt.Fprintf(b, "\n%s\n", title)
				first = false
			}
			fmt.Fprintf(b, "  %s  (%s)\n", n.Namespace, n.Injector)
			if n.How != "" {
				fmt.Fprintf(b, "      to move: %s\n", n.How)
			}
		}
	}
	for _, gateways := range []bool{true, false} {
		title := "Gateways:"
		if !gateways {
			title = "Proxies after the move (revision, istiod, proxy, skew):"
		}
		first := true
		for _, w := range c.Workloads {
			if w.Gateway != gateways {
				continue
			}
			if first {
				fmt.Fprintf(b, "\n%s\n", title)
				first = false
			}
			state := "stays with"
			if w.Moves {
				state = "moves to"
			}
			skew := "skew unknown"
			switch {
			case w.Skew != "":
				skew = "UNSUPPORTED: " + w.Skew
			case w.SkewKnown:
				skew = "supported"
			}
			fmt.Fprintf(b, "  %s %s: %s revision %s; istiod %s, proxy %s: %s\n      %s\n", w.Resource, w.Origin, state, w.Revision, orUnknown(w.ControlPlane), orUnknown(w.Proxy), skew, w.Why)
		}
	}
	fmt.Fprintf(b, "\nChanges crossed for the namespaces that move:\n")
	n := 0
	for _, r := range c.Changes {
		if !r.Affected {
			continue
		}
		n++
		fmt.Fprintf(b, "  ✗ %s %s: %s\n", r.Change.Release, r.Change.ID, r.Change.Title)
		for _, res := range r.Resources {
			fmt.Fprintf(b, "      %s  (%s) %s\n", res.Origin, res.Resource, res.Detail)
		}
	}
	if n == 0 {
		fmt.Fprintf(b, "  none of the %d changes crossed affects their resources\n", len(c.Changes))
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
