package mesh

import (
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	secapi "istio.io/api/security/v1beta1"
	istiosec "istio.io/client-go/pkg/apis/security/v1"

	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

// This file answers the AuthorizationPolicy questions: which workloads a
// policy applies to, and whether a policy set allows a request at a
// workload, with the policy and rule that decide. It follows Istio's
// evaluation (https://istio.io/latest/docs/concepts/security/#implicit-enablement
// and pilot/pkg/security/authz/builder/builder.go): CUSTOM first, then
// DENY, then ALLOW; a request no ALLOW policy matches is denied when the
// workload has at least one ALLOW policy, allowed when it has none. AUDIT
// only logs, and a policy annotated istio.io/dry-run: "true" is not
// enforced.
//
// The input rarely says everything about a request (the JWT, the client
// IP, the path a user will type), so matching is three-valued: a fact the
// request does not carry makes the condition Maybe, and the decision is
// definite only when the unknown parts cannot change it.

// AuthorizationPolicy is an Istio AuthorizationPolicy.
type AuthorizationPolicy struct {
	*manifest.Object
	Spec *secapi.AuthorizationPolicy
}

// Action is the policy's action as written (ALLOW when unset).
func (p *AuthorizationPolicy) Action() secapi.AuthorizationPolicy_Action { return p.Spec.GetAction() }

// DryRun reports whether the policy is annotated istio.io/dry-run: "true":
// Envoy evaluates it in shadow mode and never enforces it.
func (p *AuthorizationPolicy) DryRun() bool {
	return strings.EqualFold(p.Annotations["istio.io/dry-run"], "true")
}

// HasTargetRefs reports whether the policy attaches by targetRef(s)
// (gateways, waypoints) instead of a workload selector.
func (p *AuthorizationPolicy) HasTargetRefs() bool {
	return p.Spec.GetTargetRef() != nil || len(p.Spec.GetTargetRefs()) > 0
}

// authzIndex holds the policies by namespace, built once by Build.
type authzIndex struct {
	all  []*AuthorizationPolicy
	byNS map[string][]*AuthorizationPolicy
}

func (m *Model) indexAuthz() {
	ix := &authzIndex{byNS: map[string][]*AuthorizationPolicy{}}
	for _, o := range m.Objects {
		t, ok := o.Typed.(*istiosec.AuthorizationPolicy)
		if !ok {
			continue
		}
		p := &AuthorizationPolicy{Object: o, Spec: &t.Spec}
		ix.all = append(ix.all, p)
		ix.byNS[o.Namespace] = append(ix.byNS[o.Namespace], p)
	}
	m.authz = ix
}

// AuthorizationPolicies lists the input's AuthorizationPolicies.
func (m *Model) AuthorizationPolicies() []*AuthorizationPolicy {
	if m.authz == nil {
		return nil
	}
	return m.authz.all
}

// AuthorizationPoliciesIn lists the policies of a namespace.
func (m *Model) AuthorizationPoliciesIn(ns string) []*AuthorizationPolicy {
	if m.authz == nil {
		return nil
	}
	return m.authz.byNS[ns]
}

// PolicyAppliesTo reports whether p applies to w's proxy: a policy in the
// root namespace without selector applies mesh-wide, one elsewhere without
// selector to its whole namespace, one with a selector to the workloads of
// its namespace whose labels match. A policy with targetRefs attaches to a
// Gateway API gateway (its pods carry gateway.networking.k8s.io/gateway-name)
// or to waypoints, never to sidecars.
// https://istio.io/latest/docs/reference/config/security/authorization-policy/
func (m *Model) PolicyAppliesTo(p *AuthorizationPolicy, w *Workload) bool {
	if p.HasTargetRefs() {
		refs := p.Spec.GetTargetRefs()
		if r := p.Spec.GetTargetRef(); r != nil {
			refs = append(refs, r)
		}
		for _, r := range refs {
			if r.GetKind() == "Gateway" && (r.GetGroup() == "gateway.networking.k8s.io" || r.GetGroup() == "") &&
				w.Namespace == p.Namespace && w.Labels["gateway.networking.k8s.io/gateway-name"] == r.GetName() {
				return true
			}
		}
		return false
	}
	sel := p.Spec.GetSelector().GetMatchLabels()
	if len(sel) == 0 {
		return p.Namespace == w.Namespace || p.Namespace == m.Mesh.RootNamespace
	}
	return p.Namespace == w.Namespace && Matches(sel, w.Labels)
}

// AuthorizationPoliciesFor lists the enforced policies that apply to w:
// mesh-wide ones of the root namespace, then those of w's namespace.
func (m *Model) AuthorizationPoliciesFor(w *Workload) []*AuthorizationPolicy {
	var out []*AuthorizationPolicy
	nss := []string{w.Namespace}
	if root := m.Mesh.RootNamespace; root != "" && root != w.Namespace {
		nss = []string{root, w.Namespace}
	}
	for _, ns := range nss {
		for _, p := range m.AuthorizationPoliciesIn(ns) {
			if !p.DryRun() && m.PolicyAppliesTo(p, w) {
				out = append(out, p)
			}
		}
	}
	return out
}

// PolicyWorkloads answers "which workloads of the input does p select".
func (m *Model) PolicyWorkloads(p *AuthorizationPolicy) []*Workload {
	if p.HasTargetRefs() {
		var out []*Workload
		for _, w := range m.WorkloadsIn(p.Namespace) {
			if m.PolicyAppliesTo(p, w) {
				out = append(out, w)
			}
		}
		return out
	}
	sel := p.Spec.GetSelector().GetMatchLabels()
	if len(sel) > 0 {
		return m.Select(p.Namespace, sel)
	}
	if p.Namespace == m.Mesh.RootNamespace {
		return m.Workloads
	}
	return m.WorkloadsIn(p.Namespace)
}

// Tri is a three-valued match: the input may not carry every fact a
// condition reads.
type Tri int

// Match values.
const (
	No Tri = iota
	Maybe
	Yes
)

func (t Tri) String() string { return [...]string{"no", "maybe", "yes"}[t] }

// and3 and or3 combine matches as Kleene logic does.
func and3(a, b Tri) Tri { return min(a, b) }
func or3(a, b Tri) Tri  { return max(a, b) }
func not3(a Tri) Tri    { return Yes - a }

// AuthzRequest is what the server's proxy knows about a request when it
// runs the RBAC filter. Empty fields are unknown.
type AuthzRequest struct {
	Peer Identity
	// Port is the destination (container) port the workload receives on;
	// 0 when unknown.
	Port uint32
	// HTTP is true when the server's inbound filter chain for the port is
	// HTTP (declared or sniffed HTTP); false for a TCP filter chain,
	// where Istio drops HTTP-only conditions.
	HTTP    bool
	Method  string
	Path    string
	Host    string
	Headers map[string]string // lower-case names; nil when unknown
}

// AuthzOutcome is the RBAC filter's answer.
type AuthzOutcome string

// Outcomes.
const (
	// AuthzNoPolicy: no policy applies; every request is allowed.
	AuthzNoPolicy AuthzOutcome = "no-policy"
	// AuthzAllowed: an ALLOW rule matches (and no DENY rule).
	AuthzAllowed AuthzOutcome = "allowed"
	// AuthzNotDenied: policies apply, none is ALLOW, none denies.
	AuthzNotDenied AuthzOutcome = "not-denied"
	// AuthzDenied: a DENY rule matches: 403 "RBAC: access denied".
	AuthzDenied AuthzOutcome = "denied"
	// AuthzNoAllowMatch: ALLOW policies apply and none matches: 403.
	AuthzNoAllowMatch AuthzOutcome = "no-allow-match"
	// AuthzUnknown: the answer depends on facts the input does not have
	// (a JWT, a client IP, a CUSTOM provider's verdict, the path).
	AuthzUnknown AuthzOutcome = "unknown"
)

// Denied reports whether the outcome is a certain 403.
func (o AuthzOutcome) Denied() bool { return o == AuthzDenied || o == AuthzNoAllowMatch }

// AuthzDecision is Authorize's answer with what decided it.
type AuthzDecision struct {
	Outcome AuthzOutcome
	// Policy and Rule decide it: the matching DENY or ALLOW rule (Rule is
	// its index), or for AuthzNoAllowMatch the first ALLOW policy (Rule
	// -1). Path is the YAML path of the deciding field.
	Policy *AuthorizationPolicy
	Rule   int
	Path   []any
	// Allow lists the ALLOW policies that apply to the workload.
	Allow []*AuthorizationPolicy
	// Dropped lists ALLOW rules Istio drops on a TCP filter chain because
	// they carry HTTP-only fields (they can never allow TCP traffic).
	Dropped []PolicyRule
}

// PolicyRule names one rule of a policy.
type PolicyRule struct {
	Policy *AuthorizationPolicy
	Rule   int
}

// Authorize answers "does the RBAC filter of w allow request r": Istio's
// order is CUSTOM, DENY, ALLOW; a CUSTOM policy whose rule may match hands
// the request to an external authorizer, whose verdict the input cannot
// know. https://istio.io/latest/docs/concepts/security/#authorization-policy-precedence
func (m *Model) Authorize(w *Workload, r AuthzRequest) AuthzDecision {
	ps := m.AuthorizationPoliciesFor(w)
	if len(ps) == 0 {
		return AuthzDecision{Outcome: AuthzNoPolicy, Rule: -1}
	}
	d := AuthzDecision{Rule: -1}
	unsure := false
	for _, action := range []secapi.AuthorizationPolicy_Action{secapi.AuthorizationPolicy_CUSTOM, secapi.AuthorizationPolicy_DENY} {
		for _, p := range ps {
			if p.Action() != action {
				continue
			}
			for i, rule := range p.Spec.GetRules() {
				switch matchRule(rule, r, action) {
				case Yes:
					if action == secapi.AuthorizationPolicy_CUSTOM {
						unsure = true
						continue
					}
					return AuthzDecision{Outcome: AuthzDenied, Policy: p, Rule: i, Path: []any{"spec", "rules", i}}
				case Maybe:
					unsure = true
				}
			}
		}
	}
	var allowed Tri
	for _, p := range ps {
		if p.Action() != secapi.AuthorizationPolicy_ALLOW {
			continue
		}
		d.Allow = append(d.Allow, p)
		for i, rule := range p.Spec.GetRules() {
			if !r.HTTP && len(HTTPOnlyFields(rule)) > 0 {
				d.Dropped = append(d.Dropped, PolicyRule{p, i})
				continue
			}
			t := matchRule(rule, r, secapi.AuthorizationPolicy_ALLOW)
			if t == Yes && allowed != Yes {
				d.Policy, d.Rule, d.Path = p, i, []any{"spec", "rules", i}
			}
			allowed = or3(allowed, t)
		}
	}
	switch {
	case len(d.Allow) == 0 && unsure:
		d.Outcome = AuthzUnknown
	case len(d.Allow) == 0:
		d.Outcome = AuthzNotDenied
	case allowed == No && !unsure:
		d.Outcome, d.Policy, d.Rule = AuthzNoAllowMatch, closestAllow(d.Allow), -1
		d.Path = []any{"spec", "rules"}
		if len(d.Policy.Spec.GetRules()) == 0 {
			d.Path = []any{"spec"}
		}
	case allowed == Yes && !unsure:
		d.Outcome = AuthzAllowed
	default:
		d.Outcome = AuthzUnknown
	}
	return d
}

// closestAllow is the ALLOW policy a fix should extend: one that selects
// the workload by labels and has rules, over namespace- and mesh-wide
// ones and the rule-less deny-all (spec: {}).
func closestAllow(ps []*AuthorizationPolicy) *AuthorizationPolicy {
	best := ps[0]
	score := func(p *AuthorizationPolicy) int {
		n := 0
		if len(p.Spec.GetSelector().GetMatchLabels()) > 0 {
			n += 2
		}
		if len(p.Spec.GetRules()) > 0 {
			n++
		}
		return n
	}
	for _, p := range ps[1:] {
		if score(p) > score(best) {
			best = p
		}
	}
	return best
}

// HTTPOnlyFields lists the fields of rule that only an HTTP filter chain
// can evaluate: to.operation hosts, methods and paths (and their not*
// forms), from.source requestPrincipals, and when keys request.headers[…]
// and request.auth.*. On a TCP filter chain Istio drops an ALLOW rule that
// has any of them and ignores them in a DENY, AUDIT or CUSTOM rule
// (pilot/pkg/security/authz/model/model.go checkError;
// https://istio.io/latest/docs/ops/configuration/security/security-policy-examples/
// and the "TCP traffic" task). Each entry is a YAML path below the rule.
func HTTPOnlyFields(rule *secapi.Rule) [][]any {
	var out [][]any
	for i, f := range rule.GetFrom() {
		s := f.GetSource()
		if len(s.GetRequestPrincipals()) > 0 {
			out = append(out, []any{"from", i, "source", "requestPrincipals"})
		}
		if len(s.GetNotRequestPrincipals()) > 0 {
			out = append(out, []any{"from", i, "source", "notRequestPrincipals"})
		}
	}
	for i, t := range rule.GetTo() {
		o := t.GetOperation()
		for _, f := range []struct {
			name string
			v    []string
		}{
			{"hosts", o.GetHosts()}, {"notHosts", o.GetNotHosts()},
			{"methods", o.GetMethods()}, {"notMethods", o.GetNotMethods()},
			{"paths", o.GetPaths()}, {"notPaths", o.GetNotPaths()},
		} {
			if len(f.v) > 0 {
				out = append(out, []any{"to", i, "operation", f.name})
			}
		}
	}
	for i, c := range rule.GetWhen() {
		if strings.HasPrefix(c.GetKey(), "request.headers") || strings.HasPrefix(c.GetKey(), "request.auth.") {
			out = append(out, []any{"when", i, "key"})
		}
	}
	return out
}

// matchRule evaluates one rule: any from AND any to AND every when; an
// empty list matches everything. A rule without from, to and when matches
// every request.
func matchRule(rule *secapi.Rule, r AuthzRequest, action secapi.AuthorizationPolicy_Action) Tri {
	if rule == nil {
		return No
	}
	// HTTP-only conditions on a TCP chain: for DENY/AUDIT/CUSTOM Istio
	// drops the condition, which widens the rule (ALLOW rules are
	// dropped whole by the caller).
	lenient := !r.HTTP && action != secapi.AuthorizationPolicy_ALLOW
	from := Yes
	if len(rule.GetFrom()) > 0 {
		from = No
		for _, f := range rule.GetFrom() {
			from = or3(from, matchSource(f.GetSource(), r, lenient))
		}
	}
	to := Yes
	if len(rule.GetTo()) > 0 {
		to = No
		for _, t := range rule.GetTo() {
			to = or3(to, matchOperation(t.GetOperation(), r, lenient))
		}
	}
	res := and3(from, to)
	for _, c := range rule.GetWhen() {
		res = and3(res, matchCondition(c, r, lenient))
	}
	return res
}

// values evaluates "any of values matches" and "none of notValues
// matches" for one attribute; no values at all means no constraint.
func values(vals, notVals []string, match func(string) Tri) Tri {
	res := Yes
	if len(vals) > 0 {
		hit := No
		for _, v := range vals {
			hit = or3(hit, match(v))
		}
		res = hit
	}
	for _, v := range notVals {
		res = and3(res, not3(match(v)))
	}
	return res
}

func matchSource(s *secapi.Source, r AuthzRequest, lenient bool) Tri {
	if s == nil {
		return Yes
	}
	res := values(s.GetPrincipals(), s.GetNotPrincipals(), func(v string) Tri { return principalMatch(v, r.Peer) })
	res = and3(res, values(s.GetNamespaces(), s.GetNotNamespaces(), func(v string) Tri {
		if !r.Peer.MTLS {
			return No
		}
		return boolTri(stringMatch(v, r.Peer.Namespace))
	}))
	res = and3(res, values(s.GetServiceAccounts(), s.GetNotServiceAccounts(), func(v string) Tri {
		if !r.Peer.MTLS {
			return No
		}
		ns, sa, ok := strings.Cut(v, "/")
		return boolTri(ok && ns == r.Peer.Namespace && sa == r.Peer.ServiceAccount)
	}))
	res = and3(res, values(s.GetTrustDomains(), s.GetNotTrustDomains(), func(v string) Tri {
		if !r.Peer.MTLS {
			return No
		}
		if v == "*" || v == localTrustDomain {
			return Yes
		}
		return Maybe // the mesh's trust domain and its aliases are not modelled
	}))
	// Client IPs are not in the input.
	ipMaybe := func(string) Tri { return Maybe }
	res = and3(res, values(s.GetIpBlocks(), s.GetNotIpBlocks(), ipMaybe))
	res = and3(res, values(s.GetRemoteIpBlocks(), s.GetNotRemoteIpBlocks(), ipMaybe))
	if !lenient {
		// A JWT's principal is not in the input.
		res = and3(res, values(s.GetRequestPrincipals(), s.GetNotRequestPrincipals(), func(string) Tri { return Maybe }))
	}
	return res
}

// principalMatch matches a source.principals value against the peer: a
// plaintext peer has no principal (so only notPrincipals match it).
func principalMatch(v string, id Identity) Tri {
	if !id.MTLS {
		return No
	}
	v = strings.TrimPrefix(v, "spiffe://")
	if v == "*" {
		return Yes
	}
	if td, ns, sa, ok := principalParts(v); ok && !strings.Contains(v, "*") {
		if td != localTrustDomain {
			return Maybe
		}
		return boolTri(ns == id.Namespace && sa == id.ServiceAccount)
	}
	if t := stringMatch(v, id.Principal()); t {
		return Yes
	}
	if !strings.HasPrefix(v, localTrustDomain+"/") && !strings.HasPrefix(v, "*") {
		return Maybe // another trust domain, possibly an alias
	}
	return No
}

func matchOperation(o *secapi.Operation, r AuthzRequest, lenient bool) Tri {
	if o == nil {
		return Yes
	}
	res := values(o.GetPorts(), o.GetNotPorts(), func(v string) Tri {
		if r.Port == 0 {
			return Maybe
		}
		n, err := strconv.ParseUint(v, 10, 32)
		return boolTri(err == nil && uint32(n) == r.Port)
	})
	if lenient {
		return res
	}
	res = and3(res, values(o.GetHosts(), o.GetNotHosts(), func(v string) Tri {
		if r.Host == "" {
			return Maybe
		}
		return boolTri(stringMatch(strings.ToLower(v), strings.ToLower(r.Host)))
	}))
	res = and3(res, values(o.GetMethods(), o.GetNotMethods(), func(v string) Tri {
		if r.Method == "" {
			return Maybe
		}
		return boolTri(stringMatch(v, r.Method))
	}))
	res = and3(res, values(o.GetPaths(), o.GetNotPaths(), func(v string) Tri {
		if r.Path == "" || strings.Contains(v, "{") {
			return Maybe // unknown path, or a path template
		}
		return boolTri(stringMatch(v, r.Path))
	}))
	return res
}

func matchCondition(c *secapi.Condition, r AuthzRequest, lenient bool) Tri {
	key := c.GetKey()
	var match func(string) Tri
	switch {
	case key == "source.namespace":
		match = func(v string) Tri { return boolTri(r.Peer.MTLS && stringMatch(v, r.Peer.Namespace)) }
	case key == "source.principal":
		match = func(v string) Tri { return principalMatch(v, r.Peer) }
	case key == "destination.port":
		match = func(v string) Tri {
			if r.Port == 0 {
				return Maybe
			}
			return boolTri(v == strconv.FormatUint(uint64(r.Port), 10))
		}
	case strings.HasPrefix(key, "request.headers[") && strings.HasSuffix(key, "]"):
		if lenient {
			return Yes
		}
		name := strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(key, "request.headers["), "]"))
		match = func(v string) Tri {
			if r.Headers == nil {
				return Maybe
			}
			h, ok := r.Headers[name]
			return boolTri(ok && stringMatch(v, h))
		}
	case strings.HasPrefix(key, "request.auth."):
		if lenient {
			return Yes
		}
		return Maybe
	default:
		// IPs, SNI, trust domains, Envoy metadata: not in the input.
		return Maybe
	}
	return values(c.GetValues(), c.GetNotValues(), match)
}

