package mesh

import (
	"fmt"
	"slices"
	"strings"

	istioapi "istio.io/api/networking/v1alpha3"
)

// Shadow is a VirtualService rule, or one match block of it, that never
// decides: within the VirtualService an earlier rule takes every request
// it would match, because the proxy tries rules in order and the first
// match wins (RouteFor).
type Shadow struct {
	Kind string // route list: "http", "tcp" or "tls"
	Rule int
	// Match is the shadowed match block; -1 when the whole rule is
	// shadowed (every match block, or a rule without matches).
	Match int
	// By is the earlier rule that takes the requests, ByMatch its match
	// block (-1: it has no match and takes everything). For a whole rule
	// with several match blocks, By names the one that shadows its
	// first block.
	By, ByMatch int
	// Duplicate: the earlier match is the same condition (istioctl's
	// duplicate); otherwise it is broader (a prefix of the path, fewer
	// headers, no match at all).
	Duplicate bool
}

// Path is the YAML path of the shadowed rule or match block.
func (s Shadow) Path() []any {
	p := []any{"spec", s.Kind, s.Rule}
	if s.Match >= 0 {
		p = append(p, "match", s.Match)
	}
	return p
}

// ByName names the shadowing rule for messages: "http[0]" or
// "http[0].match[1]".
func (s Shadow) ByName() string {
	if s.ByMatch < 0 {
		return fmt.Sprintf("%s[%d]", s.Kind, s.By)
	}
	return fmt.Sprintf("%s[%d].match[%d]", s.Kind, s.By, s.ByMatch)
}

// ShadowedRoutes lists the rules and match blocks of vs that no request
// can reach because an earlier rule of the same VirtualService matches
// everything they match. A match is covered when each condition the
// earlier match sets is implied by the later one (same or longer path
// prefix, an exact value its prefix or regex accepts, a superset of its
// headers, the same port or gateway...); a rule is unreachable when all
// its match blocks are covered, or when it has none and an earlier rule
// is a catch-all. Istio's own check (istioctl analyze IST0130/IST0131,
// istio.io/istio pkg/config/validation/validation.go
// analyzeUnreachableHTTPRules) finds identical matches and catch-alls;
// this also finds broader earlier matches. Rules merged from other
// VirtualServices on a gateway are not considered.
func (m *Model) ShadowedRoutes(vs *VirtualService) []Shadow {
	if vs == nil || vs.Spec == nil {
		return nil
	}
	var out []Shadow
	http := make([][]*istioapi.HTTPMatchRequest, len(vs.Spec.Http))
	final := make([]bool, len(vs.Spec.Http))
	for i, r := range vs.Spec.Http {
		http[i] = r.GetMatch()
		// A delegating rule takes a request only if one of the
		// delegate's rules matches too; otherwise the request goes on
		// to the next rule, so it shadows nothing.
		final[i] = r.GetDelegate() == nil
	}
	out = appendShadows(out, "http", http, final, httpCovers)
	tcp := make([][]*istioapi.L4MatchAttributes, len(vs.Spec.Tcp))
	for i, r := range vs.Spec.Tcp {
		tcp[i] = r.GetMatch()
	}
	out = appendShadows(out, "tcp", tcp, nil, l4Covers)
	tls := make([][]*istioapi.TLSMatchAttributes, len(vs.Spec.Tls))
	for i, r := range vs.Spec.Tls {
		tls[i] = r.GetMatch()
	}
	return appendShadows(out, "tls", tls, nil, tlsCovers)
}

// appendShadows applies first-match-wins to one route list: rules[i] is
// rule i's match blocks; final[i] is false for a rule that may pass a
// matched request on (nil: none does); covers(a, b) reports whether a
// request matching b always matches a, and whether the two are the same
// condition.
func appendShadows[M any](out []Shadow, kind string, rules [][]M, final []bool, covers func(a, b M) (bool, bool)) []Shadow {
	catchAll, catchAllMatch := -1, -1
	type earlier struct {
		rule, match int
		m           M
	}
	var seen []earlier
	for i, ms := range rules {
		if catchAll >= 0 {
			out = append(out, Shadow{Kind: kind, Rule: i, Match: -1, By: catchAll, ByMatch: catchAllMatch, Duplicate: len(ms) == 0 && catchAllMatch < 0})
			continue
		}
		decides := final == nil || final[i]
		if len(ms) == 0 {
			if decides {
				catchAll = i
			}
			continue
		}
		var blocks []Shadow
		for j, mt := range ms {
			for _, e := range seen {
				if ok, same := covers(e.m, mt); ok {
					blocks = append(blocks, Shadow{Kind: kind, Rule: i, Match: j, By: e.rule, ByMatch: e.match, Duplicate: same})
					break
				}
			}
		}
		if len(blocks) == len(ms) {
			whole := blocks[0]
			whole.Match = -1
			for _, b := range blocks {
				whole.Duplicate = whole.Duplicate && b.Duplicate
			}
			out = append(out, whole)
		} else {
			out = append(out, blocks...)
		}
		if !decides {
			continue
		}
		for j, mt := range ms {
			seen = append(seen, earlier{i, j, mt})
			// A match block without conditions takes every request.
			if ok, _ := covers(mt, *new(M)); ok && catchAll < 0 {
				catchAll, catchAllMatch = i, j
			}
		}
	}
	return out
}

