package upgrade

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	istioapi "istio.io/api/networking/v1alpha3"

	"github.com/meshdoctor/meshdoctor/internal/manifest"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
)

// checks are registered by the id changes.yaml names in `check`.
var checks = map[string]CheckFunc{
	"sidecar-startup-probe":           checkStartupProbe,
	"auto-sni":                        checkAutoSNI,
	"verify-certificate-at-client":    checkVerifyCertificate,
	"external-name-alias":             checkExternalNameAlias,
	"wildcard-host-precedence":        checkWildcardHosts,
	"gateway-name-label":              checkGatewayNameLabel,
	"enhanced-resource-scoping":       checkResourceScoping,
	"resolution-none-target-port":     checkNoneTargetPort,
	"inbound-retry-policy":            checkInboundRetry,
	"exclude-503-from-default-retry":  checkDefaultRetry503,
	"destinationrule-tls-external":    checkDRTLSExternal,
	"destinationrule-merge-exportto":  checkDRMerge,
	"compatibility-profile-1.20":      checkCompatibility120,
	"ambient-dns-capture":             checkAmbientDNS,
	"ip-auto-allocation":              checkIPAutoAllocation,
	"native-sidecars":                 checkNativeSidecars,
	"internal-address-config":         checkInternalAddressConfig,
	"dns-respects-traffic-exclusions": checkDNSExclusions,
	"shared-hostnames":                checkSharedHostnames,
	"backendtlspolicy-v1":             checkAPIv1("BackendTLSPolicy"),
	"inferencepool-v1":                checkAPIv1("InferencePool"),
	"ambient-cni-exclude-namespaces":  checkCNIExcludeNamespaces,
	"gateway-api-v1-routes":           checkAPIv1("TLSRoute", "ReferenceGrant"),
	"envoyfilter-legacy-names":        checkEnvoyFilterLegacyNames,
}

// checkEnvoyFilterLegacyNames lists the EnvoyFilter parts that 1.19 stops
// accepting (mesh.LegacyEnvoyUses; xDS v2 types broke long before).
func checkEnvoyFilterLegacyNames(c *Context) {
	for _, ef := range c.Model.EnvoyFilters() {
		for i := range ef.Spec.GetConfigPatches() {
			for _, u := range mesh.LegacyEnvoyUses(ef, i) {
				switch u.Kind {
				case "deprecated-name":
					c.Affect(ef.Object, fmt.Sprintf("configPatches[%d] matches %s, which no longer matches (use %s)", i, u.Value, u.Canonical), u.Path...)
				case "no-typed-config":
					c.Affect(ef.Object, fmt.Sprintf("configPatches[%d] adds filter %s without typed_config", i, u.Value), u.Path...)
				}
			}
		}
	}
}

// sidecar reports whether w gets (or has) an injected sidecar.
func sidecar(m *mesh.Model, w *mesh.Workload) bool {
	dp, _ := m.Injection(w)
	return dp == mesh.DataplaneSidecar
}

func checkStartupProbe(c *Context) {
	m := c.Model
	keys := []string{"initialDelaySeconds", "periodSeconds", "failureThreshold"}
	for _, w := range m.Workloads {
		if !sidecar(m, w) {
			continue
		}
		for _, k := range keys {
			a := "readiness.status.sidecar.istio.io/" + k
			if v, ok := w.Annotations[a]; ok {
				c.AffectAt(w.Object, w.PodPos("metadata", "annotations", a),
					fmt.Sprintf("%s %s/%s tunes the proxy readiness probe (%s: %q) for the scheme without a startupProbe; the new defaults are initialDelaySeconds 0, periodSeconds 15, failureThreshold 4", w.Kind, w.Namespace, w.Name, a, v))
			}
		}
	}
}

// clientNamespaces are the namespaces whose proxies follow a
// VirtualService route (the model's RouteClients), sorted, each once.
func clientNamespaces(m *mesh.Model, vs *mesh.VirtualService) []string {
	var out []string
	for _, rc := range m.RouteClients(vs) {
		out = append(out, rc.Namespace)
	}
	sort.Strings(out)
	return uniq(out)
}

