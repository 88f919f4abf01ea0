// Package conformance holds tests that hold meshdoctor against Istio's own
// material, read from the istio.io/istio module at test time (never copied
// into this repository): the expected messages of istioctl analyze's
// analyzer tests (istio-analyzers.yaml: which ones meshdoctor matches,
// deliberately differs on, or misses) and the Istio samples, which must
// stay quiet apart from the real problems listed in istio-samples.yaml.
package conformance
