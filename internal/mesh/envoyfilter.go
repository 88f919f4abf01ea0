package mesh

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	istioapi "istio.io/api/networking/v1alpha3"
	istionetalpha "istio.io/client-go/pkg/apis/networking/v1alpha3"

	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

// EnvoyFilter is an Istio EnvoyFilter.
type EnvoyFilter struct {
	*manifest.Object
	Spec *istioapi.EnvoyFilter
}

// EnvoyFilters lists the EnvoyFilters of the input, in input order. It
// reads the objects on each call (one pass): rules ask once per run.
func (m *Model) EnvoyFilters() []*EnvoyFilter {
	var out []*EnvoyFilter
	for _, o := range m.Objects {
		if t, ok := o.Typed.(*istionetalpha.EnvoyFilter); ok && t != nil {
			out = append(out, &EnvoyFilter{Object: o, Spec: &t.Spec})
		}
	}
	return out
}

// patchOperations lists, per applyTo, the patch operations istiod applies;
// it skips the others silently. (istio.io/istio
// pilot/pkg/networking/core/envoyfilter: listener_patch.go,
// cluster_patch.go, rc_patch.go, extension_configuration_patch.go)
var patchOperations = map[istioapi.EnvoyFilter_ApplyTo][]istioapi.EnvoyFilter_Patch_Operation{
	istioapi.EnvoyFilter_LISTENER:            {istioapi.EnvoyFilter_Patch_ADD, istioapi.EnvoyFilter_Patch_REMOVE, istioapi.EnvoyFilter_Patch_MERGE, istioapi.EnvoyFilter_Patch_MERGE_AND_REPLACE_LIST},
	istioapi.EnvoyFilter_FILTER_CHAIN:        {istioapi.EnvoyFilter_Patch_ADD, istioapi.EnvoyFilter_Patch_REMOVE, istioapi.EnvoyFilter_Patch_MERGE, istioapi.EnvoyFilter_Patch_MERGE_AND_REPLACE_LIST},
	istioapi.EnvoyFilter_NETWORK_FILTER:      filterOperations,
	istioapi.EnvoyFilter_HTTP_FILTER:         filterOperations,
	istioapi.EnvoyFilter_LISTENER_FILTER:     filterOperations,
	istioapi.EnvoyFilter_ROUTE_CONFIGURATION: {istioapi.EnvoyFilter_Patch_MERGE, istioapi.EnvoyFilter_Patch_MERGE_AND_REPLACE_LIST},
	istioapi.EnvoyFilter_VIRTUAL_HOST:        {istioapi.EnvoyFilter_Patch_ADD, istioapi.EnvoyFilter_Patch_REMOVE, istioapi.EnvoyFilter_Patch_REPLACE, istioapi.EnvoyFilter_Patch_MERGE, istioapi.EnvoyFilter_Patch_MERGE_AND_REPLACE_LIST},
	istioapi.EnvoyFilter_HTTP_ROUTE: {istioapi.EnvoyFilter_Patch_ADD, istioapi.EnvoyFilter_Patch_INSERT_FIRST, istioapi.EnvoyFilter_Patch_INSERT_BEFORE, istioapi.EnvoyFilter_Patch_INSERT_AFTER,
		istioapi.EnvoyFilter_Patch_REMOVE, istioapi.EnvoyFilter_Patch_MERGE, istioapi.EnvoyFilter_Patch_MERGE_AND_REPLACE_LIST},
	istioapi.EnvoyFilter_CLUSTER:          {istioapi.EnvoyFilter_Patch_ADD, istioapi.EnvoyFilter_Patch_REMOVE, istioapi.EnvoyFilter_Patch_MERGE, istioapi.EnvoyFilter_Patch_MERGE_AND_REPLACE_LIST},
	istioapi.EnvoyFilter_EXTENSION_CONFIG: {istioapi.EnvoyFilter_Patch_ADD},
	istioapi.EnvoyFilter_BOOTSTRAP:        {istioapi.EnvoyFilter_Patch_MERGE, istioapi.EnvoyFilter_Patch_MERGE_AND_REPLACE_LIST},
}