func uniq(s []string) []string {
	var out []string
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// destinationPort is the port a route's destination reaches (the
// Service's only port when the route names none).
func destinationPort(m *mesh.Model, d mesh.RouteDestination) uint32 {
	p := d.Destination.GetPort().GetNumber()
	if p == 0 {
		if svc := m.ServiceByHost(d.Host); svc != nil && len(svc.Spec.Ports) == 1 {
			p = uint32(svc.Spec.Ports[0].Port)
		}
	}
	return p
}

func originates(s *istioapi.ClientTLSSettings) bool {
	return s != nil && (s.Mode == istioapi.ClientTLSSettings_SIMPLE || s.Mode == istioapi.ClientTLSSettings_MUTUAL)
}

// checkAutoSNI: the model's Origination, asked under the target version,
// decides the SNI each route's Host produces; a Host that is not the
// destination's name (SameHost) is the seed-000 failure.
func checkAutoSNI(c *Context) {
	m, at := c.Model, c.At
	seen := map[string]bool{}
	for _, vs := range m.VirtualServices {
		nss := clientNamespaces(m, vs)
		for _, d := range m.Destinations(vs) {
			if d.Protocol != "http" || d.Mirror || d.HTTP == nil {
				continue
			}
			authorities := vs.Hosts
			if a := d.HTTP.GetRewrite().GetAuthority(); a != "" {
				authorities = []string{a}
			}
			port := destinationPort(m, d)
			for _, ns := range nss {
				ct := m.ClientTLSFor(m.DestinationRuleFor(ns, d.Host), port, d.Destination.Subset)
				if ct.Rule == nil || !originates(ct.Settings) {
					continue
				}
				for _, a := range authorities {
					if a == "*" {
						continue
					}
					o := at.Origination(ct.Settings, a, vs.Namespace, d.Host, true)
					if !o.AutoSNI || !o.Foreign {
						continue
					}
					key := fmt.Sprintf("%s/%s/%v/%s", ct.Rule.Namespace, ct.Rule.Name, ct.Path, o.SNI)
					if seen[key] {
						continue
					}
					seen[key] = true
					what := "sends SNI " + o.SNI
					if o.AutoSAN {
						what += " and verifies the server certificate against it"
					}
					c.Affect(ct.Rule.Object, fmt.Sprintf("VirtualService %s/%s routes Host %s to %s; DestinationRule %s/%s originates TLS (%s) without sni, so from Istio %s the proxy %s, the request's Host rather than the destination's name (fix: tls.sni: %s)",
						vs.Namespace, vs.Name, o.SNI, d.Host, ct.Rule.Namespace, ct.Rule.Name, mesh.TLSModeName(ct.Settings.Mode), c.Change.Release, what, d.Host), ct.Path...)
				}
			}
		}
	}
}

// tlsSetting is one tls block of a DestinationRule and its path.
type tlsSetting struct {
	s    *istioapi.ClientTLSSettings
	path []any
}

// drTLS lists every tls block of a DestinationRule: top level, port level,
// per subset.
func drTLS(dr *mesh.DestinationRule) []tlsSetting {
	var out []tlsSetting
	add := func(tp *istioapi.TrafficPolicy, base ...any) {
		if tp == nil {
			return
		}
		if tp.Tls != nil {
			out = append(out, tlsSetting{tp.Tls, append(append([]any{}, base...), "tls")})
		}
		for i, pl := range tp.PortLevelSettings {
			if pl.Tls != nil {
				out = append(out, tlsSetting{pl.Tls, append(append([]any{}, base...), "portLevelSettings", i, "tls")})
			}
		}
	}
	add(dr.Spec.TrafficPolicy, "spec", "trafficPolicy")
	for i, s := range dr.Spec.Subsets {
		add(s.TrafficPolicy, "spec", "subsets", i, "trafficPolicy")
	}
	return out
}

func checkVerifyCertificate(c *Context) {
	for _, dr := range c.Model.DestinationRules {
		for _, t := range drTLS(dr) {
			if !originates(t.s) || t.s.CaCertificates != "" || t.s.CredentialName != "" || t.s.GetInsecureSkipVerify().GetValue() {
				continue
			}
			c.Affect(dr.Object, fmt.Sprintf("DestinationRule %s/%s originates TLS (%s) to %s without caCertificates or credentialName: from Istio %s the server certificate must chain to the OS CA bundle (fix: caCertificates, or insecureSkipVerify: true)",
				dr.Namespace, dr.Name, mesh.TLSModeName(t.s.Mode), dr.Host, c.Change.Release), t.path...)
		}
	}
}

func externalName(s *mesh.Service) bool {
	return s != nil && s.Spec.Type == corev1.ServiceTypeExternalName
}

func checkExternalNameAlias(c *Context) {
	m := c.Model
	for _, dr := range m.DestinationRules {
		if svc := m.ServiceByHost(dr.Host); externalName(svc) {
			c.Affect(dr.Object, fmt.Sprintf("DestinationRule %s/%s is for %s, an ExternalName Service (to %s): from Istio %s it no longer applies; write it for the target host", dr.Namespace, dr.Name, dr.Host, svc.Spec.ExternalName, c.Change.Release), "spec", "host")
		}
	}
	for _, vs := range m.VirtualServices {
		for _, d := range m.Destinations(vs) {
			svc := m.ServiceByHost(d.Host)
			if !externalName(svc) {
				continue
			}
			target := strings.TrimSuffix(strings.ToLower(svc.Spec.ExternalName), ".")
			if m.LookupHost(target).Found() {
				continue
			}
			c.Affect(vs.Object, fmt.Sprintf("VirtualService %s/%s routes to %s, an ExternalName Service for %s, which is neither a Service nor a ServiceEntry in the input: from Istio %s the route no longer resolves (add a ServiceEntry for %s)", vs.Namespace, vs.Name, d.Host, target, c.Change.Release, target), append(append([]any{}, d.Path...), "host")...)
		}
	}
}

func wildcard(h string) bool { return strings.HasPrefix(h, "*") }

// checkWildcardHosts finds VirtualServices on the same proxies whose hosts
// overlap through a wildcard (mesh.HostsOverlap).
func checkWildcardHosts(c *Context) {
	m := c.Model
	type hostAt struct {
		vs *mesh.VirtualService
		i  int
	}
	groups := map[string][]hostAt{}
	var keys []string
	add := func(key string, h hostAt) {
		if _, ok := groups[key]; !ok {
			keys = append(keys, key)
		}
		groups[key] = append(groups[key], h)
	}
	for _, vs := range m.VirtualServices {
		var bindings []string
		for _, ref := range vs.BoundGateways() {
			bindings = append(bindings, "gateway "+mesh.GatewayKey(ref, vs.Namespace))
		}
		if vs.BindsMesh() {
			bindings = append(bindings, "mesh")
		}
		for _, b := range bindings {
			for i := range vs.Hosts {
				add(b, hostAt{vs, i})
			}
		}
	}
	seen := map[string]bool{}
	for _, key := range keys {
		hs := groups[key]
		for _, w := range hs {
			hw := w.vs.Hosts[w.i]
			if !wildcard(hw) {
				continue
			}
			for _, o := range hs {
				ho := o.vs.Hosts[o.i]
				if o.vs == w.vs || ho == hw || !mesh.HostsOverlap(hw, ho) {
					continue
				}
				pair := w.vs.Namespace + "/" + w.vs.Name + "|" + o.vs.Namespace + "/" + o.vs.Name + "|" + hw + "|" + ho
				if seen[pair] {
					continue
				}
				seen[pair] = true
				c.Affect(w.vs.Object, fmt.Sprintf("host %s of VirtualService %s/%s overlaps host %s of VirtualService %s/%s (%s): which one routes those requests no longer depends on creation time from Istio %s",
					hw, w.vs.Namespace, w.vs.Name, ho, o.vs.Namespace, o.vs.Name, key, c.Change.Release), "spec", "hosts", w.i)
			}
		}
	}
}

const oldGatewayLabel = "istio.io/gateway-name"

func checkGatewayNameLabel(c *Context) {
	m := c.Model
	detail := func(kind string, o *manifest.Object) string {
		return fmt.Sprintf("%s %s/%s selects pods by %s, which Istio stops adding to Gateway API gateway pods in 1.24; select by gateway.networking.k8s.io/gateway-name", kind, o.Namespace, o.Name, oldGatewayLabel)
	}
	for _, s := range m.Services {
		if _, ok := s.Spec.Selector[oldGatewayLabel]; ok {
			c.Affect(s.Object, detail("Service", s.Object), "spec", "selector", oldGatewayLabel)
		}
	}
	for _, g := range m.Gateways {
		if _, ok := g.Spec.Selector[oldGatewayLabel]; ok {
			c.Affect(g.Object, detail("Gateway", g.Object), "spec", "selector", oldGatewayLabel)
		}
	}
	for _, s := range m.Sidecars {
		if _, ok := s.Spec.GetWorkloadSelector().GetLabels()[oldGatewayLabel]; ok {
			c.Affect(s.Object, detail("Sidecar", s.Object), "spec", "workloadSelector", "labels", oldGatewayLabel)
		}
	}
	for _, p := range m.PeerAuths {
		if _, ok := p.Spec.GetSelector().GetMatchLabels()[oldGatewayLabel]; ok {
			c.Affect(p.Object, detail("PeerAuthentication", p.Object), "spec", "selector", "matchLabels", oldGatewayLabel)
		}
	}
	// Kinds the model does not type: their selectors are read as written.
	paths := map[string][]any{
		"AuthorizationPolicy":   {"spec", "selector", "matchLabels", oldGatewayLabel},
		"RequestAuthentication": {"spec", "selector", "matchLabels", oldGatewayLabel},
		"Telemetry":             {"spec", "selector", "matchLabels", oldGatewayLabel},
		"WasmPlugin":            {"spec", "selector", "matchLabels", oldGatewayLabel},
		"EnvoyFilter":           {"spec", "workloadSelector", "labels", oldGatewayLabel},
		"NetworkPolicy":         {"spec", "podSelector", "matchLabels", oldGatewayLabel},
	}
	for _, o := range m.Objects {
		if p, ok := paths[o.Kind]; ok {
			if _, ok := o.Field(p...); ok {
				c.Affect(o, detail(o.Kind, o), p...)
			}
		}
	}
}

// rawMeshConfig is the mesh config as written (the istio ConfigMap's mesh,
// else an IstioOperator's spec.meshConfig), for settings the model's
// MeshConfig does not carry (discoverySelectors, proxyMetadata).
func rawMeshConfig(m *mesh.Model) (map[string]any, string) {
	for _, cm := range m.ConfigMaps {
		if cm.Name != "istio" || cm.Data["mesh"] == "" {
			continue
		}
		var v map[string]any
		if yaml.Unmarshal([]byte(cm.Data["mesh"]), &v) == nil && v != nil {
			return v, "ConfigMap " + cm.Namespace + "/" + cm.Name
		}
	}
	for _, o := range m.Objects {
		if o.Kind != "IstioOperator" {
			continue
		}
		if js := o.FieldJSON("spec", "meshConfig"); js != nil {
			var v map[string]any
			if json.Unmarshal(js, &v) == nil && v != nil {
				return v, "IstioOperator " + o.Namespace + "/" + o.Name
			}
		}
	}
	return nil, ""
}

func discoverySelectors(m *mesh.Model) ([]labels.Selector, string) {
	raw, src := rawMeshConfig(m)
	list, _ := raw["discoverySelectors"].([]any)
	var out []labels.Selector
	for _, item := range list {
		js, err := json.Marshal(item)
		if err != nil {
			continue
		}
		var ls metav1.LabelSelector
		if json.Unmarshal(js, &ls) != nil {
			continue
		}
		if s, err := metav1.LabelSelectorAsSelector(&ls); err == nil {
			out = append(out, s)
		}
	}
	return out, src
}

// istioConfigGroups are the API groups of the configuration istiod reads.
var istioConfigGroups = map[string]bool{
	"networking.istio.io": true, "security.istio.io": true,
	"telemetry.istio.io": true, "extensions.istio.io": true,
}

func checkResourceScoping(c *Context) {
	m := c.Model
	sels, src := discoverySelectors(m)
	if len(sels) == 0 {
		return
	}
	unknown := map[string]bool{}
	for _, o := range m.Objects {
		if !istioConfigGroups[o.Group()] || o.Namespace == "" {
			continue
		}
		ns := m.Namespaces[o.Namespace]
		if ns == nil {
			unknown[o.Namespace] = true
			continue
		}
		set := labels.Set(ns.Labels)
		if set == nil {
			set = labels.Set{}
		}
		set["kubernetes.io/metadata.name"] = ns.Name
		selected := false
		for _, s := range sels {
			selected = selected || s.Matches(set)
		}
		if !selected {
			c.Affect(o, fmt.Sprintf("%s %s/%s is in namespace %s, which the discoverySelectors of %s do not select: from Istio %s istiod ignores it", o.Kind, o.Namespace, o.Name, o.Namespace, src, c.Change.Release), "metadata", "namespace")
		}
	}
	if len(unknown) > 0 {
		var nss []string
		for ns := range unknown {
			nss = append(nss, ns)
		}
		sort.Strings(nss)
		c.Note("the labels of namespaces %s are not in the input: whether discoverySelectors select them is unknown", strings.Join(nss, ", "))
	}
}

func checkNoneTargetPort(c *Context) {
	for _, se := range c.Model.ServiceEntries {
		if se.Spec.Resolution != istioapi.ServiceEntry_NONE {
			continue
		}
		for i, p := range se.Spec.Ports {
			if p.TargetPort != 0 && p.TargetPort != p.Number {
				c.Affect(se.Object, fmt.Sprintf("ServiceEntry %s/%s (resolution NONE) port %d has targetPort %d: from Istio %s connections go to port %d instead of %d", se.Namespace, se.Name, p.Number, p.TargetPort, c.Change.Release, p.TargetPort, p.Number), "spec", "ports", i, "targetPort")
			}
		}
	}
}

func checkInboundRetry(c *Context) {
	m := c.Model
	for _, vs := range m.VirtualServices {
		for i, h := range vs.Spec.Http {
			if h.Retries == nil || h.Retries.Attempts != 0 {
				continue
			}
			var meshed []string
			for _, d := range m.Destinations(vs) {
				if d.HTTP != h || d.Mirror {
					continue
				}
				svc := m.ServiceByHost(d.Host)
				if svc == nil {
					continue
				}
				for _, w := range m.ServiceWorkloads(svc) {
					if sidecar(m, w) {
						meshed = append(meshed, d.Host)
						break
					}
				}
			}
			sort.Strings(meshed)
			meshed = uniq(meshed)
			if len(meshed) == 0 {
				continue
			}
			c.Affect(vs.Object, fmt.Sprintf("http route %d of VirtualService %s/%s disables retries, but from Istio %s the sidecars of %s retry requests reset before the application received them", i, vs.Namespace, vs.Name, c.Change.Release, strings.Join(meshed, ", ")), "spec", "http", i, "retries", "attempts")
		}
	}
}

func checkDefaultRetry503(c *Context) {
	m := c.Model
	for _, vs := range m.VirtualServices {
		for i, h := range vs.Spec.Http {
			if h.Retries != nil || len(h.Route) == 0 {
				continue
			}
			c.Affect(vs.Object, fmt.Sprintf("http route %d of VirtualService %s/%s sets no retries: from Istio %s the default retry policy no longer retries 503 responses", i, vs.Namespace, vs.Name, c.Change.Release), "spec", "http", i)
		}
	}
}

const tlsModeLabel = "security.istio.io/tlsMode"

func checkDRTLSExternal(c *Context) {
	m := c.Model
	for _, dr := range m.DestinationRules {
		ts := drTLS(dr)
		if len(ts) == 0 {
			continue
		}
		var entries []string
		for _, se := range m.LookupHost(dr.Host).Entries {
			if se.Spec.Location != istioapi.ServiceEntry_MESH_EXTERNAL {
				continue
			}
			for _, ep := range se.Spec.Endpoints {
				if ep.Labels[tlsModeLabel] != "" {
					entries = append(entries, se.Namespace+"/"+se.Name)
					break
				}
			}
		}
		if len(entries) == 0 {
			continue
		}
		c.Affect(dr.Object, fmt.Sprintf("DestinationRule %s/%s sets tls (mode %s) for %s, whose MESH_EXTERNAL ServiceEntry %s labels endpoints with %s: from Istio %s the DestinationRule's TLS wins over the endpoints' TLS mode",
			dr.Namespace, dr.Name, mesh.TLSModeName(ts[0].s.Mode), dr.Host, strings.Join(entries, ", "), tlsModeLabel, c.Change.Release), ts[0].path...)
	}
}

func exportKey(dr *mesh.DestinationRule) string {
	e := append([]string{}, dr.Spec.ExportTo...)
	sort.Strings(e)
	return strings.Join(e, ",")
}

func checkDRMerge(c *Context) {
	m := c.Model
	groups := map[string][]*mesh.DestinationRule{}
	var keys []string
	for _, dr := range m.DestinationRules {
		if dr.Spec.WorkloadSelector != nil {
			continue
		}
		k := dr.Namespace + "/" + dr.Host
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], dr)
	}
	for _, k := range keys {
		g := groups[k]
		if len(g) < 2 {
			continue
		}
		differ := false
		for _, dr := range g[1:] {
			differ = differ || exportKey(dr) != exportKey(g[0])
		}
		if !differ {
			continue
		}
		for i, dr := range g {
			var others []string
			for j, o := range g {
				if j != i {
					others = append(others, fmt.Sprintf("%s (exportTo [%s])", o.Name, exportKey(o)))
				}
			}
			c.Affect(dr.Object, fmt.Sprintf("DestinationRule %s/%s (exportTo [%s]) for %s merged with %s until Istio 1.23; from Istio %s rules with different exportTo no longer merge", dr.Namespace, dr.Name, exportKey(dr), dr.Host, strings.Join(others, ", "), c.Change.Release), "spec", "exportTo")
		}
	}
}

