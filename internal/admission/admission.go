// Package admission answers Kubernetes admission reviews for the objects
// meshdoctor reads: it analyzes the cluster with the request's change
// applied and answers with warnings (kubectl prints them) for the findings
// the change would add, or a denial when asked to deny on them. It fails
// open: a request it cannot decode, an analysis that fails or takes too
// long lets the change through with a warning saying it was not checked.
package admission

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/meshdoctor/meshdoctor/internal/analysis"
	"github.com/meshdoctor/meshdoctor/internal/change"
	"github.com/meshdoctor/meshdoctor/internal/cluster"
	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

// Analyzer analyzes a change to the cluster (a *change.State).
type Analyzer interface {
	Analyze(change.Change) *analysis.Result
}

// Options decide what a review answers.
type Options struct {
	// MinSeverity is the least severe new finding that becomes a warning.
	MinSeverity finding.Severity
	// DenyOn rejects a change that adds a finding at least this severe;
	// 0 never rejects.
	DenyOn finding.Severity
	// ExcludeNamespaces are allowed without analysis.
	ExcludeNamespaces []string
	// Timeout bounds one analysis; past it the change is let through
	// with a warning (default 2s, below the API server's webhook timeout).
	Timeout time.Duration
}

// Outcome is what a review decided, for metrics.
type Outcome string

const (
	Allowed    Outcome = "allowed"     // analyzed, nothing new to say
	Warned     Outcome = "warned"      // analyzed, allowed with warnings
	Denied     Outcome = "denied"      // analyzed, rejected (DenyOn)
	Skipped    Outcome = "skipped"     // not analyzed: excluded namespace, kind or subresource
	FailedOpen Outcome = "failed-open" // not analyzed: malformed, error or timeout
)

// Handler serves AdmissionReview requests over HTTP.
type Handler struct {
	analyzer Analyzer
	opts     Options
	// Observe, when set, is told each review's outcome and duration.
	Observe func(Outcome, time.Duration)
	// Ready, when set, says why the analyzer cannot answer yet (a cache
	// still filling would make every object look new): the change is let
	// through unchecked, with a warning.
	Ready func() error
}

// NewHandler reviews changes with a under opts.
func NewHandler(a Analyzer, opts Options) *Handler {
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Second
	}
	return &Handler{analyzer: a, opts: opts}
}

// maxBody bounds a review: the API server sends at most its request size
// limit (3 MiB) twice, old and new object.
const maxBody = 8 << 20

// ServeHTTP answers one AdmissionReview. Whatever goes wrong, the answer
// is a review that allows the change (the webhook's failurePolicy is not
// relied upon), except for requests that are not POSTs of JSON.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST an AdmissionReview", http.StatusMethodNotAllowed)
		return
	}
	start := time.Now()
	review := admissionv1.AdmissionReview{}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	var resp *admissionv1.AdmissionResponse
	var outcome Outcome
	switch {
	case err != nil:
		resp, outcome = failOpen("", "reading the request: %v", err)
	case json.Unmarshal(body, &review) != nil || review.Request == nil:
		resp, outcome = failOpen("", "the request is not an AdmissionReview with a request")
	default:
		resp, outcome = h.Review(r.Context(), review.Request)
	}
	if h.Observe != nil {
		h.Observe(outcome, time.Since(start))
	}
	out := admissionv1.AdmissionReview{Response: resp}
	out.APIVersion, out.Kind = review.APIVersion, review.Kind
	if out.APIVersion == "" {
		out.SetGroupVersionKind(admissionv1.SchemeGroupVersion.WithKind("AdmissionReview"))
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

func failOpen(uid types.UID, format string, args ...any) (*admissionv1.AdmissionResponse, Outcome) {
	return &admissionv1.AdmissionResponse{
		UID: uid, Allowed: true,
		Warnings: []string{"meshdoctor: the change was not checked: " + oneLine(fmt.Sprintf(format, args...))},
	}, FailedOpen
}

// Review decides one admission request.
func (h *Handler) Review(ctx context.Context, req *admissionv1.AdmissionRequest) (resp *admissionv1.AdmissionResponse, outcome Outcome) {
	uid := req.UID
	allow := &admissionv1.AdmissionResponse{UID: req.UID, Allowed: true}
	if req.SubResource != "" || req.Operation == admissionv1.Connect || slices.Contains(h.opts.ExcludeNamespaces, req.Namespace) {
		return allow, Skipped
	}
	if h.Ready != nil {
		if err := h.Ready(); err != nil {
			return failOpen(uid, "%v", err)
		}
	}
	c, ok, err := changeOf(req)
	if err != nil {
		return failOpen(uid, "%v", err)
	}
	if !ok {
		return allow, Skipped
	}
	type result struct {
		res *analysis.Result
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- result{err: fmt.Errorf("internal error: %v", p)}
			}
		}()
		done <- result{res: h.analyzer.Analyze(c)}
	}()
	timer := time.NewTimer(h.opts.Timeout)
	defer timer.Stop()
	var res *analysis.Result
	select {
	case r := <-done:
		if r.err != nil {
			return failOpen(uid, "%v", r.err)
		}
		res = r.res
	case <-timer.C:
		return failOpen(uid, "the analysis took longer than %s", h.opts.Timeout)
	case <-ctx.Done():
		return failOpen(uid, "%v", ctx.Err())
	}
	return h.decide(req, res)
}

