package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const example003 = "../../examples/003-istio-network-issues"

func TestTraceExitCodes(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string // in stdout (exit 0/1) or stderr (exit 2)
	}{
		{[]string{"--from", "gateway:istio-system/istio-ingressgateway", "--url", "http://myapp.com/hello"}, ExitOK, "Outcome: success"},
		{[]string{"--from", "workload:default/frontend", "--url", "http://httpbin:8000/"}, ExitFindings, "HTTP 503, response flag UC"},
		{[]string{"--from", "workload:default/frontend", "--host", "reviews", "--port", "9080", "--path", "/http/"}, ExitFindings, "HTTP 426"},
		{[]string{"-n", "default", "--from", "workload:reviews-v1", "--url", "http://reviews:9080/"}, ExitFindings, "response flag NC"},
		{[]string{"--from", "workload:default/nope", "--url", "http://httpbin:8000/"}, ExitUsage, "no workload default/nope in the input"},
		{[]string{"--from", "workload:default/frontend", "--url", "ftp://httpbin/"}, ExitUsage, "scheme must be http, https, tcp or tls"},
		{[]string{"--from", "workload:default/frontend", "--url", "tcp://httpbin"}, ExitUsage, "needs a port"},
		{[]string{"--url", "http://httpbin:8000/"}, ExitUsage, "--from is required"},
		{[]string{"--from", "sidecar:default/frontend", "--url", "http://httpbin:8000/"}, ExitUsage, "unknown client kind"},
		{[]string{"--from", "workload:default/frontend", "--url", "http://httpbin:8000/", "--http-version", "3"}, ExitUsage, "--http-version"},
		{[]string{"--from", "workload:default/frontend", "--url", "http://httpbin:8000/", "-H", "novalue"}, ExitUsage, "-H"},
		{[]string{"--from", "workload:default/frontend", "--url", "http://httpbin:8000/", "--resolve", "httpbin:8000:notanip"}, ExitUsage, "not an IP address"},
		{[]string{"--from", "workload:default/frontend", "--url", "http://httpbin:8000/", "-o", "xml"}, ExitUsage, "unknown output format"},
	} {
		args := append([]string{"trace", example003}, tc.args...)
		code, out, errb := run(t, "", map[string]string{"NO_COLOR": "1"}, args...)
		text := out
		if tc.code == ExitUsage {
			text = errb
			if strings.Count(strings.TrimSpace(errb), "\n") > 0 {
				t.Errorf("%v: want one line on stderr, got:\n%s", tc.args, errb)
			}
		}
		if code != tc.code || !strings.Contains(text, tc.want) {
			t.Errorf("%v: exit %d (want %d), output lacks %q:\n%s%s", tc.args, code, tc.code, tc.want, out, errb)
		}
	}
}

func TestTraceJSON(t *testing.T) {
	code, out, errb := run(t, "", nil, "trace", example003, "--from", "workload:default/reviews-v1", "--url", "http://reviews:9080/", "-o", "json")
	if code != ExitFindings {
		t.Fatalf("exit %d: %s", code, errb)
	}
	var doc struct {
		Request struct{ URL, Method, HTTPVersion string }
		Hops    []struct {
			Step, Decision, Reason string
			Resource               *struct{ Kind, Namespace, Name string }
			Origin                 *struct {
				File string
				Line int
			}
			Fails bool
		}
		Outcome struct {
			Status                   int
			Flag, Cluster, Rule, Fix string
			Success                  bool
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	o := doc.Outcome
	if o.Status != 503 || o.Flag != "NC" || o.Rule != "subset-not-found" || o.Cluster != "outbound|9080|v3|reviews.default.svc.cluster.local" || o.Success || !strings.Contains(o.Fix, "name: v3") {
		t.Errorf("outcome %+v", o)
	}
	last := doc.Hops[len(doc.Hops)-1]
	if !last.Fails || last.Reason != "subset-not-found" || last.Resource == nil || last.Resource.Kind != "VirtualService" || last.Origin == nil || last.Origin.Line != 79 {
		t.Errorf("failing hop %+v", last)
	}
	if doc.Request.Method != "GET" || doc.Request.HTTPVersion != "1.1" {
		t.Errorf("request %+v", doc.Request)
	}
}

func TestTraceNoColor(t *testing.T) {
	_, out, _ := run(t, "", map[string]string{"NO_COLOR": "1"}, "trace", example003, "--from", "workload:default/frontend", "--url", "http://httpbin:8000/")
	if strings.Contains(out, "\x1b[") {
		t.Error("NO_COLOR: escape sequences in output")
	}
	_, out, _ = run(t, "", nil, "trace", example003, "--from", "workload:default/frontend", "--url", "http://httpbin:8000/")
	if !strings.Contains(out, "\x1b[") {
		t.Error("a terminal gets colour")
	}
}

// trace, plan and upgrade check the model flags as analyze does.
func TestModelFlagsChecked(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "mesh.yaml")
	if err := os.WriteFile(bad, []byte("- not\n- a mesh config\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"trace", example003, "--from", "workload:default/frontend", "--url", "http://httpbin:8000/", "--istio-version", "latest"},
		{"trace", example003, "--from", "workload:default/frontend", "--url", "http://httpbin:8000/", "--mesh-config", bad},
		{"plan", planData + "add-subset/from", planData + "add-subset/to", "--mesh-config", bad},
		{"upgrade", "--to", "1.24.0", "--mesh-config", bad, example003},
	} {
		if code, _, errb := run(t, "", nil, args...); code != ExitUsage || !strings.Contains(errb, "--") {
			t.Errorf("%v: exit %d, %q", args, code, errb)
		}
	}
}