// removedIn124 are the flags the 1.20 compatibility profile set that 1.24
// removed from istiod (ENABLE_AUTO_SNI stayed until 1.26).
var removedIn124 = []string{"ENABLE_EXTERNAL_NAME_ALIAS", "PERSIST_OLDEST_FIRST_HEURISTIC_FOR_VIRTUAL_SERVICE_HOST_MATCHING", "VERIFY_CERTIFICATE_AT_CLIENT"}

func checkCompatibility120(c *Context) {
	m := c.Model
	for _, o := range m.Objects {
		if o.Kind != "IstioOperator" {
			continue
		}
		for _, p := range [][]any{{"spec", "values", "compatibilityVersion"}, {"spec", "compatibilityVersion"}} {
			if v, ok := o.Field(p...); ok {
				if cv, ok := mesh.ParseVersion(v); ok && !cv.AtLeast(1, 21) {
					c.Affect(o, fmt.Sprintf("IstioOperator %s/%s asks for compatibilityVersion %s, which Istio 1.24 no longer supports", o.Namespace, o.Name, v), p...)
				}
			}
		}
		for _, f := range removedIn124 {
			if _, ok := o.Field("spec", "values", "pilot", "env", f); ok {
				c.Affect(o, fmt.Sprintf("IstioOperator %s/%s sets %s, which Istio 1.24 removed", o.Namespace, o.Name, f), "spec", "values", "pilot", "env", f)
			}
		}
	}
	for _, cp := range m.Istio.ControlPlanes {
		w := cp.Workload
		for ci, ct := range w.PodSpec.Containers {
			for ei, e := range ct.Env {
				for _, f := range removedIn124 {
					if e.Name == f {
						c.AffectAt(w.Object, w.PodPos("spec", "containers", ci, "env", ei),
							fmt.Sprintf("%s %s/%s sets %s=%s, which Istio 1.24 removed: the new behaviour applies", w.Kind, w.Namespace, w.Name, f, e.Value))
					}
				}
			}
		}
	}
}