var filterOperations = []istioapi.EnvoyFilter_Patch_Operation{
	istioapi.EnvoyFilter_Patch_ADD, istioapi.EnvoyFilter_Patch_INSERT_FIRST, istioapi.EnvoyFilter_Patch_INSERT_BEFORE, istioapi.EnvoyFilter_Patch_INSERT_AFTER,
	istioapi.EnvoyFilter_Patch_REPLACE, istioapi.EnvoyFilter_Patch_REMOVE, istioapi.EnvoyFilter_Patch_MERGE, istioapi.EnvoyFilter_Patch_MERGE_AND_REPLACE_LIST,
}

// PatchApplied reports whether istiod applies operation op to applyTo
// objects, and if not, the operations it does apply there. INSERT_* on
// objects other than filters and routes is taken as ADD (istio.io/istio
// pilot/pkg/model/envoyfilter.go convertToEnvoyFilterWrapper). Unknown
// applyTo values (a schema newer than meshdoctor's) count as applied.
func PatchApplied(applyTo istioapi.EnvoyFilter_ApplyTo, op istioapi.EnvoyFilter_Patch_Operation) (bool, []string) {
	ops, known := patchOperations[applyTo]
	switch op {
	case istioapi.EnvoyFilter_Patch_INSERT_BEFORE, istioapi.EnvoyFilter_Patch_INSERT_AFTER, istioapi.EnvoyFilter_Patch_INSERT_FIRST:
		if !slices.Contains(ops, op) {
			op = istioapi.EnvoyFilter_Patch_ADD
		}
	}
	if !known || op == istioapi.EnvoyFilter_Patch_INVALID || slices.Contains(ops, op) {
		return true, nil
	}
	names := make([]string, 0, len(ops))
	for _, o := range ops {
		names = append(names, o.String())
	}
	return false, names
}

// RelativeOperation: the patch acts on, or next to, an existing filter it
// matches by name, so it has an effect only if that filter is there when
// the patch is applied.
func RelativeOperation(op istioapi.EnvoyFilter_Patch_Operation) bool {
	switch op {
	case istioapi.EnvoyFilter_Patch_INSERT_BEFORE, istioapi.EnvoyFilter_Patch_INSERT_AFTER, istioapi.EnvoyFilter_Patch_REPLACE,
		istioapi.EnvoyFilter_Patch_REMOVE, istioapi.EnvoyFilter_Patch_MERGE, istioapi.EnvoyFilter_Patch_MERGE_AND_REPLACE_LIST:
		return true
	}
	return false
}

// FilterPatch is one config patch of an EnvoyFilter that acts on a named
// listener, network or HTTP filter.
type FilterPatch struct {
	Filter  *EnvoyFilter
	Index   int // in spec.configPatches
	ApplyTo istioapi.EnvoyFilter_ApplyTo
	Op      istioapi.EnvoyFilter_Patch_Operation
	// Anchor is the filter name the patch matches ("" when it matches
	// none), AnchorPath its YAML path. Adds is the filter the patch puts
	// in (patch.value.name; "" for none). Names compare exactly: istiod
	// no longer translates deprecated names (1.19).
	Anchor     string
	AnchorPath []any
	Adds       string
}

// FilterPatches lists the filter-level patches of f in order.
func FilterPatches(f *EnvoyFilter) []FilterPatch {
	var out []FilterPatch
	for i, cp := range f.Spec.GetConfigPatches() {
		at := cp.GetApplyTo()
		if at != istioapi.EnvoyFilter_HTTP_FILTER && at != istioapi.EnvoyFilter_NETWORK_FILTER && at != istioapi.EnvoyFilter_LISTENER_FILTER {
			continue
		}
		fp := FilterPatch{Filter: f, Index: i, ApplyTo: at, Op: cp.GetPatch().GetOperation()}
		l := cp.GetMatch().GetListener()
		base := []any{"spec", "configPatches", i, "match", "listener"}
		switch at {
		case istioapi.EnvoyFilter_HTTP_FILTER:
			if n := l.GetFilterChain().GetFilter().GetSubFilter().GetName(); n != "" {
				fp.Anchor, fp.AnchorPath = n, append(base, "filterChain", "filter", "subFilter", "name")
			}
		case istioapi.EnvoyFilter_NETWORK_FILTER:
			if n := l.GetFilterChain().GetFilter().GetName(); n != "" {
				fp.Anchor, fp.AnchorPath = n, append(base, "filterChain", "filter", "name")
			}
		case istioapi.EnvoyFilter_LISTENER_FILTER:
			if n := l.GetListenerFilter(); n != "" {
				fp.Anchor, fp.AnchorPath = n, append(base, "listenerFilter")
			}
		}
		if fp.Op != istioapi.EnvoyFilter_Patch_REMOVE && fp.Op != istioapi.EnvoyFilter_Patch_MERGE && fp.Op != istioapi.EnvoyFilter_Patch_MERGE_AND_REPLACE_LIST {
			if v := cp.GetPatch().GetValue().GetFields()["name"]; v != nil {
				fp.Adds = v.GetStringValue()
			}
		}
		out = append(out, fp)
	}
	return out
}

