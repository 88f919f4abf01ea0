package mesh

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	istioapi "istio.io/api/networking/v1alpha3"

	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

// Route is the second hop: the VirtualService rule (or the default route)
// that decides where the request goes.
type Route struct {
	Decision
	VirtualService *VirtualService
	HTTPRoute      *HTTPRoute
	// Kind is the route list ("http", "tcp", "tls") and Index the rule in
	// it; -1 for the default route.
	Kind  string
	Index int
	// Destinations are the weighted destinations of the rule (one for
	// the default route); Weight is the share in percent.
	Destinations []WeightedDestination
	// Rejected are the other VirtualServices for the host and why they
	// did not decide.
	Rejected []Decision
	Notes    []Decision
	Failure  *Failure
}

// WeightedDestination is one destination of a route with its share.
type WeightedDestination struct {
	Host   string // resolved FQDN
	Port   uint32 // 0 when the route names none and the host has several
	Subset string
	Weight int32
	// Object and Path locate the destination field (nil for the default
	// route).
	Object *manifest.Object
	Path   []any
}

// RouteFor answers which route a proxy picks for the request, after the
// listener l. Sidecars see the VirtualServices bound to "mesh" and
// exported to the client's namespace; a gateway sees those bound to its
// Gateway whose namespace the server's hosts allow. An exact host beats a
// wildcard (Envoy's virtual host domain matching); on a sidecar the first
// VirtualService for a host decides and the others are ignored, on a
// gateway their rules are merged in order. Rules are tried in order; the
// first whose match (any of its match blocks) fits the request wins; a
// VirtualService without a matching rule answers 404 NR.
// https://istio.io/latest/docs/reference/config/networking/virtual-service/
// https://istio.io/latest/docs/ops/best-practices/traffic-management/#split-virtual-services
func (m *Model) RouteFor(c Client, r Request, l Listener) Route {
	if l.Ingress != nil {
		return Route{Decision: Decision{Reason: ReasonDefaultRoute, Object: l.Ingress.Object, Path: l.Backend.FieldPath,
			Note: "the Ingress backend is the destination"}, Kind: "http", Index: -1,
			Destinations: []WeightedDestination{{Host: l.Host, Port: uint32(l.ServicePort.Port), Weight: 100, Object: l.Ingress.Object, Path: l.Backend.FieldPath}}}
	}
	if l.Passthrough {
		return m.defaultRoute(r, l, "PassthroughCluster: no routing rules apply")
	}
	if l.Bypass {
		return m.defaultRoute(r, l, "the flow bypasses the proxies: VirtualService rules do not apply")
	}
	if c.Kind == ClientNonMesh || (c.Kind == ClientSidecar && c.Dataplane == DataplaneAmbient) {
		// No Envoy on the client side: kube-proxy (or ztunnel, at L4)
		// sends the connection to any pod of the Service.
		return m.defaultRoute(r, l, "no client-side Envoy ("+c.Why+"): VirtualService rules do not apply; the Service spreads connections over its pods")
	}
	if c.KubeGateway != nil {
		return m.routeKubeGateway(c, r, l)
	}
	cands := m.routeCandidates(c, r, l)
	rt := Route{Index: -1}
	if len(cands) == 0 {
		if c.Kind == ClientGateway {
			rt.Decision = Decision{Reason: ReasonNoVirtualService, Object: l.Gateway.Object, Path: []any{"spec", "servers", l.ServerIndex, "hosts"},
				Note: fmt.Sprintf("no VirtualService bound to Gateway %s/%s has host %s", l.Gateway.Namespace, l.Gateway.Name, r.Host)}
			if l.HTTP {
				rt.Failure = &Failure{Status: 404, Flag: "NR", Error: "404 Not Found (no route)"}
			} else {
				rt.Failure = &Failure{Flag: "NR", Error: "connection closed: no TCP/TLS route on the gateway"}
			}
			return rt
		}
		return m.defaultRoute(r, l, "no VirtualService for "+l.Host+" applies to this client")
	}
	chosen := cands[:1]
	if c.Kind == ClientGateway {
		// Gateways merge the rules of every VirtualService for the same
		// host, in order.
		for _, v := range cands[1:] {
			if v.host == cands[0].host {
				chosen = append(chosen, v)
			}
		}
	}
	for _, v := range cands[len(chosen):] {
		why := "a more specific host (" + cands[0].host + ") wins"
		if v.host == cands[0].host {
			why = fmt.Sprintf("VirtualService %s/%s for the same host comes first; the sidecar uses only one", cands[0].vs.Namespace, cands[0].vs.Name)
		}
		rt.Rejected = append(rt.Rejected, Decision{Reason: ReasonVirtualServiceRoute, Object: v.vs.Object, Path: []any{"spec", "hosts"}, Note: why})
	}
	if c.Kind != ClientGateway {
		rt.Rejected = append(rt.Rejected, m.invisibleVirtualServices(c, l)...)
	}
	if l.Protocol.Sniffed() && l.HTTP {
		rt.Notes = append(rt.Notes, Decision{Reason: ReasonProtocolSniffed, Object: l.ProtocolDecision.Object, Path: l.ProtocolDecision.Path,
			Note: "these rules apply only because sniffing detects HTTP on a port without a declared protocol; declare the port http to make sure"})
	}
	for _, v := range chosen {
		if done, ok := m.matchVirtualService(c, r, l, v.vs, &rt); ok {
			return done
		}
	}
	last := chosen[0].vs
	rt.VirtualService = last
	kind := "http"
	if !l.HTTP {
		kind = "tcp"
		if r.TLS() {
			kind = "tls"
		}
	}
	rt.Decision = Decision{Reason: ReasonNoRouteMatch, Object: last.Object, Path: []any{"spec", kind},
		Note: fmt.Sprintf("VirtualService %s/%s is for %s, but none of its %s rules matches this request", last.Namespace, last.Name, chosen[0].host, kind)}
	if l.HTTP {
		rt.Failure = &Failure{Status: 404, Flag: "NR", Error: "404 Not Found (route not found: no rule matches)"}
	} else {
		rt.Failure = &Failure{Flag: "NR", Error: "connection closed: no " + kind + " rule matches"}
	}
	return rt
}

