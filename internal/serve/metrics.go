package serve

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/meshdoctor/meshdoctor/internal/admission"
	"github.com/meshdoctor/meshdoctor/internal/finding"
)

// metrics are what /metrics exports. The findings are the leader's (one
// replica publishes them, so sums across replicas stay right); every
// replica counts the admission reviews it answered.
type metrics struct {
	registry  *prometheus.Registry
	findings  *prometheus.GaugeVec
	reviews   *prometheus.HistogramVec
	analyses  prometheus.Histogram
	objects   prometheus.Gauge
	leader    prometheus.Gauge
	lastCheck prometheus.Gauge
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		findings: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "meshdoctor_findings",
			Help: "Findings of the last analysis of the whole cluster, by rule, severity and namespace (exported by the leader only).",
		}, []string{"rule", "severity", "namespace"}),
		reviews: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "meshdoctor_admission_review_duration_seconds",
			Help:    "Time to answer an admission review, by outcome (allowed, warned, denied, skipped, failed-open).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"outcome"}),
		analyses: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "meshdoctor_cluster_analysis_duration_seconds",
			Help:    "Time to analyze the whole cluster after changes settle.",
			Buckets: prometheus.ExponentialBuckets(.01, 2, 12),
		}),
		objects:   prometheus.NewGauge(prometheus.GaugeOpts{Name: "meshdoctor_cached_objects", Help: "Objects in the watch cache."}),
		leader:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "meshdoctor_leader", Help: "1 when this replica runs the continuous analysis."}),
		lastCheck: prometheus.NewGauge(prometheus.GaugeOpts{Name: "meshdoctor_last_analysis_timestamp_seconds", Help: "When the whole cluster was last analyzed."}),
	}
	m.registry.MustRegister(m.findings, m.reviews, m.analyses, m.objects, m.leader, m.lastCheck,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) observe(o admission.Outcome, seconds float64) {
	m.reviews.WithLabelValues(string(o)).Observe(seconds)
}

// setFindings replaces the findings gauge with fs's counts.
func (m *metrics) setFindings(fs []finding.Finding) {
	type key struct{ rule, severity, namespace string }
	counts := map[key]int{}
	for _, f := range fs {
		counts[key{f.Rule, f.Severity.String(), f.Resource.Namespace}]++
	}
	m.findings.Reset()
	for k, n := range counts {
		m.findings.WithLabelValues(k.rule, k.severity, k.namespace).Set(float64(n))
	}
}
