package gateway

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// IngressBackendNotFound: an Ingress backend names a Service (or a port of
// it) that does not exist.
var IngressBackendNotFound = &rules.Rule{
	Code: "MD3005", Name: "ingress-backend-not-found", Severity: finding.Error, Area: "gateway",
	Summary: "An Ingress backend names a Service, or a Service port, that does not exist.",
	Needs:   []string{"Ingress"},
	Since:   "0.1.0",
	Doc: rules.Doc{
		Mechanism: "An Ingress backend (spec.defaultBackend or rules[].http.paths[].backend) names a Service in the Ingress's own namespace and one of its ports, by number (spec.ports[].port, not the targetPort or container port) or by name (spec.ports[].name). The controller resolves the Service and the port to the endpoints it proxies to; when either does not exist it has no upstream for the path.",
		Symptom:   "ingress-nginx answers HTTP 503 (Service Temporarily Unavailable) for the path; the GKE Ingress controller records a translation error event for the missing Service or port and does not build (or update) the load balancer, so requests get 502 or \"default backend - 404\".",
		Fix:       "Name an existing Service of the Ingress's namespace and one of its spec.ports (the port number or the port name, not the container port).",
		Before:    "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: web}\n  ports:\n  - name: http\n    port: 80\n    targetPort: 8080\n---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\nspec:\n  rules:\n  - host: web.example.com\n    http:\n      paths:\n      - path: /\n        pathType: Prefix\n        backend:\n          service:\n            name: web\n            port:\n              number: 8080   # the container port, not a Service port\n",
		After:     "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\nspec:\n  rules:\n  - host: web.example.com\n    http:\n      paths:\n      - path: /\n        pathType: Prefix\n        backend:\n          service:\n            name: web\n            port:\n              number: 80\n",
		Sources: []string{
			"https://kubernetes.io/docs/concepts/services-networking/ingress/#ingress-rules",
			"https://kubernetes.io/docs/reference/kubernetes-api/service-resources/ingress-v1/#IngressBackend",
		},
	},
	Run: runIngressBackendNotFound,
}

func runIngressBackendNotFound(p *rules.Pass) {
	m := p.Model
	for _, ing := range m.Ingresses {
		for _, b := range mesh.IngressBackends(ing) {
			svc := m.Service(ing.Namespace, b.Service)
			if svc == nil {
				others := m.ServicesIn(ing.Namespace)
				if len(others) == 0 {
					continue // the namespace's Services are not in the input
				}
				names := make([]string, 0, len(others))
				for _, s := range others {
					names = append(names, s.Name)
				}
				sort.Strings(names)
				f := rules.At(ing.Object, append(b.FieldPath, "name")...)
				f.Message = fmt.Sprintf("Ingress %s/%s (%s) sends traffic to Service %s/%s, which does not exist; Services in %s: %s", ing.Namespace, ing.Name, b.Where(), ing.Namespace, b.Service, ing.Namespace, strings.Join(names, ", "))
				f.Symptom = symptomFor(p.Model, ing, b)
				f.Fix = fmt.Sprintf("name an existing Service of namespace %s (an Ingress can only reach Services in its own namespace), or apply Service %s/%s", ing.Namespace, ing.Namespace, b.Service)
				p.Report(f)
				continue
			}
			if svc.Spec.Type == corev1.ServiceTypeExternalName {
				continue // proxied by name; controllers use the port as given
			}
			if mesh.ServicePortFor(svc, b.Port) != nil {
				continue
			}
			field := "number"
			if b.Port.Name != "" {
				field = "name"
			}
			var have []string
			for _, sp := range svc.Spec.Ports {
				s := strconv.Itoa(int(sp.Port))
				if sp.Name != "" {
					s += " (" + sp.Name + ")"
				}
				have = append(have, s)
			}
			f := rules.At(ing.Object, append(b.FieldPath, "port", field)...)
			f.Message = fmt.Sprintf("Ingress %s/%s (%s) uses port %s of Service %s/%s, which exposes %s", ing.Namespace, ing.Name, b.Where(), b.PortString(), svc.Namespace, svc.Name, portList(have))
			f.Symptom = symptomFor(p.Model, ing, b)
			f.Fix = portFix(svc, b)
			p.Report(f)
		}
	}
}

func portList(have []string) string {
	if len(have) == 0 {
		return "no ports"
	}
	return "only port " + strings.Join(have, ", ")
}

func symptomFor(m *mesh.Model, ing *mesh.Ingress, b mesh.IngressBackend) string {
	what := "requests for " + b.Where()
	if b.Default {
		what = "requests no rule matches"
	}
	nginx := what + " get HTTP 503 (Service Temporarily Unavailable) from ingress-nginx"
	gke := "the GKE Ingress controller reports a translation error for the backend and does not build or update the load balancer (502 / \"default backend - 404\")"
	if ok, _ := m.GKEIngress(ing); ok {
		return gke
	}
	class := ing.Annotations["kubernetes.io/ingress.class"]
	if ing.Spec.IngressClassName != nil {
		class = *ing.Spec.IngressClassName
	}
	if strings.Contains(class, "nginx") {
		return nginx
	}
	return nginx + "; " + gke
}

// portFix names the Service port to use; a number that is some port's
// targetPort is the usual container-port mix-up.
func portFix(svc *mesh.Service, b mesh.IngressBackend) string {
	for _, sp := range svc.Spec.Ports {
		if b.Port.Name == "" && sp.TargetPort.IntVal == b.Port.Number && sp.TargetPort.IntVal != 0 {
			return fmt.Sprintf("%d is the targetPort (container port) of Service port %d; an Ingress names the Service port:\n  port:\n    number: %d", b.Port.Number, sp.Port, sp.Port)
		}
	}
	if len(svc.Spec.Ports) == 1 {
		sp := svc.Spec.Ports[0]
		if sp.Name != "" {
			return fmt.Sprintf("use the Service's port:\n  port:\n    number: %d   # or name: %s", sp.Port, sp.Name)
		}
		return fmt.Sprintf("use the Service's port:\n  port:\n    number: %d", sp.Port)
	}
	return fmt.Sprintf("use one of the ports of Service %s/%s (by spec.ports[].port or spec.ports[].name), or add the port to the Service", svc.Namespace, svc.Name)
}
