package mesh

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/meshdoctor/meshdoctor/internal/nginx"
)

// NginxUpstream is how nginx in a workload forwards to a host and port:
// the HTTP version it speaks upstream (its proxy_http_version, 1.0 when
// unset) and where that is decided.
type NginxUpstream struct {
	Version string
	Decision
}

// NginxUpstreamTo answers "when this workload's nginx proxies to
// fqdn:port, which HTTP version does it speak", from the nginx
// configuration mounted from ConfigMaps in the input. ok is false when the
// workload runs no nginx configuration that proxies there.
// https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_http_version
func (m *Model) NginxUpstreamTo(w *Workload, fqdn string, port uint32) (NginxUpstream, bool) {
	if w == nil {
		return NginxUpstream{}, false
	}
	for ci := range w.PodSpec.Containers {
		c := &w.PodSpec.Containers[ci]
		files, byPath := m.NginxFiles(w, c)
		if len(files) == 0 {
			continue
		}
		for _, px := range nginx.Analyze(files).Proxies {
			for _, addr := range px.Hosts {
				host, p := nginx.SplitHostPort(addr)
				if uint32(p) != port || m.ResolveClientHost(host, w.Namespace) != fqdn {
					continue
				}
				src := byPath[px.File]
				u := NginxUpstream{Version: px.Version}
				note := fmt.Sprintf("nginx in container %s proxies to %s (%s line %d) with proxy_http_version %s", c.Name, px.URL, px.File, px.Line, px.Version)
				if px.Defaulted() {
					note = fmt.Sprintf("nginx in container %s proxies to %s (%s line %d) without proxy_http_version, so it speaks HTTP/1.0 (nginx's default)", c.Name, px.URL, px.File, px.Line)
				}
				u.Decision = Decision{Reason: ReasonNginxUpstream, Object: src.ConfigMap.Object, Path: []any{"data", src.Key}, Note: note}
				return u, true
			}
		}
	}
	return NginxUpstream{}, false
}

// NginxFiles are the nginx configuration files mounted into container c
// of w from ConfigMaps in the input, and the mount each came from.
func (m *Model) NginxFiles(w *Workload, c *corev1.Container) ([]nginx.File, map[string]MountedFile) {
	var files []nginx.File
	byPath := map[string]MountedFile{}
	for _, f := range m.ConfigMapFiles(w, c) {
		if nginx.LooksLikeConfig(f.Path, f.Content()) {
			files = append(files, nginx.File{Path: f.Path, Text: f.Content()})
			byPath[f.Path] = f
		}
	}
	return files, byPath
}