// httpCovers reports whether every request that b matches is matched by
// a, and whether both set the same conditions. A nil match block has no
// conditions and matches every request.
func httpCovers(a, b *istioapi.HTTPMatchRequest) (covers, same bool) {
	empty := &istioapi.HTTPMatchRequest{}
	if a == nil {
		a = empty
	}
	if b == nil {
		b = empty
	}
	if !httpCoversOne(a, b) {
		return false, false
	}
	return true, httpCoversOne(b, a)
}

func httpCoversOne(a, b *istioapi.HTTPMatchRequest) bool {
	switch au, bu := a.GetUri(), b.GetUri(); {
	case au == nil:
	case bu == nil:
		// Every path starts with "/".
		if au.GetPrefix() != "/" && !matchesAnything(au.GetRegex()) {
			return false
		}
	case b.IgnoreUriCase && !a.IgnoreUriCase:
		return false
	case a.IgnoreUriCase:
		if !stringCovers(lowerMatch(au), lowerMatch(bu)) {
			return false
		}
	default:
		if !stringCovers(au, bu) {
			return false
		}
	}
	for _, f := range [][2]*istioapi.StringMatch{{a.GetMethod(), b.GetMethod()}, {a.GetAuthority(), b.GetAuthority()}, {a.GetScheme(), b.GetScheme()}} {
		if f[0] != nil && (f[1] == nil || !stringCovers(f[0], f[1])) {
			return false
		}
	}
	if !mapCovers(a.Headers, b.Headers, true) || !mapCovers(a.QueryParams, b.QueryParams, false) {
		return false
	}
	// b excludes at least what a excludes: a request with the header a
	// rejects is rejected by b too.
	for k, sa := range a.WithoutHeaders {
		sb, ok := lookupHeader(b.WithoutHeaders, k)
		if !ok || !stringCovers(sb, sa) {
			return false
		}
	}
	if a.Port != 0 && a.Port != b.Port {
		return false
	}
	return sourceCovers(a.SourceLabels, b.SourceLabels, a.SourceNamespace, b.SourceNamespace, a.Gateways, b.Gateways)
}

// lookupHeader finds a header condition by name, which HTTP compares
// case-insensitively.
func lookupHeader(h map[string]*istioapi.StringMatch, name string) (*istioapi.StringMatch, bool) {
	if sm, ok := h[name]; ok {
		return sm, true
	}
	for k, sm := range h {
		if strings.EqualFold(k, name) {
			return sm, true
		}
	}
	return nil, false
}

// mapCovers: b sets every condition of a, each at least as narrow.
func mapCovers(a, b map[string]*istioapi.StringMatch, foldKeys bool) bool {
	for k, sa := range a {
		var sb *istioapi.StringMatch
		var ok bool
		if foldKeys {
			sb, ok = lookupHeader(b, k)
		} else {
			sb, ok = b[k]
		}
		if !ok || !stringCovers(sa, sb) {
			return false
		}
	}
	return true
}

// sourceCovers compares the source conditions of two matches of one
// VirtualService: a's labels are a subset of b's, a's namespace is unset
// or b's, and a's gateways (unset: the VirtualService's) include b's.
func sourceCovers(aLabels, bLabels map[string]string, aNS, bNS string, aGW, bGW []string) bool {
	for k, v := range aLabels {
		if w, ok := bLabels[k]; !ok || w != v {
			return false
		}
	}
	if aNS != "" && aNS != bNS {
		return false
	}
	if len(aGW) > 0 {
		if len(bGW) == 0 {
			return false
		}
		for _, g := range bGW {
			if !slices.Contains(aGW, g) {
				return false
			}
		}
	}
	return true
}