// EnvoyFilterBefore orders EnvoyFilters as istiod applies them to one
// proxy: lower priority first, then (at equal priority) those of the root
// namespace, then the older, then by name.namespace.
// (istio.io/istio pilot/pkg/model/push_context.go EnvoyFilters)
func (m *Model) EnvoyFilterBefore(a, b *EnvoyFilter) bool {
	if a.Spec.GetPriority() != b.Spec.GetPriority() {
		return a.Spec.GetPriority() < b.Spec.GetPriority()
	}
	root := m.Mesh.RootNamespace
	if a.Namespace != b.Namespace && (a.Namespace == root || b.Namespace == root) {
		return a.Namespace == root
	}
	ta, tb := creationTime(a.Object), creationTime(b.Object)
	if !ta.Equal(tb) {
		return ta.Before(tb)
	}
	return a.Name+"."+a.Namespace < b.Name+"."+b.Namespace
}

// EnvoyFilterOrder says whether istiod applies a before b and what decides
// it: "priority", "root namespace", "creation time", or "" when only
// creation times would and the input carries none (files): the order in
// the cluster is then not known.
func (m *Model) EnvoyFilterOrder(a, b *EnvoyFilter) (aFirst bool, by string) {
	aFirst = m.EnvoyFilterBefore(a, b)
	root := m.Mesh.RootNamespace
	switch {
	case a.Spec.GetPriority() != b.Spec.GetPriority():
		return aFirst, "priority"
	case a.Namespace != b.Namespace && (a.Namespace == root || b.Namespace == root):
		return aFirst, "root namespace"
	case !creationTime(a.Object).IsZero() && !creationTime(b.Object).IsZero():
		return aFirst, "creation time"
	}
	return aFirst, ""
}

// EnvoyFiltersMeet reports whether two EnvoyFilters can apply to the same
// proxy: they are in the same namespace or one is in the root namespace
// (selectors are not compared: they may overlap).
func (m *Model) EnvoyFiltersMeet(a, b *EnvoyFilter) bool {
	root := m.Mesh.RootNamespace
	return a.Namespace == b.Namespace || a.Namespace == root || b.Namespace == root
}

// DeprecatedFilterName reports the canonical name for a deprecated one.
func DeprecatedFilterName(name string) (canonical string, deprecated bool) {
	c, ok := deprecatedFilterNames[name]
	return c, ok
}

