// Package trace follows one request hop by hop through the model: the
// client, the listener and protocol, the route, the Envoy cluster and
// DestinationRule, upstream TLS and the server's acceptance, the endpoints.
// It only asks internal/mesh; what a hop decides, and why, is the model's
// answer. trace adds the story: the order of hops, the outcome the client
// sees, the analyze rule that explains a failure and the fix.
package trace

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
)

// Step names a hop.
type Step string

// Hops in the order a request meets them.
const (
	StepClient      Step = "client"
	StepListener    Step = "listener"
	StepRoute       Step = "route"
	StepCluster     Step = "cluster"
	StepDestRule    Step = "destination-rule"
	StepTLS         Step = "upstream-tls"
	StepServer      Step = "server"
	StepEndpoints   Step = "endpoints"
	StepLoadBalance Step = "load-balancer"
)

// Hop is one decision on the request's way.
type Hop struct {
	Step Step `json:"step"`
	// The decision, its reason and where it was made (inline in JSON).
	Candidate
	// Considered are further decisions and the candidates that did not
	// decide, and why.
	Considered []Candidate `json:"considered,omitempty"`
	// Fails marks the hop that ends the request.
	Fails bool `json:"fails,omitempty"`
}

// Candidate is a decision beside a hop's own: what else was considered.
type Candidate struct {
	Decision string             `json:"decision"`
	Reason   mesh.Reason        `json:"reason"`
	Resource *manifest.Ref      `json:"resource,omitempty"`
	Origin   *manifest.Position `json:"origin,omitempty"`
}

// Outcome is what the client sees.
type Outcome struct {
	// Status is the HTTP status (200 when the request reaches the
	// application, whose own answer it then is); 0 for a TCP flow that
	// connects, or a connection that fails without an HTTP answer.
	Status  int    `json:"status"`
	Flag    string `json:"flag,omitempty"`
	Cluster string `json:"cluster,omitempty"`
	Error   string `json:"error,omitempty"`
	// Success: the request reaches a backend. Unknown: the input ends
	// before the request does (a host or pods not in the input).
	Success bool   `json:"success"`
	Unknown bool   `json:"unknown,omitempty"`
	Rule    string `json:"rule,omitempty"`
	Fix     string `json:"fix,omitempty"`
	// Split lists every destination of the route with its weight and
	// cluster, when there are several.
	Split []SplitEntry `json:"split,omitempty"`
}

// SplitEntry is one weighted destination.
type SplitEntry struct {
	Cluster string `json:"cluster"`
	Weight  int32  `json:"weight"`
	Outcome string `json:"outcome"`
}

// Result is a whole trace.
type Result struct {
	Request RequestView `json:"request"`
	From    string      `json:"from"`
	Hops    []Hop       `json:"hops"`
	Outcome Outcome     `json:"outcome"`
}

// RequestView is the request as the JSON output shows it.
type RequestView struct {
	URL         string            `json:"url"`
	Method      string            `json:"method,omitempty"`
	Headers     map[string]string `json:"headers,omitempty"`
	HTTPVersion string            `json:"httpVersion,omitempty"`
	SNI         string            `json:"sni,omitempty"`
	Address     string            `json:"address,omitempty"`
}

// Spec is a request as the user poses it, before it is checked.
type Spec struct {
	From        string // workload:NS/NAME, pod:NS/NAME, gateway:NS/NAME, external
	URL         string
	Method      string
	Headers     []string // "Name: value"
	HTTPVersion string
	SNI         string
	Resolve     []string // HOST:PORT:ADDR
	// DefaultNamespace is used when --from names no namespace.
	DefaultNamespace string
}

// Parsed is a checked Spec.
type Parsed struct {
	Kind, Namespace, Name string
	Request               mesh.Request
	View                  RequestView
	// HTTPVersionSet is true when the user chose the HTTP version; else
	// the client decides (nginx's proxy_http_version, or HTTP/1.1).
	HTTPVersionSet bool
}