// decide turns the new findings into warnings and maybe a denial.
func (h *Handler) decide(req *admissionv1.AdmissionRequest, res *analysis.Result) (*admissionv1.AdmissionResponse, Outcome) {
	resp := &admissionv1.AdmissionResponse{UID: req.UID, Allowed: true}
	var denying []finding.Finding
	var shown []finding.Finding
	for _, f := range res.Findings {
		if f.PreExisting {
			continue
		}
		if h.opts.DenyOn > 0 && f.Severity >= h.opts.DenyOn {
			denying = append(denying, f)
		}
		if f.Severity >= h.opts.MinSeverity {
			shown = append(shown, f)
		}
	}
	resp.Warnings = warnings(shown)
	if len(denying) > 0 {
		resp.Allowed = false
		msgs := make([]string, 0, len(denying))
		for _, f := range denying {
			msgs = append(msgs, describe(f))
		}
		noun := "finding"
		if len(denying) > 1 {
			noun = "findings"
		}
		resp.Result = &metav1.Status{
			Status: metav1.StatusFailure, Code: http.StatusForbidden, Reason: metav1.StatusReasonForbidden,
			Message: fmt.Sprintf("meshdoctor: this change adds %d %s at severity %s or above: %s", len(denying), noun, h.opts.DenyOn, strings.Join(msgs, "; ")),
		}
		return resp, Denied
	}
	if len(resp.Warnings) > 0 {
		return resp, Warned
	}
	return resp, Allowed
}

// maxWarnings keeps a review's warnings within what the API server passes
// on whole: past 4096 characters in all it cuts each to 256
// (k8s.io/apiserver/pkg/endpoints/filters/warning.go).
const (
	maxWarnings    = 6
	maxWarningSize = 600
)

func warnings(fs []finding.Finding) []string {
	var out []string
	for i, f := range fs {
		if i == maxWarnings {
			out = append(out, fmt.Sprintf("meshdoctor: %d more findings (meshdoctor analyze --kube --only-new with this change lists them all)", len(fs)-i))
			break
		}
		w := "meshdoctor: " + describe(f)
		if first, _, _ := strings.Cut(f.Fix, "\n"); first != "" {
			w += " Fix: " + oneLine(first)
		}
		if len(w) > maxWarningSize {
			w = w[:maxWarningSize-3] + "..."
		}
		out = append(out, w)
	}
	return out
}

// describe is a finding on one line: severity, rule, object and message.
func describe(f finding.Finding) string {
	return oneLine(fmt.Sprintf("%s %s (%s) on %s: %s", f.Severity, f.Rule, f.Code, f.Resource, f.Message))
}

// changeOf is the change a request makes, or false for a kind meshdoctor
// does not read.
func changeOf(req *admissionv1.AdmissionRequest) (change.Change, bool, error) {
	gvk := schema.GroupVersionKind{Group: req.Kind.Group, Version: req.Kind.Version, Kind: req.Kind.Kind}
	r, ok := cluster.NewResource(gvk, req.Resource.Resource, req.Namespace != "" && !manifest.ClusterScoped(gvk.Kind))
	if !ok {
		return change.Change{}, false, nil
	}
	switch req.Operation {
	case admissionv1.Delete:
		ns := req.Namespace
		if !r.Namespaced() {
			ns = "" // a Namespace's own requests name it as their namespace
		}
		return change.Change{Delete: []manifest.ID{{Group: gvk.Group, Kind: gvk.Kind, Namespace: ns, Name: req.Name}}}, true, nil
	case admissionv1.Create, admissionv1.Update:
		if len(req.Object.Raw) == 0 {
			return change.Change{}, false, fmt.Errorf("%s request for %s without an object", req.Operation, gvk.Kind)
		}
		apply := &manifest.Result{Unknown: map[string]int{}}
		o, p := cluster.Decode(r, req.Object.Raw)
		if p != nil {
			apply.Problems = append(apply.Problems, *p)
			return change.Change{Apply: apply}, true, nil
		}
		// The API server names the namespace in the request; the object
		// may leave it out.
		if o.Namespace == "" && r.Namespaced() {
			o.Namespace = req.Namespace
		}
		if o.Name == "" {
			o.Name = req.Name
		}
		apply.Objects = append(apply.Objects, o)
		return change.Change{Apply: apply}, true, nil
	}
	return change.Change{}, false, nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
