package gateway

import (
	"fmt"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// GKEIngressClassNameIgnored: an Ingress asks for GKE's load balancer with
// spec.ingressClassName, which the GKE Ingress controller does not read.
var GKEIngressClassNameIgnored = &rules.Rule{
	Code: "MD3007", Name: "gke-ingress-class-name-ignored", Severity: finding.Warning, Area: "gateway",
	Summary: "An Ingress sets spec.ingressClassName to a GKE class (gce, gce-internal), which the GKE Ingress controller ignores: no load balancer is created.",
	Needs:   []string{"Ingress"},
	Since:   "0.2.0",
	Doc: rules.Doc{
		Mechanism: "The GKE Ingress controller (ingress-gce) decides which Ingresses are its own by the kubernetes.io/ingress.class annotation only: gce makes an external Application Load Balancer, gce-internal an internal one, and an Ingress with neither the annotation nor spec.ingressClassName is taken as gce. An Ingress with spec.ingressClassName set to any value and no annotation is left to other controllers — GKE takes no action on it, even when the value is gce. Kubernetes rejects an Ingress that sets both the annotation and the field, so the fix is to move the class into the annotation. meshdoctor stays silent when the input holds an IngressClass of that name served by another controller.",
		Symptom:   "No load balancer is created: `kubectl get ingress` shows no ADDRESS forever, the Ingress has no events from loadbalancer-controller and no ingress.kubernetes.io/backends annotation, and the host does not resolve or times out.",
		Fix:       "Remove spec.ingressClassName and set the annotation kubernetes.io/ingress.class: \"gce\" (or \"gce-internal\").",
		Before:    "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\n  namespace: production\nspec:\n  ingressClassName: gce\n  defaultBackend:\n    service:\n      name: web\n      port: {number: 8000}\n",
		After:     "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\n  namespace: production\n  annotations:\n    kubernetes.io/ingress.class: \"gce\"\nspec:\n  defaultBackend:\n    service:\n      name: web\n      port: {number: 8000}\n",
		Sources: []string{
			"https://cloud.google.com/kubernetes-engine/docs/concepts/ingress#controller_summary",
			"https://cloud.google.com/kubernetes-engine/docs/how-to/custom-ingress-controller",
			"https://kubernetes.io/docs/concepts/services-networking/ingress/#deprecated-annotation",
		},
	},
	Run: runGKEIngressClassNameIgnored,
}

func runGKEIngressClassNameIgnored(p *rules.Pass) {
	m := p.Model
	for _, ing := range m.Ingresses {
		class, ignored := m.GKEClassNameIgnored(ing)
		if !ignored {
			continue
		}
		f := rules.At(ing.Object, "spec", "ingressClassName")
		kind := "an external Application Load Balancer"
		if class != "gce" {
			kind = "a " + class + " load balancer"
		}
		f.Message = fmt.Sprintf("Ingress %s/%s asks for %s with spec.ingressClassName: %s, but the GKE Ingress controller reads only the kubernetes.io/ingress.class annotation and takes no action on an Ingress whose ingressClassName is set", ing.Namespace, ing.Name, kind, class)
		f.Symptom = fmt.Sprintf("no load balancer is created for Ingress %s/%s: it never gets an ADDRESS, has no events from loadbalancer-controller, and its hosts are unreachable", ing.Namespace, ing.Name)
		f.Fix = fmt.Sprintf("remove spec.ingressClassName and set the annotation instead (Kubernetes rejects both together):\n  metadata:\n    annotations:\n      kubernetes.io/ingress.class: %q", class)
		p.Report(f)
	}
}
