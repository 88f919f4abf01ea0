package cli

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/meshdoctor/meshdoctor/internal/cluster"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
	"github.com/meshdoctor/meshdoctor/internal/plan"
)

type planFlags struct {
	in     inputFlags
	output string
	write  string
}

func newPlan(streams IO) *cobra.Command {
	f := planFlags{in: newInputFlags()}
	cmd := &cobra.Command{
		Use:   "plan FROM TO | --kube DESIRED...",
		Short: "Order a change so that no step breaks traffic",
		Long: `Diff two states of the cluster per resource and order the applies and
deletes so that every intermediate state is itself safe: a DestinationRule
adding a subset before the VirtualService that routes to it, a route that
stops using a subset before the subset goes, credentials before Gateways,
hosts before routes, workloads ready before traffic shifts, STRICT mTLS only
after every client has a sidecar, deletions in reverse. Every intermediate
state is analyzed; a step may not add an error that neither the start nor
the end has. When no order is safe, the plan bridges with an intermediate
version (a DestinationRule carrying both subsets) or says which resources
conflict.

  plan FROM TO            two states as files or directories
  plan --kube DESIRED...  the live cluster to the cluster with these files applied

Exit codes: 0 a safe plan, 1 a plan with a step no order makes safe,
2 bad input.`,
		Example: `  meshdoctor plan ./live ./desired
  meshdoctor plan --kube ./desired -o json
  meshdoctor plan ./live ./desired --write ./rollout && ./rollout/plan.sh`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPlan(cmd.Context(), streams, f, args, cmd.Flags().Changed("namespace"))
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.output, "output", "o", "text", "output format: "+strings.Join(plan.Formats, "|"))
	fl.StringVar(&f.write, "write", "", "write numbered manifests and plan.sh (kubectl apply/delete with waits) to this directory")
	f.in.add(fl, "Istio version to check against (default: from istiod's image in the input)",
		"plan from the live cluster to the cluster with the given files applied",
		"files: namespace for objects that set none; cluster: read only this namespace")
	return cmd
}

func runPlan(ctx context.Context, streams IO, f planFlags, args []string, namespaceSet bool) error {
	if err := checkFormat(f.output, plan.Formats); err != nil {
		return err
	}
	opts, err := f.in.options()
	if err != nil {
		return err
	}
	var from, to *manifest.Result
	if f.in.kubeOverlay {
		if len(args) == 0 {
			return usageErr("plan --kube needs the desired files: meshdoctor plan --kube ./desired")
		}
		af := f.in.cluster()
		live, _, err := readCluster(ctx, streams, af, namespaceSet, true, &opts)
		if err != nil {
			return err
		}
		files, err := overlayFiles(streams, af, namespaceSet, args)
		if err != nil {
			return err
		}
		from, to = live.Result, cluster.Overlay(live.Result, files)
	} else {
		if len(args) != 2 {
			return usageErr("plan takes two states, FROM and TO (files or directories), or --kube and the desired files")
		}
		ns := "default"
		if namespaceSet {
			ns = f.in.namespace()
		}
		var err error
		if from, err = manifest.Load(args[:1], manifest.Options{DefaultNamespace: ns, Stdin: streams.In}); err != nil {
			return usageErr("%v", err)
		}
		if to, err = manifest.Load(args[1:], manifest.Options{DefaultNamespace: ns, Stdin: streams.In}); err != nil {
			return usageErr("%v", err)
		}
		if len(from.Objects) == 0 && len(to.Objects) == 0 {
			return usageErr("no Kubernetes objects in %s", strings.Join(args, ", "))
		}
	}
	p := plan.Make(from, to, opts.Check)
	if err := plan.Write(streams.Out, f.output, p); err != nil {
		return usageErr("writing output: %v", err)
	}
	if f.write != "" {
		if err := plan.WriteDir(f.write, p); err != nil {
			return usageErr("--write: %v", err)
		}
	}
	if len(p.Conflicts) > 0 {
		return &exitError{code: ExitFindings}
	}
	return nil
}
