package mesh

import (
	"strings"

	istioapi "istio.io/api/networking/v1alpha3"
)

// This file answers "which peer identity does the server's proxy see":
// the fact AuthorizationPolicy's source.principals, source.namespaces and
// notPrincipals are matched against. Istio derives it from the client's
// mTLS certificate, a SPIFFE ID <trust domain>/ns/<namespace>/sa/<service
// account> (https://istio.io/latest/docs/concepts/security/#istio-identity);
// a plaintext connection carries none.

// ServiceAccount is the Kubernetes ServiceAccount w's pods run as:
// spec.serviceAccountName, else the deprecated spec.serviceAccount, else
// "default" (the ServiceAccount admission controller's choice).
func (w *Workload) ServiceAccount() string {
	if w.PodSpec == nil {
		return "default"
	}
	if sa := w.PodSpec.ServiceAccountName; sa != "" {
		return sa
	}
	if sa := w.PodSpec.DeprecatedServiceAccount; sa != "" {
		return sa
	}
	return "default"
}

// Identity is the peer identity a server-side proxy sees on a connection.
type Identity struct {
	// MTLS is true when the connection is Istio mTLS and so carries a
	// peer certificate; false for plaintext (and non-Istio TLS), which
	// has no principal and no namespace in Istio's authorization.
	MTLS bool
	// Namespace and ServiceAccount name the SPIFFE identity when MTLS.
	Namespace      string
	ServiceAccount string
	// Workload is the client whose identity it is (the gateway for
	// traffic forwarded by a gateway), nil when unknown.
	Workload *Workload
	// Why explains it for messages: "sidecar of Deployment shop/web",
	// "no sidecar (namespace jobs is not labelled for injection)".
	Why string
}

// Principal is the identity as source.principals write it, in the local
// trust domain: "cluster.local/ns/<ns>/sa/<sa>". Istio treats a policy's
// "cluster.local" as the mesh's own trust domain whatever it is
// (pilot/pkg/security/trustdomain/bundle.go ReplaceTrustDomainAliases), so
// the local form is what policies are compared with. Empty for plaintext.
func (id Identity) Principal() string {
	if !id.MTLS {
		return ""
	}
	return localTrustDomain + "/ns/" + id.Namespace + "/sa/" + id.ServiceAccount
}

// localTrustDomain is how policies name the mesh's own trust domain.
const localTrustDomain = "cluster.local"

// WorkloadIdentity is the identity w's own proxy (sidecar, ztunnel or
// gateway Envoy) presents when it originates Istio mTLS.
func WorkloadIdentity(w *Workload, why string) Identity {
	return Identity{MTLS: true, Namespace: w.Namespace, ServiceAccount: w.ServiceAccount(), Workload: w, Why: why}
}

// PeerIdentity answers "which peer identity does traffic from client c to
// backend b (reached through Service port port of host, with subset)
// carry". A client proxy (sidecar, ambient, gateway) presents its own
// workload's identity when it originates Istio mTLS: auto mTLS toward a
// server with a proxy whose PeerAuthentication is not DISABLE, or a
// DestinationRule with ISTIO_MUTUAL. A gateway forwards with its own
// identity, never the original caller's. Without a client proxy, or with a
// DestinationRule that sends plaintext or the application's own TLS, the
// connection has no Istio identity. ok is false when the input cannot say
// (the client's namespace is not in the input, DestinationRule MUTUAL with
// custom certificates).
func (m *Model) PeerIdentity(c *Workload, b Backend, host string, port uint32, subset string) (Identity, bool) {
	if c == nil {
		return Identity{}, false
	}
	name := c.Kind + " " + c.Namespace + "/" + c.Name
	dp, why := m.Injection(c)
	gateway, _ := IsGatewayWorkload(c)
	switch {
	case gateway:
		why = "gateway " + name + " forwards with its own identity"
	case dp == DataplaneNone:
		return Identity{Workload: c, Why: name + " has no sidecar (" + why + ")"}, true
	case dp == DataplaneUnknown:
		return Identity{}, false
	default:
		why = "the " + dp.String() + " proxy of " + name
	}
	ct := m.ClientTLSFor(m.DestinationRuleFor(c.Namespace, host), port, subset)
	serverProxy := (b.Dataplane == DataplaneSidecar && b.Workload.InboundCaptured(int32(b.ContainerPort))) || b.Dataplane == DataplaneAmbient
	switch {
	case ct.Settings == nil && ct.Auto:
		// Auto mTLS sends mTLS exactly where the server's proxy accepts
		// it (https://istio.io/latest/docs/concepts/security/#auto-mutual-tls).
		if !serverProxy || b.MTLS.Mode == ModeDisable {
			return Identity{Workload: c, Why: why + " sends plaintext (auto mTLS: the server does not accept mTLS)"}, true
		}
	case ct.Mode == istioapi.ClientTLSSettings_ISTIO_MUTUAL:
	case ct.Mode == istioapi.ClientTLSSettings_MUTUAL:
		return Identity{}, false
	default:
		mode := "DISABLE"
		if ct.Settings != nil {
			mode = TLSModeName(ct.Mode)
		}
		src := "auto mTLS is off"
		if ct.Rule != nil {
			src = "DestinationRule " + ct.Rule.Namespace + "/" + ct.Rule.Name
		}
		return Identity{Workload: c, Why: why + " sends without Istio mTLS (tls mode " + mode + ", " + src + ")"}, true
	}
	return WorkloadIdentity(c, why), true
}

// principalParts splits a SPIFFE-style principal "td/ns/N/sa/S".
func principalParts(p string) (td, ns, sa string, ok bool) {
	parts := strings.Split(p, "/")
	if len(parts) != 5 || parts[1] != "ns" || parts[3] != "sa" {
		return "", "", "", false
	}
	return parts[0], parts[2], parts[4], true
}
