package mesh

import (
	"encoding/json"
	"sort"

	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

// RegistryRef is a network endpoint of meshNetworks that names a service
// registry (fromRegistry): a cluster ID, or Kubernetes for istiod's own
// cluster when it has no CLUSTER_ID.
type RegistryRef struct {
	ConfigMap *ConfigMap
	Network   string
	Registry  string
}

// MeshNetworksRegistries lists the fromRegistry names of the meshNetworks
// in the input's istio ConfigMaps (data.meshNetworks), sorted by network.
func (m *Model) MeshNetworksRegistries() []RegistryRef {
	var out []RegistryRef
	for _, cm := range m.ConfigMaps {
		if !(cm.Name == "istio" || len(cm.Name) > 6 && cm.Name[:6] == "istio-" && m.isRevisionMesh(cm.Name)) || cm.Data["meshNetworks"] == "" {
			continue
		}
		js, err := manifest.YAMLToJSON([]byte(cm.Data["meshNetworks"]))
		if err != nil {
			continue
		}
		var mn struct {
			Networks map[string]struct {
				Endpoints []struct {
					FromRegistry string `json:"fromRegistry"`
				} `json:"endpoints"`
			} `json:"networks"`
		}
		if json.Unmarshal(js, &mn) != nil {
			continue
		}
		for name, n := range mn.Networks {
			for _, e := range n.Endpoints {
				if e.FromRegistry != "" {
					out = append(out, RegistryRef{ConfigMap: cm, Network: name, Registry: e.FromRegistry})
				}
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Network < out[j].Network })
	return out
}

// KnownRegistries returns the service registries istiod has, when the
// input shows them: its own cluster (CLUSTER_ID, "Kubernetes" without it),
// the built-in External and Mock registries, and a cluster per key of each
// remote secret (label istio/multiCluster=true). ok is false when the
// input does not hold istiod, or no Secret of its namespace (remote
// secrets may simply be missing from the input).
func (m *Model) KnownRegistries() (known map[string]bool, ok bool) {
	if m.Istio.Istiod == nil {
		return nil, false
	}
	ns := m.Istio.Istiod.Namespace
	local := m.Istio.Env["CLUSTER_ID"]
	if local == "" {
		local = "Kubernetes"
	}
	known = map[string]bool{local: true, "Kubernetes": true, "External": true, "Mock": true}
	secrets := false
	for _, s := range m.Secrets {
		if s.Namespace != ns {
			continue
		}
		secrets = true
		if s.Labels["istio/multiCluster"] == "true" {
			for k := range s.Data {
				known[k] = true
			}
		}
	}
	return known, secrets
}