func (m *Model) defaultRoute(r Request, l Listener, note string) Route {
	port := r.Port
	if l.ServicePort != nil {
		port = uint32(l.ServicePort.Port)
	}
	return Route{Decision: Decision{Reason: ReasonDefaultRoute, Note: note}, Kind: "default", Index: -1,
		Destinations: []WeightedDestination{{Host: l.Host, Port: port, Weight: 100}}}
}

type vsCandidate struct {
	vs   *VirtualService
	host string // the VirtualService host that matched
}

// routeCandidates lists the VirtualServices that can decide, best first.
func (m *Model) routeCandidates(c Client, r Request, l Listener) []vsCandidate {
	var out []vsCandidate
	target := l.Host
	if c.Kind == ClientGateway {
		target = r.Host
	}
	if l.Alias != nil && l.Protocol.IsHTTP() && r.Host == l.Alias.Host {
		// The alias's own VirtualServices apply to requests whose Host
		// is exactly its FQDN, on ports with a declared HTTP protocol
		// (TestExternalNameServices).
		target = l.Alias.Host
	}
	consider := func(vs *VirtualService) {
		for _, h := range vs.Hosts {
			if HostMatches(h, target) {
				out = append(out, vsCandidate{vs, h})
				return
			}
		}
	}
	if c.Kind == ClientGateway {
		// Every server on the port for the host contributes the
		// VirtualServices bound to its Gateway that its hosts admit.
		seen := map[*VirtualService]bool{}
		for _, gs := range l.Servers {
			for _, vs := range m.vsByGateway[gs.Gateway.Namespace+"/"+gs.Gateway.Name] {
				if !seen[vs] && serverAllowsNamespace(gs.Server(), vs.Namespace, gs.Gateway.Namespace) {
					seen[vs] = true
					consider(vs)
				}
			}
		}
	} else {
		seen := map[*VirtualService]bool{}
		for _, vs := range m.VirtualServicesForHost(target) {
			if seen[vs] || !vs.BindsMesh() || !m.visibleTo(vs, c.Namespace) {
				continue
			}
			seen[vs] = true
			consider(vs)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		si, sj := hostSpecificity(out[i].host), hostSpecificity(out[j].host)
		if si != sj {
			return si > sj
		}
		return vsBefore(out[i].vs, out[j].vs, c.Namespace)
	})
	return out
}