// deprecatedFilterNames are Envoy's pre-1.14 filter names with their
// canonical successors. Istio generates only the canonical names and,
// from 1.19, matches EnvoyFilters against them exactly: a match on a
// deprecated name finds nothing (its validation still warns about them,
// istio.io/istio pkg/config/xds/deprecated.go).
// https://istio.io/latest/news/releases/1.19.x/announcing-1.19/upgrade-notes/
var deprecatedFilterNames = map[string]string{
	"envoy.buffer":                  "envoy.filters.http.buffer",
	"envoy.cors":                    "envoy.filters.http.cors",
	"envoy.csrf":                    "envoy.filters.http.csrf",
	"envoy.http_dynamo_filter":      "envoy.filters.http.dynamo",
	"envoy.fault":                   "envoy.filters.http.fault",
	"envoy.grpc_http1_bridge":       "envoy.filters.http.grpc_http1_bridge",
	"envoy.grpc_json_transcoder":    "envoy.filters.http.grpc_json_transcoder",
	"envoy.grpc_web":                "envoy.filters.http.grpc_web",
	"envoy.gzip":                    "envoy.filters.http.gzip",
	"envoy.health_check":            "envoy.filters.http.health_check",
	"envoy.ip_tagging":              "envoy.filters.http.ip_tagging",
	"envoy.lua":                     "envoy.filters.http.lua",
	"envoy.rate_limit":              "envoy.filters.http.ratelimit",
	"envoy.router":                  "envoy.filters.http.router",
	"envoy.squash":                  "envoy.filters.http.squash",
	"envoy.listener.http_inspector": "envoy.filters.listener.http_inspector",
	"envoy.listener.original_dst":   "envoy.filters.listener.original_dst",
	"envoy.listener.original_src":   "envoy.filters.listener.original_src",
	"envoy.listener.proxy_protocol": "envoy.filters.listener.proxy_protocol",
	"envoy.listener.tls_inspector":  "envoy.filters.listener.tls_inspector",
	"envoy.client_ssl_auth":         "envoy.filters.network.client_ssl_auth",
	"envoy.ext_authz":               "envoy.filters.network.ext_authz",
	"envoy.http_connection_manager": "envoy.filters.network.http_connection_manager",
	"envoy.mongo_proxy":             "envoy.filters.network.mongo_proxy",
	"envoy.ratelimit":               "envoy.filters.network.ratelimit",
	"envoy.redis_proxy":             "envoy.filters.network.redis_proxy",
	"envoy.tcp_proxy":               "envoy.filters.network.tcp_proxy",
}

// istioGeneratedFilters are filters istiod itself puts into listeners
// (depending on the configuration): a patch relative to one of them does
// not depend on another EnvoyFilter.
var istioGeneratedFilters = map[string]bool{
	"envoy.filters.network.http_connection_manager":   true,
	"envoy.filters.network.tcp_proxy":                 true,
	"envoy.filters.network.rbac":                      true,
	"envoy.filters.network.ext_authz":                 true,
	"envoy.filters.network.sni_cluster":               true,
	"envoy.filters.network.mongo_proxy":               true,
	"envoy.filters.network.redis_proxy":               true,
	"envoy.filters.network.mysql_proxy":               true,
	"envoy.filters.network.wasm":                      true,
	"envoy.filters.http.router":                       true,
	"envoy.filters.http.cors":                         true,
	"envoy.filters.http.fault":                        true,
	"envoy.filters.http.grpc_stats":                   true,
	"envoy.filters.http.grpc_web":                     true,
	"envoy.filters.http.jwt_authn":                    true,
	"envoy.filters.http.rbac":                         true,
	"envoy.filters.http.ext_authz":                    true,
	"envoy.filters.http.wasm":                         true,
	"envoy.filters.http.stateful_session":             true,
	"envoy.filters.http.compressor":                   true,
	"envoy.filters.http.local_ratelimit":              true,
	"envoy.filters.http.alternate_protocols_cache":    true,
	"envoy.filters.http.connect_authority":            true,
	"envoy.filters.http.ext_proc":                     true,
	"envoy.filters.http.dynamic_forward_proxy":        true,
	"envoy.filters.network.sni_dynamic_forward_proxy": true,
	"envoy.filters.listener.original_src":             true,
	"envoy.filters.listener.tls_inspector":            true,
	"envoy.filters.listener.http_inspector":           true,
	"envoy.filters.listener.original_dst":             true,
	"envoy.filters.listener.proxy_protocol":           true,
	"istio.metadata_exchange":                         true,
	"istio.stats":                                     true,
	"istio.alpn":                                      true,
	"istio_authn":                                     true,
	"istio.peer_metadata":                             true,
}

// IstioGeneratedFilter reports whether istiod generates a filter of this
// name.
func IstioGeneratedFilter(name string) bool {
	return istioGeneratedFilters[name]
}

// FilterAdders indexes, by filter name, the patches of the given
// EnvoyFilters that put a filter in (ADD, INSERT_*, REPLACE with a named
// value).
func FilterAdders(efs []*EnvoyFilter) map[string][]FilterPatch {
	out := map[string][]FilterPatch{}
	for _, f := range efs {
		for _, p := range FilterPatches(f) {
			if p.Adds != "" {
				out[p.Adds] = append(out[p.Adds], p)
			}
		}
	}
	return out
}

