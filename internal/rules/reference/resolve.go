package reference

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/manifest"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
	"github.com/meshdoctor/meshdoctor/internal/spelling"
)

// scope tells, per namespace, whether the input is complete enough to say
// that something is missing there rather than merely not included.
type scope struct {
	m *mesh.Model
	// generators are namespaces holding objects of kinds meshdoctor does not
	// model (custom resources): operators, Knative, Argo Rollouts… create
	// Services and pods from them, so absence proves nothing there.
	generators map[string]bool
	// seShort holds ServiceEntry hosts written without a dot; how such a
	// host is qualified is not something a missing-host rule should guess.
	seShort map[string]bool
	// servicesByName indexes the Services by name for suggestions, built
	// on the first one: scanning every Service per missing host made a
	// mesh with many typos quadratic.
	servicesByName map[string][]*mesh.Service
	// names holds each namespace's Service names for suggestions, built
	// once per namespace rather than once per missing host.
	names map[string]*serviceNames
}

type serviceNames struct {
	inOrder, sorted []string
	hosts           map[string]string
}

func (s *scope) serviceNames(ns string) *serviceNames {
	if n := s.names[ns]; n != nil {
		return n
	}
	n := &serviceNames{hosts: map[string]string{}}
	for _, svc := range s.m.ServicesIn(ns) {
		n.inOrder = append(n.inOrder, svc.Name)
		n.hosts[svc.Name] = svc.Host
	}
	n.sorted = append([]string(nil), n.inOrder...)
	sort.Strings(n.sorted)
	if s.names == nil {
		s.names = map[string]*serviceNames{}
	}
	s.names[ns] = n
	return n
}

func newScope(m *mesh.Model) *scope {
	s := &scope{m: m, generators: map[string]bool{}, seShort: map[string]bool{}}
	for _, o := range m.Objects {
		if o.Typed == nil && o.Namespace != "" && mayCreatePods(o) {
			s.generators[o.Namespace] = true
		}
	}
	for _, se := range m.ServiceEntries {
		for _, h := range se.Spec.Hosts {
			if !strings.Contains(h, ".") {
				s.seShort[h] = true
			}
		}
	}
	return s
}

// inertGroups are API groups whose kinds never create pods or Services
// (policy, RBAC, autoscaling, certificates, mesh config…); an unknown kind
// from any other group may be an operator's custom resource that does.
var inertGroups = map[string]bool{
	"": true, "rbac.authorization.k8s.io": true, "policy": true, "autoscaling": true,
	"networking.k8s.io": true, "scheduling.k8s.io": true, "storage.k8s.io": true,
	"admissionregistration.k8s.io": true, "apiextensions.k8s.io": true, "coordination.k8s.io": true,
	"node.k8s.io": true, "certificates.k8s.io": true, "discovery.k8s.io": true,
	"networking.istio.io": true, "security.istio.io": true, "telemetry.istio.io": true,
	"authentication.istio.io": true, "rbac.istio.io": true, "config.istio.io": true,
	"extensions.istio.io": true, "gateway.networking.k8s.io": true, "cloud.google.com": true,
	"networking.gke.io": true, "cert-manager.io": true, "external-secrets.io": true,
	"bitnami.com": true, "keda.sh": true, "kustomize.config.k8s.io": true,
}

// mayCreatePods reports whether an object of a kind meshdoctor does not
// model could make an operator create pods or Services.
func mayCreatePods(o *manifest.Object) bool {
	if inertGroups[o.Group()] {
		return false
	}
	switch o.Group() + "/" + o.Kind {
	case "monitoring.coreos.com/ServiceMonitor", "monitoring.coreos.com/PodMonitor", "monitoring.coreos.com/PrometheusRule":
		return false
	}
	return true
}

// servicesKnown reports whether the input carries the Services of ns: the
// namespace is there with Services of its own and nothing in it generates
// more. Only then is "no Service with that name" a real gap.
func (s *scope) servicesKnown(ns string) bool {
	return s.m.NamespaceInInput(ns) && len(s.m.ServicesIn(ns)) > 0 && !s.generators[ns]
}

