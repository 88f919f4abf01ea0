// Package serve is meshdoctor as a process in the cluster: an admission
// webhook that tells whoever applies a change what it would break (before
// it does), and a continuous analysis that publishes the cluster's
// findings as Events and Prometheus metrics. It reads through watches,
// only: get, list and watch on the kinds analyze reads, create and patch
// on Events, and a Lease for leader election.
package serve

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/client-go/tools/record"

	corev1 "k8s.io/api/core/v1"

	"github.com/meshdoctor/meshdoctor/internal/admission"
	"github.com/meshdoctor/meshdoctor/internal/analysis"
	"github.com/meshdoctor/meshdoctor/internal/change"
)

// Options configure the process; the CLI parses them from flags.
type Options struct {
	Config *rest.Config
	// Listen is the webhook's HTTPS address (path /validate), TLSDir the
	// directory holding tls.crt and tls.key.
	Listen, TLSDir string
	// ProbeListen serves /healthz, /readyz and /metrics over HTTP.
	ProbeListen string
	Admission   admission.Options
	Analysis    analysis.Options
	// Continuous publishes the findings of the whole cluster (leader
	// only) as Events and metrics.
	Continuous bool
	// LeaderElect elects one replica for the continuous part with a
	// Lease in LeaderElectionNamespace; without it this replica leads.
	LeaderElect             bool
	LeaderElectionNamespace string
	// Identity names this replica in the Lease (default: the hostname).
	Identity string
	// Debounce is how long changes must settle before the whole cluster
	// is analyzed again.
	Debounce time.Duration
	Log      io.Writer
	// Ready, when set, is told the webhook's address once the cache is
	// synced and the server listens (tests).
	Ready func(webhook, probes net.Addr)
}

// LeaseName is the Lease replicas elect a leader with.
const LeaseName = "meshdoctor"

// Run serves until ctx ends.
func Run(ctx context.Context, opts Options) error {
	log := slog.New(slog.NewTextHandler(opts.Log, nil))
	cert, err := newCertificate(opts.TLSDir)
	if err != nil {
		return err
	}
	cfg := rest.CopyConfig(opts.Config)
	if cfg.QPS == 0 {
		cfg.QPS, cfg.Burst = 100, 200
	}
	cfg.UserAgent = "meshdoctor-serve"
	cfg.WarningHandler = rest.NoWarnings{}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	state := change.NewState(opts.Analysis, "")
	w, err := watch(ctx, cfg, state, log)
	if err != nil {
		return err
	}
	m := newMetrics()
	h := admission.NewHandler(state, opts.Admission)
	h.Observe = func(o admission.Outcome, d time.Duration) { m.observe(o, d.Seconds()) }
	h.Ready = func() error {
		if !w.Synced() {
			return errors.New("the watch cache is not synced yet")
		}
		return nil
	}

	webhookLn, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return fmt.Errorf("--listen: %w", err)
	}
	probeLn, err := net.Listen("tcp", opts.ProbeListen)
	if err != nil {
		webhookLn.Close()
		return fmt.Errorf("--probe-listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/validate", h)
	webhook := &http.Server{
		Handler:           mux,
		TLSConfig:         &tls.Config{GetCertificate: cert.GetCertificate, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	var ready atomic.Bool
	probes := http.NewServeMux()
	probes.HandleFunc("/healthz", func(rw http.ResponseWriter, _ *http.Request) { fmt.Fprintln(rw, "ok") })
	probes.HandleFunc("/readyz", func(rw http.ResponseWriter, _ *http.Request) {
		if !ready.Load() {
			http.Error(rw, "watch cache not synced", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(rw, "ok")
	})
	probes.Handle("/metrics", promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{}))
	probeSrv := &http.Server{Handler: probes, ReadHeaderTimeout: 10 * time.Second}

	errc := make(chan error, 2)
	go func() { errc <- serveErr(webhook.ServeTLS(webhookLn, "", "")) }()
	go func() { errc <- serveErr(probeSrv.Serve(probeLn)) }()
	defer func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		_ = webhook.Shutdown(sctx)
		_ = probeSrv.Shutdown(sctx)
	}()
	log.Info("serving", "webhook", webhookLn.Addr().String()+"/validate", "probes", probeLn.Addr().String())

	if !w.waitSynced(ctx) {
		return nil // stopped before the cache filled
	}
	ready.Store(true)

	var leading atomic.Bool
	r := &refresher{state: state, opts: opts.Analysis, debounce: opts.Debounce, changed: w.changed, leading: &leading, publish: opts.Continuous, metrics: m, log: log}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	if opts.Continuous {
		b := record.NewBroadcaster(record.WithContext(ctx))
		b.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: kube.CoreV1().Events("")})
		defer b.Shutdown()
		r.events = b.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "meshdoctor"})
	}
	switch {
	case !opts.Continuous:
	case opts.LeaderElect:
		go elect(ctx, kube, opts, &leading, m, w.nudge, log)
	default:
		leading.Store(true)
		m.leader.Set(1)
	}
	go r.run(ctx)
	if opts.Ready != nil {
		opts.Ready(webhookLn.Addr(), probeLn.Addr())
	}
	select {
	case <-ctx.Done():
		return nil
	case err := <-errc:
		return err
	}
}

func serveErr(err error) error {
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// elect campaigns for the Lease until ctx ends; leading says whether this
// replica holds it. Every replica answers admission reviews either way.
func elect(ctx context.Context, kube kubernetes.Interface, opts Options, leading *atomic.Bool, m *metrics, nudge func(), log *slog.Logger) {
	id := opts.Identity
	if id == "" {
		id, _ = os.Hostname()
	}
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: opts.LeaderElectionNamespace, Name: LeaseName},
		Client:     kube.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: id},
	}
	for ctx.Err() == nil {
		leaderelection.RunOrDie(ctx, leaderelection.LeaderElectionConfig{
			Lock:            lock,
			LeaseDuration:   15 * time.Second,
			RenewDeadline:   10 * time.Second,
			RetryPeriod:     2 * time.Second,
			ReleaseOnCancel: true,
			Name:            LeaseName,
			Callbacks: leaderelection.LeaderCallbacks{
				OnStartedLeading: func(context.Context) {
					log.Info("leading the continuous analysis", "identity", id)
					leading.Store(true)
					m.leader.Set(1)
					nudge() // publish now, not at the next change
				},
				OnStoppedLeading: func() {
					leading.Store(false)
					m.leader.Set(0)
				},
			},
		})
	}
}
