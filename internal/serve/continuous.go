package serve

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/record"

	"github.com/meshdoctor/meshdoctor/internal/analysis"
	"github.com/meshdoctor/meshdoctor/internal/change"
	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

// refresher analyzes the whole cluster once changes settle (debounce
// after the last one). Every replica does, since the namespace links the
// admission scope follows come from that model; the leader also publishes
// the findings, as metrics and as Events on the objects they are about.
type refresher struct {
	state    *change.State
	opts     analysis.Options
	debounce time.Duration
	changed  <-chan struct{}
	leading  *atomic.Bool
	publish  bool // continuous mode
	metrics  *metrics
	events   record.EventRecorder
	log      *slog.Logger

	// published are the findings already sent as Events, so a finding
	// is announced once, not on every analysis.
	published map[publishedKey]bool
	wasLeader bool
}

type publishedKey struct {
	rule    string
	ref     manifest.Ref
	message string
}

func (r *refresher) run(ctx context.Context) {
	r.refresh()
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.changed:
		}
		// Debounce: wait until no change came for r.debounce.
		timer := time.NewTimer(r.debounce)
	settle:
		for {
			select {
			case <-ctx.Done():
				timer.Stop()
				return
			case <-r.changed:
				timer.Reset(r.debounce)
			case <-timer.C:
				break settle
			}
		}
		r.refresh()
	}
}

func (r *refresher) refresh() {
	start := time.Now()
	snap := r.state.Snapshot()
	res := analysis.Run(snap, r.opts)
	r.state.Relate(res.Model)
	took := time.Since(start)
	r.metrics.analyses.Observe(took.Seconds())
	r.metrics.objects.Set(float64(len(snap.Objects)))
	r.metrics.lastCheck.SetToCurrentTime()
	r.log.Debug("analyzed the cluster", "objects", len(snap.Objects), "findings", len(res.Findings), "took", took.Round(time.Millisecond))
	leader := r.leading.Load()
	if !r.publish || !leader {
		if r.wasLeader {
			r.metrics.findings.Reset()
			r.published = nil
		}
		r.wasLeader = false
		return
	}
	r.wasLeader = true
	r.metrics.setFindings(res.Findings)
	r.announce(snap, res.Findings)
}

// maxEvents bounds the Events of one analysis: a cluster with thousands
// of findings is summarized by the metrics, not by an Event storm.
const maxEvents = 200

// announce records an Event on each object with a finding not announced
// before.
func (r *refresher) announce(snap *manifest.Result, fs []finding.Finding) {
	if r.events == nil {
		return
	}
	objects := make(map[manifest.Ref]*manifest.Object, len(snap.Objects))
	for _, o := range snap.Objects {
		objects[o.Ref()] = o
	}
	current := make(map[publishedKey]bool, len(fs))
	sent := 0
	for _, f := range fs {
		k := publishedKey{f.Rule, f.Resource, f.Message}
		if r.published[k] {
			current[k] = true
			continue
		}
		o := objects[f.Resource]
		if o == nil || sent >= maxEvents {
			continue // a file, a denied kind: no object to attach to; or later
		}
		current[k] = true
		kind := corev1.EventTypeWarning
		if f.Severity == finding.Info {
			kind = corev1.EventTypeNormal
		}
		ref := &corev1.ObjectReference{APIVersion: o.APIVersion, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name}
		r.events.Event(ref, kind, reason(f.Rule), oneLine(f.Severity.String()+" "+f.Rule+" ("+f.Code+"): "+f.Message+" Fix: "+firstLine(f.Fix)))
		sent++
	}
	// Forget what is gone, so a problem that comes back is announced.
	r.published = current
}

// reason is a rule name as Event reasons are written (UpperCamelCase).
func reason(rule string) string {
	var b strings.Builder
	for _, part := range strings.Split(rule, "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
