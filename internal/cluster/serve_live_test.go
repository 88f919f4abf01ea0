package cluster_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshdoctor/meshdoctor/internal/admission"
	"github.com/meshdoctor/meshdoctor/internal/analysis"
	"github.com/meshdoctor/meshdoctor/internal/catalog"
	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/serve"
)

// selfSigned writes a CA and a server certificate for 127.0.0.1 signed by
// it into dir (tls.crt, tls.key) and returns the CA's PEM.
func selfSigned(t *testing.T, dir string) []byte {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "meshdoctor test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "meshdoctor"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	caCert, _ := x509.ParseCertificate(caDER)
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, typ string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("tls.crt", "CERTIFICATE", der)
	write("tls.key", "EC PRIVATE KEY", keyDER)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
}

// warnings collects the admission warnings the API server passes on.
type warnings struct {
	mu   sync.Mutex
	list []string
}

func (w *warnings) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, text)
}

func (w *warnings) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.list
	w.list = nil
	return out
}

type server struct {
	webhook, probes net.Addr
	stop            func()
}

// startServe runs meshdoctor serve against the test API server.
func startServe(t *testing.T, tlsDir string, a admission.Options, leaseNS string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(testCtx)
	ready := make(chan *server, 1)
	done := make(chan error, 1)
	go func() {
		done <- serve.Run(ctx, serve.Options{
			Config: cfg, Listen: "127.0.0.1:0", ProbeListen: "127.0.0.1:0", TLSDir: tlsDir,
			Admission: a, Analysis: analysis.Options{Rules: catalog.All(), Catalog: catalog.All()},
			Continuous: true, LeaderElect: true, LeaderElectionNamespace: leaseNS, Identity: "test",
			Debounce: 100 * time.Millisecond, Log: io.Discard,
			Ready: func(w, p net.Addr) { ready <- &server{webhook: w, probes: p} },
		})
	}()
	select {
	case s := <-ready:
		s.stop = func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
		}
		return s
	case err := <-done:
		cancel()
		t.Fatalf("serve ended before it was ready: %v", err)
	case <-time.After(2 * time.Minute):
		cancel()
		t.Fatal("serve not ready after 2 minutes")
	}
	return nil
}

// register points a ValidatingWebhookConfiguration for the Istio
// networking kinds in namespaces labelled for this test at s.
func register(t *testing.T, name string, s *server, caPEM []byte, label string) (unregister func()) {
	t.Helper()
	url := "https://" + s.webhook.String() + "/validate"
	ignore, none := admissionregistrationv1.Ignore, admissionregistrationv1.SideEffectClassNone
	timeout := int32(5)
	cfgObj := &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name:                    "validate.meshdoctor.io",
			ClientConfig:            admissionregistrationv1.WebhookClientConfig{URL: &url, CABundle: caPEM},
			Rules:                   []admissionregistrationv1.RuleWithOperations{{Operations: []admissionregistrationv1.OperationType{"CREATE", "UPDATE", "DELETE"}, Rule: admissionregistrationv1.Rule{APIGroups: []string{"networking.istio.io"}, APIVersions: []string{"*"}, Resources: []string{"virtualservices", "destinationrules"}}}},
			FailurePolicy:           &ignore,
			SideEffects:             &none,
			TimeoutSeconds:          &timeout,
			AdmissionReviewVersions: []string{"v1"},
			NamespaceSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"meshdoctor-test": label}},
		}},
	}
	if err := k8sClient.Create(testCtx, cfgObj); err != nil {
		t.Fatal(err)
	}
	unregister = func() { _ = k8sClient.Delete(testCtx, cfgObj) }
	t.Cleanup(unregister)
	return unregister
}

func object(t *testing.T, text string) *unstructured.Unstructured {
	t.Helper()
	docs, err := splitYAML([]byte(text))
	if err != nil || len(docs) != 1 {
		t.Fatalf("%v (%d documents)", err, len(docs))
	}
	return docs[0]
}