// workloadsKnown is servicesKnown for pods.
func (s *scope) workloadsKnown(ns string) bool {
	return len(s.m.WorkloadsIn(ns)) > 0 && !s.generators[ns]
}

// gatewayGenerated reports whether name could be the Service Istio creates
// for a Gateway API Gateway in ns (<gateway>-<class>), which is never in
// the input.
func (s *scope) gatewayGenerated(ns, name string) bool {
	for _, g := range s.m.KubeGateways {
		if g.Namespace == ns && strings.HasPrefix(name, g.Name+"-") {
			return true
		}
	}
	return false
}

// gatewayNotGiven reports whether name looks like the Service of an Istio
// gateway (istio-egressgateway, istio-eastwestgateway…) while the input
// has no gateway workload in ns, or like istiod's while the input has no
// istiod. Gateways are installed apart from istiod
// (the istio/gateway chart, an istioctl gateway component), so an
// istio-system holding only the istiod chart says nothing about them.
// https://istio.io/latest/docs/setup/additional-setup/gateway/
func (s *scope) gatewayNotGiven(ns, name string) bool {
	// istiod's own Services (istiod, istiod-<revision>) come with the
	// control plane install, which app manifests rarely include.
	if strings.HasPrefix(name, "istiod") {
		return s.m.Istio.Istiod == nil
	}
	if !strings.Contains(name, "gateway") {
		return false
	}
	for _, w := range s.m.WorkloadsIn(ns) {
		if ok, _ := mesh.IsGatewayWorkload(w); ok {
			return false
		}
	}
	return true
}

// missingHost is the verdict on a host (as Istio resolved it) that nothing
// in the input defines.
type missingHost struct {
	// Suggest is the host the author most likely meant, or "".
	Suggest string
	// Why explains the suggestion or what was searched.
	Why string
	// Hidden is set when a Service or ServiceEntry in the input defines
	// the host exactly but is not exported to the clients' namespaces:
	// it names the definition and its exportTo, for the message.
	Hidden string
	// HiddenEntry: the hidden definition is a ServiceEntry (another one,
	// outside the input, may still define the host for the clients).
	HiddenEntry bool
}

// unresolved decides whether fqdn (written as written in namespace ns)
// certainly resolves to nothing for proxies in the clients' namespaces
// (nil: in any namespace). It stays silent (ok false) unless the input is
// in a position to know:
//   - a cluster-local name (name.ns.svc.<domain>) whose namespace's
//     Services are in the input;
//   - a partial cluster name (name.ns, name.ns.svc) that Istio takes
//     literally while the full name is a Service in the input;
//   - a Service or ServiceEntry for exactly this host that is not
//     exported to any of the clients' namespaces (Hidden).
//
// A host counts as defined for a client only through what is exported to
// the client's namespace (mesh.LookupHostFrom): a ServiceEntry for hosts
// ["*"] exported to "." defines every host for its own namespace only.
// External hosts without a ServiceEntry are left alone: the ServiceEntry
// often lives in another repository or an egress namespace.
func (s *scope) unresolved(written, fqdn string, clients []string) (missingHost, bool) {
	m := s.m
	if fqdn == "" || strings.HasPrefix(fqdn, "*") || s.seShort[written] {
		return missingHost{}, false
	}
	if clients == nil {
		if m.LookupHost(fqdn).Found() {
			return missingHost{}, false
		}
	} else {
		for _, ns := range clients {
			if m.LookupHostFrom(ns, fqdn).Found() {
				return missingHost{}, false
			}
		}
		if h, entry := s.hiddenDefinition(fqdn); h != "" {
			return missingHost{Hidden: h, HiddenEntry: entry}, true
		}
	}
	if ns := m.ServiceNamespace(fqdn); ns != "" {
		name := strings.SplitN(fqdn, ".", 2)[0]
		if !s.servicesKnown(ns) || s.gatewayGenerated(ns, name) || s.gatewayNotGiven(ns, name) {
			return missingHost{}, false
		}
		return s.suggestService(name, ns), true
	}
	if full := s.completeClusterName(fqdn); full != "" {
		return missingHost{
			Suggest: full,
			Why:     fmt.Sprintf("Istio expands only names without a dot; %q is taken literally and is not the Service host %s", written, full),
		}, true
	}
	return missingHost{}, false
}