// Parse checks a Spec: every error is the user's to fix (exit 2).
func Parse(s Spec) (Parsed, error) {
	var p Parsed
	kind, ref, hasRef := strings.Cut(s.From, ":")
	switch kind {
	case "external":
		if hasRef {
			return p, fmt.Errorf("--from external takes no name")
		}
	case "workload", "pod", "gateway":
		if ref == "" {
			return p, fmt.Errorf("--from %s needs a name: %s:NAMESPACE/NAME", kind, kind)
		}
		ns, name, ok := strings.Cut(ref, "/")
		if !ok {
			ns, name = s.DefaultNamespace, ref
		}
		if ns == "" || name == "" || strings.Contains(name, "/") {
			return p, fmt.Errorf("--from %s: want %s:NAMESPACE/NAME", s.From, kind)
		}
		p.Namespace, p.Name = ns, name
	case "":
		return p, fmt.Errorf("--from is required: workload:NS/NAME, pod:NS/NAME, gateway:NS/NAME or external")
	default:
		return p, fmt.Errorf("--from %s: unknown client kind %q (want workload, pod, gateway or external)", s.From, kind)
	}
	p.Kind = kind
	if s.URL == "" {
		return p, fmt.Errorf("--url is required (http://host:port/path, https://…, tcp://host:port, tls://host:port)")
	}
	u, err := url.Parse(s.URL)
	if err != nil {
		return p, fmt.Errorf("--url %q: %v", s.URL, err)
	}
	r := mesh.Request{Scheme: strings.ToLower(u.Scheme), Host: strings.ToLower(u.Hostname()), Method: strings.ToUpper(s.Method), HTTPVersion: s.HTTPVersion, SNI: strings.ToLower(s.SNI), Headers: map[string]string{}}
	switch r.Scheme {
	case "http", "https", "tcp", "tls":
	default:
		return p, fmt.Errorf("--url %q: scheme must be http, https, tcp or tls", s.URL)
	}
	if r.Host == "" {
		return p, fmt.Errorf("--url %q has no host", s.URL)
	}
	port := u.Port()
	switch {
	case port != "":
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil || n == 0 {
			return p, fmt.Errorf("--url %q: port %q is not a port number", s.URL, port)
		}
		r.Port = uint32(n)
	case r.Scheme == "http":
		r.Port = 80
	case r.Scheme == "https":
		r.Port = 443
	default:
		return p, fmt.Errorf("--url %q: a %s URL needs a port", s.URL, r.Scheme)
	}
	r.Path = u.EscapedPath()
	if r.Path == "" {
		r.Path = "/"
	}
	if u.RawQuery != "" {
		r.Path += "?" + u.RawQuery
	}
	if r.Method == "" {
		r.Method = "GET"
	}
	p.HTTPVersionSet = r.HTTPVersion != ""
	switch r.HTTPVersion {
	case "":
		r.HTTPVersion = "1.1"
	case "1.0", "1.1", "2":
	default:
		return p, fmt.Errorf("--http-version %q: want 1.0, 1.1 or 2", s.HTTPVersion)
	}
	for _, h := range s.Headers {
		name, value, ok := strings.Cut(h, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return p, fmt.Errorf("-H %q: want \"Name: value\"", h)
		}
		r.Headers[strings.ToLower(name)] = strings.TrimSpace(value)
	}
	if host, ok := r.Headers["host"]; ok {
		// An explicit Host header is what routing sees (curl -H Host:).
		r.Host = strings.ToLower(host)
		if h, _, err := net.SplitHostPort(host); err == nil {
			r.Host = strings.ToLower(h)
		}
	}
	for _, rv := range s.Resolve {
		parts := strings.Split(rv, ":")
		if len(parts) < 3 {
			return p, fmt.Errorf("--resolve %q: want HOST:PORT:ADDRESS", rv)
		}
		addr := strings.Trim(strings.Join(parts[2:], ":"), "[]")
		if net.ParseIP(addr) == nil {
			return p, fmt.Errorf("--resolve %q: %q is not an IP address", rv, addr)
		}
		if strings.EqualFold(parts[0], u.Hostname()) && parts[1] == strconv.Itoa(int(r.Port)) {
			r.Address = addr
		}
	}
	if r.Address == "" && net.ParseIP(r.Host) != nil {
		// A URL naming an address connects to it (a Service's cluster IP
		// picks that Service's listener).
		r.Address = r.Host
	}
	if r.Scheme == "tcp" || r.Scheme == "tls" {
		r.Method, r.Path, r.HTTPVersion = "", "", ""
	}
	p.Request = r
	p.View = RequestView{URL: s.URL, Method: r.Method, HTTPVersion: r.HTTPVersion, SNI: s.SNI, Address: r.Address}
	if len(r.Headers) > 0 {
		p.View.Headers = r.Headers
	}
	return p, nil
}

