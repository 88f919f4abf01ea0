package mesh

import "strings"

// ResolveHost turns a host as written in an Istio resource in namespace ns
// into the name Istio matches: a short name ("reviews") is relative to the
// resource's namespace; anything with a dot is taken literally, as Istio
// does ("reviews.prod" is NOT expanded).
// https://istio.io/latest/docs/reference/config/networking/virtual-service/#VirtualService
func (m *Model) ResolveHost(host, ns string) string {
	if host == "" || strings.Contains(host, ".") || host == "*" {
		return host
	}
	return host + "." + ns + ".svc." + m.ClusterDomain
}

// HostMatches reports whether pattern (which may start with "*") covers host.
func HostMatches(pattern, host string) bool {
	if pattern == host || pattern == "*" {
		return true
	}
	if strings.HasPrefix(pattern, "*") {
		return strings.HasSuffix(host, pattern[1:])
	}
	return false
}

// HostsOverlap reports whether two host patterns can match a common host.
func HostsOverlap(a, b string) bool {
	return HostMatches(a, b) || HostMatches(b, a)
}

// Destination is what a host resolves to in the service registry.
type Destination struct {
	Service *Service
	Entries []*ServiceEntry
}

// Found reports whether anything in the input serves the host.
func (d Destination) Found() bool { return d.Service != nil || len(d.Entries) > 0 }

// LookupHost resolves an FQDN to the Service or ServiceEntries that define it
// anywhere in the input, whatever their exportTo. Questions asked for a
// client (a route, a proxy's call) use LookupHostFrom.
func (m *Model) LookupHost(fqdn string) Destination {
	var d Destination
	d.Service = m.servicesByHost[fqdn]
	d.Entries = m.entriesByHost[fqdn]
	for _, se := range m.wildcardEntries {
		for _, h := range se.Spec.Hosts {
			if HostMatches(h, fqdn) {
				d.Entries = append(d.Entries, se)
				break
			}
		}
	}
	return d
}

// LookupHostFrom resolves an FQDN as a proxy in clientNS sees the service
// registry: a Service or ServiceEntry defines the host only for the
// namespaces it is exported to (the Service annotation
// networking.istio.io/exportTo, a ServiceEntry's spec.exportTo, else the
// mesh config's defaultServiceExportTo, else every namespace). A
// ServiceEntry for hosts ["*"] exported to "." thus defines every host for
// its own namespace only. Istio: PushContext.IsServiceVisible and
// serviceExportTo (pilot/pkg/model/push_context.go); the annotation is read
// in pilot/pkg/serviceregistry/kube/conversion.go.
// https://istio.io/latest/docs/reference/config/networking/service-entry/#ServiceEntry-export_to
func (m *Model) LookupHostFrom(clientNS, fqdn string) Destination {
	var d Destination
	if s := m.servicesByHost[fqdn]; s != nil && m.ServiceVisible(s, clientNS) {
		d.Service = s
	}
	for _, se := range m.entriesByHost[fqdn] {
		if m.entryVisible(se, clientNS) {
			d.Entries = append(d.Entries, se)
		}
	}
	for _, se := range m.wildcardEntries {
		if !m.entryVisible(se, clientNS) {
			continue
		}
		for _, h := range se.Spec.Hosts {
			if HostMatches(h, fqdn) {
				d.Entries = append(d.Entries, se)
				break
			}
		}
	}
	return d
}

// ServiceExportToAnnotation is the Service annotation that limits which
// namespaces' proxies see the Service, like exportTo on Istio resources.
const ServiceExportToAnnotation = "networking.istio.io/exportTo"

// ServiceVisible reports whether proxies in clientNS see Service s (its
// networking.istio.io/exportTo annotation, comma-separated, else the mesh
// config's defaultServiceExportTo, else every namespace).
func (m *Model) ServiceVisible(s *Service, clientNS string) bool {
	var exportTo []string
	if a := s.Annotations[ServiceExportToAnnotation]; strings.TrimSpace(a) != "" {
		for _, e := range strings.Split(a, ",") {
			exportTo = append(exportTo, strings.TrimSpace(e))
		}
	}
	return m.exported(exportTo, m.Mesh.DefaultServiceExportTo, s.Namespace, clientNS)
}