// hiddenDefinition describes the Service or ServiceEntry that defines fqdn
// exactly somewhere in the input (and, since the caller found it visible
// to none of its clients, is not exported to them), or "".
func (s *scope) hiddenDefinition(fqdn string) (string, bool) {
	if svc := s.m.ServiceByHost(fqdn); svc != nil {
		if a := svc.Annotations[mesh.ServiceExportToAnnotation]; a != "" {
			return fmt.Sprintf("Service %s/%s defines it but its %s annotation %q does not export it there", svc.Namespace, svc.Name, mesh.ServiceExportToAnnotation, a), false
		}
		return fmt.Sprintf("Service %s/%s defines it but the mesh config's defaultServiceExportTo %v does not export it there", svc.Namespace, svc.Name, s.m.Mesh.DefaultServiceExportTo), false
	}
	for _, se := range s.m.LookupHost(fqdn).Entries {
		if slices.Contains(se.Spec.Hosts, fqdn) {
			return fmt.Sprintf("ServiceEntry %s/%s defines it but is exported only to %s", se.Namespace, se.Name, exportToDesc(se.Spec.ExportTo, se.Namespace)), true
		}
	}
	return "", false
}

// exportToDesc renders an exportTo list for a message.
func exportToDesc(exportTo []string, ns string) string {
	if len(exportTo) == 0 {
		return "the mesh config's defaultServiceExportTo"
	}
	var out []string
	for _, e := range exportTo {
		switch e {
		case ".":
			out = append(out, "its own namespace "+ns)
		case "~":
			out = append(out, "no namespace")
		default:
			out = append(out, "namespace "+e)
		}
	}
	return strings.Join(out, ", ")
}

// completeClusterName returns name.ns.svc.<domain> when host is a prefix
// form of it ("reviews.prod", "reviews.prod.svc", …) and that Service is
// in the input.
func (s *scope) completeClusterName(host string) string {
	labels := strings.Split("svc."+s.m.ClusterDomain, ".")
	for i := 0; i < len(labels); i++ {
		have := strings.Join(labels[:i], ".")
		if i > 0 && !strings.HasSuffix(host, "."+have) {
			continue
		}
		base := host
		if i > 0 {
			base = strings.TrimSuffix(host, "."+have)
		}
		// base must be exactly name.namespace.
		if strings.Count(base, ".") != 1 {
			continue
		}
		full := base + "." + strings.Join(labels, ".")
		if s.m.ServiceByHost(full) != nil {
			return full
		}
	}
	return ""
}

// suggestService finds the Service the author probably meant: a name in
// ns within edit distance 2, else the same name in exactly one other
// namespace.
func (s *scope) suggestService(name, ns string) missingHost {
	sn := s.serviceNames(ns)
	// Short names are all a couple of edits apart: require the edits to be
	// a small part of the name.
	if best := spelling.Closest(name, sn.inOrder, min(2, len(name)/3)); best != "" {
		return missingHost{Suggest: sn.hosts[best], Why: "a Service with a similar name exists"}
	}
	names := sn.sorted
	if s.servicesByName == nil {
		s.servicesByName = map[string][]*mesh.Service{}
		for _, svc := range s.m.Services {
			s.servicesByName[svc.Name] = append(s.servicesByName[svc.Name], svc)
		}
	}
	var elsewhere []string
	for _, svc := range s.servicesByName[name] {
		if svc.Namespace != ns {
			elsewhere = append(elsewhere, svc.Host)
		}
	}
	if len(elsewhere) == 1 {
		return missingHost{Suggest: elsewhere[0], Why: "a Service with this name exists in namespace " + s.m.ServiceNamespace(elsewhere[0])}
	}
	return missingHost{Why: fmt.Sprintf("namespace %s has Services %s", ns, rules.ListUpTo(names, 8))}
}

// hostDesc renders a host as written, with the name Istio resolved it to
// when that differs.
func hostDesc(written, resolved string) string {
	if written == resolved {
		return fmt.Sprintf("%q", written)
	}
	return fmt.Sprintf("%q (%s)", written, resolved)
}