func checkAmbientDNS(c *Context) {
	m := c.Model
	for _, w := range m.Workloads {
		if dp, _ := m.Injection(w); dp != mesh.DataplaneAmbient {
			continue
		}
		if _, ok := w.Annotations["ambient.istio.io/dns-capture"]; ok {
			continue
		}
		c.AffectAt(w.Object, w.PodPos("metadata"), fmt.Sprintf("%s %s/%s is in the ambient mesh: from Istio %s its DNS is captured by ztunnel once its pods restart", w.Kind, w.Namespace, w.Name, c.Change.Release))
	}
}

// dnsProxied says whether some proxy in the input answers DNS: ambient pods
// (from 1.25), or ISTIO_META_DNS_CAPTURE in the mesh config's
// defaultConfig.proxyMetadata or a pod's proxy.istio.io/config.
func dnsProxied(c *Context) (bool, string) {
	m := c.Model
	raw, src := rawMeshConfig(m)
	if dc, ok := raw["defaultConfig"].(map[string]any); ok {
		if pm, ok := dc["proxyMetadata"].(map[string]any); ok && sameValue(fmt.Sprint(pm["ISTIO_META_DNS_CAPTURE"]), "true") {
			return true, "ISTIO_META_DNS_CAPTURE in " + src
		}
	}
	for _, w := range m.Workloads {
		if dp, _ := m.Injection(w); dp == mesh.DataplaneAmbient && c.To.AtLeast(1, 25) {
			if _, opt := w.Annotations["ambient.istio.io/dns-capture"]; !opt {
				return true, fmt.Sprintf("ambient %s %s/%s (DNS capture on by default from 1.25)", w.Kind, w.Namespace, w.Name)
			}
		}
		if strings.Contains(w.Annotations["proxy.istio.io/config"], "ISTIO_META_DNS_CAPTURE") {
			return true, fmt.Sprintf("proxy.istio.io/config of %s %s/%s", w.Kind, w.Namespace, w.Name)
		}
	}
	return false, ""
}

