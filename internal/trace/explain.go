package trace

import (
	"fmt"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
)

// ruleFor names the analyze rule that reports, from configuration alone,
// the failure a reason causes. Trace and analyze share the model, so the
// rule fires on the same object; a test holds them to it.
var ruleFor = map[mesh.Reason]string{
	mesh.ReasonSubsetNotFound:          "subset-not-found",
	mesh.ReasonDestinationNotFound:     "destination-host-not-found",
	mesh.ReasonNoEndpoints:             "subset-selects-no-pods",
	mesh.ReasonNotReady:                "pods-not-ready-behind-route",
	mesh.ReasonServerStrict:            "mtls-mode-conflict",
	mesh.ReasonServerNoSidecar:         "mtls-mode-conflict",
	mesh.ReasonTLSAutoSNI:              "auto-sni-san-mismatch",
	mesh.ReasonTLSCredentialSkip:       "sidecar-tls-credential-ignored",
	mesh.ReasonPortProtocolUnsupported: "port-protocol-unsupported",
	mesh.ReasonHTTP10Rejected:          "nginx-upstream-http10",
	mesh.ReasonLBUnhealthy:             "gke-health-check-default-path",
	mesh.ReasonServerFirstSniffed:      "server-first-protocol-sniffed",
	mesh.ReasonGatewayNoCredential:     "gateway-credential-not-found",
	mesh.ReasonRBACDenied:              "authz-denies-gateway-traffic",
}

// fixFor is trace's own fix when no finding on the deciding object has
// one: what to change for each failure reason.
var fixFor = map[mesh.Reason]string{
	mesh.ReasonNoRouteMatch:       "add a rule for this request to the VirtualService (or a catch-all rule without match at the end), or correct the rule that should match it",
	mesh.ReasonNoVirtualService:   "bind a VirtualService for this host to the Gateway (spec.gateways: [NAMESPACE/GATEWAY], spec.hosts including the host), with http rules for an HTTP/HTTPS server or tls/tcp rules for a PASSTHROUGH or TCP server",
	mesh.ReasonGatewayNoHost:      "add the host to the Gateway server's hosts (and bind a VirtualService for it to the Gateway)",
	mesh.ReasonGatewayNoPort:      "add a server on this port to a Gateway that selects the gateway proxy, or call a port it serves",
	mesh.ReasonGatewayTLSMismatch: "call the port with the scheme the Gateway server expects (https for a TLS server, http for a plaintext one)",
	mesh.ReasonHTTP10Rejected:     "send HTTP/1.1 (nginx: proxy_http_version 1.1;), or let Envoy accept HTTP/1.0: PILOT_HTTP10=1 in istiod's environment, or ISTIO_META_HTTP10: \"1\" in the pod's proxy.istio.io/config",
	mesh.ReasonRegistryOnly:       "add a ServiceEntry for the host, or set outboundTrafficPolicy.mode ALLOW_ANY",
	mesh.ReasonHostUnknown:        "check the host name: the cluster has no Service of that name",
	mesh.ReasonNoSuchPort:         "call a port the Service declares, or add the port to the Service",
	mesh.ReasonIngressNoRule:      "add an Ingress rule for this host and path",
	mesh.ReasonProtocolMismatch:   "declare the Service port as https or tls (name https-… or appProtocol: https), or send plaintext and let a DestinationRule originate TLS",
	mesh.ReasonFaultAbort:         "remove the fault injection from the VirtualService rule",
	mesh.ReasonDelegateMissing:    "create the delegate VirtualService, or correct the delegate reference",
	mesh.ReasonNoEndpoints:        "make the subset's labels (or the Service's selector) match the labels the pods carry",
	mesh.ReasonServerStrict:       "make the client's TLS match what the server accepts: tls.mode ISTIO_MUTUAL (or no tls block, for auto mTLS) toward a STRICT server, plaintext (DISABLE) toward a server whose PeerAuthentication is DISABLE; or relax the server's PeerAuthentication for the port to PERMISSIVE",
	mesh.ReasonServerNoSidecar:    "inject the sidecar into the destination workload, or send it plaintext (tls.mode DISABLE in the DestinationRule for its host)",
	mesh.ReasonRBACDenied:         "let the caller's identity in: add its principal (cluster.local/ns/NS/sa/SA; for traffic through a gateway, the gateway's) or namespace to a rule of the server's ALLOW AuthorizationPolicy, or narrow the DENY rule that matches; a caller without a sidecar has no identity at all",
	mesh.ReasonSidecarNotImported: "add the host to the Sidecar resource's egress hosts (NAMESPACE/HOST, e.g. bank/ledger.bank.svc.cluster.local or bank/*)",
}