// Run traces a parsed request through the model. findings are analyze's
// findings on the same input: the rule that explains a failure, and its
// fix, come from the finding on the deciding object when there is one.
func Run(m *mesh.Model, p Parsed, findings []finding.Finding) (*Result, error) {
	c, err := m.ClientFor(p.Kind, p.Namespace, p.Name)
	if err != nil {
		return nil, err
	}
	t := &tracer{m: m, res: &Result{Request: p.View, From: c.Name()}, findings: indexFindings(findings), client: c}
	r := p.Request
	var nginxNote *mesh.Decision
	if c.Workload != nil && r.IsHTTP() && !p.HTTPVersionSet {
		// The client is an nginx that proxies to this host: the HTTP
		// version is its proxy_http_version (seeds 001/003: 426).
		if u, ok := m.NginxUpstreamTo(c.Workload, m.ResolveClientHost(r.Host, c.Namespace), r.Port); ok {
			r.HTTPVersion = u.Version
			t.res.Request.HTTPVersion = u.Version
			nginxNote = &u.Decision
			t.nginx = nginxNote
		}
	}
	t.run(c, r, nginxNote)
	return t.res, nil
}

type tracer struct {
	m        *mesh.Model
	res      *Result
	findings map[findingKey][]finding.Finding
	client   mesh.Client
	// nginx is set when the client's nginx decided the HTTP version.
	nginx *mesh.Decision
}

func (t *tracer) hop(step Step, d mesh.Decision) *Hop {
	t.res.Hops = append(t.res.Hops, Hop{Step: step, Candidate: candidate(d)})
	return &t.res.Hops[len(t.res.Hops)-1]
}

// candidate renders a decision with the object and position behind it.
func candidate(d mesh.Decision) Candidate {
	c := Candidate{Decision: d.Note, Reason: d.Reason}
	if d.Object != nil {
		ref := d.Object.Ref()
		c.Resource = &ref
		if pos := d.At(); pos.File != "" {
			c.Origin = &pos
		}
	}
	return c
}

func considered(ds []mesh.Decision) []Candidate {
	out := make([]Candidate, 0, len(ds))
	for _, d := range ds {
		out = append(out, candidate(d))
	}
	return out
}

// fail ends the trace with the failure f decided by d.
func (t *tracer) fail(f *mesh.Failure, d mesh.Decision, cluster string, related ...mesh.Decision) {
	if n := len(t.res.Hops); n > 0 {
		t.res.Hops[n-1].Fails = true
	}
	t.res.Outcome = Outcome{Status: f.Status, Flag: f.Flag, Error: f.Error, Cluster: cluster}
	t.explain(d, related...)
}