func checkIPAutoAllocation(c *Context) {
	proxied, why := dnsProxied(c)
	if !proxied {
		c.Note("no proxy in the input proxies DNS: allocated addresses are not handed to clients")
		return
	}
	for _, se := range c.Model.ServiceEntries {
		if len(se.Spec.Addresses) > 0 {
			continue
		}
		var hosts []string
		for _, h := range se.Spec.Hosts {
			if !wildcard(h) {
				hosts = append(hosts, h)
			}
		}
		if len(hosts) == 0 {
			continue
		}
		c.Affect(se.Object, fmt.Sprintf("ServiceEntry %s/%s has no addresses: from Istio %s istiod allocates one for %s, and clients whose DNS is proxied (%s) resolve to it", se.Namespace, se.Name, c.Change.Release, strings.Join(hosts, ", "), why), "spec", "hosts")
	}
}

func checkNativeSidecars(c *Context) {
	m := c.Model
	for _, w := range m.Workloads {
		if w.Annotations["sidecar.istio.io/status"] != "" || !sidecar(m, w) {
			continue // already injected (a live pod), or no sidecar
		}
		if gw, _ := mesh.IsGatewayWorkload(w); gw || w.Annotations["inject.istio.io/templates"] == "gateway" {
			continue // a gateway's proxy is its main container, not a sidecar
		}
		if _, set := w.Annotations["sidecar.istio.io/nativeSidecar"]; set {
			continue
		}
		for i, ct := range w.PodSpec.Containers {
			if ct.Name == "istio-proxy" {
				c.AffectAt(w.Object, w.PodPos("spec", "containers", i), fmt.Sprintf("%s %s/%s customises the istio-proxy container, which from Istio %s is injected as a native sidecar (an init container)", w.Kind, w.Namespace, w.Name, c.Change.Release))
			}
		}
	}
}

