package cli

import (
	"context"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/meshdoctor/meshdoctor/internal/admission"
	"github.com/meshdoctor/meshdoctor/internal/analysis"
	"github.com/meshdoctor/meshdoctor/internal/catalog"
	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/serve"
)

type serveFlags struct {
	kube                    *genericclioptions.ConfigFlags
	listen, tlsDir, probes  string
	minSeverity, denyOn     string
	excludeNamespaces       []string
	continuous, leaderElect bool
	leaderElectionNamespace string
	debounce                time.Duration
}

func newServe(streams IO) *cobra.Command {
	f := serveFlags{kube: genericclioptions.NewConfigFlags(true)}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run in the cluster: an admission webhook that warns about what a change breaks, and continuous analysis",
		Long: `Run meshdoctor in the cluster (see docs/serve.md and the Helm chart).

Admission: a validating webhook (HTTPS, path /validate) for the kinds meshdoctor
reads. Each create, update or delete is analyzed on the cluster as it would be
after it; the findings it would add (at --min-severity or above) come back as
warnings, which kubectl prints, also for kubectl apply --dry-run=server. With
--deny-on error a change that adds an error is rejected. Findings the cluster
already has never block. A timeout or internal error lets the change through
with a warning.

Continuous: the cluster is analyzed again after changes settle (--debounce);
the leader (--leader-elect, a Lease) publishes the findings as Events on the
objects and as the meshdoctor_findings metric on --probe-listen's /metrics.

Access: get, list and watch on what it reads; create and patch on Events;
get, create and update on its Lease. Outside a pod the kubeconfig flags apply.`,
		Example: `  meshdoctor serve --tls-dir /tls --deny-on error
  meshdoctor serve --kubeconfig ~/.kube/config --tls-dir ./certs --leader-elect=false`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts, err := f.options(streams)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			if err := serve.Run(ctx, opts); err != nil {
				return clusterErr(err)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen", ":8443", "HTTPS address of the admission webhook (path /validate)")
	fl.StringVar(&f.tlsDir, "tls-dir", "/tls", "directory with tls.crt and tls.key (a mounted kubernetes.io/tls Secret); read again when they change")
	fl.StringVar(&f.probes, "probe-listen", ":8080", "HTTP address of /healthz, /readyz and /metrics")
	fl.StringVar(&f.minSeverity, "min-severity", "warning", "least severe new finding that becomes an admission warning: error|warning|info")
	fl.StringVar(&f.denyOn, "deny-on", "none", "reject changes that add a finding this severe: none|error")
	fl.StringSliceVar(&f.excludeNamespaces, "exclude-namespaces", []string{"kube-system", "kube-public"}, "requests in these namespaces are allowed without analysis")
	fl.BoolVar(&f.continuous, "continuous", true, "analyze the cluster after changes and publish findings as Events and metrics (the leader)")
	fl.BoolVar(&f.leaderElect, "leader-elect", true, "elect one replica for the continuous analysis with a Lease (every replica serves admission)")
	fl.StringVar(&f.leaderElectionNamespace, "leader-election-namespace", "", "namespace of the Lease (default: $POD_NAMESPACE, else meshdoctor)")
	fl.DurationVar(&f.debounce, "debounce", 2*time.Second, "how long changes must settle before the cluster is analyzed again")
	f.kube.AddFlags(fl)
	return cmd
}

// options checks the flags and types them.
func (f serveFlags) options(streams IO) (serve.Options, error) {
	var o serve.Options
	min, err := finding.ParseSeverity(f.minSeverity)
	if err != nil || min == 0 {
		return o, usageErr("--min-severity: %q is not a severity (want error, warning or info)", f.minSeverity)
	}
	var deny finding.Severity
	switch strings.ToLower(f.denyOn) {
	case "none":
	case "error":
		deny = finding.Error
	default:
		return o, usageErr("--deny-on: %q (want none or error)", f.denyOn)
	}
	if f.debounce <= 0 {
		return o, usageErr("--debounce: %s (want a positive duration, e.g. 2s)", f.debounce)
	}
	if f.listen == "" || f.probes == "" {
		return o, usageErr("--listen and --probe-listen need an address (e.g. :8443)")
	}
	if f.listen == f.probes && !strings.HasSuffix(f.listen, ":0") {
		return o, usageErr("--listen and --probe-listen are both %s: the webhook (HTTPS) and the probes (HTTP) need two ports", f.listen)
	}
	if f.tlsDir == "" {
		return o, usageErr("--tls-dir: give the directory holding tls.crt and tls.key")
	}
	var excluded []string
	for _, ns := range f.excludeNamespaces {
		if ns = strings.TrimSpace(ns); ns != "" {
			excluded = append(excluded, ns)
		}
	}
	leaseNS := f.leaderElectionNamespace
	if leaseNS == "" {
		leaseNS = streams.Getenv("POD_NAMESPACE")
	}
	if leaseNS == "" {
		leaseNS = "meshdoctor"
	}
	cfg, err := f.kube.ToRESTConfig()
	if err != nil {
		return o, clusterErr(err)
	}
	return serve.Options{
		Config: cfg, Listen: f.listen, TLSDir: f.tlsDir, ProbeListen: f.probes,
		Admission:  admission.Options{MinSeverity: min, DenyOn: deny, ExcludeNamespaces: excluded},
		Analysis:   analysis.Options{Rules: catalog.All(), Catalog: catalog.All()},
		Continuous: f.continuous, LeaderElect: f.leaderElect, LeaderElectionNamespace: leaseNS,
		Debounce: f.debounce, Log: streams.Err,
	}, nil
}