// vsBefore orders VirtualServices for one host the way istiod does: those
// private to the client's namespace (exportTo ".") first, then those
// exported to it by name, then public ones; within each, the oldest by
// creationTimestamp, then by name and namespace. A sidecar uses the first;
// a gateway merges their rules in this order.
// (istio.io/istio pilot/pkg/model/push_context.go SelectVirtualServices,
// sortConfigByCreationTime; TestSidecarRoutes "oldest wins")
func vsBefore(a, b *VirtualService, clientNS string) bool {
	ga, gb := vsGroup(a, clientNS), vsGroup(b, clientNS)
	if ga != gb {
		return ga < gb
	}
	ta, tb := creationTime(a.Object), creationTime(b.Object)
	if !ta.Equal(tb) {
		return ta.Before(tb)
	}
	if a.Name != b.Name {
		return a.Name < b.Name
	}
	return a.Namespace < b.Namespace
}

func vsGroup(vs *VirtualService, clientNS string) int {
	e := vs.Spec.ExportTo
	switch {
	case len(e) == 1 && e[0] == "." && vs.Namespace == clientNS:
		return 0
	case slices.Contains(e, clientNS):
		return 1
	}
	return 2
}

// creationTime is an object's metadata.creationTimestamp (zero in files
// that set none).
func creationTime(o *manifest.Object) time.Time {
	if m, ok := o.Typed.(interface{ GetCreationTimestamp() metav1.Time }); ok {
		return m.GetCreationTimestamp().Time
	}
	return time.Time{}
}

func hostSpecificity(h string) int {
	if !isWildcard(h) {
		return 1 << 30
	}
	return len(h)
}

// visibleTo applies VirtualServiceVisibility for a client namespace.
func (m *Model) visibleTo(vs *VirtualService, ns string) bool {
	set, all, _ := m.VirtualServiceVisibility(vs)
	return all || set[ns]
}

// invisibleVirtualServices lists VirtualServices for the host that this
// client does not see (bound only to gateways, or not exported to it), so
// the trace can say why they did not apply (seed 003's "route rules have
// no effect on ingress gateway requests").
func (m *Model) invisibleVirtualServices(c Client, l Listener) []Decision {
	var out []Decision
	for _, vs := range m.VirtualServicesForHost(l.Host) {
		switch {
		case c.Kind == ClientGateway && vs.BindsMesh():
			out = append(out, Decision{Reason: ReasonVirtualServiceRoute, Object: vs.Object, Path: []any{"spec", "hosts"},
				Note: fmt.Sprintf("VirtualService %s/%s for %s applies to sidecars (mesh), not to this gateway: its rules (subsets, splits) do not apply to requests routed by the gateway", vs.Namespace, vs.Name, l.Host)})
		case c.Kind != ClientGateway && vs.BindsMesh() && !m.visibleTo(vs, c.Namespace):
			out = append(out, Decision{Reason: ReasonVirtualServiceRoute, Object: vs.Object, Path: []any{"spec", "exportTo"},
				Note: fmt.Sprintf("VirtualService %s/%s is not exported to namespace %s", vs.Namespace, vs.Name, c.Namespace)})
		}
	}
	return out
}

// serverAllowsNamespace applies the namespace part of a Gateway server's
// hosts ("ns/host", "./host", "*/host"): which namespaces' VirtualServices
// may bind.
func serverAllowsNamespace(s *istioapi.Server, vsNS, gwNS string) bool {
	if s == nil {
		return true
	}
	for _, h := range s.Hosts {
		ns, _, ok := strings.Cut(h, "/")
		if !ok || ns == "*" || (ns == "." && vsNS == gwNS) || ns == vsNS {
			return true
		}
	}
	return false
}

