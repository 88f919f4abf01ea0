package serve

import (
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/tools/record"

	"github.com/meshdoctor/meshdoctor/internal/analysis"
	"github.com/meshdoctor/meshdoctor/internal/catalog"
	"github.com/meshdoctor/meshdoctor/internal/change"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

const brokenRoute = `
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: shop}
spec:
  host: reviews
  subsets: [{name: v1, labels: {version: v1}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v3}
`

// The leader publishes each finding once as an Event and all of them as
// the findings gauge; a replica that stops leading exports none.
func TestRefresherPublishes(t *testing.T) {
	loaded, err := manifest.Load([]string{"-"}, manifest.Options{Stdin: strings.NewReader(brokenRoute)})
	if err != nil {
		t.Fatal(err)
	}
	opts := analysis.Options{Rules: catalog.All()}
	state := change.NewState(opts, "")
	for _, o := range loaded.Objects {
		state.Put(o)
	}
	events := record.NewFakeRecorder(100)
	var leading atomic.Bool
	leading.Store(true)
	m := newMetrics()
	changed := make(chan struct{}, 1)
	r := &refresher{state: state, opts: opts, debounce: 10 * time.Millisecond, changed: changed, leading: &leading, publish: true, metrics: m, events: events, log: slog.New(slog.NewTextHandler(io.Discard, nil))}

	r.refresh()
	if got := findingSeries(t, m); len(got) != 1 || got[`namespace="shop",rule="subset-not-found",severity="error"`] != 1 {
		t.Errorf("meshdoctor_findings: %v, want subset-not-found error in shop = 1", got)
	}
	select {
	case e := <-events.Events:
		if !strings.HasPrefix(e, "Warning SubsetNotFound error subset-not-found") {
			t.Errorf("event %q", e)
		}
	default:
		t.Fatal("no Event for the finding")
	}
	r.refresh()
	select {
	case e := <-events.Events:
		if strings.Contains(e, "SubsetNotFound") {
			t.Errorf("the same finding announced twice: %q", e)
		}
	default:
	}
	leading.Store(false)
	r.refresh()
	if got := findingSeries(t, m); len(got) != 0 {
		t.Errorf("after losing the lease: findings %v, want none", got)
	}
}

// findingSeries is meshdoctor_findings as gathered: labels -> value.
func findingSeries(t *testing.T, m *metrics) map[string]float64 {
	t.Helper()
	families, err := m.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "meshdoctor_findings" {
			continue
		}
		for _, s := range f.GetMetric() {
			var labels []string
			for _, l := range s.GetLabel() {
				labels = append(labels, l.GetName()+"="+strconv.Quote(l.GetValue()))
			}
			out[strings.Join(labels, ",")] = s.GetGauge().GetValue()
		}
	}
	return out
}