func (t *tracer) run(c mesh.Client, r mesh.Request, nginxNote *mesh.Decision) {
	m := t.m
	cr := mesh.ReasonClientSidecar
	switch {
	case c.Kind == mesh.ClientGateway:
		cr = mesh.ReasonClientGateway
	case c.Kind == mesh.ClientExternal:
		cr = mesh.ReasonClientExternal
	case c.Kind == mesh.ClientNonMesh:
		cr = mesh.ReasonClientNoProxy
	case c.Dataplane == mesh.DataplaneAmbient:
		cr = mesh.ReasonClientAmbient
	}
	var cobj *manifest.Object
	if c.Workload != nil {
		cobj = c.Workload.Object
	}
	ch := t.hop(StepClient, mesh.Decision{Reason: cr, Object: cobj, Note: fmt.Sprintf("%s sends %s (%s)", c.Name(), describe(r), c.Why)})
	if c.Kind == mesh.ClientGateway && len(c.Gateways) > 0 {
		var gs []mesh.Decision
		for i, g := range c.Gateways {
			if i == 3 {
				gs = append(gs, mesh.Decision{Reason: mesh.ReasonGatewayServer, Note: fmt.Sprintf("and %d more Gateways", len(c.Gateways)-3)})
				break
			}
			gs = append(gs, mesh.Decision{Reason: mesh.ReasonGatewayServer, Object: g.Object, Path: []any{"spec", "selector"}, Note: fmt.Sprintf("Gateway %s/%s configures this proxy", g.Namespace, g.Name)})
		}
		ch.Considered = considered(gs)
	}
	if nginxNote != nil {
		ch.Considered = append(ch.Considered, considered([]mesh.Decision{*nginxNote})...)
	}

	l := m.Listen(c, r)
	step := StepListener
	if c.Kind == mesh.ClientExternal {
		step = StepLoadBalance
	}
	lh := t.hop(step, l.Decision)
	if l.ProtocolDecision.Note != "" && l.ProtocolDecision.Reason != l.Decision.Reason {
		lh.Considered = append(lh.Considered, considered([]mesh.Decision{l.ProtocolDecision})...)
	}
	lh.Considered = append(lh.Considered, considered(l.Notes)...)
	if l.Failure != nil {
		// The hop's own decision fails it, unless it only found where
		// the request goes and a later note (HTTP/1.0, TLS, credential)
		// is what failed.
		d := l.Decision
		switch d.Reason {
		case mesh.ReasonServicePort, mesh.ReasonServiceEntryPort, mesh.ReasonGatewayServer, mesh.ReasonIngressRule:
			if n := len(l.Notes); n > 0 {
				d = l.Notes[n-1]
			}
		}
		t.fail(l.Failure, d, l.Failure.Cluster)
		return
	}
	if l.Host == "" || (l.Service == nil && len(l.Entries) == 0 && l.Decision.Reason == mesh.ReasonHostUnknown) {
		t.unknown(l.Decision.Note)
		return
	}

	rt := m.RouteFor(c, r, l)
	rh := t.hop(StepRoute, rt.Decision)
	rh.Considered = append(considered(rt.Notes), considered(rt.Rejected)...)
	if rt.Failure != nil {
		if rt.Failure.Status == 0 && rt.Failure.Flag == "-" && rt.Failure.Error == "" {
			rt.Failure = nil
		}
	}
	if rt.Failure != nil {
		if rt.Failure.Status >= 300 && rt.Failure.Status < 400 || (rt.Decision.Reason == mesh.ReasonDirectResponse && rt.Failure.Status < 400) {
			// A redirect or a direct response is an answer, not a
			// failure.
			t.res.Outcome = Outcome{Status: rt.Failure.Status, Error: rt.Failure.Error, Success: true}
			return
		}
		t.fail(rt.Failure, rt.Decision, "")
		return
	}
	if len(rt.Destinations) == 0 {
		t.unknown("the route has no destination")
		return
	}
	authority := r.Authority()
	vsNS := ""
	if rt.HTTPRoute != nil {
		vsNS = rt.HTTPRoute.Namespace
	}
	if rt.VirtualService != nil {
		vsNS = rt.VirtualService.Namespace
		if rt.Kind == "http" && rt.Index >= 0 && rt.Index < len(rt.VirtualService.Spec.Http) {
			// The SNI auto SNI sends: the rewritten Host only from
			// Envoy 1.32 (the model decides by the client's version).
			authority, _ = m.SNIAuthority(c.Workload, authority, rt.VirtualService.Spec.Http[rt.Index].GetRewrite().GetAuthority())
		}
	}
	// Follow the heaviest destination; the others are summarised.
	main := 0
	for i, d := range rt.Destinations {
		if d.Weight > rt.Destinations[main].Weight {
			main = i
		}
	}
	ups := make([]mesh.Upstream, len(rt.Destinations))
	for i, d := range rt.Destinations {
		ups[i] = m.UpstreamFor(c, r, l, d, authority, vsNS)
	}
	if len(ups) > 1 {
		for i, u := range ups {
			st := "reaches the backends"
			if u.Failure != nil {
				st = fmt.Sprintf("fails: %d %s %s", u.Failure.Status, u.Failure.Flag, u.Failure.Error)
			}
			t.res.Outcome.Split = append(t.res.Outcome.Split, SplitEntry{Cluster: u.Cluster, Weight: rt.Destinations[i].Weight, Outcome: st})
		}
		// A failing share is what the user asks about: follow it.
		for i, u := range ups {
			if u.Failure != nil && rt.Destinations[i].Weight > 0 {
				main = i
				break
			}
		}
	}
	split := t.res.Outcome.Split
	u := ups[main]
	t.upstreamHops(u, c)
	if u.Failure != nil {
		d := u.ClusterDecision
		switch {
		case len(u.Acceptance) > 0:
			d = u.Acceptance[0]
		case u.TLSDecision.Reason == mesh.ReasonTLSAutoSNI || u.TLSDecision.Reason == mesh.ReasonTLSCredentialSkip:
			d = u.TLSDecision
		case u.EndpointsDecision.Reason == mesh.ReasonNoEndpoints || u.EndpointsDecision.Reason == mesh.ReasonNotReady:
			d = u.EndpointsDecision
		}
		if l.Decision.Reason == mesh.ReasonSidecarNotImported {
			// The server rejects what the proxy passes through because
			// the Sidecar resource left the host out: that is the cause.
			d = l.Decision
		}
		t.fail(u.Failure, d, u.Cluster, u.TLSDecision, u.RuleDecision)
		t.res.Outcome.Split = split
		return
	}
	if u.ClusterDecision.Reason == mesh.ReasonHostUnknown || u.EndpointsDecision.Reason == mesh.ReasonEndpointsAbsent {
		note := u.ClusterDecision.Note
		if u.EndpointsDecision.Reason == mesh.ReasonEndpointsAbsent {
			note = u.EndpointsDecision.Note
		}
		t.unknown(note)
		t.res.Outcome.Cluster = u.Cluster
		t.res.Outcome.Split = split
		return
	}
	t.res.Outcome = Outcome{Success: true, Cluster: u.Cluster, Split: split}
	if r.IsHTTP() {
		t.res.Outcome.Status = 200
	}
}

