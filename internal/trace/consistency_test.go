package trace_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/trace"
)

// routeRules are the analyze rules that say a route's requests fail at a
// destination field or at the DestinationRule TLS it uses. When one of
// them fires on the path a traced request takes, the trace must fail too.
var routeRules = map[string]bool{
	"subset-not-found":           true,
	"destination-host-not-found": true,
	"auto-sni-san-mismatch":      true,
	"mtls-mode-conflict":         true,
	// Reported at the tls block's credentialName, the line the trace's
	// upstream TLS hop points to.
	"sidecar-tls-credential-ignored": true,
}

// TestTraceAgreesWithAnalyze poses, for every example and testdata
// scenario, a request for each VirtualService http rule (from a sidecar in
// its namespace, and through each Gateway it is bound to) and holds trace
// and analyze to one account: a failure trace explains by a rule must be a
// finding of that rule on the request's path, and an analyze finding on
// the path (the destination field, the DestinationRule TLS) must make the
// trace fail.
func TestTraceAgreesWithAnalyze(t *testing.T) {
	var scenarios [][]string
	for _, glob := range []string{"examples/*", "testdata/healthy/*", "testdata/trace/*", "testdata/rules/*/*.yaml"} {
		matches, _ := filepath.Glob(filepath.Join(root, glob))
		for _, m := range matches {
			if fi, err := os.Stat(m); err == nil && (fi.IsDir() || strings.HasSuffix(m, ".yaml")) {
				rel, _ := filepath.Rel(root, m)
				scenarios = append(scenarios, []string{rel})
			}
		}
	}
	posed := 0
	for _, sc := range scenarios {
		res := analyze(t, sc, "")
		byLine := map[string][]finding.Finding{}
		byObject := map[string]bool{}
		for _, f := range res.Findings {
			byLine[f.Origin.String()] = append(byLine[f.Origin.String()], f)
			byObject[f.Rule+" "+f.Resource.String()] = true
		}
		for _, req := range requestsFor(res.Model) {
			p, err := trace.Parse(req.spec)
			if err != nil {
				continue
			}
			tr, err := trace.Run(res.Model, p, res.Findings)
			if err != nil {
				continue
			}
			posed++
			name := fmt.Sprintf("%s: --from %s --url %s %v", sc[0], req.spec.From, req.spec.URL, req.spec.Headers)
			o := tr.Outcome
			// Trace never blames a rule that analyze does not report on
			// the objects the request passes.
			if o.Rule != "" {
				found := false
				for _, h := range tr.Hops {
					refs := []*manifest.Ref{h.Resource}
					for _, c := range h.Considered {
						refs = append(refs, c.Resource)
					}
					for _, r := range refs {
						if r != nil && byObject[o.Rule+" "+r.String()] {
							found = true
						}
					}
				}
				if !found {
					t.Errorf("%s: trace says %s, analyze reports no %s finding on the request's path", name, o.Rule, o.Rule)
				}
			}
			// Analyze findings on the path make the trace fail.
			for _, h := range tr.Hops {
				if h.Origin == nil || (h.Step != trace.StepTLS && h.Step != trace.StepCluster) {
					continue
				}
				for _, f := range byLine[h.Origin.String()] {
					if !routeRules[f.Rule] || f.Severity < finding.Error || f.Resource != *h.Resource {
						continue
					}
					if o.Success && !failsInSplit(o, h) {
						t.Errorf("%s: analyze reports %s at %s, but the trace succeeds", name, f.Rule, h.Origin)
					}
				}
			}
		}
	}
	if posed < 30 {
		t.Fatalf("only %d requests posed: the generator lost its inputs", posed)
	}
	t.Logf("%d requests posed over %d scenarios", posed, len(scenarios))
}

// failsInSplit reports whether a weighted destination other than the
// followed one fails (the trace follows the failing share when there is
// one, so a successful outcome with a failing split entry is consistent).
func failsInSplit(o trace.Outcome, _ trace.Hop) bool {
	for _, s := range o.Split {
		if strings.HasPrefix(s.Outcome, "fails") {
			return true
		}
	}
	return false
}

type posedRequest struct{ spec trace.Spec }