// Ref names the patch for messages: "EnvoyFilter ns/name configPatches[i]".
func (p FilterPatch) Ref() string {
	return fmt.Sprintf("EnvoyFilter %s/%s configPatches[%d]", p.Filter.Namespace, p.Filter.Name, p.Index)
}

// ProxyVersionMatch is the patch's match.proxy.proxyVersion regex ("" for
// none).
func (p FilterPatch) ProxyVersionMatch() string {
	cps := p.Filter.Spec.GetConfigPatches()
	if p.Index >= len(cps) {
		return ""
	}
	return strings.TrimSpace(cps[p.Index].GetMatch().GetProxy().GetProxyVersion())
}

// ProxyVersionSelection is which proxy versions of the install an
// EnvoyFilter patch's match.proxy.proxyVersion regex selects. Proxies
// report their Istio version (1.24.2); istiod matches the regex anywhere
// in it (istio.io/istio pilot/pkg/model/envoyfilter.go proxyMatch).
type ProxyVersionSelection struct {
	// Known is false when the input does not say which version runs
	// (the assumed version is no basis for a finding), Invalid when the
	// regex does not compile (validation rejects it).
	Known, Invalid bool
	// Versions are the proxy versions the install runs: istiod's (which
	// injected proxies follow) and explicit proxy image tags; Matched
	// those the regex selects.
	Versions, Matched []string
	// Before and BeforeMatched are the same before a simulated upgrade
	// (--upgrade-to); empty otherwise.
	Before, BeforeMatched []string
	// Source says where the versions come from.
	Source string
}

// ProxyVersionSelection evaluates a proxyVersion regex against the proxy
// versions of the input.
func (m *Model) ProxyVersionSelection(regex string) ProxyVersionSelection {
	s := ProxyVersionSelection{Known: m.Istio.VersionKnown, Source: m.Istio.VersionSource}
	re, err := regexp.Compile(regex)
	if err != nil {
		s.Invalid = true
		return s
	}
	add := func(list []string, v Version) []string {
		if str := v.String(); !slices.Contains(list, str) {
			return append(list, str)
		}
		return list
	}
	s.Versions = add(s.Versions, m.Istio.Version)
	upgraded := false
	for _, cp := range m.Istio.ControlPlanes {
		s.Versions = add(s.Versions, cp.Version)
		if cp.UpgradedFrom != nil {
			upgraded = true
			s.Before = add(s.Before, *cp.UpgradedFrom)
		}
	}
	if !upgraded {
		// Gateways and pods pinning a proxy image keep their version.
		for _, w := range m.Workloads {
			for _, c := range w.PodSpec.Containers {
				if strings.Contains(c.Image, "proxyv2") {
					if v, ok := ParseVersion(ImageTag(c.Image)); ok {
						s.Versions = add(s.Versions, v)
					}
				}
			}
		}
	}
	for _, v := range s.Versions {
		if re.MatchString(v) {
			s.Matched = append(s.Matched, v)
		}
	}
	for _, v := range s.Before {
		if re.MatchString(v) {
			s.BeforeMatched = append(s.BeforeMatched, v)
		}
	}
	return s
}

// LegacyEnvoyUse is a part of an EnvoyFilter patch written for an Envoy
// API that current Istio no longer accepts.
type LegacyEnvoyUse struct {
	Path []any // YAML path in the EnvoyFilter
	// Kind: "deprecated-name" (a match on a pre-1.14 filter name),
	// "no-typed-config" (a filter given by name alone), "xds-v2" (a v2
	// type URL).
	Kind  string
	Value string // the name or type URL
	// Canonical is the current name for a deprecated one.
	Canonical string
	// Since is the Istio release that stopped accepting it (zero: long
	// before the releases meshdoctor models).
	Since Version
}

