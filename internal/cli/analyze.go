package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/meshdoctor/meshdoctor/internal/analysis"
	"github.com/meshdoctor/meshdoctor/internal/catalog"
	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/report"
)

type analyzeFlags struct {
	output       string
	failOn       string
	ignore       []string
	meshConfig   string
	istioVersion string
	upgradeTo    string
	noColor      bool
	cpuProfile   string
	memProfile   string
	stats        bool

	// Live clusters.
	kube          *genericclioptions.ConfigFlags
	kubeOverlay   bool
	allNamespaces bool
	noSecrets     bool
	onlyNew       bool
}

func newAnalyze(streams IO) *cobra.Command {
	f := analyzeFlags{kube: genericclioptions.NewConfigFlags(true)}
	cmd := &cobra.Command{
		Use:   "analyze [PATH|-]...",
		Short: "Analyze manifests (files, directories, stdin) or a live cluster",
		Long: `Analyze manifests, a live cluster, or a cluster with manifests applied on top.

  no PATH            the cluster of the current kubeconfig context (or the pod's
                     service account inside a cluster), every namespace it may read
  PATH... | -        files, directories (recursive) or standard input
  --kube PATH...     the cluster as it would be after kubectl apply -f PATH...:
                     findings already present in the cluster are marked
                     (pre-existing); --only-new reports only the others

Reading a cluster only uses get and list. TLS Secrets are read only when a
Gateway or DestinationRule names them, to check their certificates; private
keys are never kept or printed (--no-secrets skips them). A kind the
credentials may not list is reported once (partial-access) and the rest is
analyzed.`,
		Example: `  meshdoctor analyze ./k8s/
  helm template . | meshdoctor analyze -
  meshdoctor analyze -o sarif ./k8s > meshdoctor.sarif
  meshdoctor analyze --fail-on warning --ignore gke-health-check-default-path ./k8s
  meshdoctor analyze                               # the current kubeconfig context
  meshdoctor analyze -n shop --context prod
  meshdoctor analyze --kube --only-new ./changes/  # what would applying this break?
  meshdoctor analyze --upgrade-to 1.22.2 --only-new  # what would upgrading istiod break?`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAnalyze(cmd.Context(), streams, f, args, cmd.Flags().Changed("namespace"))
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.output, "output", "o", "text", "output format: "+strings.Join(report.Formats, "|"))
	fl.StringVar(&f.failOn, "fail-on", "error", "exit 1 when a finding is at least this severe: none|info|warning|error")
	fl.StringArrayVar(&f.ignore, "ignore", nil, "silence a rule (name or code, any case): RULE, RULE=Kind/namespace/name, or RULE=Kind/name in -n's namespace (repeatable)")
	fl.StringVar(&f.meshConfig, "mesh-config", "", "MeshConfig YAML (or the istio ConfigMap) to use instead of the one in the input")
	fl.StringVar(&f.istioVersion, "istio-version", "", "Istio version to check against (default: from istiod's image in the input)")
	fl.StringVar(&f.upgradeTo, "upgrade-to", "", "analyze as if istiod ran this version; findings the current version also has are marked pre-existing (--only-new drops them)")
	fl.BoolVar(&f.noColor, "no-color", false, "no colour in text output (also NO_COLOR)")
	fl.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile to this file (for bug reports)")
	fl.StringVar(&f.memProfile, "memprofile", "", "write a heap profile to this file (for bug reports)")
	fl.BoolVar(&f.stats, "stats", false, "print phase timings and peak memory to stderr")
	fl.BoolVar(&f.kubeOverlay, "kube", false, "analyze the live cluster with the given files applied on top (what if I apply this?)")
	fl.BoolVarP(&f.allNamespaces, "all-namespaces", "A", false, "read every namespace (the default for a cluster unless -n is given)")
	fl.BoolVar(&f.noSecrets, "no-secrets", false, "cluster: do not read the TLS Secrets Gateways and DestinationRules reference")
	fl.BoolVar(&f.onlyNew, "only-new", false, "with --kube or --upgrade-to: drop findings that exist without the change (gate CI on new problems)")
	// kubectl's own flags: --kubeconfig, --context, -n, --as, --request-timeout…
	f.kube.AddFlags(fl)
	// One -n for both modes: for files it places objects without a
	// namespace (as kubectl apply -n would), for a cluster it limits what
	// is read.
	fl.Lookup("namespace").Usage = "files: namespace for objects that set none (default \"default\"); cluster: read only this namespace"
	// kubectl's help says 0 means no timeout; here 0 (unset) is
	// requestTimeout, so that an unreachable server ends in a message.
	rt := fl.Lookup("request-timeout")
	rt.Usage = "how long to wait for each API request before giving up (e.g. 30s, 2m)"
	rt.DefValue = fmt.Sprintf("%.0fs", requestTimeout.Seconds())
	return cmd
}

