package reference

import (
	"fmt"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// MeshConfigUnreadable: the istio ConfigMap's mesh config does not parse,
// so none of its settings are in force.
var MeshConfigUnreadable = &rules.Rule{
	Code: "MD5008", Name: "mesh-config-unreadable", Severity: finding.Error, Area: "reference",
	Summary: "The mesh config in the istio ConfigMap does not parse: istiod cannot use any of its settings.",
	Needs:   []string{"ConfigMap"},
	Since:   "0.2.0",
	Doc: rules.Doc{
		Mechanism: "istiod reads MeshConfig from the `mesh` key of the istio ConfigMap (istio-<revision> for revisions) in its namespace. YAML that does not parse, or a field of the wrong type, makes the whole document unreadable: istiod does not start with it, or keeps the configuration it had, so every setting in it (outboundTrafficPolicy, enableAutoMtls, defaultConfig, export defaults, extension providers) is not in force. meshdoctor analyzes with Istio's defaults in its place, as istiod would start.",
		Symptom:   "istiod logs `failed to read mesh configuration` (or does not become ready after a restart); the behaviour the mesh config sets does not happen, e.g. REGISTRY_ONLY egress still lets traffic through.",
		Fix:       "Correct the mesh config at the line shown (`istioctl validate` on a MeshConfig, or `kubectl get cm istio -n istio-system -o jsonpath='{.data.mesh}'` to check it) and restart istiod.",
		Before:    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: istio\n  namespace: istio-system\ndata:\n  mesh: |\n    enableAutoMtls: sometimes\n",
		After:     "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: istio\n  namespace: istio-system\ndata:\n  mesh: |\n    enableAutoMtls: true\n",
		Sources: []string{
			"https://istio.io/latest/docs/reference/config/istio.mesh.v1alpha1/",
		},
	},
	Run: runMeshConfigUnreadable,
}

func runMeshConfigUnreadable(p *rules.Pass) {
	for _, u := range p.Model.Mesh.Unreadable {
		cm := u.ConfigMap
		f := rules.At(cm.Object, "data", "mesh")
		f.Message = fmt.Sprintf("the mesh config in ConfigMap %s/%s does not parse: %s; istiod cannot use any of its settings, and meshdoctor analyzes with Istio's defaults instead", cm.Namespace, cm.Name, strings.Join(strings.Fields(u.Err), " "))
		f.Symptom = "istiod logs `failed to read mesh configuration` and keeps (or starts without) its settings: what the mesh config sets is not in force"
		f.Fix = fmt.Sprintf("correct data.mesh of ConfigMap %s/%s and restart istiod", cm.Namespace, cm.Name)
		p.Report(f)
	}
}
