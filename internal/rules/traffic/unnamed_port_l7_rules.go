package traffic

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	istioapi "istio.io/api/networking/v1alpha3"
	corev1 "k8s.io/api/core/v1"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// UnnamedPortL7Rules: HTTP route rules for a Service whose port Istio does
// not know to be HTTP.
var UnnamedPortL7Rules = &rules.Rule{
	Code: "MD1002", Name: "unnamed-port-l7-rules", Severity: finding.Warning, Area: "traffic",
	Summary: "HTTP route rules target a Service port whose protocol is sniffed or declared non-HTTP.",
	Needs:   []string{"VirtualService"},
	Since:   "0.1.0",
	IST:     []string{"IST0118"},
	Doc: rules.Doc{
		Mechanism: "A VirtualService's http routes are compiled into the HTTP route table of a Service port only when the sidecar treats that port as HTTP. A port named tcp-*, tls-*, https-* (or with such an appProtocol) is proxied at L4 and never consults http routes. A port with no protocol in its name or appProtocol is sniffed: the http routes apply only to connections the client's sidecar recognises as plaintext HTTP/1.1 or h2c, and not at all when istiod runs with PILOT_ENABLE_PROTOCOL_SNIFFING_FOR_OUTBOUND=false; TLS from the application, server-first or other non-HTTP traffic on the port goes to all endpoints as TCP. Only the Service port's name/appProtocol count, not the container's.",
		Symptom:   "Version routing, header matches, retries, timeouts and fault injection seem to be ignored: requests are spread round-robin over all pods of the Service (the Bookinfo rules work, yours do not).",
		Fix:       "Declare the Service port's protocol: name it http-<suffix> (grpc-<suffix>, http2-<suffix>) or set appProtocol: http.",
		Before:    "apiVersion: v1\nkind: Service\nmetadata:\n  name: reviews\nspec:\n  selector: {app: reviews}\n  ports:\n  - name: web\n    port: 9080\n---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\nspec:\n  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews, subset: v2}\n",
		After:     "apiVersion: v1\nkind: Service\nmetadata:\n  name: reviews\nspec:\n  selector: {app: reviews}\n  ports:\n  - name: http-web\n    port: 9080\n    appProtocol: http\n",
		Sources: []string{
			"https://istio.io/latest/docs/ops/common-problems/network-issues/#route-rules-have-no-effect-on-my-application",
			"https://istio.io/latest/docs/ops/configuration/traffic-management/protocol-selection/",
			"https://istio.io/latest/docs/ops/deployment/application-requirements/",
		},
	},
	Run: runUnnamedPortL7Rules,
}

// httpFeatures lists what an http route does beyond sending everything to
// one destination: the behaviour lost when the port is not HTTP.
func httpFeatures(routes []*istioapi.HTTPRoute) []string {
	set := map[string]bool{}
	for _, r := range routes {
		add := func(ok bool, name string) {
			if ok {
				set[name] = true
			}
		}
		add(len(r.Match) > 0, "matches")
		add(len(r.Route) > 1, "weighted destinations")
		for _, d := range r.Route {
			add(d.Destination != nil && d.Destination.Subset != "", "subsets")
			add(d.Headers != nil, "header operations")
		}
		add(r.Retries != nil, "retries")
		add(r.Timeout != nil, "timeout")
		add(r.Fault != nil, "fault injection")
		add(r.Rewrite != nil, "rewrite")
		add(r.Redirect != nil, "redirect")
		add(r.DirectResponse != nil, "direct response")
		add(r.Mirror != nil || len(r.Mirrors) > 0, "mirroring")
		add(r.Headers != nil, "header operations")
		add(r.CorsPolicy != nil, "CORS")
	}
	return slices.Sorted(maps.Keys(set))
}

// httpRoutePorts returns the Service ports the http routes single out for
// host (match.port, destination.port), and whether every route does.
func httpRoutePorts(m *mesh.Model, vs *mesh.VirtualService, host string) map[uint32]bool {
	ports := map[uint32]bool{}
	for _, r := range vs.Spec.Http {
		for _, mt := range r.Match {
			if mt.Port != 0 {
				ports[mt.Port] = true
			}
		}
		for _, d := range r.Route {
			if d.Destination != nil && d.Destination.Port != nil && d.Destination.Port.Number != 0 && m.ResolveHost(d.Destination.Host, vs.Namespace) == host {
				ports[d.Destination.Port.Number] = true
			}
		}
	}
	return ports
}

type l7Hit struct {
	svc      *mesh.Service
	index    int
	proto    mesh.Protocol
	vss      []string
	features map[string]bool
}