func usageErr(format string, args ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, args...)}
}

func runAnalyze(ctx context.Context, streams IO, f analyzeFlags, args []string, namespaceSet bool) error {
	if f.cpuProfile != "" {
		fh, err := os.Create(f.cpuProfile)
		if err != nil {
			return usageErr("%v", err)
		}
		defer fh.Close()
		if err := pprof.StartCPUProfile(fh); err != nil {
			return usageErr("%v", err)
		}
		defer pprof.StopCPUProfile()
	}
	if f.memProfile != "" {
		defer func() {
			if fh, err := os.Create(f.memProfile); err == nil {
				runtime.GC()
				_ = pprof.WriteHeapProfile(fh)
				fh.Close()
			}
		}()
	}
	validFormat := false
	for _, v := range report.Formats {
		validFormat = validFormat || v == f.output
	}
	if !validFormat {
		return usageErr("unknown output format %q (want %s)", f.output, strings.Join(report.Formats, ", "))
	}
	failOn, err := finding.ParseSeverity(f.failOn)
	if err != nil {
		return usageErr("--fail-on: %v", err)
	}
	opts := analysis.Options{Rules: catalog.All(), Catalog: catalog.All()}
	// Kind/name in --ignore means the namespace -n gives, as in kubectl.
	ignoreNS := "default"
	if f.kube.Namespace != nil && *f.kube.Namespace != "" {
		ignoreNS = *f.kube.Namespace
	}
	for _, s := range f.ignore {
		// An istioctl code stands for every rule that covers it.
		specs := []string{s}
		name, rest, hasRes := strings.Cut(s, "=")
		if rs := catalog.ByIST(name); len(rs) > 0 {
			specs = specs[:0]
			for _, r := range rs {
				spec := r.Name
				if hasRes {
					spec += "=" + rest
				}
				specs = append(specs, spec)
			}
		}
		for _, spec := range specs {
			ig, err := analysis.ParseIgnore(spec, func(n string) string {
				if r := catalog.ByName(n); r != nil {
					return r.Name
				}
				return ""
			}, ignoreNS)
			if err != nil {
				return usageErr("%v", err)
			}
			opts.Ignore = append(opts.Ignore, ig)
		}
	}
	if opts.Mesh, err = meshOptions(f.istioVersion, f.meshConfig); err != nil {
		return err
	}
	if f.onlyNew && f.upgradeTo == "" && (!f.kubeOverlay || len(args) == 0) {
		return usageErr("--only-new needs --kube and files, or --upgrade-to: it keeps the findings the change would add")
	}
	// With --upgrade-to, the run that is reported uses the target version
	// and the baseline the current one.
	target := opts
	if f.upgradeTo != "" {
		v, ok := mesh.ParseVersion(f.upgradeTo)
		if !ok {
			return usageErr("--upgrade-to: %q is not a version (want e.g. 1.22.2)", f.upgradeTo)
		}
		target.Mesh.IstioVersion, target.Mesh.IstioVersionSource, target.Mesh.Upgrade = &v, "--upgrade-to", true
	}
	namespace := ""
	if f.kube.Namespace != nil {
		namespace = *f.kube.Namespace
	}
	loadStart := time.Now()
	var res *analysis.Result
	if len(args) > 0 && !f.kubeOverlay {
		if namespace == "" {
			namespace = "default"
		}
		undoGC := func() {}
		defer func() { undoGC() }()
		loaded, err := manifest.Load(args, manifest.Options{DefaultNamespace: namespace, Stdin: streams.In,
			BeforeRead: func(n int64) { undoGC = gcForInput(streams.Getenv, n) }})
		if err != nil {
			return usageErr("%v", err)
		}
		if len(loaded.Objects) == 0 && len(loaded.Problems) == 0 {
			return usageErr("no Kubernetes objects in %s", strings.Join(args, ", "))
		}
		if err := nothingReadable(loaded); err != nil {
			return err
		}
		if namespaceSet {
			warnNamespaceUnused(streams, loaded, namespace)
		}
		res = analysis.Run(loaded, target)
		if f.upgradeTo != "" {
			if err := markUpgrade(res, analysis.Run(loaded, opts), f, opts.Ignore); err != nil {
				return err
			}
		}
	} else {
		var err error
		if res, err = analyzeCluster(ctx, streams, f, args, namespaceSet, target, opts); err != nil {
			return err
		}
	}
	loadTime := time.Since(loadStart) - res.ModelTime - res.RulesTime
	warnNewerIstio(streams, res.Model.Istio)
	color := streams.OutTTY && !f.noColor && streams.Getenv("NO_COLOR") == "" && streams.Getenv("TERM") != "dumb"
	reportStart := time.Now()
	if err := report.Write(streams.Out, f.output, res, report.Options{Color: color, Version: Version, Rules: catalog.All()}); err != nil {
		return usageErr("writing output: %v", err)
	}
	if f.stats {
		fmt.Fprintln(streams.Err, statsLine(res, loadTime, time.Since(reportStart), time.Since(loadStart)))
	}
	// A file that could not be read at all keeps the run from passing:
	// nothing in it was checked.
	if failOn > 0 && res.Worst() >= failOn || res.Unreadable > 0 {
		return &exitError{code: ExitFindings}
	}
	return nil
}

