package mesh

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Gateway API (gateway.networking.k8s.io) Gateways, as Istio runs them: a
// proxy deployed for the Gateway in its namespace, listeners from
// spec.listeners, HTTPRoutes attached by parentRefs, backends as Envoy
// clusters outbound|PORT||SERVICE-HOST.
// https://gateway-api.sigs.k8s.io/reference/spec/

func (m *Model) kubeGatewayClient(kg *KubeGateway) Client {
	c := Client{Kind: ClientGateway, Namespace: kg.Namespace, Dataplane: DataplaneSidecar, KubeGateway: kg,
		Label: "Gateway (gateway.networking.k8s.io) " + kg.Namespace + "/" + kg.Name,
		Why:   "Istio deploys a proxy for it in namespace " + kg.Namespace}
	for _, w := range m.workloads.byNS[kg.Namespace] {
		if w.Labels["gateway.networking.k8s.io/gateway-name"] == kg.Name || w.Labels["istio.io/gateway-name"] == kg.Name {
			c.Workload, c.Labels = w, w.Labels
			c.Label = ""
		}
	}
	return c
}

// listenKubeGateway matches the request against the Gateway's listeners:
// port, then hostname (none matches every host), then protocol.
func (m *Model) listenKubeGateway(c Client, r Request) Listener {
	kg := c.KubeGateway
	l := Listener{Host: r.Host, ServerIndex: -1, Name: fmt.Sprintf("0.0.0.0_%d", r.Port)}
	var onPort []int
	for i, ls := range kg.Spec.Listeners {
		if uint32(ls.Port) == r.Port {
			onPort = append(onPort, i)
		}
	}
	if len(onPort) == 0 {
		l.Decision = Decision{Reason: ReasonGatewayNoPort, Object: kg.Object, Path: []any{"spec", "listeners"},
			Note: fmt.Sprintf("no listener of Gateway %s/%s is on port %d", kg.Namespace, kg.Name, r.Port)}
		l.Failure = &Failure{Error: fmt.Sprintf("connection refused: the gateway has no listener on port %d", r.Port)}
		return l
	}
	match := -1
	for _, i := range onPort {
		h := kg.Spec.Listeners[i].Hostname
		if h == nil || HostMatches(strings.ToLower(string(*h)), r.Host) {
			match = i
			break
		}
	}
	if match < 0 {
		l.Decision = Decision{Reason: ReasonGatewayNoHost, Object: kg.Object, Path: []any{"spec", "listeners", onPort[0], "hostname"},
			Note: fmt.Sprintf("port %d is served, but no listener on it has hostname %s", r.Port, r.Host)}
		if r.TLS() {
			l.Failure = &Failure{Error: "connection reset during the TLS handshake: no filter chain for SNI " + r.SNIOrHost()}
		} else {
			l.Failure = &Failure{Status: 404, Flag: "NR", Error: "404 Not Found: no virtual host for " + r.Host}
		}
		return l
	}
	ls := kg.Spec.Listeners[match]
	l.KubeListener = match
	l.Decision = Decision{Reason: ReasonGatewayServer, Object: kg.Object, Path: []any{"spec", "listeners", match},
		Note: fmt.Sprintf("Gateway %s/%s listener %q (port %d, %s) matches port %d and host %s", kg.Namespace, kg.Name, ls.Name, ls.Port, ls.Protocol, r.Port, r.Host)}
	switch ls.Protocol {
	case gwv1.HTTPProtocolType:
		if r.TLS() {
			l.Failure = &Failure{Error: "TLS handshake failed (curl: wrong version number): the listener is plaintext HTTP"}
			return l
		}
		l.HTTP = true
	case gwv1.HTTPSProtocolType:
		if !r.TLS() {
			l.Failure = &Failure{Error: "connection reset: plaintext sent to a TLS listener"}
			return l
		}
		l.HTTP = true
	default:
		l.Protocol = Protocol{Name: string(ls.Protocol), From: "Gateway listener protocol"}
		return l
	}
	l.Protocol = Protocol{Name: "HTTP", From: "Gateway listener protocol " + string(ls.Protocol)}
	if r.HTTPVersion == "1.0" && !m.AcceptsHTTP10(c.Workload) {
		l.Notes = append(l.Notes, Decision{Reason: ReasonHTTP10Rejected, Note: "the gateway's Envoy HTTP/1.1 codec rejects HTTP/1.0 unless istiod runs with PILOT_HTTP10=1"})
		l.Failure = &Failure{Status: 426, Flag: "-", Error: "426 Upgrade Required"}
	}
	return l
}

