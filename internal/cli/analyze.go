package cli

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/meshdoctor/meshdoctor/internal/analysis"
	"github.com/meshdoctor/meshdoctor/internal/catalog"
	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
	"github.com/meshdoctor/meshdoctor/internal/report"
)

type analyzeFlags struct {
	output       string
	failOn       string
	ignore       []string
	meshConfig   string
	istioVersion string
	namespace    string
	noColor      bool
	cpuProfile   string
	memProfile   string
	stats        bool
}

func newAnalyze(streams IO) *cobra.Command {
	var f analyzeFlags
	cmd := &cobra.Command{
		Use:   "analyze [PATH|-]...",
		Short: "Analyze manifests (files, directories, or - for stdin)",
		Example: `  meshdoctor analyze ./k8s/
  helm template . | meshdoctor analyze -
  meshdoctor analyze -o sarif ./k8s > meshdoctor.sarif
  meshdoctor analyze --fail-on warning --ignore gke-health-check-default-path ./k8s`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAnalyze(streams, f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.output, "output", "o", "text", "output format: "+strings.Join(report.Formats, "|"))
	fl.StringVar(&f.failOn, "fail-on", "error", "exit 1 when a finding is at least this severe: none|info|warning|error")
	fl.StringArrayVar(&f.ignore, "ignore", nil, "silence a rule: RULE or RULE=Kind/namespace/name (repeatable)")
	fl.StringVar(&f.meshConfig, "mesh-config", "", "MeshConfig YAML (or the istio ConfigMap) to use instead of the one in the input")
	fl.StringVar(&f.istioVersion, "istio-version", "", "Istio version to check against (default: from istiod's image in the input)")
	fl.StringVarP(&f.namespace, "namespace", "n", "default", "namespace for objects that do not set one, as kubectl apply -n would")
	fl.BoolVar(&f.noColor, "no-color", false, "no colour in text output (also NO_COLOR)")
	fl.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile to this file (for bug reports)")
	fl.StringVar(&f.memProfile, "memprofile", "", "write a heap profile to this file (for bug reports)")
	fl.BoolVar(&f.stats, "stats", false, "print phase timings and peak memory to stderr")
	return cmd
}

func usageErr(format string, args ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, args...)}
}

func runAnalyze(streams IO, f analyzeFlags, args []string) error {
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
	opts := analysis.Options{Rules: catalog.All()}
	for _, s := range f.ignore {
		ig, err := analysis.ParseIgnore(s, func(n string) bool { return catalog.ByName(n) != nil })
		if err != nil {
			return usageErr("%v", err)
		}
		if r := catalog.ByName(ig.Rule); r != nil {
			ig.Rule = r.Name // accept codes too
		}
		opts.Ignore = append(opts.Ignore, ig)
	}
	opts.Mesh.IstioVersion = f.istioVersion
	if f.meshConfig != "" {
		b, err := os.ReadFile(f.meshConfig)
		if err != nil {
			return usageErr("--mesh-config: %v", err)
		}
		opts.Mesh.MeshConfig = b
	}
	if len(args) == 0 {
		return usageErr("no input: give files or directories, or - to read standard input (live clusters: see 'meshdoctor analyze --help')")
	}
	loadStart := time.Now()
	loaded, err := manifest.Load(args, manifest.Options{DefaultNamespace: f.namespace, Stdin: streams.In})
	loadTime := time.Since(loadStart)
	if err != nil {
		return usageErr("%v", err)
	}
	if len(loaded.Objects) == 0 && len(loaded.Problems) == 0 {
		return usageErr("no Kubernetes objects in %s", strings.Join(args, ", "))
	}
	res := analysis.Run(loaded, opts)
	color := streams.OutTTY && !f.noColor && streams.Getenv("NO_COLOR") == "" && streams.Getenv("TERM") != "dumb"
	reportStart := time.Now()
	if err := report.Write(streams.Out, f.output, res, report.Options{Color: color, Version: Version, Rules: catalog.All()}); err != nil {
		return usageErr("writing output: %v", err)
	}
	if f.stats {
		fmt.Fprintf(streams.Err, "stats: objects=%d findings=%d load=%s model=%s rules=%s report=%s total=%s peak_rss_mb=%d\n",
			res.Objects, len(res.Findings), ms(loadTime), ms(res.ModelTime), ms(res.RulesTime), ms(time.Since(reportStart)), ms(time.Since(loadStart)), peakRSSMB())
	}
	if failOn > 0 && res.Worst() >= failOn {
		return &exitError{code: ExitFindings}
	}
	return nil
}

var errNoRule = errors.New("no such rule")

func ms(d time.Duration) string { return fmt.Sprintf("%.0fms", float64(d.Microseconds())/1000) }
