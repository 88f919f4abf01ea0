package admission_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"

	"github.com/meshdoctor/meshdoctor/internal/admission"
	"github.com/meshdoctor/meshdoctor/internal/analysis"
	"github.com/meshdoctor/meshdoctor/internal/catalog"
	"github.com/meshdoctor/meshdoctor/internal/change"
	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

// The cluster: seed 003's reviews service, its DestinationRule with subset
// v1 only, and a route already broken (pre-existing).
const cluster = `
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews-v1, namespace: shop}
spec:
  selector: {matchLabels: {app: reviews, version: v1}}
  template:
    metadata: {labels: {app: reviews, version: v1}}
    spec: {containers: [{name: reviews, image: example/reviews:1}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: shop}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: broken, namespace: shop}
spec:
  hosts: [broken.example.com]
  http:
  - route:
    - destination: {host: reviews, subset: v9}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: pinned, namespace: shop}
spec:
  hosts: [pinned.example.com]
  http:
  - route:
    - destination: {host: reviews, subset: v1}
`

func newState(t testing.TB) *change.State {
	t.Helper()
	res, err := manifest.Load([]string{"-"}, manifest.Options{Stdin: strings.NewReader(cluster)})
	if err != nil {
		t.Fatal(err)
	}
	s := change.NewState(analysis.Options{Rules: catalog.All()}, "")
	for _, o := range res.Objects {
		s.Put(o)
	}
	return s
}

const vsV3 = `{"apiVersion":"networking.istio.io/v1","kind":"VirtualService","metadata":{"name":"reviews","namespace":"shop"},
 "spec":{"hosts":["reviews"],"http":[{"route":[{"destination":{"host":"reviews","subset":"v3"}}]}]}}`

const vsV1 = `{"apiVersion":"networking.istio.io/v1","kind":"VirtualService","metadata":{"name":"reviews","namespace":"shop"},
 "spec":{"hosts":["reviews"],"http":[{"route":[{"destination":{"host":"reviews","subset":"v1"}}]}]}}`