// TestServeAdmission: the real API server calls meshdoctor serve's webhook
// over TLS. Seed 003: the VirtualService routing to subset v3 before the
// DestinationRule defines it gets the 503 warning; in the right order
// nothing; --deny-on error rejects; a finding the cluster already has is
// not warned about again; a dead webhook blocks nothing.
func TestServeAdmission(t *testing.T) {
	requireAPIServer(t)
	ns := testPrefix + "serve"
	apply(t, k8sClient, `
apiVersion: v1
kind: Namespace
metadata:
  name: `+ns+`
  labels: {istio-injection: enabled, meshdoctor-test: serve}
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: `+ns+`}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews-v1, namespace: `+ns+`}
spec:
  selector: {matchLabels: {app: reviews, version: v1}}
  template:
    metadata: {labels: {app: reviews, version: v1}}
    spec: {containers: [{name: reviews, image: example/reviews:1}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews-v3, namespace: `+ns+`}
spec:
  selector: {matchLabels: {app: reviews, version: v3}}
  template:
    metadata: {labels: {app: reviews, version: v3}}
    spec: {containers: [{name: reviews, image: example/reviews:3}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: `+ns+`}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: broken, namespace: `+ns+`}
spec:
  hosts: [broken.example.com]
  http:
  - route:
    - destination: {host: reviews, subset: v9}
`)
	tlsDir := t.TempDir()
	caPEM := selfSigned(t, tlsDir)
	warned := &warnings{}
	wcfg := rest.CopyConfig(cfg)
	wcfg.WarningHandler = warned
	c, err := client.New(wcfg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	route := func(subset string) *unstructured.Unstructured {
		return object(t, `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: `+ns+`}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v1}
      weight: 80
    - destination: {host: reviews, subset: `+subset+`}
      weight: 20
`)
	}
	// Until the API server's webhook configuration cache has it, a
	// request is not sent to the webhook: wait for the first warning.
	waitWarning := func(want string) []string {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			if err := c.Create(testCtx, route("v3"), client.DryRunAll); err != nil {
				t.Fatalf("dry-run create: %v", err)
			}
			ws := warned.take()
			for _, w := range ws {
				if strings.Contains(w, want) {
					return ws
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("no warning with %q after 30s (got %q)", want, ws)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}

	s := startServe(t, tlsDir, admission.Options{MinSeverity: finding.Warning, ExcludeNamespaces: []string{"kube-system"}}, ns)
	unregister := register(t, "meshdoctor-test-warn", s, caPEM, "serve")

	// The wrong order, as a CI check: kubectl apply --dry-run=server.
	ws := waitWarning("subset-not-found")
	if got := about(ws, "subset-not-found", "rollout-order"); len(got) != 1 || !strings.Contains(got[0], "VirtualService/"+ns+"/reviews") || !strings.Contains(got[0], `"v3"`) {
		t.Errorf("route before subset: warnings %q, want one subset-not-found on VirtualService %s/reviews naming v3", ws, ns)
	}
	if err := c.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "reviews"}, route("v3")); !apierrors.IsNotFound(err) {
		t.Errorf("the dry run created the VirtualService (get: %v)", err)
	}

	// A change to an object with a finding it already has: not again.
	broken := &unstructured.Unstructured{}
	broken.SetGroupVersionKind(route("v3").GroupVersionKind())
	if err := c.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "broken"}, broken); err != nil {
		t.Fatal(err)
	}
	broken.SetLabels(map[string]string{"touched": "yes"})
	if err := c.Update(testCtx, broken); err != nil {
		t.Fatal(err)
	}
	if ws := warned.take(); len(about(ws, "broken")) != 0 {
		t.Errorf("update keeping a pre-existing finding: warnings %q, want none about it", ws)
	}

	// The probes, the metrics and the continuous analysis's Event.
	get := func(path string) string {
		resp, err := http.Get("http://" + s.probes.String() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		return string(b)
	}
	get("/healthz")
	get("/readyz")
	deadline := time.Now().Add(30 * time.Second)
	for {
		metrics := get("/metrics")
		var events corev1.EventList
		if err := k8sClient.List(testCtx, &events, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range events.Items {
			found = found || e.InvolvedObject.Name == "broken" && e.Reason == "SubsetNotFound"
		}
		if found && strings.Contains(metrics, `meshdoctor_findings{namespace="`+ns+`",rule="subset-not-found",severity="error"} 1`) &&
			strings.Contains(metrics, `meshdoctor_admission_review_duration_seconds_count{outcome="warned"}`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30s: Event on VirtualService broken %v; metrics:\n%s", found, grepLines(metrics, "meshdoctor_"))
		}
		time.Sleep(300 * time.Millisecond)
	}
	s.stop()
	unregister()

	// --deny-on error: the same change is rejected.
	s = startServe(t, tlsDir, admission.Options{MinSeverity: finding.Warning, DenyOn: finding.Error}, ns)
	register(t, "meshdoctor-test-deny", s, caPEM, "serve")
	deadline = time.Now().Add(30 * time.Second)
	for {
		err := c.Create(testCtx, route("v3"), client.DryRunAll)
		if err != nil {
			if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "subset-not-found") {
				t.Errorf("deny-on error: %v, want forbidden naming subset-not-found", err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("deny-on error: the route before its subset was still admitted after 30s")
		}
		time.Sleep(200 * time.Millisecond)
	}
	warned.take()

	// The right order: the subset, then (once the cache has it) the route.
	dr := object(t, `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: `+ns+`}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v3, labels: {version: v3}}
`)
	cur := &unstructured.Unstructured{}
	cur.SetGroupVersionKind(dr.GroupVersionKind())
	if err := c.Get(testCtx, client.ObjectKeyFromObject(dr), cur); err != nil {
		t.Fatal(err)
	}
	dr.SetResourceVersion(cur.GetResourceVersion())
	if err := c.Update(testCtx, dr); err != nil {
		t.Fatalf("adding subset v3: %v", err)
	}
	if ws := warned.take(); len(about(ws, "subset-not-found", "rollout-order")) != 0 {
		t.Errorf("adding a subset: warnings %q, want none about subsets", ws)
	}
	deadline = time.Now().Add(10 * time.Second)
	for c.Create(testCtx, route("v3"), client.DryRunAll) != nil && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond) // the watch has not seen the DestinationRule yet
	}
	warned.take()
	if err := c.Create(testCtx, route("v3")); err != nil {
		t.Fatalf("route after its subset: %v", err)
	}
	if ws := warned.take(); len(about(ws, "subset-not-found", "rollout-order")) != 0 {
		t.Errorf("route after its subset: warnings %q, want none about subsets", ws)
	}

	// A dead webhook blocks nothing (failurePolicy Ignore).
	s.stop()
	if err := c.Create(testCtx, object(t, `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: canary, namespace: `+ns+`}
spec:
  hosts: [canary.example.com]
  http:
  - route:
    - destination: {host: reviews, subset: v7}
`)); err != nil {
		t.Errorf("with the webhook down: %v", err)
	}
}

// about keeps the warnings naming any of subs. The cluster holds other
// tests' objects too (pods elsewhere, the examples), so a change may have
// findings of its own that are not about the order of subsets and routes;
// assertions name what they are about.
func about(ws []string, subs ...string) []string {
	var out []string
	for _, w := range ws {
		for _, s := range subs {
			if strings.Contains(w, s) {
				out = append(out, w)
				break
			}
		}
	}
	return out
}

func grepLines(s, sub string) string {
	var b bytes.Buffer
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) && !strings.HasPrefix(l, "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}
