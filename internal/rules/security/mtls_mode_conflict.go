package security

import (
	"fmt"
	"strings"

	istioapi "istio.io/api/networking/v1alpha3"
	corev1 "k8s.io/api/core/v1"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// MTLSModeConflict: the TLS a client sidecar originates toward a Service
// port (DestinationRule tls, or plaintext when auto mTLS is off and no rule
// sets it) is not what the server side accepts on that port.
var MTLSModeConflict = &rules.Rule{
	Code: "MD2001", Name: "mtls-mode-conflict", Severity: finding.Error, Area: "security",
	Summary: "A DestinationRule's TLS mode disagrees with the server's PeerAuthentication (or sidecar) on that port.",
	Needs:   []string{"DestinationRule", "PeerAuthentication"},
	Since:   "0.1.0",
	IST:     []string{"IST0113"},
	Doc: rules.Doc{
		Mechanism: "A client sidecar originates exactly the TLS its DestinationRule says for the destination port: DISABLE sends plaintext, ISTIO_MUTUAL sends Istio mTLS, SIMPLE/MUTUAL send TLS with the rule's own certificates. A tls block in a DestinationRule turns auto mTLS off for that destination, and with meshConfig.enableAutoMtls false a rule without tls means plaintext. The server sidecar accepts what the effective PeerAuthentication for the workload port allows: STRICT accepts only Istio mTLS, DISABLE only plaintext. A plaintext or non-Istio TLS client meets a STRICT server, an Istio mTLS client meets a DISABLE server, or an ISTIO_MUTUAL client talks to a pod without sidecar: the connection is torn down before any request gets through.",
		Symptom:   "Requests fail with HTTP 503 \"upstream connect error or disconnect/reset before headers\" (response flags UC/UF,URX in the client sidecar's access log) from the moment the DestinationRule is applied; TCP clients see their connections reset. Toward a pod without sidecar the client sidecar logs \"TLS error: ... WRONG_VERSION_NUMBER\".",
		Fix:       "Make the client match the server: with mTLS required (STRICT), use tls.mode ISTIO_MUTUAL, or drop the tls block and let auto mTLS choose; toward a workload without sidecar (or with PeerAuthentication DISABLE) use tls.mode DISABLE for that port. Alternatively change the server side: inject the sidecar, or relax the PeerAuthentication for the port.",
		Before:    "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: istio-system\nspec:\n  mtls:\n    mode: STRICT\n---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: reviews\n  namespace: bookinfo\nspec:\n  host: reviews\n  trafficPolicy:\n    loadBalancer:\n      simple: LEAST_REQUEST\n    tls:\n      mode: DISABLE\n",
		After:     "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: reviews\n  namespace: bookinfo\nspec:\n  host: reviews\n  trafficPolicy:\n    loadBalancer:\n      simple: LEAST_REQUEST\n    tls:\n      mode: ISTIO_MUTUAL   # or remove the tls block: auto mTLS picks mTLS\n",
		Sources: []string{
			"https://istio.io/latest/docs/ops/common-problems/network-issues/#503-errors-after-setting-destination-rule",
			"https://istio.io/latest/docs/reference/config/security/peer_authentication/",
			"https://istio.io/latest/docs/concepts/security/#auto-mutual-tls",
			"https://github.com/istio/istio/issues/33208",
		},
	},
	Run: runMTLSModeConflict,
}

// tlsConflict is one server-side backend that rejects what the client
// sends.
type tlsConflict struct {
	backend mesh.Backend
	kind    mesh.TLSConflict
}

func runMTLSModeConflict(p *rules.Pass) {
	m := p.Model
	autoOff := !m.Mesh.EnableAutoMTLS
	// Without a rule or auto mTLS off, no client ever sends anything but
	// what auto mTLS adapts to the server.
	if len(m.DestinationRules) == 0 && !autoOff {
		return
	}
	// With auto mTLS off, a mesh-wide DestinationRule in the root namespace
	// usually supplies ISTIO_MUTUAL; only judge "no rule sets TLS" when the
	// root namespace is part of the input.
	rootSeen := false
	for _, o := range m.Objects {
		if o.Namespace == m.Mesh.RootNamespace {
			rootSeen = true
			break
		}
	}
	clientNS := clientNamespaces(m)
	seen := map[string]bool{}
	for _, svc := range m.Services {
		for i := range svc.Spec.Ports {
			sp := &svc.Spec.Ports[i]
			if sp.Protocol != "" && sp.Protocol != corev1.ProtocolTCP {
				continue // sidecars do not proxy UDP or SCTP
			}
			backends := m.Backends(svc, sp)
			if len(backends) == 0 {
				continue
			}
			for _, drs := range m.DistinctDestinationRules(svc.Host, clientNS) {
				subsets := []*istioapi.Subset{nil}
				if len(drs) > 0 {
					subsets = append(subsets, drs[0].Spec.Subsets...)
				}
				for _, subset := range subsets {
					name, bs := "", backends
					if subset != nil {
						name = subset.Name
					}
					ct := m.ClientTLSFor(drs, uint32(sp.Port), name)
					if ct.Settings == nil && (ct.Auto || !rootSeen) {
						continue
					}
					if subset != nil {
						bs = mesh.SubsetBackends(backends, subset.Labels)
					}
					cs := tlsConflicts(m, ct, svc, bs)
					if len(cs) == 0 {
						continue
					}
					reportTLSConflict(p, svc, sp, ct, cs, seen)
				}
			}
		}
	}
}

// clientNamespaces are the namespaces whose sidecars the input tells about:
// those of DestinationRules (their authors' clients) and of workloads with
// a sidecar.
func clientNamespaces(m *mesh.Model) mesh.ClientNamespaces {
	var names []string
	for _, dr := range m.DestinationRules {
		names = append(names, dr.Namespace)
	}
	for _, w := range m.Workloads {
		if m.Meshed(w) {
			names = append(names, w.Namespace)
		}
	}
	return mesh.NewClientNamespaces(names)
}

// tlsConflicts lists the backends that reject the client's TLS; the model
// decides each (TLSAcceptance), as it does for trace.
func tlsConflicts(m *mesh.Model, ct mesh.ClientTLS, svc *mesh.Service, bs []mesh.Backend) []tlsConflict {
	var out []tlsConflict
	for _, b := range bs {
		if k := m.TLSAcceptance(ct, svc, b); k != mesh.TLSAccepted {
			out = append(out, tlsConflict{b, k})
		}
	}
	return out
}

func reportTLSConflict(p *rules.Pass, svc *mesh.Service, sp *corev1.ServicePort, ct mesh.ClientTLS, cs []tlsConflict, seen map[string]bool) {
	m := p.Model
	kind := cs[0].kind
	var f finding.Finding
	var subject string
	if ct.Settings != nil {
		path := append(append([]any{}, ct.Path...), "mode")
		key := fmt.Sprintf("%s|%v|%s|%d", ct.Rule.Ref(), path, svc.Host, sp.Port)
		if seen[key] {
			return
		}
		seen[key] = true
		f = rules.At(ct.Rule.Object, path...)
		subject = fmt.Sprintf("DestinationRule %s/%s sets tls.mode %s (at %s) for %s port %d", ct.Rule.Namespace, ct.Rule.Name, mesh.TLSModeName(ct.Mode), manifest.PathString(ct.Path), svc.Host, sp.Port)
	} else {
		// No rule sets TLS and auto mTLS is off: the client sends
		// plaintext. A DestinationRule without tls is the change that
		// did it (it overrides a mesh-wide ISTIO_MUTUAL rule: "503 errors
		// after setting destination rule"), so point at it; without one,
		// point at what demands mTLS.
		src := cs[0].backend.MTLS
		at, path := src.Source.Object, src.Path
		if ct.Rule != nil {
			// Pos falls back to spec when there is no trafficPolicy.
			at, path = ct.Rule.Object, []any{"spec", "trafficPolicy"}
		}
		key := fmt.Sprintf("%s|%v|%s|%d", at.Ref(), path, svc.Host, sp.Port)
		if seen[key] {
			return
		}
		seen[key] = true
		f = rules.At(at, path...)
		rule := "no DestinationRule"
		if ct.Rule != nil {
			rule = fmt.Sprintf("DestinationRule %s/%s has no tls settings", ct.Rule.Namespace, ct.Rule.Name)
		}
		subject = fmt.Sprintf("auto mTLS is off (%s) and %s for %s port %d, so client sidecars send plaintext", m.Mesh.Source, rule, svc.Host, sp.Port)
	}
	var who []string
	for i, c := range cs {
		if i == 3 {
			who = append(who, fmt.Sprintf("and %d more", len(cs)-3))
			break
		}
		who = append(who, serverDesc(c))
	}
	list := strings.Join(who, "; ")
	switch kind {
	case mesh.PlaintextToStrict:
		f.Message = fmt.Sprintf("%s, but the server requires mTLS: %s", subject, list)
		f.Symptom = fmt.Sprintf("requests from sidecars to %s:%d fail with HTTP 503 \"upstream connect error or disconnect/reset before headers. reset reason: connection termination\" (response flag UC, or UF,URX); TCP connections are reset", svc.Host, sp.Port)
		if ct.Settings != nil {
			f.Fix = fmt.Sprintf("in DestinationRule %s/%s set\n%s:\n  mode: ISTIO_MUTUAL\nor remove the tls block so that auto mTLS picks mTLS (when meshConfig.enableAutoMtls is on)", ct.Rule.Namespace, ct.Rule.Name, manifest.PathString(ct.Path))
		} else {
			f.Fix = fmt.Sprintf("turn auto mTLS back on (meshConfig.enableAutoMtls: true), or originate Istio mTLS explicitly with a DestinationRule:\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: %s\n  namespace: %s\nspec:\n  host: %s\n  trafficPolicy:\n    tls:\n      mode: ISTIO_MUTUAL", svc.Name, svc.Namespace, svc.Host)
		}
	case mesh.TLSToStrict:
		f.Message = fmt.Sprintf("%s, but the server's sidecar requires Istio mTLS and rejects TLS with other certificates: %s", subject, list)
		f.Symptom = fmt.Sprintf("requests to %s:%d fail with HTTP 503 (response flags UF,URX) and a TLS handshake error (\"peer did not return a certificate\" or certificate verification failure) in the client sidecar", svc.Host, sp.Port)
		f.Fix = fmt.Sprintf("use tls.mode ISTIO_MUTUAL for this port (the application may still speak its own TLS inside the mTLS tunnel: set it in the app, not in the DestinationRule), or relax the server's PeerAuthentication for container port %d to PERMISSIVE", cs[0].backend.ContainerPort)
		if ct.Mode == istioapi.ClientTLSSettings_MUTUAL {
			f.Severity = finding.Warning
			f.Message += " (unless the rule's client certificate is issued by the mesh CA)"
		}
	case mesh.MTLSToNoSidecar:
		f.Message = fmt.Sprintf("%s, but the destination has no sidecar to terminate Istio mTLS: %s", subject, list)
		f.Symptom = fmt.Sprintf("requests to %s:%d fail with HTTP 503 \"upstream connect error or disconnect/reset before headers. ... TLS error: ... WRONG_VERSION_NUMBER\" (response flags UF,URX): the application receives a TLS handshake it does not expect", svc.Host, sp.Port)
		f.Fix = fmt.Sprintf("inject the sidecar into the destination workload, or send plaintext to it:\n%s:\n  mode: DISABLE", tlsFieldOrDefault(ct))
	case mesh.MTLSToDisable:
		f.Message = fmt.Sprintf("%s, but the server's PeerAuthentication disables mTLS, so its sidecar only accepts plaintext: %s", subject, list)
		f.Symptom = fmt.Sprintf("requests to %s:%d fail with HTTP 503 \"upstream connect error or disconnect/reset before headers\" (response flags UC or UF,URX): the server sidecar gets a TLS handshake on a plaintext listener", svc.Host, sp.Port)
		f.Fix = fmt.Sprintf("set the server's PeerAuthentication for container port %d to PERMISSIVE (accepts both), or send plaintext:\n%s:\n  mode: DISABLE", cs[0].backend.ContainerPort, tlsFieldOrDefault(ct))
	}
	if ct.Rule != nil && reachesNoSidecar(m, ct.Rule) {
		// Only clients with a sidecar apply the rule, and none can.
		f.Severity = finding.Warning
		f.Message += fmt.Sprintf("; no client in the input applies it (DestinationRule %s/%s is exported only to namespaces without sidecars or workloads), so this breaks only clients added there later", ct.Rule.Namespace, ct.Rule.Name)
	}
	p.Report(f)
}

// reachesNoSidecar: a DestinationRule exported only to listed namespaces
// (exportTo, else the mesh default; never "*") none of which has a meshed
// workload or sidecar injection in the input.
func reachesNoSidecar(m *mesh.Model, dr *mesh.DestinationRule) bool {
	exportTo := dr.Spec.ExportTo
	if len(exportTo) == 0 {
		exportTo = m.Mesh.DefaultDestinationRuleExportTo
	}
	if len(exportTo) == 0 {
		return false
	}
	for _, e := range exportTo {
		ns := e
		switch e {
		case "*":
			return false
		case "~":
			continue
		case ".":
			ns = dr.Namespace
		}
		if m.SidecarClientsIn(ns) {
			return false
		}
	}
	return true
}

// serverDesc names a backend and why it accepts what it accepts.
func serverDesc(c tlsConflict) string {
	b := c.backend
	w := fmt.Sprintf("%s %s/%s container port %d", b.Workload.Kind, b.Workload.Namespace, b.Workload.Name, b.ContainerPort)
	if c.kind == mesh.MTLSToNoSidecar {
		if b.Dataplane == mesh.DataplaneSidecar {
			return fmt.Sprintf("%s is excluded from the sidecar's inbound capture (traffic.sidecar.istio.io annotations)", w)
		}
		return fmt.Sprintf("%s has no sidecar (%s)", w, b.DataplaneWhy)
	}
	return fmt.Sprintf("%s is %s (%s)", w, b.MTLS.Mode, mtlsSourceDesc(b.MTLS))
}

// mtlsSourceDesc says which PeerAuthentication (and field) decided a mode.
func mtlsSourceDesc(s mesh.ServerMTLS) string {
	if s.Source == nil {
		return "Istio's default"
	}
	return fmt.Sprintf("PeerAuthentication %s/%s %s", s.Source.Namespace, s.Source.Name, manifest.PathString(s.Path))
}

func tlsFieldOrDefault(ct mesh.ClientTLS) string {
	if ct.Settings != nil {
		return manifest.PathString(ct.Path)
	}
	return "spec.trafficPolicy.tls"
}