func (t *tracer) unknown(why string) {
	t.res.Outcome = Outcome{Unknown: true, Error: "the input ends here: " + why}
}

func (t *tracer) upstreamHops(u mesh.Upstream, c mesh.Client) {
	h := t.hop(StepCluster, u.ClusterDecision)
	h.Considered = considered(u.RoutesNotApplied)
	if u.ClusterDecision.Reason == mesh.ReasonSubsetNotFound || u.ClusterDecision.Reason == mesh.ReasonDestinationNotFound {
		if u.RuleDecision.Note != "" {
			dh := t.hop(StepDestRule, u.RuleDecision)
			dh.Considered = considered(u.RulesNotApplied)
			// The missing cluster is the failure; keep the cluster hop
			// last so it is marked.
			n := len(t.res.Hops)
			t.res.Hops[n-1], t.res.Hops[n-2] = t.res.Hops[n-2], t.res.Hops[n-1]
		}
		return
	}
	if u.RuleDecision.Note != "" {
		dh := t.hop(StepDestRule, u.RuleDecision)
		dh.Considered = considered(u.RulesNotApplied)
	}
	if u.TLSDecision.Note != "" {
		t.hop(StepTLS, u.TLSDecision)
	}
	if u.TLSDecision.Reason == mesh.ReasonTLSAutoSNI || u.TLSDecision.Reason == mesh.ReasonTLSCredentialSkip {
		return
	}
	if len(u.Acceptance) > 0 {
		sh := t.hop(StepServer, u.Acceptance[0])
		sh.Considered = considered(u.Acceptance[1:])
		if len(u.Acceptance) < len(u.Backends) {
			sh.Decision = fmt.Sprintf("%d of %d endpoints reject it: %s", len(u.Acceptance), len(u.Backends), sh.Decision)
		}
	} else if len(u.Backends) > 0 {
		t.hop(StepServer, mesh.Decision{Reason: mesh.ReasonServerAccepts, Note: "every endpoint's server side accepts what the client sends"})
	}
	if u.EndpointsDecision.Note != "" && len(u.Acceptance) == 0 {
		t.hop(StepEndpoints, u.EndpointsDecision)
	}
}

func describe(r mesh.Request) string {
	if r.IsHTTP() {
		return fmt.Sprintf("%s %s://%s%s HTTP/%s", r.Method, r.Scheme, r.Authority(), r.Path, r.HTTPVersion)
	}
	return fmt.Sprintf("a %s connection to %s:%d", strings.ToUpper(r.Scheme), r.Host, r.Port)
}
