package workload

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/nginx"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// NginxUpstreamHTTP10: nginx talks HTTP/1.0 to its upstreams unless told
// otherwise, and Envoy rejects HTTP/1.0.
var NginxUpstreamHTTP10 = &rules.Rule{
	Code: "MD4001", Name: "nginx-upstream-http10", Severity: finding.Error, Area: "workload",
	Summary: "nginx proxies to an upstream through an Envoy sidecar with HTTP/1.0 (no proxy_http_version 1.1).",
	Needs:   []string{"ConfigMap"},
	Since:   "0.1.0",
	Doc: rules.Doc{
		Mechanism: "nginx's proxy module speaks HTTP/1.0 to upstreams unless proxy_http_version is set (in the location, or inherited from server or http). In a meshed pod, nginx's upstream connection is captured by its own sidecar, and a meshed upstream's sidecar receives it too; Envoy's HTTP connection manager rejects HTTP/1.0 requests unless istiod runs with PILOT_HTTP10=1 (or the proxy has ISTIO_META_HTTP10). Upstreams on loopback or unix sockets never pass through Envoy, and ports Istio treats as plain TCP are forwarded without parsing.",
		Symptom:   "Requests proxied by this location fail with HTTP 426 Upgrade Required; the istio-proxy access log shows \"… HTTP/1.0\" 426 with response code details low_version.",
		Fix:       "Set proxy_http_version 1.1 (and clear the Connection header so upstream keepalive works) in the location, or once in the http block for every location.",
		Before:    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: frontend-nginx\ndata:\n  default.conf: |\n    server {\n      listen 80;\n      location /api/ {\n        proxy_pass http://api:8080;\n      }\n    }\n",
		After:     "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: frontend-nginx\ndata:\n  default.conf: |\n    server {\n      listen 80;\n      location /api/ {\n        proxy_pass http://api:8080;\n        proxy_http_version 1.1;\n        proxy_set_header Connection \"\";\n      }\n    }\n",
		Sources: []string{
			"https://istio.io/latest/docs/ops/common-problems/network-issues/#envoy-wont-connect-to-my-http10-service",
			"https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_http_version",
			"https://istio.io/latest/docs/reference/commands/pilot-discovery/#envvars (PILOT_HTTP10)",
		},
	},
	Run: runNginxUpstreamHTTP10,
}

type nginxHit struct {
	f         finding.Finding
	tail      string // the message after the workloads
	workloads []string
}

func runNginxUpstreamHTTP10(p *rules.Pass) {
	m := p.Model
	if m.AcceptsHTTP10(nil) {
		return
	}
	hits := map[string]*nginxHit{}
	var order []string
	for _, w := range m.Workloads {
		dp, why := m.Injection(w)
		if dp == mesh.DataplaneAmbient {
			continue
		}
		clientEnvoy := dp == mesh.DataplaneSidecar && !m.AcceptsHTTP10(w)
		for ci := range w.PodSpec.Containers {
			c := &w.PodSpec.Containers[ci]
			if c.Name == "istio-proxy" {
				continue
			}
			files, byPath := m.NginxFiles(w, c)
			if len(files) == 0 {
				continue
			}
			res := nginx.Analyze(files)
			for _, px := range res.Proxies {
				if nginx.UsesHTTP11(px.Version) {
					continue
				}
				v := judgeUpstream(m, w, px, clientEnvoy)
				if !v.report {
					continue
				}
				src := byPath[px.File]
				key := fmt.Sprintf("%s/%s/%s/%d", src.ConfigMap.Namespace, src.ConfigMap.Name, src.Key, px.Line)
				who := fmt.Sprintf("container %s of %s %s/%s", c.Name, w.Kind, w.Namespace, w.Name)
				if h := hits[key]; h != nil {
					h.workloads = append(h.workloads, who)
					continue
				}
				f := finding.Finding{Resource: src.ConfigMap.Ref(), Origin: src.ConfigMap.DataLinePos(src.Key, px.Line, "proxy_pass")}
				f.Severity = v.severity
				version := "proxy_http_version is not set, so nginx uses its default HTTP/1.0"
				if !px.Defaulted() {
					version = fmt.Sprintf("proxy_http_version %s is set at %s line %d", px.Version, px.VersionFile, px.VersionLine)
				}
				loc := ""
				if px.Location != "" {
					loc = " in location " + px.Location
				}
				assumed := ""
				if res.Fragments {
					assumed = " (assuming the image's own nginx.conf does not set proxy_http_version in http{})"
				}
				tail := fmt.Sprintf(" (key %q of ConfigMap %s/%s, mounted at %s) proxies%s to %s; %s%s; %s", src.Key, src.ConfigMap.Namespace, src.ConfigMap.Name, px.File, loc, px.URL, version, assumed, v.why(dp, why))
				f.Symptom = "requests through this location fail with HTTP 426 Upgrade Required (istio-proxy access log: \"… HTTP/1.0\" 426 low_version)"
				f.Fix = fmt.Sprintf("in %s, add to the location (or once to the http block):\n    proxy_http_version 1.1;\n    proxy_set_header Connection \"\";", src.Key)
				if !px.Defaulted() {
					f.Fix = fmt.Sprintf("change proxy_http_version %s to 1.1 (%s line %d), and add proxy_set_header Connection \"\"; so upstream keepalive works", px.Version, px.VersionFile, px.VersionLine)
				}
				hits[key] = &nginxHit{f: f, tail: tail, workloads: []string{who}}
				order = append(order, key)
			}
		}
	}
	for _, k := range order {
		h := hits[k]
		sort.Strings(h.workloads[1:])
		who := "nginx in " + h.workloads[0]
		if n := len(h.workloads) - 1; n > 0 {
			who += fmt.Sprintf(" (and %d more: %s)", n, strings.Join(h.workloads[1:], ", "))
		}
		h.f.Message = who + h.tail
		p.Report(h.f)
	}
}

type upstreamVerdict struct {
	report   bool
	severity finding.Severity
	// client: nginx's own sidecar rejects; servers: meshed upstream
	// workloads whose sidecars reject.
	client  bool
	servers []string
	where   string // the destination, described
}

func (v upstreamVerdict) why(dp mesh.Dataplane, dpWhy string) string {
	var parts []string
	if v.client {
		parts = append(parts, "the pod's own istio-proxy ("+dpWhy+") captures the upstream connection and rejects HTTP/1.0")
	}
	if len(v.servers) > 0 {
		parts = append(parts, "the sidecar of "+strings.Join(v.servers, ", ")+" rejects HTTP/1.0 on "+v.where)
	} else if v.where != "" && len(parts) > 0 {
		parts[len(parts)-1] += " (" + v.where + ")"
	}
	return strings.Join(parts, "; ")
}

// judgeUpstream decides whether a proxy_pass's HTTP/1.0 requests meet an
// Envoy HTTP connection manager: the client's sidecar for any upstream it
// parses as HTTP, or a meshed upstream's sidecar.
func judgeUpstream(m *mesh.Model, w *mesh.Workload, px nginx.ProxyPass, clientEnvoy bool) upstreamVerdict {
	var v upstreamVerdict
	if len(px.Hosts) == 0 {
		// The host is computed at runtime: only the client side is known.
		if clientEnvoy {
			v.report, v.client, v.severity = true, true, finding.Warning
			v.where = "upstream chosen at runtime"
		}
		return v
	}
	for _, addr := range px.Hosts {
		host, port := nginx.SplitHostPort(addr)
		if nginx.IsLoopback(addr) || nginx.IsLoopback(host) {
			continue
		}
		fqdn := m.ResolveClientHost(host, w.Namespace)
		d := m.LookupHost(fqdn)
		switch {
		case d.Service != nil:
			sp, _ := d.Service.Port(uint32(port))
			if sp == nil {
				continue
			}
			proto := mesh.PortProtocol(sp)
			if !proto.IsHTTP() && !proto.Sniffed() {
				continue // forwarded as TCP: HTTP/1.0 passes untouched
			}
			var servers []string
			for _, b := range m.Backends(d.Service, sp) {
				if b.Dataplane == mesh.DataplaneSidecar && !m.AcceptsHTTP10(b.Workload) {
					servers = append(servers, b.Workload.Kind+" "+b.Workload.Namespace+"/"+b.Workload.Name)
				}
			}
			if clientEnvoy || len(servers) > 0 {
				v.report, v.severity = true, finding.Error
				v.client = v.client || clientEnvoy
				v.servers = append(v.servers, servers...)
				v.where = fmt.Sprintf("Service %s/%s port %d", d.Service.Namespace, d.Service.Name, port)
			}
		case len(d.Entries) > 0:
			if !clientEnvoy || !entryPortIsHTTP(d, port) {
				continue
			}
			v.report, v.client, v.severity = true, true, finding.Error
			v.where = fmt.Sprintf("ServiceEntry %s/%s port %d", d.Entries[0].Namespace, d.Entries[0].Name, port)
		case clientEnvoy && m.IsClusterLocal(fqdn):
			v.report, v.client, v.severity = true, true, finding.Error
			v.where = fqdn + " port " + strconv.Itoa(port)
		case clientEnvoy:
			// Outside the registry: Envoy parses it as HTTP only when
			// it has an HTTP listener on that port (usual for 80).
			if !v.report {
				v.severity = finding.Warning
			}
			v.report, v.client = true, true
			if v.where == "" {
				v.where = fmt.Sprintf("%s port %d, if the sidecar has an HTTP listener on that port", host, port)
			}
		}
	}
	return v
}

func entryPortIsHTTP(d mesh.Destination, port int) bool {
	for _, se := range d.Entries {
		for _, p := range se.Spec.Ports {
			if int(p.Number) == port {
				proto := mesh.PortProtocol(&corev1.ServicePort{Name: strings.ToLower(p.Protocol), Port: int32(p.Number)})
				return proto.IsHTTP()
			}
		}
	}
	return false
}
