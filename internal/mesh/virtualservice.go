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
func (m *Model) Destinations(v *VirtualService) []RouteDestination {
	if v.destinations != nil {
		return *v.destinations
	}
	return m.destinations(v)
}

func (m *Model) destinations(v *VirtualService) []RouteDestination {
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

// FieldPath appends more steps to a destination's path.
func (d RouteDestination) FieldPath(more ...any) []any {
	return append(append([]any{}, d.Path...), more...)
}
