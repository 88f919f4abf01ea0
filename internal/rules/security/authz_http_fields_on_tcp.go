package security

import (
	"fmt"
	"strconv"
	"strings"

	secapi "istio.io/api/security/v1beta1"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// AuthzHTTPFieldsOnTCP: an AuthorizationPolicy rule with HTTP-only fields
// applies to a port whose protocol is TCP.
var AuthzHTTPFieldsOnTCP = &rules.Rule{
	Code: "MD2022", Name: "authz-http-fields-on-tcp", Severity: finding.Error, Area: "security",
	Summary: "An AuthorizationPolicy rule uses methods, paths, hosts, headers or JWT fields on a TCP port: Istio drops an ALLOW rule there (deny all when nothing else allows the port) and ignores those fields in a DENY rule (deny every connection).",
	Needs:   []string{"AuthorizationPolicy"},
	Reads:   []string{"Service", "Namespace"},
	Since:   "0.3.0",
	Doc: rules.Doc{
		Mechanism: "On a port whose protocol is TCP (port name tcp-*, mysql, mongo, redis, tls, https, or appProtocol), the server's sidecar authorizes connections with Envoy's network RBAC filter, which cannot see HTTP attributes. When istiod translates a rule for that filter chain, HTTP-only fields (to.operation hosts, methods, paths and their not* forms; from.source requestPrincipals; when keys request.headers[…] and request.auth.*) cannot be expressed: in an ALLOW rule the whole rule is dropped, so it allows nothing, and when no other ALLOW rule covers the port every connection is denied; in a DENY (or AUDIT, CUSTOM) rule only those fields are dropped, so the rule matches more than written, typically every connection from its sources (pilot/pkg/security/authz/model/model.go: checkError). istiod logs the skipped rule only at debug level.",
		Symptom:   "Connections to the TCP port are accepted and then closed at once (\"connection reset by peer\", \"EOF\", MySQL \"Lost connection to MySQL server at 'reading initial communication packet'\"); the server's istio-proxy counts them in rbac.denied and logs rbac_access_denied_matched_policy[none] (ALLOW dropped) or the DENY policy's name.",
		Fix:       "Use only L4 fields for TCP ports (source principals/namespaces/ipBlocks, destination ports), or declare the port as HTTP (name http-*, appProtocol: http) if it really carries HTTP. Keep HTTP conditions in rules restricted (to.operation.ports) to HTTP ports.",
		Before:    "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: mysql, namespace: db}\nspec:\n  selector:\n    matchLabels: {app: mysql}\n  rules:\n  - from:\n    - source:\n        namespaces: [shop]\n    to:\n    - operation:\n        methods: [GET, POST]   # HTTP only: the rule is dropped on the mysql port\n        ports: [\"3306\"]\n",
		After:     "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: mysql, namespace: db}\nspec:\n  selector:\n    matchLabels: {app: mysql}\n  rules:\n  - from:\n    - source:\n        namespaces: [shop]\n    to:\n    - operation:\n        ports: [\"3306\"]\n",
		Sources: []string{
			"https://istio.io/latest/docs/tasks/security/authorization/authz-tcp/",
			"https://istio.io/latest/docs/reference/config/security/authorization-policy/",
			"https://istio.io/latest/docs/ops/configuration/traffic-management/protocol-selection/",
		},
	},
	Run: runAuthzHTTPFieldsOnTCP,
}

func runAuthzHTTPFieldsOnTCP(p *rules.Pass) {
	m := p.Model
	for _, pol := range m.AuthorizationPolicies() {
		if pol.DryRun() {
			continue
		}
		ws := m.PolicyWorkloads(pol)
		for i, rule := range pol.Spec.GetRules() {
			fields := mesh.HTTPOnlyFields(rule)
			if len(fields) == 0 {
				continue
			}
			var hits []string
			denyAll := false
			for _, w := range ws {
				if !m.Meshed(w) {
					continue // no sidecar, no RBAC filter
				}
				for _, ip := range tcpPortsOfRule(m, w, rule) {
					what := fmt.Sprintf("%s %s/%s port %d (Service %s/%s port %s is %s)", w.Kind, w.Namespace, w.Name, ip.ContainerPort, ip.Service.Namespace, ip.Service.Name, ip.Port, ip.Protocol.Name)
					if pol.Action() == secapi.AuthorizationPolicy_ALLOW && !otherAllowCovers(m, w, pol, i, ip.ContainerPort) {
						what += ": no other ALLOW rule covers it"
						denyAll = true
					}
					hits = append(hits, what)
				}
			}
			if len(hits) == 0 {
				continue
			}
			path := append([]any{"spec", "rules", i}, fields[0]...)
			f := rules.At(pol.Object, path...)
			names := make([]string, 0, len(fields))
			for _, fp := range fields {
				names = append(names, manifest.PathString(fp))
			}
			var effect string
			switch pol.Action() {
			case secapi.AuthorizationPolicy_ALLOW:
				effect = "Istio drops the whole ALLOW rule on a TCP filter chain, so it allows nothing there"
				if denyAll {
					effect += ", and every connection to a port with no other ALLOW rule is denied"
				} else {
					f.Severity = finding.Warning
				}
			default:
				effect = fmt.Sprintf("Istio ignores those fields in a %s rule on a TCP filter chain, so the rule matches every connection its other conditions match", pol.Action())
			}
			f.Message = fmt.Sprintf("rule %d of %s AuthorizationPolicy %s/%s uses HTTP-only fields (%s) but applies to TCP ports: %s; %s",
				i, pol.Action(), pol.Namespace, pol.Name, strings.Join(names, ", "), rules.ListUpTo(hits, 3), effect)
			f.Symptom = "connections to those ports are closed right after they open (\"connection reset by peer\" / EOF); the server's istio-proxy logs rbac_access_denied_matched_policy[...]"
			if pol.Action() == secapi.AuthorizationPolicy_ALLOW && !denyAll {
				f.Symptom = "the rule never allows anything on those ports: connections it was meant to admit are denied unless another ALLOW rule covers them"
			}
			f.Fix = fmt.Sprintf("remove %s from rule %d (keep source principals/namespaces/ipBlocks and to.operation.ports for TCP), or restrict the rule with to.operation.ports to HTTP ports, or declare the port's protocol as HTTP (port name http-…, appProtocol: http) if it carries HTTP", strings.Join(names, ", "), i)
			p.Report(f)
		}
	}
}

// tcpPortsOfRule lists w's TCP ports a rule applies to: the ports its
// operations name (to.operation.ports, when every operation names some),
// else all of w's ports when none of them may be HTTP (a rule without
// ports on a workload with HTTP ports is meant for those).
func tcpPortsOfRule(m *mesh.Model, w *mesh.Workload, rule *secapi.Rule) []mesh.InboundPort {
	ports := m.InboundPorts(w)
	named := map[uint32]bool{}
	allNamed := len(rule.GetTo()) > 0
	for _, t := range rule.GetTo() {
		ps := t.GetOperation().GetPorts()
		if len(ps) == 0 {
			allNamed = false
		}
		for _, s := range ps {
			if n, err := strconv.ParseUint(s, 10, 32); err == nil {
				named[uint32(n)] = true
			}
		}
	}
	var out []mesh.InboundPort
	if allNamed {
		for _, ip := range ports {
			if named[ip.ContainerPort] && !ip.MayBeHTTP() && ip.Protocol.Name != "UDP" {
				out = append(out, ip)
			}
		}
		return out
	}
	for _, ip := range ports {
		if ip.MayBeHTTP() {
			return nil
		}
		if ip.Protocol.Name != "UDP" {
			out = append(out, ip)
		}
	}
	return out
}

// otherAllowCovers reports whether another ALLOW rule applying to w may
// allow connections to port on a TCP chain: a rule without HTTP-only
// fields whose operations name the port or no port.
func otherAllowCovers(m *mesh.Model, w *mesh.Workload, self *mesh.AuthorizationPolicy, selfRule int, port uint32) bool {
	want := strconv.FormatUint(uint64(port), 10)
	for _, p := range m.AuthorizationPoliciesFor(w) {
		if p.Action() != secapi.AuthorizationPolicy_ALLOW {
			continue
		}
		for i, r := range p.Spec.GetRules() {
			if (p == self && i == selfRule) || len(mesh.HTTPOnlyFields(r)) > 0 {
				continue
			}
			if len(r.GetTo()) == 0 {
				return true
			}
			for _, t := range r.GetTo() {
				ps := t.GetOperation().GetPorts()
				if len(ps) == 0 {
					return true
				}
				for _, s := range ps {
					if s == want {
						return true
					}
				}
			}
		}
	}
	return false
}