// matchVirtualService tries the rules of vs; ok is false when none
// matches.
func (m *Model) matchVirtualService(c Client, r Request, l Listener, vs *VirtualService, rt *Route) (Route, bool) {
	out := *rt
	out.VirtualService = vs
	if l.HTTP {
		for i, h := range vs.Spec.Http {
			mi, ok := m.httpRuleMatches(c, r, l, vs, h)
			if !ok {
				continue
			}
			out.Kind, out.Index = "http", i
			path := []any{"spec", "http", i}
			note := fmt.Sprintf("VirtualService %s/%s http[%d]%s matches", vs.Namespace, vs.Name, i, nameSuffix(h.Name))
			if mi >= 0 {
				path = append(path, "match", mi)
				note += " (match[" + fmt.Sprint(mi) + "])"
			}
			out.Decision = Decision{Reason: ReasonVirtualServiceRoute, Object: vs.Object, Path: path, Note: note}
			m.httpAction(vs, i, h, &out)
			return out, true
		}
		return out, false
	}
	if r.TLS() {
		for i, t := range vs.Spec.Tls {
			if !m.tlsRuleMatches(c, r, l, t) {
				continue
			}
			out.Kind, out.Index = "tls", i
			out.Decision = Decision{Reason: ReasonVirtualServiceRoute, Object: vs.Object, Path: []any{"spec", "tls", i},
				Note: fmt.Sprintf("VirtualService %s/%s tls[%d] matches SNI %s", vs.Namespace, vs.Name, i, r.SNIOrHost())}
			out.Destinations = routeDestinations(m, vs, t.Route, "tls", i)
			return out, true
		}
	}
	for i, t := range vs.Spec.Tcp {
		if !m.l4Matches(c, r, t.Match) {
			continue
		}
		out.Kind, out.Index = "tcp", i
		out.Decision = Decision{Reason: ReasonVirtualServiceRoute, Object: vs.Object, Path: []any{"spec", "tcp", i},
			Note: fmt.Sprintf("VirtualService %s/%s tcp[%d] matches", vs.Namespace, vs.Name, i)}
		out.Destinations = routeDestinations(m, vs, t.Route, "tcp", i)
		return out, true
	}
	return out, false
}

// SNIOrHost is the SNI the client sends.
func (r Request) SNIOrHost() string {
	if r.SNI != "" {
		return r.SNI
	}
	return r.Host
}

func nameSuffix(name string) string {
	if name == "" {
		return ""
	}
	return " (" + name + ")"
}

