package gateway

import (
	"fmt"
	"slices"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// GKEHealthCheckDefaultPath: the pods behind a GKE Ingress backend give the
// load balancer no health check path, so it checks GET / and needs a 200.
//
// The finding points at the serving container of the workload (its
// readinessProbe when it has one), because that is where the usual fix goes
// and one workload behind several Ingresses is one problem; the message
// names the Ingresses and Services.
var GKEHealthCheckDefaultPath = &rules.Rule{
	Code: "MD3002", Name: "gke-health-check-default-path", Severity: finding.Warning, Area: "gateway",
	Summary: "A GKE Ingress backend has no readiness probe or BackendConfig health check path, so the load balancer health-checks GET /.",
	Needs:   []string{"Ingress"},
	Since:   "0.1.0",
	Doc: rules.Doc{
		Mechanism: "For every Service behind a GKE Ingress, the GKE Ingress controller creates a Google Cloud health check that runs outside the cluster. Its request path comes from the BackendConfig bound to the Service port (cloud.google.com/backend-config, spec.healthCheck.requestPath); otherwise GKE copies the path of a readiness probe of the serving pods, but only an httpGet readinessProbe (without host or custom headers, scheme matching the backend protocol) on the container port the Service's targetPort refers to, declared in that container's ports. Otherwise the health check is GET / and only HTTP 200 counts as healthy. A livenessProbe or startupProbe is never used for this, nor is a tcpSocket/exec/grpc readiness probe or one on another port. Container-native load balancing (NEGs, cloud.google.com/neg) infers the health check the same way. GET / passes for the many apps that serve / (hello-app and most samples have no probe at all): the finding is a warning only when the input says the app's health lives elsewhere (an httpGet livenessProbe on another path, an httpGet readinessProbe on another port or scheme, a BackendConfig for another port of the Service or an annotation naming another health check path), and info otherwise.",
		Symptom:   "If the application does not answer HTTP 200 on / (a 404, a redirect to /login, a 401), every backend is marked UNHEALTHY (annotation ingress.kubernetes.io/backends) and the load balancer answers HTTP 502 for all requests, while the pods are Running and Ready and port-forwarding to them works.",
		Fix:       "Add an httpGet readinessProbe on the serving container port with a path that answers 200 (e.g. /health-check), or bind a BackendConfig with spec.healthCheck.requestPath to the Service. A livenessProbe alone does not help. For an Istio gateway behind the load balancer, check its status port instead: a BackendConfig with healthCheck port 15021 and requestPath /healthz/ready (its serving port answers 404 for hosts no route serves).",
		Before: `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: production
  annotations:
    kubernetes.io/ingress.global-static-ip-name: web-ip
spec:
  defaultBackend:
    service:
      name: web
      port: {number: 8000}
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: production
spec:
  type: NodePort
  selector: {app: web}
  ports:
  - port: 8000
---
` + gkeWebDeployment + `        livenessProbe:          # not used by the load balancer
          httpGet: {path: /health-check, port: 8000}
`,
		After: gkeWebDeployment + `        readinessProbe:         # GKE copies this path into the health check
          httpGet: {path: /health-check, port: 8000}
        livenessProbe:
          httpGet: {path: /health-check, port: 8000}
`,
		Sources: []string{
			"https://cloud.google.com/kubernetes-engine/docs/concepts/ingress#def_inf_hc",
			"https://cloud.google.com/kubernetes-engine/docs/troubleshooting/ingress-health-checks",
			"https://cloud.google.com/kubernetes-engine/docs/how-to/ingress-configuration#direct_health",
			"https://github.com/kubernetes/ingress-gce/blob/master/pkg/translator/translator.go",
		},
	},
	Run: runGKEHealthCheckDefaultPath,
}

// gkeWebDeployment is the part of the example Deployment that the fix
// leaves as it is; Before and After append its probes.
const gkeWebDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: production
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: example/web:1.0
        ports:
        - containerPort: 8000
`

// hcProblem is one serving container that gives a GKE backend no health
// check path, with every Ingress backend it serves.
type hcProblem struct {
	miss    mesh.ProbeMiss
	svc     *mesh.Service
	svcPort int32
	bc      mesh.BackendConfigRef
	users   []string
	gkeWhy  string
	// hints are annotations on the Ingresses or the Service that name a
	// health check path GKE does not read.
	hints []string
}

func runGKEHealthCheckDefaultPath(p *rules.Pass) {
	m := p.Model
	var order []string
	problems := map[string]*hcProblem{}
	for _, ing := range m.Ingresses {
		for _, b := range mesh.IngressBackends(ing) {
			svc := m.Service(ing.Namespace, b.Service)
			if svc == nil {
				continue
			}
			sp := mesh.ServicePortFor(svc, b.Port)
			if sp == nil {
				continue
			}
			gke, why := m.GKEIngress(ing, svc)
			if !gke {
				continue
			}
			hc := m.GKEHealthCheckFor(svc, sp)
			if !hc.Known || hc.Source != "default" {
				continue
			}
			user := fmt.Sprintf("Ingress %s/%s (%s)", ing.Namespace, ing.Name, b.Where())
			for _, miss := range hc.Misses {
				key := fmt.Sprintf("%s/%s/%s/%d/%d/%s", miss.Workload.Namespace, miss.Workload.Kind, miss.Workload.Name, miss.Container, miss.ServingPort, svc.Name)
				pr := problems[key]
				if pr == nil {
					pr = &hcProblem{miss: miss, svc: svc, svcPort: sp.Port, bc: hc.BackendConfig, gkeWhy: why}
					problems[key] = pr
					order = append(order, key)
				}
				if !slices.Contains(pr.users, user) {
					pr.users = append(pr.users, user)
				}
				for _, h := range append(pathAnnotations("Ingress", ing.Object), pathAnnotations("Service", svc.Object)...) {
					if !slices.Contains(pr.hints, h) {
						pr.hints = append(pr.hints, h)
					}
				}
			}
		}
	}
	for _, key := range order {
		pr := problems[key]
		f := healthCheckFinding(pr)
		probes, others := healthElsewhere(m, pr)
		switch {
		case pr.miss.CustomHeaders:
			// A deliberate HTTP probe GKE cannot copy: worth knowing, but
			// such apps usually answer "/" too (Online Boutique's frontend).
			f.Severity = finding.Info
		case !probes && len(others) == 0:
			// GET / passes for the many apps that serve / (hello-app and
			// most samples have no probe at all and are healthy).
			f.Severity = finding.Info
			f.Message += "; nothing in the input names another health path, so this is fine if the app answers HTTP 200 on /"
		case len(others) > 0:
			// The probes are named in the message already.
			f.Message += "; the app's health check is named elsewhere: " + strings.Join(others, ", ")
		}
		p.Report(f)
	}
}

// istioStatusPort and istioReadyPath are where an Istio proxy reports its
// readiness (the readinessProbe istiod injects into gateway pods); a
// gateway's traffic ports answer only the hosts its Gateways route.
// https://istio.io/latest/docs/ops/deployment/application-requirements/#ports-used-by-istio
const (
	istioStatusPort = 15021
	istioReadyPath  = "/healthz/ready"
)

// gatewayHealthCheckFix points the load balancer at an Istio gateway's
// status port: its injected readinessProbe is there, not on the serving
// port, so GKE cannot copy it, and a probe on the serving port would hit
// the routes.
func gatewayHealthCheckFix(pr *hcProblem) string {
	name := pr.svc.Name + "-health"
	if pr.bc.Object != nil {
		name = pr.bc.Name
		return fmt.Sprintf("check the gateway's status port in BackendConfig %s/%s (the Service must expose port %d too):\n  spec:\n    healthCheck:\n      type: HTTP\n      port: %d\n      requestPath: %s", pr.svc.Namespace, name, istioStatusPort, istioStatusPort, istioReadyPath)
	}
	return fmt.Sprintf("bind a BackendConfig that checks the gateway's status port %d %s (the Service must expose port %d too):\n  metadata:\n    annotations:\n      cloud.google.com/backend-config: '{\"default\": \"%s\"}'\n  ---\n  apiVersion: cloud.google.com/v1\n  kind: BackendConfig\n  metadata:\n    name: %s\n    namespace: %s\n  spec:\n    healthCheck:\n      type: HTTP\n      port: %d\n      requestPath: %s",
		istioStatusPort, istioReadyPath, istioStatusPort, name, name, pr.svc.Namespace, istioStatusPort, istioReadyPath)
}

// healthElsewhere lists what in the input says the app's health endpoint
// is not GET / on the serving port: an httpGet livenessProbe on another
// path, an httpGet readinessProbe GKE cannot copy (another port or
// scheme), a BackendConfig bound to another port of the Service with a
// request path, annotations naming a health check path GKE does not read.
// Without any, GKE's default GET / is only a guess at a problem.
// probes is true for the container's own probes (which the message names
// already); others describes the rest.
func healthElsewhere(m *mesh.Model, pr *hcProblem) (probes bool, others []string) {
	probes = pr.miss.Liveness != "" && pr.miss.Liveness != "/" || pr.miss.Readiness != ""
	var out []string
	if ok, _ := mesh.IsGatewayWorkload(pr.miss.Workload); ok {
		// Its pods' injected readinessProbe is on the status port, and
		// the serving port answers 404 for hosts no route serves.
		out = append(out, fmt.Sprintf("%s %s/%s is an Istio gateway, whose health is %s on status port %d; on the serving port GET / gets HTTP 404 unless a route serves that host and path", pr.miss.Workload.Kind, pr.miss.Workload.Namespace, pr.miss.Workload.Name, istioReadyPath, istioStatusPort))
	}
	for i := range pr.svc.Spec.Ports {
		sp := &pr.svc.Spec.Ports[i]
		if sp.Port == pr.svcPort {
			continue
		}
		bc := m.BackendConfigFor(pr.svc, sp)
		if t, ok := bcTyped(bc); ok && t.Spec.HealthCheck != nil && t.Spec.HealthCheck.RequestPath != nil {
			if path := *t.Spec.HealthCheck.RequestPath; path != "" && path != "/" {
				out = append(out, fmt.Sprintf("BackendConfig %s/%s (for Service port %d) checks %s", pr.svc.Namespace, bc.Name, sp.Port, path))
			}
		}
	}
	return probes, append(out, pr.hints...)
}

func bcTyped(bc mesh.BackendConfigRef) (*manifest.BackendConfig, bool) {
	if bc.Object == nil {
		return nil, false
	}
	t, ok := bc.Object.Typed.(*manifest.BackendConfig)
	return t, ok
}

// pathAnnotations are annotations of o that name a health check path
// (other controllers' health check settings, e.g. AWS's
// alb.ingress.kubernetes.io/healthcheck-path, which GKE ignores).
func pathAnnotations(kind string, o *manifest.Object) []string {
	var out []string
	for k, v := range o.Annotations {
		lk := strings.ToLower(k)
		if strings.Contains(lk, "health") && strings.Contains(lk, "path") && strings.HasPrefix(v, "/") && v != "/" {
			out = append(out, fmt.Sprintf("annotation %s: %s on %s %s/%s (not read by GKE)", k, v, kind, o.Namespace, o.Name))
		}
	}
	slices.Sort(out)
	return out
}

func healthCheckFinding(pr *hcProblem) finding.Finding {
	w, miss := pr.miss.Workload, pr.miss
	var f finding.Finding
	container := "its containers"
	if miss.Container >= 0 {
		f = rules.AtPod(w, "spec", "containers", miss.Container, "readinessProbe")
		container = "container " + w.PodSpec.Containers[miss.Container].Name
	} else {
		f = rules.AtPod(w, "spec", "containers", 0, "ports")
	}
	port := "the serving port"
	if miss.ServingPort > 0 {
		port = fmt.Sprintf("port %d", miss.ServingPort)
	}
	f.Message = fmt.Sprintf("%s %s/%s %s %s, so the GKE load balancer health check for Service %s/%s port %d (backend of %s, recognised as GKE by %s) falls back to GET / on %s",
		w.Kind, w.Namespace, w.Name, container, miss.Reason, pr.svc.Namespace, pr.svc.Name, pr.svcPort, strings.Join(pr.users, ", "), pr.gkeWhy, port)
	if miss.Liveness != "" {
		f.Message += fmt.Sprintf("; its livenessProbe (httpGet %s) is not used for the health check", miss.Liveness)
	}
	if pr.bc.Object != nil {
		f.Message += fmt.Sprintf("; BackendConfig %s/%s sets no healthCheck.requestPath", pr.svc.Namespace, pr.bc.Name)
	}
	f.Symptom = fmt.Sprintf("unless GET / on %s answers HTTP 200, the load balancer marks every backend of Service %s/%s UNHEALTHY and answers HTTP 502, while the pods are Ready", port, pr.svc.Namespace, pr.svc.Name)
	f.Fix = healthCheckFix(pr, container, port)
	return f
}

func healthCheckFix(pr *hcProblem, container, port string) string {
	miss := pr.miss
	if ok, _ := mesh.IsGatewayWorkload(miss.Workload); ok {
		return gatewayHealthCheckFix(pr)
	}
	path := miss.Liveness
	if miss.Container >= 0 {
		// keep the path of a readiness probe that is only on the wrong port
		if rp := miss.Workload.PodSpec.Containers[miss.Container].ReadinessProbe; rp != nil && rp.HTTPGet != nil && rp.HTTPGet.Path != "" {
			path = rp.HTTPGet.Path
		}
	}
	if path == "" || path == "/" {
		path = "/healthz   # a path that answers HTTP 200"
	}
	var b strings.Builder
	probePort := fmt.Sprint(miss.ServingPort)
	if miss.ServingPort == 0 {
		probePort = "<serving port>"
	}
	if miss.Container < 0 {
		fmt.Fprintf(&b, "declare the serving port in the container's ports (containerPort %s, named as the Service targetPort if it is a name), then ", probePort)
	}
	fmt.Fprintf(&b, "give %s an HTTP readinessProbe on %s:\n  readinessProbe:\n    httpGet:\n      path: %s\n      port: %s\n", container, port, path, probePort)
	if pr.bc.Object != nil {
		fmt.Fprintf(&b, "or set the path in BackendConfig %s/%s:\n  spec:\n    healthCheck:\n      type: HTTP\n      requestPath: %s", pr.svc.Namespace, pr.bc.Name, path)
		return b.String()
	}
	name := pr.svc.Name + "-health"
	fmt.Fprintf(&b, "or bind a BackendConfig to Service %s/%s:\n  metadata:\n    annotations:\n      cloud.google.com/backend-config: '{\"default\": \"%s\"}'\n  ---\n  apiVersion: cloud.google.com/v1\n  kind: BackendConfig\n  metadata:\n    name: %s\n    namespace: %s\n  spec:\n    healthCheck:\n      type: HTTP\n      requestPath: %s", pr.svc.Namespace, pr.svc.Name, name, name, pr.svc.Namespace, path)
	return b.String()
}
