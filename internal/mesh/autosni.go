package mesh

// SNIAuthority answers "which Host does Envoy's auto_sni (and
// auto_san_validation) read when the route rewrites the authority": the
// Host the client sent (original) or the route's rewrite.authority
// (rewritten, "" when the route does not rewrite it). client is the proxy
// that originates the TLS (nil when unknown): its Envoy decides.
//
// Envoy's router took the SNI from the downstream Host before route-level
// host rewrites were applied (envoyproxy/envoy#35330, reported from
// istio/istio#50126) until Envoy 1.32, which reads the rewritten Host
// (envoyproxy/envoy#35566, runtime guard
// envoy.reloadable_features.use_route_host_mutation_for_auto_sni_san,
// on by default). Istio 1.24 is the first release built on Envoy 1.32;
// Istio sets auto_sni itself in pilot/pkg/networking/core/cluster_tls.go
// (setAutoSniAndAutoSanValidation) and does not override that guard. The
// client proxy's image version decides when the input shows it, else the
// control plane's (or the assumed) version.
func (m *Model) SNIAuthority(client *Workload, original, rewritten string) (authority, why string) {
	if rewritten == "" {
		return original, ""
	}
	v, src := m.Istio.Version, m.Istio.VersionSource
	if client != nil {
		if tag := ProxyImageVersion(client); tag != "" {
			if pv, ok := ParseVersion(tag); ok {
				v, src = pv, "proxy image of "+client.Kind+" "+client.Namespace+"/"+client.Name
			}
		}
	}
	if v.AtLeast(1, 24) {
		return rewritten, "Istio " + v.MinorString() + " (" + src + "; Envoy 1.32 or later) takes the SNI from the rewritten Host"
	}
	return original, "Istio " + v.MinorString() + " (" + src + "; Envoy before 1.32) takes the SNI from the Host the client sent, not from rewrite.authority"
}