// routeKubeGateway picks the HTTPRoute rule for the request among the
// routes attached to the listener, by the Gateway API's precedence: an
// Exact path over the longest PathPrefix (or a regex), then a method, then
// the most header and query matches.
// https://gateway-api.sigs.k8s.io/reference/spec/#httprouterule
func (m *Model) routeKubeGateway(c Client, r Request, l Listener) Route {
	kg := c.KubeGateway
	ls := kg.Spec.Listeners[l.KubeListener]
	rt := Route{Index: -1, Kind: "http"}
	type hit struct {
		hr          *HTTPRoute
		rule, match int
		score       [5]int
	}
	var best *hit
	attached := 0
	for _, hr := range m.HTTPRoutes {
		if !attachedTo(hr, kg, ls) || !m.allowedRoutes(ls, kg.Namespace, hr.Namespace) {
			continue
		}
		if !routeHostnameMatches(hr.Spec.Hostnames, r.Host) {
			continue
		}
		attached++
		for ri, rule := range hr.Spec.Rules {
			matches := rule.Matches
			if len(matches) == 0 {
				matches = []gwv1.HTTPRouteMatch{{}}
			}
			for mi, mt := range matches {
				score, ok := httpRouteMatch(mt, r)
				if !ok {
					continue
				}
				if best == nil || better(score, best.score) {
					best = &hit{hr, ri, mi, score}
				}
			}
		}
	}
	if best == nil {
		rt.Decision = Decision{Reason: ReasonNoVirtualService, Object: kg.Object, Path: []any{"spec", "listeners", l.KubeListener},
			Note: fmt.Sprintf("no HTTPRoute attached to listener %q of Gateway %s/%s has hostname %s", ls.Name, kg.Namespace, kg.Name, r.Host)}
		if attached > 0 {
			rt.Decision.Reason = ReasonNoRouteMatch
			rt.Decision.Note = fmt.Sprintf("%d HTTPRoute(s) for %s are attached, but no rule matches this request", attached, r.Host)
		}
		rt.Failure = &Failure{Status: 404, Flag: "NR", Error: "404 Not Found (no route)"}
		return rt
	}
	hr := best.hr
	rule := hr.Spec.Rules[best.rule]
	rt.HTTPRoute, rt.Index = hr, best.rule
	rt.Decision = Decision{Reason: ReasonVirtualServiceRoute, Object: hr.Object, Path: []any{"spec", "rules", best.rule},
		Note: fmt.Sprintf("HTTPRoute %s/%s rules[%d] matches", hr.Namespace, hr.Name, best.rule)}
	for fi, f := range rule.Filters {
		if f.Type == gwv1.HTTPRouteFilterRequestRedirect && f.RequestRedirect != nil {
			code := 302
			if f.RequestRedirect.StatusCode != nil {
				code = *f.RequestRedirect.StatusCode
			}
			rt.Decision = Decision{Reason: ReasonRedirect, Object: hr.Object, Path: []any{"spec", "rules", best.rule, "filters", fi}, Note: rt.Decision.Note + "; it redirects"}
			rt.Failure = &Failure{Status: code, Flag: "-", Error: fmt.Sprintf("%d redirect", code)}
			return rt
		}
	}
	total := int32(0)
	for _, b := range rule.BackendRefs {
		total += weightOf(b.Weight)
	}
	for bi, b := range rule.BackendRefs {
		if (b.Group != nil && *b.Group != "") || (b.Kind != nil && *b.Kind != "Service") {
			continue
		}
		ns := hr.Namespace
		if b.Namespace != nil {
			ns = string(*b.Namespace)
		}
		port := uint32(0)
		if b.Port != nil {
			port = uint32(*b.Port)
		}
		w := weightOf(b.Weight)
		if total > 0 {
			w = w * 100 / total
		}
		rt.Destinations = append(rt.Destinations, WeightedDestination{Host: string(b.Name) + "." + ns + ".svc." + m.ClusterDomain, Port: port, Weight: w,
			Object: hr.Object, Path: []any{"spec", "rules", best.rule, "backendRefs", bi}})
	}
	if len(rt.Destinations) == 0 {
		// A rule without backends answers 500 (Gateway API: no valid
		// backendRefs).
		rt.Failure = &Failure{Status: 500, Flag: "-", Error: "500: the rule has no Service backend"}
	}
	return rt
}

