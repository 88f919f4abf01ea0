package gateway

import (
	"fmt"
	"slices"
	"strings"

	istioapi "istio.io/api/networking/v1alpha3"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// GatewayRouteBypassesMeshRules: a gateway VirtualService routes to a host
// whose mesh VirtualService defines version routing (subsets, splits,
// faults…); gateway traffic never sees those rules.
var GatewayRouteBypassesMeshRules = &rules.Rule{
	Code: "MD3001", Name: "gateway-route-bypasses-mesh-rules", Severity: finding.Warning, Area: "gateway",
	Summary: "Traffic from an ingress gateway to a host skips the routing rules of the host's mesh VirtualService.",
	Needs:   []string{"VirtualService"},
	Since:   "0.1.0",
	IST:     []string{"IST0140"},
	Doc: rules.Doc{
		Mechanism: "A proxy picks a VirtualService by the request's Host header and by where it runs: the gateway uses only VirtualServices bound to its Gateway, for the external host (e.g. myapp.com); sidecars use those bound to \"mesh\". When the gateway VirtualService routes to helloworld without a subset, the gateway's Envoy sends the request straight to helloworld's endpoints, so the routing that a mesh-bound VirtualService for helloworld defines (subsets, weighted splits, header matches, fault injection, retries, timeouts, rewrites, mirrors) is never applied to gateway traffic. DestinationRule traffic policies still apply; VirtualService routing does not chain. istioctl analyze (IST0140) reports a gateway route without a subset to a host that any VirtualService routes to a subset (comparing host strings as written); meshdoctor resolves hosts, counts only mesh-bound VirtualServices of the host, also reports bypassed splits, faults, timeouts, retries, rewrites and mirrors, and lowers the finding to information when all that differs is a subset and the host's pods are not in the input.",
		Symptom:   "Internal callers follow the mesh rules (e.g. all go to subset v1), while requests through the ingress gateway are spread over all endpoints of the service (canary and retired versions included) and get none of the faults, retries or timeouts set for the host.",
		Fix:       "Put the rules into the gateway VirtualService's route (name the subset, copy the split), or merge both VirtualServices into one bound to the Gateway and to mesh (gateways: [mesh, <gateway>], hosts: [<external host>, <service>]) with matches restricted per gateway.",
		Before: myappGatewayRoute + `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: helloworld
spec:
  hosts: [helloworld.default.svc.cluster.local]
  http:
  - route:
    - destination:
        host: helloworld.default.svc.cluster.local
        subset: v1
`,
		After: myappGatewayRoute + `        subset: v1
# or one VirtualService for both:
#   hosts: [myapp.com, helloworld.default.svc.cluster.local]
#   gateways: [mesh, myapp-gateway]
#   http:
#   - match: [{uri: {prefix: /hello}, gateways: [myapp-gateway]}]
#     route: [{destination: {host: helloworld.default.svc.cluster.local, subset: v1}}]
#   - match: [{gateways: [mesh]}]
#     route: [{destination: {host: helloworld.default.svc.cluster.local, subset: v1}}]
`,
		Sources: []string{
			"https://istio.io/latest/docs/ops/common-problems/network-issues/#route-rules-have-no-effect-on-ingress-gateway-requests",
			"https://istio.io/latest/docs/reference/config/networking/virtual-service/#VirtualService",
		},
	},
	Run: runGatewayRouteBypassesMeshRules,
}

// myappGatewayRoute is the gateway VirtualService of the example up to
// where the fix changes it; Before and After go on from there.
const myappGatewayRoute = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: myapp
spec:
  hosts: ["myapp.com"]
  gateways: [myapp-gateway]
  http:
  - match:
    - uri: {prefix: /hello}
    route:
    - destination:
        host: helloworld.default.svc.cluster.local
`

func runGatewayRouteBypassesMeshRules(p *rules.Pass) {
	m := p.Model
	for _, gvs := range m.VirtualServices {
		bound := gvs.BoundGateways()
		if len(bound) == 0 {
			continue
		}
		for _, d := range m.Destinations(gvs) {
			if d.Mirror || d.Destination.Subset != "" {
				continue
			}
			if d.HTTP != nil && slices.Equal(gvs.RouteGateways(d.HTTP), []string{"mesh"}) {
				continue // this route is restricted to sidecars
			}
			var meshVS []*mesh.VirtualService
			var bypassed []string
			unknown := 0
			for _, mvs := range m.VirtualServicesForHost(d.Host) {
				if mvs == gvs || !mvs.BindsMesh() || !namesHost(mvs, d.Host) {
					continue
				}
				what := meshRouting(m, mvs, d, m.SubsetIsWholeService)
				if len(what) == 0 {
					continue
				}
				if !podsInInput(m, d.Host) && len(meshRouting(m, mvs, d, policyFreeSubset(m))) == 0 {
					// All that differs is a subset, and the host's pods
					// are not in the input: whether another version runs
					// (and so whether anything is bypassed) is unknown.
					unknown++
				}
				meshVS = append(meshVS, mvs)
				bypassed = append(bypassed, fmt.Sprintf("VirtualService %s/%s %s", mvs.Namespace, mvs.Name, strings.Join(what, ", ")))
			}
			if len(meshVS) == 0 {
				continue
			}
			f := rules.At(gvs.Object, d.FieldPath("host")...)
			f.Message = fmt.Sprintf("VirtualService %s/%s (gateways %s) routes %s traffic to %s without a subset, so gateway requests skip the mesh rules for %s: %s", gvs.Namespace, gvs.Name, strings.Join(bound, ", "), strings.Join(gvs.Spec.Hosts, ", "), d.Host, d.Host, strings.Join(bypassed, "; "))
			f.Symptom = fmt.Sprintf("requests through the gateway go to any endpoint of %s, whatever its version, and get none of those rules, while in-mesh callers follow them", d.Host)
			f.Fix = bypassFix(m, gvs, d, meshVS[0], bound)
			if unknown == len(meshVS) {
				f.Severity = finding.Info
				f.Message += fmt.Sprintf("; the pods behind %s are not in the input, so whether versions outside the subset run is unknown", d.Host)
			}
			p.Report(f)
		}
	}
}

// namesHost: the VirtualService is about this host, not a catch-all "*"
// (whose routes are for other hosts as much as for this one).
func namesHost(v *mesh.VirtualService, host string) bool {
	for _, h := range v.Hosts {
		if h != "*" && mesh.HostMatches(h, host) {
			return true
		}
	}
	return false
}

// meshRouting describes what a mesh VirtualService does for traffic to the
// host beyond a plain route to it: the things a gateway route to the host
// does not get. Features the gateway route already sets itself (its own
// timeout, retries, fault…) are not counted.
func meshRouting(m *mesh.Model, mvs *mesh.VirtualService, d mesh.RouteDestination, whole wholeSubset) []string {
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	switch d.Protocol {
	case "http":
		gr := d.HTTP
		for _, r := range mvs.Spec.Http {
			if !slices.Contains(mvs.RouteGateways(r), "mesh") {
				continue
			}
			describeDests(m, mvs, routeDests(r.Route), d.Host, len(r.Match) > 0, whole, add)
			if r.Fault != nil && gr.Fault == nil {
				add("injects faults")
			}
			if r.Timeout != nil && gr.Timeout == nil {
				add("sets a " + r.Timeout.AsDuration().String() + " timeout")
			}
			if r.Retries != nil && gr.Retries == nil {
				add(fmt.Sprintf("sets retries (attempts %d)", r.Retries.Attempts))
			}
			if r.Rewrite != nil && gr.Rewrite == nil {
				add("rewrites the request")
			}
			if r.Redirect != nil && gr.Redirect == nil {
				add("redirects")
			}
			if r.DirectResponse != nil && gr.DirectResponse == nil {
				add("answers directly")
			}
			if (r.Mirror != nil || len(r.Mirrors) > 0) && gr.Mirror == nil && len(gr.Mirrors) == 0 {
				add("mirrors traffic")
			}
		}
	case "tcp":
		for _, r := range mvs.Spec.Tcp {
			describeDests(m, mvs, routeDests(r.Route), d.Host, len(r.Match) > 0, whole, add)
		}
	case "tls":
		for _, r := range mvs.Spec.Tls {
			describeDests(m, mvs, routeDests(r.Route), d.Host, len(r.Match) > 0, whole, add)
		}
	}
	return out
}

// dest is a route destination of any protocol.
type dest struct {
	host, subset string
	weight       int32
}

// routeDests lists the destinations of an HTTP, TCP or TLS route.
func routeDests[R interface {
	GetDestination() *istioapi.Destination
	GetWeight() int32
}](rs []R) []dest {
	var out []dest
	for _, rd := range rs {
		if d := rd.GetDestination(); d != nil {
			out = append(out, dest{d.Host, d.Subset, rd.GetWeight()})
		}
	}
	return out
}

// wholeSubset tells whether routing to a subset of host (for clients in
// clientNS) is the same as routing to the host.
type wholeSubset func(clientNS, host, subset string) bool

// policyFreeSubset treats every subset without its own traffic policy as
// the whole host: what the routing would be if only one version ran.
func policyFreeSubset(m *mesh.Model) wholeSubset {
	return func(clientNS, host, subset string) bool {
		s, _ := mesh.Subset(m.DestinationRuleFor(clientNS, host), subset)
		return s == nil || s.TrafficPolicy == nil
	}
}

// podsInInput: the host is a Service whose pods are in the input.
func podsInInput(m *mesh.Model, host string) bool {
	svc := m.ServiceByHost(host)
	return svc != nil && len(m.ServiceWorkloads(svc)) > 0
}

func describeDests(m *mesh.Model, mvs *mesh.VirtualService, ds []dest, host string, matched bool, whole wholeSubset, add func(string)) {
	verb := "routes"
	if matched {
		verb = "routes matching requests"
	}
	// A route to the host itself, or to a subset that today holds every
	// pod of the host and adds no policy (bookinfo's productpage v1 with
	// only v1 deployed), sends traffic exactly where the gateway's
	// subset-less route does: nothing is bypassed.
	same := true
	for _, d := range ds {
		if m.ResolveHost(d.host, mvs.Namespace) != host || (d.subset != "" && !whole(mvs.Namespace, host, d.subset)) {
			same = false
		}
	}
	if same {
		return
	}
	for _, d := range ds {
		switch {
		case d.subset != "":
			add(fmt.Sprintf("%s to subset %s of %s", verb, d.subset, d.host))
		case m.ResolveHost(d.host, mvs.Namespace) != host:
			add(fmt.Sprintf("%s to another host, %s", verb, d.host))
		}
	}
	if len(ds) > 1 {
		add("splits traffic by weight (" + splitString(ds) + ")")
	}
}

func splitString(ds []dest) string {
	var parts []string
	for _, d := range ds {
		name := d.host
		if d.subset != "" {
			name = d.subset
		}
		w := d.weight
		if w == 0 && len(ds) == 1 {
			w = 100
		}
		parts = append(parts, fmt.Sprintf("%s %d%%", name, w))
	}
	return strings.Join(parts, ", ")
}

// modelRoute picks the mesh VirtualService route to copy: the catch-all
// (no match) route applying to sidecars, else the first one.
func modelRoute(mvs *mesh.VirtualService, protocol string) []dest {
	switch protocol {
	case "http":
		var first []dest
		for _, r := range mvs.Spec.Http {
			if !slices.Contains(mvs.RouteGateways(r), "mesh") {
				continue
			}
			if first == nil {
				first = routeDests(r.Route)
			}
			if len(r.Match) == 0 {
				return routeDests(r.Route)
			}
		}
		return first
	case "tcp":
		if len(mvs.Spec.Tcp) > 0 {
			return routeDests(mvs.Spec.Tcp[len(mvs.Spec.Tcp)-1].Route)
		}
	case "tls":
		if len(mvs.Spec.Tls) > 0 {
			return routeDests(mvs.Spec.Tls[len(mvs.Spec.Tls)-1].Route)
		}
	}
	return nil
}

// bypassFix shows the gateway route carrying the mesh VirtualService's
// routing, and the merge alternative.
func bypassFix(m *mesh.Model, gvs *mesh.VirtualService, d mesh.RouteDestination, mvs *mesh.VirtualService, bound []string) string {
	var b strings.Builder
	ds := modelRoute(mvs, d.Protocol)
	versioned := false
	for _, x := range ds {
		if x.subset != "" || len(ds) > 1 {
			versioned = true
		}
	}
	if versioned {
		fmt.Fprintf(&b, "route gateway traffic as VirtualService %s/%s does, in VirtualService %s/%s spec.%s[%d].route:\n", mvs.Namespace, mvs.Name, gvs.Namespace, gvs.Name, d.Protocol, d.Route)
		fmt.Fprintf(&b, "    route:\n")
		for _, x := range ds {
			host := x.host
			if gvs.Namespace != mvs.Namespace {
				// a short name would resolve in the gateway VirtualService's namespace
				host = m.ResolveHost(x.host, mvs.Namespace)
			}
			fmt.Fprintf(&b, "    - destination:\n        host: %s\n", host)
			if x.subset != "" {
				fmt.Fprintf(&b, "        subset: %s\n", x.subset)
			}
			if len(ds) > 1 {
				fmt.Fprintf(&b, "      weight: %d\n", x.weight)
			}
		}
	} else {
		fmt.Fprintf(&b, "copy the rules of VirtualService %s/%s (see the message) into VirtualService %s/%s spec.%s[%d]\n", mvs.Namespace, mvs.Name, gvs.Namespace, gvs.Name, d.Protocol, d.Route)
	}
	gws := append([]string{"mesh"}, bound...)
	hosts := append(append([]string(nil), gvs.Spec.Hosts...), d.Destination.Host)
	fmt.Fprintf(&b, "or merge both into one VirtualService bound to the gateway and the mesh, restricting each route with match gateways:\n  hosts: [%s]\n  gateways: [%s]", strings.Join(hosts, ", "), strings.Join(gws, ", "))
	return b.String()
}