// LegacyEnvoyUses finds the legacy Envoy API uses in configPatches[i].
// Istio 1.19 stopped translating deprecated filter names in matches and
// stopped letting Envoy look extensions up by name without typed_config;
// xDS v2 types were removed before (istio.io release notes; istio.io/istio
// pkg/config/validation/envoyfilter/envoyfilter.go warns about both).
// https://istio.io/latest/news/releases/1.19.x/announcing-1.19/upgrade-notes/
func LegacyEnvoyUses(f *EnvoyFilter, i int) []LegacyEnvoyUse {
	cps := f.Spec.GetConfigPatches()
	if i >= len(cps) || cps[i] == nil {
		return nil
	}
	cp := cps[i]
	v119 := Version{1, 19, 0}
	var out []LegacyEnvoyUse
	l := cp.GetMatch().GetListener()
	base := []any{"spec", "configPatches", i, "match", "listener"}
	for _, n := range []struct {
		name string
		path []any
	}{
		{l.GetFilterChain().GetFilter().GetName(), []any{"filterChain", "filter", "name"}},
		{l.GetFilterChain().GetFilter().GetSubFilter().GetName(), []any{"filterChain", "filter", "subFilter", "name"}},
		{l.GetListenerFilter(), []any{"listenerFilter"}},
	} {
		if c, ok := deprecatedFilterNames[n.name]; ok {
			out = append(out, LegacyEnvoyUse{Path: append(append([]any{}, base...), n.path...), Kind: "deprecated-name", Value: n.name, Canonical: c, Since: v119})
		}
	}
	value := cp.GetPatch().GetValue()
	if value == nil {
		return out
	}
	vpath := []any{"spec", "configPatches", i, "patch", "value"}
	at := cp.GetApplyTo()
	op := cp.GetPatch().GetOperation()
	filterValue := (at == istioapi.EnvoyFilter_HTTP_FILTER || at == istioapi.EnvoyFilter_NETWORK_FILTER || at == istioapi.EnvoyFilter_LISTENER_FILTER) &&
		op != istioapi.EnvoyFilter_Patch_MERGE && op != istioapi.EnvoyFilter_Patch_MERGE_AND_REPLACE_LIST && op != istioapi.EnvoyFilter_Patch_REMOVE
	if filterValue {
		if u, ok := nameOnlyFilter(value.AsMap(), vpath); ok {
			out = append(out, u)
		}
	}
	walkLegacy(value.AsMap(), vpath, &out)
	return out
}

// filterLists are the Envoy fields whose elements are filters (name plus
// typed_config).
var filterLists = map[string]bool{"filters": true, "http_filters": true, "listener_filters": true, "httpFilters": true, "listenerFilters": true}

func walkLegacy(v any, path []any, out *[]LegacyEnvoyUse) {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			p := append(append([]any{}, path...), k)
			if s, ok := x.(string); ok && (k == "@type" || k == "type_url" || k == "typeUrl") && isXDSv2(s) {
				*out = append(*out, LegacyEnvoyUse{Path: p, Kind: "xds-v2", Value: s})
			}
			if list, ok := x.([]any); ok && filterLists[k] {
				for j, e := range list {
					if m, ok := e.(map[string]any); ok {
						if u, ok := nameOnlyFilter(m, append(append([]any{}, p...), j)); ok {
							*out = append(*out, u)
						}
					}
				}
			}
			walkLegacy(x, p, out)
		}
	case []any:
		for j, x := range t {
			walkLegacy(x, append(append([]any{}, path...), j), out)
		}
	}
}

// nameOnlyFilter: a filter with a name but no typed_config (or config
// discovery), which Envoy used to resolve by name.
func nameOnlyFilter(m map[string]any, path []any) (LegacyEnvoyUse, bool) {
	name, _ := m["name"].(string)
	if name == "" {
		return LegacyEnvoyUse{}, false
	}
	for _, k := range []string{"typed_config", "typedConfig", "config_discovery", "configDiscovery"} {
		if _, ok := m[k]; ok {
			return LegacyEnvoyUse{}, false
		}
	}
	return LegacyEnvoyUse{Path: append(append([]any{}, path...), "name"), Kind: "no-typed-config", Value: name, Since: Version{1, 19, 0}}, true
}

// isXDSv2 recognizes type URLs of Envoy's removed v2 API.
func isXDSv2(typeURL string) bool {
	t := strings.TrimPrefix(typeURL, "type.googleapis.com/")
	return (strings.HasPrefix(t, "envoy.") && strings.Contains(t, ".v2.")) || strings.Contains(t, ".v2alpha.") && strings.HasPrefix(t, "envoy.")
}