// httpAction fills in what a matched HTTP rule does: redirect, direct
// response, a fault that aborts, delegation, or the weighted destinations.
func (m *Model) httpAction(vs *VirtualService, i int, h *istioapi.HTTPRoute, out *Route) {
	path := []any{"spec", "http", i}
	if rw := h.GetRewrite(); rw != nil && (rw.GetUri() != "" || rw.GetAuthority() != "") {
		note := "rewrites"
		if rw.GetUri() != "" {
			note += " the path prefix to " + rw.GetUri()
		}
		if rw.GetAuthority() != "" {
			note += " the Host to " + rw.GetAuthority()
		}
		out.Notes = append(out.Notes, Decision{Reason: ReasonVirtualServiceRoute, Object: vs.Object, Path: append(append([]any{}, path...), "rewrite"), Note: note})
	}
	switch {
	case h.Redirect != nil:
		code := int(h.Redirect.GetRedirectCode())
		if code == 0 {
			code = 301
		}
		out.Decision = Decision{Reason: ReasonRedirect, Object: vs.Object, Path: append(path, "redirect"), Note: out.Note + "; it redirects"}
		out.Failure = &Failure{Status: code, Flag: "-", Error: fmt.Sprintf("%d redirect to %s%s", code, h.Redirect.GetAuthority(), h.Redirect.GetUri())}
		return
	case h.DirectResponse != nil:
		st := int(h.DirectResponse.GetStatus())
		out.Decision = Decision{Reason: ReasonDirectResponse, Object: vs.Object, Path: append(path, "directResponse"), Note: fmt.Sprintf("%s; it answers %d itself", out.Note, st)}
		if st >= 400 {
			out.Failure = &Failure{Status: st, Flag: "DR", Error: fmt.Sprintf("%d from the route's directResponse", st)}
		} else {
			out.Failure = &Failure{Status: st, Flag: "-", Error: ""}
		}
		return
	case h.Delegate != nil:
		ns := h.Delegate.Namespace
		if ns == "" {
			ns = vs.Namespace
		}
		var del *VirtualService
		for _, v := range m.VirtualServices {
			if v.Namespace == ns && v.Name == h.Delegate.Name {
				del = v
			}
		}
		if del == nil {
			out.Decision = Decision{Reason: ReasonDelegateMissing, Object: vs.Object, Path: append(path, "delegate"), Note: fmt.Sprintf("%s; it delegates to VirtualService %s/%s, which is not in the input", out.Note, ns, h.Delegate.Name)}
			if m.NamespaceInInput(ns) {
				out.Failure = &Failure{Status: 404, Flag: "NR", Error: "404 Not Found: the delegate VirtualService does not exist"}
			}
			return
		}
		out.Notes = append(out.Notes, Decision{Reason: ReasonDelegate, Object: vs.Object, Path: append(path, "delegate"), Note: fmt.Sprintf("delegates to VirtualService %s/%s", ns, del.Name)})
		// The delegate's rules decide; its first rule is taken (their
		// matches are narrowed by the parent's, which already matched).
		for j, dh := range del.Spec.Http {
			out.VirtualService, out.Index = del, j
			out.Decision = Decision{Reason: ReasonVirtualServiceRoute, Object: del.Object, Path: []any{"spec", "http", j}, Note: fmt.Sprintf("delegate VirtualService %s/%s http[%d]", del.Namespace, del.Name, j)}
			m.httpAction(del, j, dh, out)
			return
		}
		out.Failure = &Failure{Status: 404, Flag: "NR", Error: "404 Not Found: the delegate has no http rules"}
		return
	}
	if f := h.GetFault().GetAbort(); f != nil {
		pct := f.GetPercentage().GetValue()
		st := int(f.GetHttpStatus())
		if st != 0 {
			if f.GetPercentage() == nil || pct >= 100 {
				out.Decision = Decision{Reason: ReasonFaultAbort, Object: vs.Object, Path: append(path, "fault", "abort"), Note: fmt.Sprintf("%s; its fault injection aborts every request with %d", out.Note, st)}
				out.Failure = &Failure{Status: st, Flag: "FI", Error: fmt.Sprintf("%d fault filter abort", st)}
				return
			}
			out.Notes = append(out.Notes, Decision{Reason: ReasonFaultAbort, Object: vs.Object, Path: append(path, "fault", "abort"), Note: fmt.Sprintf("%.4g%% of requests are aborted with %d (flag FI)", pct, st)})
		}
	}
	out.Destinations = routeDestinations(m, vs, h.Route, "http", i)
	if mr := h.GetMirror(); mr != nil {
		out.Notes = append(out.Notes, Decision{Reason: ReasonVirtualServiceRoute, Object: vs.Object, Path: append(append([]any{}, path...), "mirror"),
			Note: "mirrors a copy of each request to " + m.ResolveHost(mr.Host, vs.Namespace) + " (responses from the mirror are discarded)"})
	}
	for j, mp := range h.Mirrors {
		out.Notes = append(out.Notes, Decision{Reason: ReasonVirtualServiceRoute, Object: vs.Object, Path: append(append([]any{}, path...), "mirrors", j),
			Note: "mirrors a copy of requests to " + m.ResolveHost(mp.GetDestination().GetHost(), vs.Namespace)})
	}
	if t := h.GetTimeout(); t != nil {
		out.Notes = append(out.Notes, Decision{Reason: ReasonVirtualServiceRoute, Object: vs.Object, Path: append(append([]any{}, path...), "timeout"),
			Note: "times out after " + t.AsDuration().String() + " (504 UT)"})
	}
	if rp := h.GetRetries(); rp != nil {
		note := fmt.Sprintf("retries up to %d times", rp.Attempts)
		if rp.RetryOn != "" {
			note += " on " + rp.RetryOn
		}
		out.Notes = append(out.Notes, Decision{Reason: ReasonVirtualServiceRoute, Object: vs.Object, Path: append(append([]any{}, path...), "retries"), Note: note})
	}
	if len(out.Destinations) == 0 {
		out.Failure = &Failure{Status: 404, Flag: "NR", Error: "404 Not Found: the matching rule has no destination"}
	}
}