func weightOf(w *int32) int32 {
	if w == nil {
		return 1
	}
	return *w
}

// attachedTo reports whether a route's parentRefs name the Gateway (and,
// with sectionName or port, this listener).
func attachedTo(hr *HTTPRoute, kg *KubeGateway, ls gwv1.Listener) bool {
	for _, p := range hr.Spec.ParentRefs {
		if p.Group != nil && *p.Group != gwv1.GroupName {
			continue
		}
		if p.Kind != nil && *p.Kind != "Gateway" {
			continue
		}
		ns := hr.Namespace
		if p.Namespace != nil {
			ns = string(*p.Namespace)
		}
		if ns != kg.Namespace || string(p.Name) != kg.Name {
			continue
		}
		if p.SectionName != nil && *p.SectionName != ls.Name {
			continue
		}
		if p.Port != nil && *p.Port != ls.Port {
			continue
		}
		return true
	}
	return false
}

// allowedRoutes applies a listener's allowedRoutes.namespaces.from: Same
// (the default), All, or Selector (taken as allowed: namespace labels may
// not be in the input).
func (m *Model) allowedRoutes(ls gwv1.Listener, gwNS, routeNS string) bool {
	from := gwv1.NamespacesFromSame
	if a := ls.AllowedRoutes; a != nil && a.Namespaces != nil && a.Namespaces.From != nil {
		from = *a.Namespaces.From
	}
	switch from {
	case gwv1.NamespacesFromAll, gwv1.NamespacesFromSelector:
		return true
	case gwv1.NamespacesFromSame:
		return gwNS == routeNS
	}
	return false
}

func routeHostnameMatches(hs []gwv1.Hostname, host string) bool {
	if len(hs) == 0 {
		return true
	}
	for _, h := range hs {
		if HostMatches(strings.ToLower(string(h)), host) {
			return true
		}
	}
	return false
}

// httpRouteMatch evaluates one HTTPRouteMatch and scores it for
// precedence: [exact path, path length, method, headers, query params].
func httpRouteMatch(mt gwv1.HTTPRouteMatch, r Request) ([5]int, bool) {
	var score [5]int
	path, query, _ := strings.Cut(r.Path, "?")
	typ, val := gwv1.PathMatchPathPrefix, "/"
	if mt.Path != nil {
		if mt.Path.Type != nil {
			typ = *mt.Path.Type
		}
		if mt.Path.Value != nil {
			val = *mt.Path.Value
		}
	}
	switch typ {
	case gwv1.PathMatchExact:
		if path != val {
			return score, false
		}
		score[0] = 1
	case gwv1.PathMatchPathPrefix:
		// Prefixes match whole path segments: /foo matches /foo and
		// /foo/bar, not /foobar.
		v := strings.TrimSuffix(val, "/")
		if v != "" && path != v && !strings.HasPrefix(path, v+"/") {
			return score, false
		}
	case gwv1.PathMatchRegularExpression:
		re, err := regexp.Compile("^(?:" + val + ")$")
		if err != nil || !re.MatchString(path) {
			return score, false
		}
	}
	score[1] = len(val)
	if mt.Method != nil {
		if string(*mt.Method) != r.Method {
			return score, false
		}
		score[2] = 1
	}
	for _, h := range mt.Headers {
		v, ok := r.Headers[strings.ToLower(string(h.Name))]
		if !ok {
			return score, false
		}
		if h.Type != nil && *h.Type == gwv1.HeaderMatchRegularExpression {
			re, err := regexp.Compile("^(?:" + h.Value + ")$")
			if err != nil || !re.MatchString(v) {
				return score, false
			}
		} else if v != h.Value {
			return score, false
		}
	}
	score[3] = len(mt.Headers)
	if len(mt.QueryParams) > 0 {
		q, _ := url.ParseQuery(query)
		for _, p := range mt.QueryParams {
			if q.Get(string(p.Name)) != p.Value {
				return score, false
			}
		}
	}
	score[4] = len(mt.QueryParams)
	return score, true
}

func better(a, b [5]int) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] > b[i]
		}
	}
	return false
}