func checkDNSExclusions(c *Context) {
	m := c.Model
	proxied, why := dnsProxied(c)
	if !proxied {
		return
	}
	for _, w := range m.Workloads {
		if !sidecar(m, w) {
			continue
		}
		for _, a := range []string{"traffic.sidecar.istio.io/excludeOutboundIPRanges", "traffic.sidecar.istio.io/excludeOutboundPorts"} {
			val, ok := w.Annotations[a]
			if !ok || strings.TrimSpace(val) == "" {
				continue
			}
			if strings.HasSuffix(a, "Ports") && !listHas(val, "53") {
				continue
			}
			c.AffectAt(w.Object, w.PodPos("metadata", "annotations", a), fmt.Sprintf("%s %s/%s sets %s: %q, and DNS is proxied (%s): from Istio %s its DNS queries to excluded ports or ranges bypass the proxy", w.Kind, w.Namespace, w.Name, a, val, why, c.Change.Release))
		}
	}
}

func listHas(list, item string) bool {
	for _, p := range strings.Split(list, ",") {
		if strings.TrimSpace(p) == item {
			return true
		}
	}
	return false
}

// checkSharedHostnames: ServiceEntry hosts that the registry also defines
// in another namespace (mesh.LookupHost, whatever the exportTo).
func checkSharedHostnames(c *Context) {
	m := c.Model
	for _, se := range m.ServiceEntries {
		for i, h := range se.Spec.Hosts {
			if wildcard(h) {
				continue
			}
			d := m.LookupHost(strings.ToLower(h))
			others := map[string]bool{}
			if d.Service != nil && d.Service.Namespace != se.Namespace {
				others["Service "+d.Service.Namespace+"/"+d.Service.Name] = true
			}
			for _, e := range d.Entries {
				if e.Namespace != se.Namespace {
					others["ServiceEntry "+e.Namespace+"/"+e.Name] = true
				}
			}
			if len(others) == 0 {
				continue
			}
			var list []string
			for o := range others {
				list = append(list, o)
			}
			sort.Strings(list)
			c.Affect(se.Object, fmt.Sprintf("host %s of ServiceEntry %s/%s is also defined by %s: from Istio %s proxies choose among them differently", h, se.Namespace, se.Name, strings.Join(list, ", "), c.Change.Release), "spec", "hosts", i)
		}
	}
}