func runUnnamedPortL7Rules(p *rules.Pass) {
	m := p.Model
	sniffOff := false
	if v, ok := m.Istio.Env["PILOT_ENABLE_PROTOCOL_SNIFFING_FOR_OUTBOUND"]; ok {
		if b, err := strconv.ParseBool(v); err == nil && !b {
			sniffOff = true
		}
	}
	hits := map[string]*l7Hit{}
	var order []string
	for _, vs := range m.VirtualServices {
		if !vs.BindsMesh() || len(vs.Spec.Http) == 0 {
			continue
		}
		features := httpFeatures(vs.Spec.Http)
		if len(features) == 0 {
			continue // one plain destination: nothing HTTP-specific to lose
		}
		for _, host := range vs.Hosts {
			svc := m.ServiceByHost(host)
			if svc == nil {
				continue
			}
			refs := httpRoutePorts(m, vs, host)
			var cands []int
			for i := range svc.Spec.Ports {
				sp := &svc.Spec.Ports[i]
				if sp.Protocol == corev1.ProtocolUDP || sp.Protocol == corev1.ProtocolSCTP {
					continue
				}
				if len(refs) > 0 && !refs[uint32(sp.Port)] {
					continue
				}
				if len(refs) == 0 && mesh.PortProtocol(sp).IsHTTP() {
					// The rules land on the HTTP port; other ports
					// were never meant to carry them.
					cands = nil
					break
				}
				cands = append(cands, i)
			}
			for _, i := range cands {
				sp := &svc.Spec.Ports[i]
				proto := mesh.PortProtocol(sp)
				if proto.IsHTTP() {
					continue
				}
				key := svc.Namespace + "/" + svc.Name + "/" + strconv.Itoa(i)
				h := hits[key]
				if h == nil {
					h = &l7Hit{svc: svc, index: i, proto: proto, features: map[string]bool{}}
					hits[key] = h
					order = append(order, key)
				}
				h.vss = append(h.vss, "VirtualService "+vs.Namespace+"/"+vs.Name)
				for _, f := range features {
					h.features[f] = true
				}
			}
		}
	}
	for _, key := range order {
		h := hits[key]
		sp := &h.svc.Spec.Ports[h.index]
		feats := slices.Sorted(maps.Keys(h.features))
		f := rules.At(h.svc.Object, "spec", "ports", h.index, "name")
		name := sp.Name
		if name == "" {
			name = "(unnamed)"
		}
		verb := "routes"
		if len(h.vss) > 1 {
			verb = "route"
		}
		subject := fmt.Sprintf("%s %s HTTP traffic for %s with %s, but Service %s/%s port %d (name %s)", strings.Join(h.vss, ", "), verb, h.svc.Host, strings.Join(feats, ", "), h.svc.Namespace, h.svc.Name, sp.Port, name)
		switch {
		case !h.proto.Sniffed():
			f.Severity = finding.Error
			f.Message = fmt.Sprintf("%s is %s by its %s: sidecars proxy it at L4 and never apply http routes", subject, h.proto.Name, h.proto.From)
			f.Symptom = "the http rules have no effect on this port: requests go round-robin to all pods of the Service, ignoring subsets, matches, retries, timeouts and faults"
		case sniffOff:
			f.Severity = finding.Error
			f.Message = fmt.Sprintf("%s declares no protocol, and istiod has PILOT_ENABLE_PROTOCOL_SNIFFING_FOR_OUTBOUND=%s (%s): the port is plain TCP and http routes never apply", subject, m.Istio.Env["PILOT_ENABLE_PROTOCOL_SNIFFING_FOR_OUTBOUND"], m.Istio.EnvSource)
			f.Symptom = "the http rules have no effect on this port: requests go round-robin to all pods of the Service, ignoring subsets, matches, retries, timeouts and faults"
		default:
			f.Message = fmt.Sprintf("%s declares no protocol (no http-/grpc- name prefix, no appProtocol): the rules apply only to connections the client's sidecar sniffs as plaintext HTTP", subject)
			f.Symptom = "connections not detected as HTTP (application TLS, server-first or other non-HTTP traffic) bypass the rules and go round-robin to all pods; the rules are ignored entirely if outbound protocol sniffing is turned off"
		}
		f.Fix = fmt.Sprintf("if the port carries HTTP, declare it in Service %s/%s:\n  ports:\n  - name: %s\n    port: %d\n    appProtocol: http\n(use grpc / http2 for gRPC or h2c)", h.svc.Namespace, h.svc.Name, httpPortName(sp.Name), sp.Port)
		p.Report(f)
	}
}

// httpPortName suggests an http-prefixed name keeping the existing suffix.
func httpPortName(name string) string {
	if name == "" {
		return "http"
	}
	if i := strings.IndexByte(name, '-'); i >= 0 {
		switch strings.ToLower(name[:i]) {
		case "tcp", "tls", "https", "mongo", "mysql", "redis":
			return "http-" + name[i+1:]
		}
	}
	switch strings.ToLower(name) {
	case "tcp", "tls", "https":
		return "http"
	}
	return "http-" + name
}
