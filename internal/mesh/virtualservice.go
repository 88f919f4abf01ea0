package mesh

import (
	istioapi "istio.io/api/networking/v1alpha3"
)

// RouteDestination is one destination a VirtualService sends traffic to.
type RouteDestination struct {
	Destination *istioapi.Destination
	Host        string // resolved FQDN
	Protocol    string // "http", "tcp" or "tls": the route list it is in
	Mirror      bool
	// Route is the index in its route list; Path is the YAML path of the
	// destination field (for Pos).
	Route int
	Path  []any
	// HTTP is the enclosing HTTP route, nil for tcp/tls.
	HTTP *istioapi.HTTPRoute
}

// Destinations lists every destination of the VirtualService in the order
// written: http routes and mirrors, then tcp, then tls. The list is shared:
// callers must not modify it.
func (m *Model) Destinations(v *VirtualService) []RouteDestination { return v.destinations }

type hostSubset struct{ host, subset string }

// SubsetRouted reports whether some VirtualService in the input routes or
// mirrors to subset of host (a fully qualified host, as RouteDestination's
// Host): a subset no route uses fails no request yet. Decided once, on
// first use.
func (m *Model) SubsetRouted(host, subset string) bool {
	set := m.routedSubsets.get(func() map[hostSubset]bool {
		set := make(map[hostSubset]bool, len(m.VirtualServices))
		for _, vs := range m.VirtualServices {
			for _, d := range vs.destinations {
				if d.Destination.Subset != "" {
					set[hostSubset{d.Host, d.Destination.Subset}] = true
				}
			}
		}
		return set
	})
	return set[hostSubset{host, subset}]
}

func (m *Model) destinationsOf(v *VirtualService) []RouteDestination {
	var out []RouteDestination
	add := func(d *istioapi.Destination, proto string, i int, mirror bool, hr *istioapi.HTTPRoute, path ...any) {
		if d == nil {
			return
		}
		out = append(out, RouteDestination{Destination: d, Host: m.ResolveHost(d.Host, v.Namespace), Protocol: proto, Mirror: mirror, Route: i, Path: path, HTTP: hr})
	}
	for i, r := range v.Spec.Http {
		for j, rd := range r.Route {
			add(rd.Destination, "http", i, false, r, "spec", "http", i, "route", j, "destination")
		}
		add(r.Mirror, "http", i, true, r, "spec", "http", i, "mirror")
		for j, mp := range r.Mirrors {
			add(mp.Destination, "http", i, true, r, "spec", "http", i, "mirrors", j, "destination")
		}
	}
	for i, r := range v.Spec.Tcp {
		for j, rd := range r.Route {
			add(rd.Destination, "tcp", i, false, nil, "spec", "tcp", i, "route", j, "destination")
		}
	}
	for i, r := range v.Spec.Tls {
		for j, rd := range r.Route {
			add(rd.Destination, "tls", i, false, nil, "spec", "tls", i, "route", j, "destination")
		}
	}
	return out
}

// VirtualServiceVisibility is the set of namespaces whose sidecars see vs
// (all for "*"): its exportTo, else the mesh's defaultVirtualServiceExportTo,
// else Istio's default, every namespace. When the mesh config is not in the
// input the default is unknown (a cluster may restrict it), so a
// VirtualService without exportTo then counts only for its own namespace,
// which holds under any default; assumed says so.
// https://istio.io/latest/docs/reference/config/istio.mesh.v1alpha1/#MeshConfig-default_virtual_service_export_to
func (m *Model) VirtualServiceVisibility(vs *VirtualService) (set map[string]bool, all, assumed bool) {
	exportTo := vs.Spec.ExportTo
	if len(exportTo) == 0 {
		exportTo = m.Mesh.DefaultVirtualServiceExportTo
		if len(exportTo) == 0 {
			if !m.Mesh.Found {
				return map[string]bool{vs.Namespace: true}, false, true
			}
			return nil, true, false
		}
	}
	set = map[string]bool{}
	for _, e := range exportTo {
		switch e {
		case "*":
			return nil, true, false
		case ".":
			set[vs.Namespace] = true
		case "~":
		default:
			set[e] = true
		}
	}
	return set, false, false
}

// FieldPath appends more steps to a destination's path.
func (d RouteDestination) FieldPath(more ...any) []any {
	return append(append([]any{}, d.Path...), more...)
}