// checkAPIv1 finds objects of the kinds written in an API version other
// than v1.
func checkAPIv1(kinds ...string) CheckFunc {
	return func(c *Context) {
		for _, o := range c.Model.Objects {
			if !slices.Contains(kinds, o.Kind) || strings.HasSuffix(o.APIVersion, "/v1") {
				continue
			}
			c.Affect(o, fmt.Sprintf("%s %s/%s is written as %s: from Istio %s only the v1 API is supported", o.Kind, o.Namespace, o.Name, o.APIVersion, c.Change.Release), "apiVersion")
		}
	}
}

// checkCNIExcludeNamespaces: the excludeNamespaces of istio-cni as an
// IstioOperator writes them (values.cni), against ambient workloads.
func checkCNIExcludeNamespaces(c *Context) {
	m := c.Model
	excluded := map[string]string{} // namespace -> IstioOperator
	for _, o := range m.Objects {
		if o.Kind != "IstioOperator" {
			continue
		}
		var nss []string
		if js := o.FieldJSON("spec", "values", "cni", "excludeNamespaces"); js != nil && json.Unmarshal(js, &nss) == nil {
			for _, ns := range nss {
				excluded[ns] = "IstioOperator " + o.Namespace + "/" + o.Name
			}
		}
	}
	if len(excluded) == 0 {
		return
	}
	for _, w := range m.Workloads {
		src, ok := excluded[w.Namespace]
		if !ok {
			continue
		}
		if dp, _ := m.Injection(w); dp != mesh.DataplaneAmbient {
			continue
		}
		c.AffectAt(w.Object, w.PodPos("metadata"), fmt.Sprintf("%s %s/%s is in the ambient mesh, but its namespace is in values.cni.excludeNamespaces of %s: from Istio %s the CNI agent takes it out of the mesh", w.Kind, w.Namespace, w.Name, src, c.Change.Release))
	}
}

// checkInternalAddressConfig finds gateway routes that match x-envoy-*
// headers, which Envoy 1.33 strips from callers it no longer takes as
// internal. Routes bound only to the mesh are left alone: the Istio note
// names gateways (and useRemoteAddress) as where the headers are lost.
func checkInternalAddressConfig(c *Context) {
	for _, vs := range c.Model.VirtualServices {
		if len(vs.BoundGateways()) == 0 {
			continue
		}
		for i, h := range vs.Spec.Http {
			for j, mt := range h.Match {
				for name := range mt.GetHeaders() {
					if !strings.HasPrefix(strings.ToLower(name), "x-envoy-") {
						continue
					}
					c.Affect(vs.Object, fmt.Sprintf("http route %d of VirtualService %s/%s matches header %s at gateway %s: from Istio %s (Envoy 1.33) the gateway strips x-envoy-* headers from callers on private addresses unless meshNetworks lists them (ENABLE_HCM_INTERNAL_NETWORKS)",
						i, vs.Namespace, vs.Name, name, strings.Join(vs.BoundGateways(), ", "), c.Change.Release), "spec", "http", i, "match", j, "headers", name)
				}
			}
		}
	}
}