// stringCovers reports whether every value b accepts is accepted by a
// (StringMatches semantics): an empty a accepts anything present; an
// exact a accepts only the same exact b; a prefix a accepts an exact or
// prefix b that starts with it; a regex a accepts an exact b it matches,
// or the same regex.
func stringCovers(a, b *istioapi.StringMatch) bool {
	if a == nil || (a.GetExact() == "" && a.GetPrefix() == "" && a.GetRegex() == "") {
		return true
	}
	if b == nil {
		return false
	}
	switch {
	case b.GetExact() != "":
		return StringMatches(a, b.GetExact())
	case b.GetPrefix() != "":
		switch {
		case a.GetPrefix() != "":
			return strings.HasPrefix(b.GetPrefix(), a.GetPrefix())
		case a.GetRegex() != "":
			return matchesAnything(a.GetRegex())
		}
		return false
	case b.GetRegex() != "":
		return a.GetRegex() == b.GetRegex() || (a.GetRegex() != "" && matchesAnything(a.GetRegex()))
	}
	// b accepts anything present.
	return a.GetRegex() != "" && matchesAnything(a.GetRegex())
}

// matchesAnything recognizes the regexes written to mean "any value".
func matchesAnything(re string) bool {
	switch re {
	case ".*", "^.*$", "^.*", ".*$", "(.*)":
		return true
	}
	return false
}

// l4Covers is httpCovers for tcp match blocks.
func l4Covers(a, b *istioapi.L4MatchAttributes) (bool, bool) {
	if a == nil {
		return true, b == nil
	}
	if b == nil {
		b = &istioapi.L4MatchAttributes{}
	}
	ok := subsetOf(b.DestinationSubnets, a.DestinationSubnets) &&
		(a.Port == 0 || a.Port == b.Port) &&
		(a.SourceSubnet == "" || a.SourceSubnet == b.SourceSubnet) && //nolint:staticcheck // still honoured by istiod
		sourceCovers(a.SourceLabels, b.SourceLabels, a.SourceNamespace, b.SourceNamespace, a.Gateways, b.Gateways)
	if !ok {
		return false, false
	}
	back := subsetOf(a.DestinationSubnets, b.DestinationSubnets) && a.Port == b.Port &&
		a.SourceSubnet == b.SourceSubnet && //nolint:staticcheck
		sourceCovers(b.SourceLabels, a.SourceLabels, b.SourceNamespace, a.SourceNamespace, b.Gateways, a.Gateways)
	return true, back
}

// tlsCovers is httpCovers for tls match blocks: every SNI b accepts is
// accepted by one of a's (exactly or by a's wildcard).
func tlsCovers(a, b *istioapi.TLSMatchAttributes) (bool, bool) {
	if a == nil {
		return true, b == nil
	}
	if b == nil {
		b = &istioapi.TLSMatchAttributes{}
	}
	sniCovers := func(a, b []string) bool {
		if len(a) == 0 {
			return true
		}
		if len(b) == 0 {
			return false
		}
		for _, h := range b {
			if !slices.ContainsFunc(a, func(p string) bool { return hostCovers(strings.ToLower(p), strings.ToLower(h)) }) {
				return false
			}
		}
		return true
	}
	ok := sniCovers(a.SniHosts, b.SniHosts) && subsetOf(b.DestinationSubnets, a.DestinationSubnets) &&
		(a.Port == 0 || a.Port == b.Port) &&
		sourceCovers(a.SourceLabels, b.SourceLabels, a.SourceNamespace, b.SourceNamespace, a.Gateways, b.Gateways)
	if !ok {
		return false, false
	}
	back := sniCovers(b.SniHosts, a.SniHosts) && subsetOf(a.DestinationSubnets, b.DestinationSubnets) && a.Port == b.Port &&
		sourceCovers(b.SourceLabels, a.SourceLabels, b.SourceNamespace, a.SourceNamespace, b.Gateways, a.Gateways)
	return true, back
}

// hostCovers: every name host accepts, pattern accepts (host may itself
// be a wildcard).
func hostCovers(pattern, host string) bool {
	if pattern == host || pattern == "*" {
		return true
	}
	if isWildcard(host) {
		return isWildcard(pattern) && strings.HasSuffix(host[1:], pattern[1:])
	}
	return HostMatches(pattern, host)
}

// subsetOf: a condition list b narrower than a (a empty: no condition).
func subsetOf(b, a []string) bool {
	if len(a) == 0 {
		return true
	}
	if len(b) == 0 {
		return false
	}
	for _, x := range b {
		if !slices.Contains(a, x) {
			return false
		}
	}
	return true
}