// requestsFor derives requests that exercise each VirtualService http
// rule: the host, a path and headers its first match block accepts, from
// a sidecar workload in the VirtualService's namespace and through each
// bound Gateway with a plaintext HTTP server for the host.
func requestsFor(m *mesh.Model) []posedRequest {
	var out []posedRequest
	for _, vs := range m.VirtualServices {
		for _, h := range vs.Spec.Http {
			path, headers, method, ok := "/", []string(nil), "", true
			if len(h.Match) > 0 {
				mt := h.Match[0]
				switch {
				case mt.GetUri() == nil:
				case mt.GetUri().GetExact() != "":
					path = mt.GetUri().GetExact()
				case mt.GetUri().GetPrefix() != "":
					path = mt.GetUri().GetPrefix()
				default:
					ok = false
				}
				for k, v := range mt.Headers {
					if v.GetExact() == "" {
						ok = false
					}
					headers = append(headers, k+": "+v.GetExact())
				}
				if mt.GetMethod() != nil {
					method = mt.GetMethod().GetExact()
				}
				if mt.GetAuthority() != nil || len(mt.QueryParams) > 0 || len(mt.SourceLabels) > 0 || mt.SourceNamespace != "" {
					ok = false
				}
			}
			if !ok || !strings.HasPrefix(path, "/") {
				continue
			}
			for _, host := range vs.Hosts {
				if strings.HasPrefix(host, "*") {
					continue
				}
				if vs.BindsMesh() {
					if port := meshPort(m, host, h.Match); port != 0 {
						if w := sidecarIn(m, vs.Namespace); w != nil {
							out = append(out, posedRequest{trace.Spec{From: "workload:" + w.Namespace + "/" + w.Name, URL: "http://" + host + ":" + strconv.Itoa(int(port)) + path, Headers: headers, Method: method}})
						}
					}
				}
				for _, ref := range vs.BoundGateways() {
					g, _ := m.GatewayByName(ref, vs.Namespace)
					if g == nil {
						continue
					}
					for _, s := range g.Spec.Servers {
						if strings.ToUpper(s.GetPort().GetProtocol()) != "HTTP" || s.GetTls().GetHttpsRedirect() {
							continue
						}
						out = append(out, posedRequest{trace.Spec{From: "gateway:" + g.Namespace + "/" + g.Name, URL: "http://" + host + ":" + strconv.Itoa(int(s.GetPort().GetNumber())) + path, Headers: headers, Method: method}})
						break
					}
				}
			}
		}
	}
	// Every DestinationRule's host and port, from a sidecar in its
	// namespace (default routes, subsets' clusters aside).
	for _, dr := range m.DestinationRules {
		s := m.ServiceByHost(dr.Host)
		w := sidecarIn(m, dr.Namespace)
		if s == nil || w == nil {
			continue
		}
		for _, sp := range s.Spec.Ports {
			scheme := "tcp"
			if p := mesh.PortProtocol(&sp); p.IsHTTP() || p.Sniffed() {
				scheme = "http"
			}
			out = append(out, posedRequest{trace.Spec{From: "workload:" + w.Namespace + "/" + w.Name, URL: scheme + "://" + dr.Host + ":" + strconv.Itoa(int(sp.Port)) + map[bool]string{true: "/"}[scheme == "http"]}})
		}
	}
	return out
}

func meshPort(m *mesh.Model, host string, _ any) uint32 {
	d := m.LookupHost(host)
	switch {
	case d.Service != nil && len(d.Service.Spec.Ports) > 0:
		return uint32(d.Service.Spec.Ports[0].Port)
	case len(d.Entries) > 0 && len(d.Entries[0].Spec.Ports) > 0:
		return d.Entries[0].Spec.Ports[0].Number
	}
	return 0
}

func sidecarIn(m *mesh.Model, ns string) *mesh.Workload {
	for _, w := range m.WorkloadsIn(ns) {
		if ok, _ := mesh.IsGatewayWorkload(w); ok {
			continue
		}
		if dp, _ := m.Injection(w); dp == mesh.DataplaneSidecar {
			return w
		}
	}
	return nil
}
