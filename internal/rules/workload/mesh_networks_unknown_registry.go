package workload

import (
	"fmt"
	"sort"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/rules"
	"github.com/meshdoctor/meshdoctor/internal/spelling"
)

// MeshNetworksUnknownRegistry: meshNetworks assigns a network to a cluster
// istiod does not know, so those endpoints get no network.
var MeshNetworksUnknownRegistry = &rules.Rule{
	Code: "MD4022", Name: "mesh-networks-unknown-registry", Severity: finding.Error, Area: "workload",
	Summary: "meshNetworks assigns a network to a service registry (fromRegistry) that is neither istiod's own cluster nor a cluster of its remote secrets.",
	Needs:   []string{"ConfigMap"},
	Reads:   []string{"Deployment", "Secret"},
	Since:   "0.2.0",
	IST:     []string{"IST0126"},
	Doc: rules.Doc{
		Mechanism: "In a multi-network mesh, meshNetworks (data.meshNetworks of the istio ConfigMap) says which network each cluster's endpoints are on: `endpoints: [{fromRegistry: <cluster ID>}]`. The cluster ID must be one istiod has a registry for: its own (the CLUSTER_ID of istiod, values.global.multiCluster.clusterName; Kubernetes when unset) or a key of a remote secret (Secrets labelled istio/multiCluster=true, from istioctl create-remote-secret). A name that matches none assigns nothing. meshdoctor reports it only when the input holds istiod and the Secrets of its namespace, since remote secrets are often left out of exported manifests, and suggests the closest known cluster.",
		Symptom:   "Endpoints of that cluster get no network (or the default), so istiod sends cross-network traffic to their pod IPs directly instead of through the east-west gateway: requests to services in the other network time out or fail with 503 UF/URX.",
		Fix:       "Use the cluster ID exactly as istiod knows it (its CLUSTER_ID, or the key in the remote secret's data), or create the remote secret for that cluster.",
		Before:    "data:\n  meshNetworks: |\n    networks:\n      network2:\n        endpoints:\n        - fromRegistry: cluster-2   # remote secret key is cluster2\n        gateways:\n        - {address: 203.0.113.20, port: 15443}\n",
		After:     "data:\n  meshNetworks: |\n    networks:\n      network2:\n        endpoints:\n        - fromRegistry: cluster2\n        gateways:\n        - {address: 203.0.113.20, port: 15443}\n",
		Sources: []string{
			"https://istio.io/latest/docs/reference/config/istio.mesh.v1alpha1/#Network-NetworkEndpoints",
			"https://istio.io/latest/docs/setup/install/multicluster/multi-primary_multi-network/",
			"https://istio.io/latest/docs/reference/config/analysis/ist0126/",
		},
	},
	Run: runMeshNetworksUnknownRegistry,
}

func runMeshNetworksUnknownRegistry(p *rules.Pass) {
	m := p.Model
	refs := m.MeshNetworksRegistries()
	if len(refs) == 0 {
		return
	}
	known, ok := m.KnownRegistries()
	if !ok {
		return
	}
	var names []string
	for k := range known {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, r := range refs {
		if known[r.Registry] {
			continue
		}
		f := rules.At(r.ConfigMap.Object, "data", "meshNetworks")
		f.Message = fmt.Sprintf("meshNetworks of ConfigMap %s/%s puts registry %q on network %s, but istiod knows no such cluster (it knows %s)", r.ConfigMap.Namespace, r.ConfigMap.Name, r.Registry, r.Network, strings.Join(names, ", "))
		f.Symptom = "that cluster's endpoints get no network, so cross-network requests to them go to pod IPs directly instead of the east-west gateway and time out or fail (503 UF/URX)"
		if s := spelling.ClosestFold(r.Registry, names, 3); s != "" {
			f.Fix = fmt.Sprintf("use the cluster ID istiod knows: fromRegistry: %s", s)
		} else {
			f.Fix = "use istiod's CLUSTER_ID or a remote secret's cluster key, or create the remote secret: istioctl create-remote-secret --name=" + r.Registry
		}
		p.Report(f)
	}
}