// stringMatch is Istio's string matching for policy values: "*" matches
// any non-empty value, "abc*" a prefix, "*abc" a suffix, else exact.
func stringMatch(pattern, v string) bool {
	switch {
	case pattern == "*":
		return v != ""
	case strings.HasSuffix(pattern, "*"):
		return strings.HasPrefix(v, strings.TrimSuffix(pattern, "*"))
	case strings.HasPrefix(pattern, "*"):
		return strings.HasSuffix(v, strings.TrimPrefix(pattern, "*"))
	}
	return pattern == v
}

func boolTri(b bool) Tri {
	if b {
		return Yes
	}
	return No
}

// CallAuthz is the RBAC answer for one call: the identity the server's
// proxy sees and the decision.
type CallAuthz struct {
	Peer     Identity
	Request  AuthzRequest
	Decision AuthzDecision
}

// AuthorizeCall answers "does the RBAC filter of backend b let a call from
// client c through", for a call to Service port sp of host (with an
// optional DestinationRule subset): the peer identity the call carries
// (PeerIdentity), the server's filter chain (HTTP for a port declared
// HTTP, or sniffed when the call is HTTP; TCP otherwise, where Istio drops
// HTTP-only conditions), then Authorize with what else is unknown. ok is
// false when the server has no sidecar to enforce policies (ztunnel
// enforces only L4 policies and waypoints are not modelled) or the
// identity cannot be decided.
func (m *Model) AuthorizeCall(c *Workload, b Backend, host string, sp *corev1.ServicePort, subset string, httpCall bool) (CallAuthz, bool) {
	if b.Workload == nil || sp == nil || b.Dataplane != DataplaneSidecar || !b.Workload.InboundCaptured(int32(b.ContainerPort)) {
		return CallAuthz{}, false
	}
	id, ok := m.PeerIdentity(c, b, host, uint32(sp.Port), subset)
	if !ok {
		return CallAuthz{}, false
	}
	proto := PortProtocol(sp)
	r := AuthzRequest{Peer: id, Port: b.ContainerPort, HTTP: proto.IsHTTP() || (proto.Sniffed() && httpCall)}
	return CallAuthz{Peer: id, Request: r, Decision: m.Authorize(b.Workload, r)}, true
}