// entryExportTo is a ServiceEntry's exportTo, else the mesh default.
func (m *Model) entryExportTo(se *ServiceEntry) []string {
	if len(se.Spec.ExportTo) > 0 {
		return se.Spec.ExportTo
	}
	return m.Mesh.DefaultServiceExportTo
}

func (m *Model) entryVisible(se *ServiceEntry, clientNS string) bool {
	return m.exported(se.Spec.ExportTo, m.Mesh.DefaultServiceExportTo, se.Namespace, clientNS)
}

// ServiceByHost returns the Kubernetes Service with that FQDN.
func (m *Model) ServiceByHost(fqdn string) *Service { return m.servicesByHost[fqdn] }

// Service returns Service ns/name, as Kubernetes references name it (an
// Ingress backend, a DNS name split into its labels).
func (m *Model) Service(ns, name string) *Service {
	return m.servicesByHost[name+"."+ns+".svc."+m.ClusterDomain]
}

// ServiceNamespace returns the namespace of a cluster-local FQDN
// (name.ns.svc.<domain>), or "".
func (m *Model) ServiceNamespace(fqdn string) string {
	suffix := ".svc." + m.ClusterDomain
	if !strings.HasSuffix(fqdn, suffix) {
		return ""
	}
	parts := strings.Split(strings.TrimSuffix(fqdn, suffix), ".")
	if len(parts) != 2 {
		return ""
	}
	return parts[1]
}

// IsClusterLocal reports whether fqdn names a Kubernetes Service host.
func (m *Model) IsClusterLocal(fqdn string) bool { return m.ServiceNamespace(fqdn) != "" }

// NamespaceInInput reports whether the input holds anything in ns, so a
// missing reference there is a real gap and not partial input.
func (m *Model) NamespaceInInput(ns string) bool {
	if _, ok := m.Namespaces[ns]; ok {
		return true
	}
	return len(m.servicesByNS[ns]) > 0 || len(m.workloads.byNS[ns]) > 0
}

// VirtualServicesForHost returns the VirtualServices whose hosts cover fqdn.
// Exact hosts come from the index; wildcard hosts are few and checked.
func (m *Model) VirtualServicesForHost(fqdn string) []*VirtualService {
	out := append([]*VirtualService(nil), m.vsByHost[fqdn]...)
	for _, w := range m.wildcardVS {
		if w.host != fqdn && HostMatches(w.host, fqdn) {
			out = append(out, w.vs)
		}
	}
	return out
}

// VirtualServicesWithHost returns the VirtualServices that list host h
// itself (resolved), a wildcard pattern like "*.example.com" included, by
// string equality and without pattern matching: istiod gives a virtual host
// name (host:port) to one VirtualService only, so equal hosts are what
// collide for sidecars. The slice is the index's own; callers must not
// modify it.
func (m *Model) VirtualServicesWithHost(h string) []*VirtualService { return m.vsByHost[h] }

// GatewayByName finds an Istio Gateway named in a VirtualService in ns
// ("name", "ns/name" or "name.ns.svc.cluster.local" forms).
func (m *Model) GatewayByName(ref, ns string) (*Gateway, string) {
	key := GatewayKey(ref, ns)
	return m.gatewaysByName[key], key
}

// GatewayKey normalises a VirtualService gateway reference to namespace/name.
func GatewayKey(ref, ns string) string {
	if i := strings.IndexByte(ref, '/'); i >= 0 {
		// "./name" is the VirtualService's own namespace, as in Istio's
		// resolveGatewayName (pilot/pkg/model/config.go).
		if ref[:i] == "." {
			return ns + "/" + ref[i+1:]
		}
		return ref
	}
	if parts := strings.Split(ref, "."); len(parts) > 1 {
		return parts[1] + "/" + parts[0]
	}
	return ns + "/" + ref
}

// BindsMesh reports whether a VirtualService applies to sidecars: no
// gateways field, or "mesh" among them.
func (v *VirtualService) BindsMesh() bool {
	if len(v.Spec.Gateways) == 0 {
		return true
	}
	for _, g := range v.Spec.Gateways {
		if g == "mesh" {
			return true
		}
	}
	return false
}

// BoundGateways returns the gateway references other than "mesh".
func (v *VirtualService) BoundGateways() []string {
	var out []string
	for _, g := range v.Spec.Gateways {
		if g != "mesh" {
			out = append(out, g)
		}
	}
	return out
}