func review(op, kind, group, resource, name, object, old string, dryRun bool) string {
	obj := func(s string) string {
		if s == "" {
			return "null"
		}
		return s
	}
	return fmt.Sprintf(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{
 "uid":"u-1","kind":{"group":%q,"version":"v1","kind":%q},"resource":{"group":%q,"version":"v1","resource":%q},
 "namespace":"shop","name":%q,"operation":%q,"userInfo":{"username":"dev"},"object":%s,"oldObject":%s,"dryRun":%t}}`,
		group, kind, group, resource, name, op, obj(object), obj(old), dryRun)
}

func post(t *testing.T, h http.Handler, body string) *admissionv1.AdmissionResponse {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/validate", strings.NewReader(body)))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var out admissionv1.AdmissionReview
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("response: %v\n%s", err, rec.Body)
	}
	if out.Kind != "AdmissionReview" || out.APIVersion != "admission.k8s.io/v1" || out.Response == nil {
		t.Fatalf("response is no AdmissionReview: %s", rec.Body)
	}
	return out.Response
}

func TestReview(t *testing.T) {
	vs := func(op, object, old string, dry bool) string {
		return review(op, "VirtualService", "networking.istio.io", "virtualservices", "reviews", object, old, dry)
	}
	dr := review("DELETE", "DestinationRule", "networking.istio.io", "destinationrules", "reviews", "", `{"apiVersion":"networking.istio.io/v1","kind":"DestinationRule","metadata":{"name":"reviews","namespace":"shop"}}`, false)
	for _, tc := range []struct {
		name     string
		opts     admission.Options
		body     string
		allowed  bool
		warnings []string // substrings, one per warning, in order
	}{
		{"create route to missing subset", admission.Options{MinSeverity: finding.Warning}, vs("CREATE", vsV3, "", false), true, []string{`error subset-not-found (MD`}},
		{"dry run answers the same", admission.Options{MinSeverity: finding.Warning}, vs("CREATE", vsV3, "", true), true, []string{`error subset-not-found`}},
		{"update to a missing subset", admission.Options{MinSeverity: finding.Warning}, vs("UPDATE", vsV3, vsV1, false), true, []string{`on VirtualService/shop/reviews`}},
		{"healthy route", admission.Options{MinSeverity: finding.Warning}, vs("CREATE", vsV1, "", false), true, nil},
		{"deny on error", admission.Options{MinSeverity: finding.Warning, DenyOn: finding.Error}, vs("CREATE", vsV3, "", false), false, []string{`subset-not-found`}},
		{"deny on error, healthy", admission.Options{MinSeverity: finding.Warning, DenyOn: finding.Error}, vs("CREATE", vsV1, "", false), true, nil},
		{"below the minimum severity", admission.Options{MinSeverity: finding.Error + 1}, vs("CREATE", vsV3, "", false), true, nil},
		{"excluded namespace", admission.Options{ExcludeNamespaces: []string{"shop"}, DenyOn: finding.Error}, vs("CREATE", vsV3, "", false), true, nil},
		// Deleting the DestinationRule breaks the route to v1; the route
		// to v9 was broken before and is not warned about again.
		{"delete", admission.Options{MinSeverity: finding.Warning}, dr, true, []string{`on VirtualService/shop/pinned`}},
		{"kind meshdoctor does not read", admission.Options{DenyOn: finding.Error}, review("CREATE", "Lease", "coordination.k8s.io", "leases", "x", `{"metadata":{"name":"x"}}`, "", false), true, nil},
		{"malformed", admission.Options{}, `{"request": 42}`, true, []string{"the change was not checked"}},
		{"not JSON", admission.Options{}, `apiVersion: v1`, true, []string{"the change was not checked"}},
		{"create without object", admission.Options{}, vs("CREATE", "", "", false), true, []string{"the change was not checked"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := post(t, admission.NewHandler(newState(t), tc.opts), tc.body)
			if resp.Allowed != tc.allowed {
				t.Errorf("allowed %v, want %v (%+v)", resp.Allowed, tc.allowed, resp.Result)
			}
			if !tc.allowed && (resp.Result == nil || resp.Result.Code != http.StatusForbidden || !strings.Contains(resp.Result.Message, "subset-not-found")) {
				t.Errorf("denial without a 403 naming the finding: %+v", resp.Result)
			}
			if len(resp.Warnings) != len(tc.warnings) {
				t.Fatalf("warnings %q, want %d", resp.Warnings, len(tc.warnings))
			}
			for i, w := range tc.warnings {
				if !strings.Contains(resp.Warnings[i], w) || strings.ContainsAny(resp.Warnings[i], "\n\r") || strings.Contains(resp.Warnings[i], "broken") {
					t.Errorf("warning %q, want one line with %q", resp.Warnings[i], w)
				}
			}
			if tc.body[0] == '{' && !strings.Contains(tc.body, `"request": 42`) && resp.UID != "u-1" {
				t.Errorf("uid %q, want the request's", resp.UID)
			}
		})
	}
}

type analyzer func(change.Change) *analysis.Result

func (a analyzer) Analyze(c change.Change) *analysis.Result { return a(c) }

// A slow or failing analysis lets the change through, saying so.
func TestFailOpen(t *testing.T) {
	body := review("CREATE", "VirtualService", "networking.istio.io", "virtualservices", "reviews", vsV3, "", false)
	slow := analyzer(func(change.Change) *analysis.Result { time.Sleep(time.Second); return &analysis.Result{} })
	broken := analyzer(func(change.Change) *analysis.Result { panic("nil map") })
	for name, a := range map[string]analyzer{"slow": slow, "panics": broken} {
		t.Run(name, func(t *testing.T) {
			var got admission.Outcome
			h := admission.NewHandler(a, admission.Options{DenyOn: finding.Error, Timeout: 50 * time.Millisecond})
			h.Observe = func(o admission.Outcome, _ time.Duration) { got = o }
			resp := post(t, h, body)
			if !resp.Allowed || len(resp.Warnings) != 1 || !strings.Contains(resp.Warnings[0], "not checked") {
				t.Errorf("allowed %v, warnings %q: want allowed with a not-checked warning", resp.Allowed, resp.Warnings)
			}
			if got != admission.FailedOpen {
				t.Errorf("outcome %q, want %q", got, admission.FailedOpen)
			}
		})
	}
}

func TestOnlyPost(t *testing.T) {
	rec := httptest.NewRecorder()
	admission.NewHandler(newState(t), admission.Options{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/validate", bytes.NewReader(nil)))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: status %d, want 405", rec.Code)
	}
}