// nothingReadable is the input error of a run where every file given could
// not be read (permission denied, binary): there is nothing to report on,
// and a report would read as a pass.
func nothingReadable(loaded *manifest.Result) error {
	var first manifest.Problem
	n := 0
	for _, p := range loaded.Problems {
		if !p.Unreadable {
			return nil
		}
		if n == 0 {
			first = p
		}
		n++
	}
	if n == 0 || len(loaded.Objects) > 0 {
		return nil
	}
	more := ""
	if n > 1 {
		more = fmt.Sprintf(" (and %d more files that could not be read)", n-1)
	}
	msg := oneLine(first.Message)
	if !strings.Contains(msg, first.Pos.File) {
		msg = first.Pos.File + ": " + msg
	}
	return usageErr("%s%s; nothing was analyzed", msg, more)
}

// warnNamespaceUnused: -n for files only places objects that set no
// namespace; when every object sets its own, the flag changed nothing and
// the user probably meant something else (a namespace filter, a typo).
func warnNamespaceUnused(streams IO, loaded *manifest.Result, ns string) {
	for _, o := range loaded.Objects {
		if o.Namespace == ns {
			return
		}
	}
	fmt.Fprintf(streams.Err, "Warning: -n %s matches nothing: no object in the input is, or is placed, in namespace %s (for files -n only places objects that set no namespace)\n", ns, ns)
}

// markUpgrade marks what the current version already has as pre-existing,
// so an upgrade's report shows what the upgrade would add. The current
// version must be known: comparing with an assumed one means nothing.
func markUpgrade(res, current *analysis.Result, f analyzeFlags, ignore []analysis.Ignore) error {
	if !current.Model.Istio.VersionKnown {
		return usageErr("--upgrade-to needs the current Istio version: include istiod (or the gateway deployments) in the input, or pass --istio-version")
	}
	// Istio supports upgrades, not downgrades, and the comparison would
	// report the newer version's problems as ones the change removes.
	if cur, to := current.Model.Istio, res.Model.Istio.Version; to.Less(cur.Version) {
		return usageErr("--upgrade-to %s is older than the current Istio %s (%s): give a newer version, or --istio-version to analyze as %s", f.upgradeTo, cur.Version, cur.VersionSource, f.upgradeTo)
	}
	analysis.MarkPreExisting(res, current)
	analysis.AddUpgradeChanges(res, current, analysis.Options{Ignore: ignore})
	if f.onlyNew {
		res.DropPreExisting()
	}
	return nil
}

var errNoRule = errors.New("no such rule")

// warnNewerIstio says when the Istio version analyzed is newer than any
// meshdoctor knows: its feature-flag defaults are then those of the newest
// known release, which may no longer hold.
func warnNewerIstio(streams IO, info mesh.IstioInfo) {
	newest := mesh.AssumedVersion
	if !info.VersionKnown || !newerMinor(info.Version, newest) {
		return
	}
	fmt.Fprintf(streams.Err, "Warning: Istio %s (%s) is newer than the newest release meshdoctor knows (%s): its defaults are extrapolated from %s\n",
		info.Version.MinorString(), info.VersionSource, newest.MinorString(), newest.MinorString())
}

// newerMinor: v is a later major.minor than known (patches change no
// defaults).
func newerMinor(v, known mesh.Version) bool {
	return v.Major > known.Major || v.Major == known.Major && v.Minor > known.Minor
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0fms", float64(d.Microseconds())/1000) }