// routeDestinations lists a rule's destinations with Envoy's weights: an
// unset weight of a single destination is 100; weights are otherwise taken
// as written.
func routeDestinations[T interface {
	GetDestination() *istioapi.Destination
	GetWeight() int32
}](m *Model, vs *VirtualService, rds []T, kind string, i int) []WeightedDestination {
	out := make([]WeightedDestination, 0, len(rds))
	total := int32(0)
	for _, rd := range rds {
		total += rd.GetWeight()
	}
	for j, rd := range rds {
		d := rd.GetDestination()
		if d == nil {
			continue
		}
		w := rd.GetWeight()
		if total == 0 {
			if len(rds) == 1 {
				w = 100
			}
		}
		out = append(out, WeightedDestination{Host: m.ResolveHost(d.Host, vs.Namespace), Port: d.GetPort().GetNumber(), Subset: d.Subset, Weight: w,
			Object: vs.Object, Path: []any{"spec", kind, i, "route", j, "destination"}})
	}
	return out
}

// httpRuleMatches reports whether an http rule applies, and which match
// block did (-1 for a rule without match blocks).
func (m *Model) httpRuleMatches(c Client, r Request, l Listener, vs *VirtualService, h *istioapi.HTTPRoute) (int, bool) {
	if len(h.Match) == 0 {
		return -1, true
	}
	for i, mt := range h.Match {
		if m.httpMatch(c, r, l, vs, mt) {
			return i, true
		}
	}
	return 0, false
}

func (m *Model) httpMatch(c Client, r Request, l Listener, vs *VirtualService, mt *istioapi.HTTPMatchRequest) bool {
	path, query, _ := strings.Cut(r.Path, "?")
	if path == "" {
		path = "/"
	}
	if u := mt.GetUri(); u != nil {
		p := path
		if mt.IgnoreUriCase {
			p = strings.ToLower(p)
			u = lowerMatch(u)
		}
		if !StringMatches(u, p) {
			return false
		}
	}
	if mt.GetMethod() != nil && !StringMatches(mt.GetMethod(), r.Method) {
		return false
	}
	if mt.GetAuthority() != nil && !StringMatches(mt.GetAuthority(), r.Authority()) && !StringMatches(mt.GetAuthority(), r.Host) {
		return false
	}
	if mt.GetScheme() != nil && !StringMatches(mt.GetScheme(), r.Scheme) {
		return false
	}
	for name, sm := range mt.Headers {
		v, ok := r.Headers[strings.ToLower(name)]
		if !ok || !StringMatches(sm, v) {
			return false
		}
	}
	for name, sm := range mt.WithoutHeaders {
		if v, ok := r.Headers[strings.ToLower(name)]; ok && StringMatches(sm, v) {
			return false
		}
	}
	if len(mt.QueryParams) > 0 {
		q, _ := url.ParseQuery(query)
		for name, sm := range mt.QueryParams {
			if !q.Has(name) || !StringMatches(sm, q.Get(name)) {
				return false
			}
		}
	}
	if mt.Port != 0 && mt.Port != r.Port {
		return false
	}
	if !sourceMatches(c, vs, mt.SourceLabels, mt.SourceNamespace, mt.Gateways, l) {
		return false
	}
	return true
}

// sourceMatches applies sourceLabels, sourceNamespace and the match-level
// gateways list.
func sourceMatches(c Client, vs *VirtualService, labels map[string]string, ns string, gateways []string, l Listener) bool {
	if len(labels) > 0 && !Matches(labels, c.Labels) {
		return false
	}
	if ns != "" && ns != c.Namespace {
		return false
	}
	if len(gateways) == 0 {
		return true
	}
	for _, g := range gateways {
		switch {
		case g == "mesh" && c.Kind != ClientGateway:
			return true
		case g != "mesh" && c.Kind == ClientGateway:
			for _, gs := range l.Servers {
				if GatewayKey(g, vs.Namespace) == gs.Gateway.Namespace+"/"+gs.Gateway.Name {
					return true
				}
			}
		}
	}
	return false
}

