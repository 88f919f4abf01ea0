package mesh

import "fmt"

// Server-side authorization reasons (the RBAC filter of the server's
// sidecar, after the TLS handshake).
const (
	// ReasonRBACDenied: a DENY rule matches, or ALLOW policies apply and
	// none matches: 403 "RBAC: access denied".
	ReasonRBACDenied Reason = "rbac-denied"
)

// rbacAtServer decides, after the server accepted the connection, whether
// the backends' RBAC filters let the request through (Authorize), with
// the identity the client's call carries (PeerIdentity; none for clients
// outside the cluster and pods without a proxy). It only reports certain
// denials: an answer that depends on what the request does not say (a JWT,
// an IP) leaves the request to succeed.
func (m *Model) rbacAtServer(u *Upstream, c Client, r Request, envoy bool) {
	if u.Service == nil || u.ServicePort == nil || len(u.Backends) == 0 || m.authz == nil || len(m.authz.all) == 0 {
		return
	}
	proto := PortProtocol(u.ServicePort)
	var first *AuthzDecision
	var firstID Identity
	denied := 0
	for _, b := range u.Backends {
		if b.Dataplane != DataplaneSidecar || !b.Workload.InboundCaptured(int32(b.ContainerPort)) {
			continue
		}
		var id Identity
		switch {
		case c.Kind == ClientExternal:
			id = Identity{Why: "a client outside the cluster (through the load balancer) has no Istio identity"}
		case c.Workload == nil:
			continue // an assumed gateway: its identity is unknown
		case !envoy && c.Kind == ClientNonMesh:
			id = Identity{Workload: c.Workload, Why: c.Name() + " has no proxy"}
		case !envoy:
			id = Identity{Workload: c.Workload, Why: "the client's proxy passes the connection through in plaintext"}
		default:
			var ok bool
			if id, ok = m.PeerIdentity(c.Workload, b, u.Service.Host, uint32(u.ServicePort.Port), u.Destination.Subset); !ok {
				continue
			}
		}
		req := AuthzRequest{Peer: id, Port: b.ContainerPort, HTTP: proto.IsHTTP() || (proto.Sniffed() && r.IsHTTP())}
		if req.HTTP && r.IsHTTP() {
			req.Method, req.Path, req.Headers = r.Method, r.Path, r.Headers
			if req.Method == "" {
				req.Method = "GET"
			}
			if req.Path == "" {
				req.Path = "/"
			}
			if req.Headers == nil {
				req.Headers = map[string]string{}
			}
		}
		d := m.Authorize(b.Workload, req)
		if !d.Outcome.Denied() {
			continue
		}
		denied++
		if first == nil {
			first, firstID = &d, id
		}
	}
	if first == nil {
		return
	}
	who := "no peer identity (plaintext)"
	if firstID.MTLS {
		who = "peer identity " + firstID.Principal()
	}
	note := fmt.Sprintf("the server's sidecar sees %s (%s); ", who, firstID.Why)
	p := first.Policy
	if first.Outcome == AuthzDenied {
		note += fmt.Sprintf("DENY AuthorizationPolicy %s/%s rule %d matches", p.Namespace, p.Name, first.Rule)
	} else {
		note += fmt.Sprintf("ALLOW policies apply (%d) and none matches, e.g. AuthorizationPolicy %s/%s", len(first.Allow), p.Namespace, p.Name)
	}
	u.Acceptance = append(u.Acceptance, Decision{Reason: ReasonRBACDenied, Object: p.Object, Path: first.Path, Note: note})
	u.Failure = &Failure{Status: 403, Flag: "-", Error: "403 RBAC: access denied"}
	if !r.IsHTTP() {
		u.Failure = &Failure{Error: "connection closed by the server's RBAC filter (rbac_access_denied_matched_policy)"}
	}
	if denied < len(u.Backends) {
		u.Failure.Error = fmt.Sprintf("for the requests sent to %d of %d endpoints: %s", denied, len(u.Backends), u.Failure.Error)
	}
}
