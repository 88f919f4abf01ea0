package reference

import (
	"fmt"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// RemovedAPI: a resource is written in an API version Kubernetes or Istio
// no longer serves (extensions/v1beta1 Ingress, MeshPolicy…).
var RemovedAPI = &rules.Rule{
	Code: "MD5007", Name: "removed-api", Severity: finding.Error, Area: "reference",
	Summary: "A resource uses an API version that Kubernetes or Istio has removed (extensions/v1beta1 Ingress, MeshPolicy, Policy…).",
	Since:   "0.2.0",
	Doc: rules.Doc{
		Mechanism: "An API server serves only the API versions of its release. Kubernetes 1.16 removed extensions/v1beta1 and apps/v1beta1/v1beta2 workloads, 1.22 the v1beta1 Ingress and IngressClass (extensions and networking.k8s.io), 1.25 batch/v1beta1 CronJob; Istio 1.6 removed the v1alpha1 authentication policies (MeshPolicy, Policy, replaced by PeerAuthentication and RequestAuthentication) and the v1alpha1 RBAC kinds (ServiceRole, ServiceRoleBinding, RbacConfig, ClusterRbacConfig, replaced by AuthorizationPolicy). Old charts and tutorials still carry them. Where the meaning is unchanged meshdoctor analyzes the resource as its successor (a v1beta1 Ingress as a networking.k8s.io/v1 Ingress, as the API server converted it); the removed Istio policies have no successor that behaves the same and are not analyzed.",
		Symptom:   "kubectl apply fails with `error: resource mapping not found for name: … no matches for kind \"Ingress\" in version \"extensions/v1beta1\"` (or `… kind \"MeshPolicy\" in version \"authentication.istio.io/v1alpha1\"`), so nothing in the file after the error is applied by some tools; the policy the resource meant (mutual TLS, JWT, access rules) is not in force.",
		Fix:       "Rewrite the resource in the replacement API (kubectl convert, or by hand as the message says) and apply it instead.",
		Before:    "apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata:\n  name: web\nspec:\n  backend:\n    serviceName: web\n    servicePort: 80\n",
		After:     "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\nspec:\n  defaultBackend:\n    service:\n      name: web\n      port: {number: 80}\n",
		Sources: []string{
			"https://kubernetes.io/docs/reference/using-api/deprecation-guide/",
			"https://istio.io/latest/news/releases/1.6.x/announcing-1.6/upgrade-notes/",
			"https://istio.io/latest/docs/reference/config/security/peer_authentication/",
		},
	},
	Run: runRemovedAPI,
}

func runRemovedAPI(p *rules.Pass) {
	for _, o := range p.Model.Objects {
		r, ok := mesh.RemovedAPIOf(o)
		if !ok {
			continue
		}
		f := rules.At(o, "apiVersion")
		ns := o.Namespace
		if r.ClusterScoped {
			ns = ""
			f.Resource.Namespace = ""
		}
		f.Message = fmt.Sprintf("%s %s uses %s, which %s %s removed; use %s", o.Kind, objName(ns, o.Name), r.APIVersion, r.Project, r.Release, r.Replacement)
		if r.AnalyzedAs != "" {
			f.Message += fmt.Sprintf(" (meshdoctor analyzes it as %s)", r.AnalyzedAs)
		} else {
			f.Message += " (meshdoctor does not analyze it)"
		}
		f.Symptom = fmt.Sprintf("kubectl apply fails with: no matches for kind %q in version %q", o.Kind, r.APIVersion)
		if r.Project == "Istio" {
			f.Symptom += "; the policy it describes is not in force"
		}
		f.Fix = "rewrite it as " + r.Replacement
		if r.Change != "" {
			f.Fix += ": " + r.Change
		}
		f.Fix += " (" + r.Source + ")"
		p.Report(f)
	}
}

func objName(ns, n string) string {
	if ns == "" {
		return n
	}
	return ns + "/" + n
}