func (m *Model) l4Matches(c Client, r Request, ms []*istioapi.L4MatchAttributes) bool {
	if len(ms) == 0 {
		return true
	}
	for _, mt := range ms {
		if mt.Port != 0 && mt.Port != r.Port {
			continue
		}
		if len(mt.SourceLabels) > 0 && !Matches(mt.SourceLabels, c.Labels) {
			continue
		}
		if mt.SourceNamespace != "" && mt.SourceNamespace != c.Namespace {
			continue
		}
		return true
	}
	return false
}

func (m *Model) tlsRuleMatches(c Client, r Request, l Listener, t *istioapi.TLSRoute) bool {
	sni := r.SNIOrHost()
	for _, mt := range t.Match {
		if mt.Port != 0 && mt.Port != r.Port {
			continue
		}
		if len(mt.SourceLabels) > 0 && !Matches(mt.SourceLabels, c.Labels) {
			continue
		}
		for _, h := range mt.SniHosts {
			if HostMatches(strings.ToLower(h), sni) {
				return true
			}
		}
	}
	return false
}

// StringMatches evaluates an Istio StringMatch: exact, prefix, or an RE2
// regex that must match the whole value (Envoy's safe_regex). An empty
// match (no oneof set) matches anything present.
func StringMatches(sm *istioapi.StringMatch, v string) bool {
	switch {
	case sm.GetExact() != "":
		return v == sm.GetExact()
	case sm.GetPrefix() != "":
		return strings.HasPrefix(v, sm.GetPrefix())
	case sm.GetRegex() != "":
		re, err := regexp.Compile("^(?:" + sm.GetRegex() + ")$")
		return err == nil && re.MatchString(v)
	}
	return true
}

func lowerMatch(sm *istioapi.StringMatch) *istioapi.StringMatch {
	switch {
	case sm.GetExact() != "":
		return &istioapi.StringMatch{MatchType: &istioapi.StringMatch_Exact{Exact: strings.ToLower(sm.GetExact())}}
	case sm.GetPrefix() != "":
		return &istioapi.StringMatch{MatchType: &istioapi.StringMatch_Prefix{Prefix: strings.ToLower(sm.GetPrefix())}}
	case sm.GetRegex() != "":
		return &istioapi.StringMatch{MatchType: &istioapi.StringMatch_Regex{Regex: "(?i)" + sm.GetRegex()}}
	}
	return sm
}

// RouteClient is a set of proxies that follow a VirtualService's routes:
// the gateway workloads of a Gateway it is bound to (Namespace "" when
// they are not in the input: a proxy that sees what is exported to all),
// or the sidecars of its own namespace (Gateway nil). Their namespace is
// the client namespace for DestinationRule lookup.
type RouteClient struct {
	Namespace  string
	Gateway    *Gateway
	GatewayKey string
}

// Via describes the clients for messages.
func (rc RouteClient) Via() string {
	switch {
	case rc.Gateway == nil:
		return "sidecars in " + rc.Namespace
	case rc.Namespace == "":
		return "Gateway " + rc.GatewayKey
	}
	return fmt.Sprintf("Gateway %s (workload in %s)", rc.GatewayKey, rc.Namespace)
}

// RouteClients lists who follows vs's routes: per bound Gateway in the
// input, the namespaces of the gateway workloads it selects; and the
// VirtualService's namespace when it binds the mesh.
func (m *Model) RouteClients(vs *VirtualService) []RouteClient {
	var out []RouteClient
	for _, ref := range vs.BoundGateways() {
		g, key := m.GatewayByName(ref, vs.Namespace)
		if g == nil {
			continue
		}
		nss, _ := m.CredentialNamespaces(g)
		if len(nss) == 0 {
			out = append(out, RouteClient{Gateway: g, GatewayKey: key})
		}
		for _, ns := range nss {
			out = append(out, RouteClient{Namespace: ns, Gateway: g, GatewayKey: key})
		}
	}
	if vs.BindsMesh() {
		out = append(out, RouteClient{Namespace: vs.Namespace})
	}
	return out
}