// findingKey finds analyze's finding for an object.
type findingKey struct {
	ref  manifest.Ref
	rule string
}

func indexFindings(fs []finding.Finding) map[findingKey][]finding.Finding {
	out := map[findingKey][]finding.Finding{}
	for _, f := range fs {
		k := findingKey{f.Resource, f.Rule}
		out[k] = append(out[k], f)
	}
	return out
}

// explain names the rule behind a failure decided by d and its fix: the
// finding of that rule on the deciding object (whose fix is exact YAML) or
// on a related one (mtls-mode-conflict reports on the DestinationRule that
// sets the TLS, while the server's PeerAuthentication decides the
// failure), else trace's own fix.
func (t *tracer) explain(d mesh.Decision, related ...mesh.Decision) {
	o := &t.res.Outcome
	rule := ruleFor[d.Reason]
	if d.Reason == mesh.ReasonNoEndpoints && d.Object != nil && d.Object.Kind == "Service" {
		rule = "service-selects-no-pods"
	}
	if d.Reason == mesh.ReasonServerStrict && t.client.Kind != mesh.ClientSidecar && t.client.Kind != mesh.ClientGateway && t.client.Workload != nil {
		// A client without a sidecar: the rule reports the client.
		rule = "non-mesh-client-strict-mtls"
		related = append([]mesh.Decision{{Object: t.client.Workload.Object}}, related...)
	}
	if d.Reason == mesh.ReasonRBACDenied && t.client.Kind != mesh.ClientGateway {
		// A caller without an identity: the rule reports the caller's
		// reference to the service; a meshed caller whose identity is
		// merely not allowed has no rule (the policy may intend it).
		rule = ""
		if t.client.Workload != nil && t.client.Kind == mesh.ClientNonMesh {
			rule = "authz-denies-plaintext-caller"
			related = append([]mesh.Decision{{Object: t.client.Workload.Object}}, related...)
		}
	}
	if d.Reason == mesh.ReasonHTTP10Rejected {
		// nginx-upstream-http10 explains HTTP/1.0 only when nginx in the
		// client chose it; a client asked to speak 1.0 is just rejected.
		rule = ""
		if t.nginx != nil {
			rule = ruleFor[d.Reason]
			related = append([]mesh.Decision{*t.nginx}, related...)
		}
	}
	// The rule is named only when analyze reports it on the deciding or
	// a related object: trace never blames a rule analyze does not show.
	if rule != "" {
		for i, at := range append([]mesh.Decision{d}, related...) {
			if at.Object == nil {
				continue
			}
			fs := t.findings[findingKey{at.Object.Ref(), rule}]
			pos := at.At()
			for _, f := range fs {
				if f.Origin.Line == pos.Line || i > 0 {
					o.Rule, o.Fix = rule, f.Fix
					return
				}
			}
			if len(fs) > 0 {
				o.Rule, o.Fix = rule, fs[0].Fix
				return
			}
		}
	}
	o.Fix = fixFor[d.Reason]
	if o.Fix == "" && d.Object != nil {
		o.Fix = fmt.Sprintf("change %s %s/%s at %s", d.Object.Kind, d.Object.Namespace, d.Object.Name, manifest.PathString(d.Path))
	}
}
