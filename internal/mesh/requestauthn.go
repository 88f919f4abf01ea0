package mesh

import (
	"maps"
	"slices"
	"strings"

	secapi "istio.io/api/security/v1beta1"
	istiosec "istio.io/client-go/pkg/apis/security/v1"

	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

// RequestAuthentication is an Istio RequestAuthentication.
type RequestAuthentication struct {
	*manifest.Object
	Spec *secapi.RequestAuthentication
}

// RequestAuthns indexes the RequestAuthentications of the input by
// namespace, to answer which apply to a workload.
type RequestAuthns struct {
	root  string
	byNS  map[string][]*RequestAuthentication
	Count int
}

// RequestAuthentications reads the input's RequestAuthentications once
// (one pass over the objects) into an index.
func (m *Model) RequestAuthentications() RequestAuthns {
	ix := RequestAuthns{root: m.Mesh.RootNamespace, byNS: map[string][]*RequestAuthentication{}}
	for _, o := range m.Objects {
		if t, ok := o.Typed.(*istiosec.RequestAuthentication); ok && t != nil {
			ix.byNS[o.Namespace] = append(ix.byNS[o.Namespace], &RequestAuthentication{Object: o, Spec: &t.Spec})
			ix.Count++
		}
	}
	return ix
}

// For lists the RequestAuthentications that validate JWTs for a workload
// (an Istio Gateway's or a sidecar's): those of its namespace and of the
// root namespace whose selector is empty or matches its labels. Policies
// with targetRefs attach only to Gateway API gateways and waypoints, so
// they do not count here.
// (istio.io/istio pilot/pkg/model/policyattachment.go ShouldAttachPolicy)
func (ix RequestAuthns) For(w *Workload) []*RequestAuthentication {
	var out []*RequestAuthentication
	nss := []string{w.Namespace}
	if ix.root != w.Namespace {
		nss = append(nss, ix.root)
	}
	for _, ns := range nss {
		for _, ra := range ix.byNS[ns] {
			if len(ra.Spec.GetTargetRefs()) > 0 || ra.Spec.GetTargetRef() != nil { //nolint:staticcheck // targetRef is still honoured
				continue
			}
			if Matches(ra.Spec.GetSelector().GetMatchLabels(), w.Labels) {
				out = append(out, ra)
			}
		}
	}
	return out
}

// JWTClaimHeader reports whether a VirtualService header match name is a
// JWT claim reference (@request.auth.claims.a.b or
// @request.auth.claims[a][b]), which Istio matches against the claims of
// the validated token instead of a header.
// (istio.io/istio pkg/jwt/routing.go)
func JWTClaimHeader(name string) bool {
	const prefix = "@request.auth.claims"
	if !strings.HasPrefix(strings.ToLower(name), prefix) {
		return false
	}
	rest := name[len(prefix):]
	return (strings.HasPrefix(rest, ".") && len(rest) > 1) || (strings.HasPrefix(rest, "[") && strings.HasSuffix(rest, "]") && len(rest) > 2)
}

// All lists every RequestAuthentication of the input, by namespace and
// then in input order.
func (ix RequestAuthns) All() []*RequestAuthentication {
	out := make([]*RequestAuthentication, 0, ix.Count)
	for _, ns := range slices.Sorted(maps.Keys(ix.byNS)) {
		out = append(out, ix.byNS[ns]...)
	}
	return out
}