// SourceIdentity is a caller identity an ALLOW rule's source names
// exactly: a principal (ServiceAccount known) or a namespace (any
// ServiceAccount of it).
type SourceIdentity struct {
	Identity Identity
	// AnyServiceAccount is set for a namespace source.
	AnyServiceAccount bool
	// Path is the YAML path of the value below the rule.
	Path []any
}

// ExactSources lists the identities a rule's from.source entries name
// exactly and alone (a source with only principals, or only namespaces,
// without wildcards): the callers the rule is written for.
func ExactSources(rule *secapi.Rule) []SourceIdentity {
	var out []SourceIdentity
	for i, f := range rule.GetFrom() {
		s := f.GetSource()
		onlyPrincipals := len(s.GetPrincipals()) > 0 && len(s.GetNamespaces())+len(s.GetNotNamespaces())+len(s.GetNotPrincipals())+len(s.GetServiceAccounts())+len(s.GetNotServiceAccounts())+len(s.GetIpBlocks())+len(s.GetNotIpBlocks())+len(s.GetRemoteIpBlocks())+len(s.GetNotRemoteIpBlocks())+len(s.GetRequestPrincipals())+len(s.GetNotRequestPrincipals())+len(s.GetTrustDomains())+len(s.GetNotTrustDomains()) == 0
		onlyNamespaces := len(s.GetNamespaces()) > 0 && len(s.GetPrincipals())+len(s.GetNotNamespaces())+len(s.GetNotPrincipals())+len(s.GetServiceAccounts())+len(s.GetNotServiceAccounts())+len(s.GetIpBlocks())+len(s.GetNotIpBlocks())+len(s.GetRemoteIpBlocks())+len(s.GetNotRemoteIpBlocks())+len(s.GetRequestPrincipals())+len(s.GetNotRequestPrincipals())+len(s.GetTrustDomains())+len(s.GetNotTrustDomains()) == 0
		switch {
		case onlyPrincipals:
			for j, p := range s.GetPrincipals() {
				td, ns, sa, ok := principalParts(strings.TrimPrefix(p, "spiffe://"))
				if ok && td == localTrustDomain && !strings.Contains(p, "*") {
					out = append(out, SourceIdentity{Identity: Identity{MTLS: true, Namespace: ns, ServiceAccount: sa}, Path: []any{"from", i, "source", "principals", j}})
				}
			}
		case onlyNamespaces:
			for j, ns := range s.GetNamespaces() {
				if !strings.Contains(ns, "*") {
					out = append(out, SourceIdentity{Identity: Identity{MTLS: true, Namespace: ns}, AnyServiceAccount: true, Path: []any{"from", i, "source", "namespaces", j}})
				}
			}
		}
	}
	return out
}

// AlwaysDenies reports whether a DENY (or CUSTOM-free) rule matches every
// request from src, whatever its path, method, headers and port: the
// caller can never be allowed at a workload the DENY policy applies to.
// For a namespace source the rule must not look at principals or
// ServiceAccounts, which differ between the namespace's callers.
func AlwaysDenies(rule *secapi.Rule, src SourceIdentity) bool {
	if src.AnyServiceAccount {
		for _, f := range rule.GetFrom() {
			s := f.GetSource()
			if len(s.GetPrincipals())+len(s.GetNotPrincipals())+len(s.GetServiceAccounts())+len(s.GetNotServiceAccounts()) > 0 {
				return false
			}
		}
		for _, c := range rule.GetWhen() {
			if c.GetKey() == "source.principal" || c.GetKey() == "source.serviceAccount" {
				return false
			}
		}
	}
	// Unknown request attributes make anything that reads them Maybe: a
	// Yes holds for every request. Both filter chains must deny.
	for _, http := range []bool{true, false} {
		if matchRule(rule, AuthzRequest{Peer: src.Identity, HTTP: http}, secapi.AuthorizationPolicy_DENY) != Yes {
			return false
		}
	}
	return true
}
