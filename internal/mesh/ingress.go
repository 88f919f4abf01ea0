package mesh

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

// IngressBackend is one Service a Kubernetes Ingress sends traffic to:
// spec.defaultBackend or a rules[].http.paths[].backend.
type IngressBackend struct {
	Service string // Service name, in the Ingress's namespace
	Port    networkingv1.ServiceBackendPort
	Default bool   // spec.defaultBackend
	Host    string // the rule's host ("" for any host or the default backend)
	Path    string // the HTTP path ("" for the default backend)
	// FieldPath is the YAML path of the backend's "service" field.
	FieldPath []any
}

// PortString renders the backend port as written (number or name).
func (b IngressBackend) PortString() string {
	if b.Port.Name != "" {
		return strconv.Quote(b.Port.Name)
	}
	return strconv.Itoa(int(b.Port.Number))
}

// Where says which part of the Ingress the backend belongs to.
func (b IngressBackend) Where() string {
	if b.Default {
		return "spec.defaultBackend"
	}
	host := b.Host
	if host == "" {
		host = "*"
	}
	return fmt.Sprintf("host %s path %s", host, b.Path)
}

// IngressBackends lists the Service backends of an Ingress in the order
// written. Resource backends (spec.*.backend.resource) are not Services and
// are left out.
func IngressBackends(ing *Ingress) []IngressBackend {
	var out []IngressBackend
	if b := ing.Spec.DefaultBackend; b != nil && b.Service != nil {
		path := []any{"spec", "defaultBackend", "service"}
		if ing.Legacy {
			// spec.backend.serviceName: positions fall back to backend.
			path = []any{"spec", "backend"}
		}
		out = append(out, IngressBackend{Service: b.Service.Name, Port: b.Service.Port, Default: true, FieldPath: path})
	}
	for i, r := range ing.Spec.Rules {
		if r.HTTP == nil {
			continue
		}
		for j, p := range r.HTTP.Paths {
			if p.Backend.Service == nil {
				continue
			}
			path := p.Path
			if path == "" {
				path = "/"
			}
			fp := []any{"spec", "rules", i, "http", "paths", j, "backend", "service"}
			if ing.Legacy {
				fp = fp[:len(fp)-1]
			}
			out = append(out, IngressBackend{Service: p.Backend.Service.Name, Port: p.Backend.Service.Port, Host: r.Host, Path: path, FieldPath: fp})
		}
	}
	return out
}

// ServicePortFor finds the port of s an Ingress backend port names: by
// number against spec.ports[].port, by name against spec.ports[].name.
func ServicePortFor(s *Service, p networkingv1.ServiceBackendPort) *corev1.ServicePort {
	for i := range s.Spec.Ports {
		sp := &s.Spec.Ports[i]
		if (p.Name != "" && sp.Name == p.Name) || (p.Name == "" && sp.Port == p.Number) {
			return sp
		}
	}
	return nil
}

// GKE Ingress classes the GKE Ingress controller (ingress-gce) owns.
var gkeIngressClasses = map[string]bool{"gce": true, "gce-internal": true, "gce-regional-external": true}

// Annotations only GKE reads (or writes, in live clusters); an Ingress
// carrying one is meant for GKE.
var gkeIngressAnnotations = []string{
	"ingress.gcp.kubernetes.io/pre-shared-cert",
	"kubernetes.io/ingress.global-static-ip-name",
	"kubernetes.io/ingress.regional-static-ip-name",
	"networking.gke.io/managed-certificates",
	"networking.gke.io/v1beta1.FrontendConfig",
	"networking.gke.io/internal-load-balancer-allow-global-access",
	"ingress.kubernetes.io/url-map",
	"ingress.kubernetes.io/backends",
	"ingress.kubernetes.io/forwarding-rule",
	"ingress.kubernetes.io/target-proxy",
}

// GKEIngress reports whether the GKE Ingress controller builds a Google
// Cloud load balancer for ing, and why. ingress-gce processes an Ingress
// whose kubernetes.io/ingress.class annotation is gce, gce-internal or
// gce-regional-external, and one with neither the annotation nor
// spec.ingressClassName; it ignores any spec.ingressClassName (it owns no
// IngressClass). Without a class the input cannot tell GKE from another
// cluster, so such an Ingress counts as GKE only when it, or one of its
// backend Services, carries a GKE-only annotation. An Ingress without a
// class gets the cluster's default IngressClass, when there is one, from the
// admission plugin on creation; GKE then leaves it alone unless that class
// is GKE's.
// https://cloud.google.com/kubernetes-engine/docs/concepts/ingress#controller_summary
// (ingress-gce pkg/utils IsGCEIngress).
func (m *Model) GKEIngress(ing *Ingress, services ...*Service) (bool, string) {
	if class, ok := ing.Annotations["kubernetes.io/ingress.class"]; ok && class != "" {
		if gkeIngressClasses[class] {
			return true, "annotation kubernetes.io/ingress.class: " + class
		}
		return false, ""
	}
	if ing.Spec.IngressClassName != nil {
		return false, ""
	}
	if d := m.defaultIngressClass; d != "" && m.ingressClasses[d] != gkeIngressController {
		return false, ""
	}
	for _, a := range gkeIngressAnnotations {
		if _, ok := ing.Annotations[a]; ok {
			return true, "the GKE-only annotation " + a + " (no ingress class)"
		}
	}
	for _, s := range services {
		if s == nil {
			continue
		}
		for _, a := range []string{"cloud.google.com/backend-config", "beta.cloud.google.com/backend-config", "cloud.google.com/neg", "cloud.google.com/app-protocols"} {
			if _, ok := s.Annotations[a]; ok {
				return true, "the GKE-only annotation " + a + " on Service " + s.Namespace + "/" + s.Name + " (no ingress class)"
			}
		}
	}
	return false, ""
}

// gkeIngressController is the spec.controller of GKE's own IngressClasses.
const gkeIngressController = "k8s.io/ingress-gce"

// GKEClassNameIgnored reports an Ingress that names a GKE class in
// spec.ingressClassName without the kubernetes.io/ingress.class annotation:
// the GKE Ingress controller reads only the annotation, and takes no action
// on an Ingress whose ingressClassName is set to any value. It is false when
// the input holds an IngressClass of that name served by another
// controller (which then owns the Ingress).
// https://cloud.google.com/kubernetes-engine/docs/concepts/ingress#controller_summary
func (m *Model) GKEClassNameIgnored(ing *Ingress) (class string, ignored bool) {
	if ing.Annotations["kubernetes.io/ingress.class"] != "" || ing.Spec.IngressClassName == nil {
		return "", false
	}
	class = *ing.Spec.IngressClassName
	if !gkeIngressClasses[class] {
		return "", false
	}
	if controller, ok := m.ingressClasses[class]; ok && controller != gkeIngressController {
		return "", false
	}
	return class, true
}

// BackendConfigRef is the BackendConfig a Service port is bound to through
// the cloud.google.com/backend-config annotation.
type BackendConfigRef struct {
	Annotation string // the annotation key used
	Name       string // "" when the annotation names none for this port
	Object     *manifest.Object
	Invalid    bool // the annotation is not valid JSON
}

// BackendConfigFor resolves the BackendConfig of a Service port as
// ingress-gce does: the non-beta annotation wins; "ports" is keyed by port
// name or number (name first), then "default".
// https://cloud.google.com/kubernetes-engine/docs/how-to/ingress-configuration#associating_backendconfig_with_your_ingress
func (m *Model) BackendConfigFor(s *Service, sp *corev1.ServicePort) BackendConfigRef {
	var ref BackendConfigRef
	for _, key := range []string{"cloud.google.com/backend-config", "beta.cloud.google.com/backend-config"} {
		v, ok := s.Annotations[key]
		if !ok {
			continue
		}
		ref.Annotation = key
		var cfg struct {
			Default string            `json:"default"`
			Ports   map[string]string `json:"ports"`
		}
		if err := json.Unmarshal([]byte(v), &cfg); err != nil {
			ref.Invalid = true
			return ref
		}
		if n, ok := cfg.Ports[sp.Name]; ok && sp.Name != "" {
			ref.Name = n
		} else if n, ok := cfg.Ports[strconv.Itoa(int(sp.Port))]; ok {
			ref.Name = n
		} else {
			ref.Name = cfg.Default
		}
		if ref.Name != "" {
			ref.Object = m.BackendConfigs[s.Namespace+"/"+ref.Name]
		}
		return ref
	}
	return ref
}

// GKEHealthCheck says where the Google Cloud health check of an Ingress
// backend (one Service port) takes its request path from.
type GKEHealthCheck struct {
	// Known is false when the input cannot tell: the BackendConfig or
	// the Service's pods are not in the input, or an annotation is
	// unreadable.
	Known bool
	// Source is "BackendConfig", "readinessProbe" or "default" (GET /).
	Source string
	Path   string // request path; "" for a non-HTTP (TCP) health check
	// Probe and Workload are the readiness probe used (Source
	// readinessProbe).
	Probe    *corev1.Probe
	Workload *Workload
	// BackendConfig is the BackendConfig bound to the port, if any.
	BackendConfig BackendConfigRef
	// Misses explains, per workload behind the Service, why no readiness
	// probe could be used (Source default).
	Misses []ProbeMiss
}

// ProbeMiss is why one workload's pods give the load balancer no health
// check path.
type ProbeMiss struct {
	Workload *Workload
	// Container is the index of the container serving the port (-1 when
	// no container declares it).
	Container   int
	ServingPort int32  // the container port the Service targetPort resolves to (0 when unknown)
	Reason      string // e.g. "has no readinessProbe"
	// Liveness is the path of an httpGet livenessProbe on the serving
	// container, which users often expect the load balancer to use.
	Liveness string
	// Readiness is "path on port" of an httpGet readinessProbe of the
	// serving container that GKE cannot copy for its port or scheme: the
	// app's health endpoint, just not where the load balancer looks.
	Readiness string
	// CustomHeaders is set when the container does have an httpGet
	// readinessProbe on the serving port and GKE skips it only for its
	// host or custom headers: the app has an HTTP health endpoint and
	// was built with probes in mind, so "/" is less likely a surprise.
	CustomHeaders bool
}

// GKEHealthCheckFor applies GKE's health check inference to a Service port
// used as an Ingress backend. A BackendConfig healthCheck.requestPath wins;
// otherwise GKE copies the path of a readiness probe when one serving
// container has an httpGet readinessProbe (no host, no headers but Host,
// scheme matching the backend protocol) on the container port the Service
// targetPort refers to, declared in that container's ports; otherwise the
// health check is GET / and only HTTP 200 counts as healthy. Liveness and
// startup probes are never used. The same applies to container-native load
// balancing (NEGs).
// https://cloud.google.com/kubernetes-engine/docs/concepts/ingress#def_inf_hc
// (ingress-gce pkg/translator getHTTPProbe, pkg/healthchecks: probe
// settings first, then BackendConfig overrides).
func (m *Model) GKEHealthCheckFor(s *Service, sp *corev1.ServicePort) GKEHealthCheck {
	hc := GKEHealthCheck{BackendConfig: m.BackendConfigFor(s, sp)}
	bc := hc.BackendConfig
	if bc.Invalid || (bc.Name != "" && bc.Object == nil) {
		return hc // unreadable, or the BackendConfig is elsewhere
	}
	if bc.Object != nil {
		if t, ok := bc.Object.Typed.(*manifest.BackendConfig); ok && t.Spec.HealthCheck != nil {
			h := t.Spec.HealthCheck
			if h.Type != nil && !strings.HasPrefix(strings.ToUpper(*h.Type), "HTTP") {
				hc.Known, hc.Source = true, "BackendConfig"
				return hc
			}
			if h.RequestPath != nil && *h.RequestPath != "" {
				hc.Known, hc.Source, hc.Path = true, "BackendConfig", *h.RequestPath
				return hc
			}
		}
	}
	workloads := m.ServiceWorkloads(s)
	if len(workloads) == 0 {
		return hc // pods not in the input
	}
	scheme := corev1.URISchemeHTTP
	for _, key := range []string{"cloud.google.com/app-protocols", "service.alpha.kubernetes.io/app-protocols"} {
		if v, ok := s.Annotations[key]; ok {
			var protos map[string]string
			if json.Unmarshal([]byte(v), &protos) != nil {
				return hc
			}
			if p := strings.ToUpper(protos[sp.Name]); p == "HTTPS" || p == "HTTP2" {
				scheme = corev1.URISchemeHTTPS
			}
			break
		}
	}
	target := sp.TargetPort
	if target.Type == intstr.Int && target.IntVal == 0 {
		target = intstr.FromInt32(sp.Port)
	}
	for _, w := range workloads {
		if probe := usableProbe(w, target, scheme); probe != nil {
			hc.Known, hc.Source, hc.Probe, hc.Workload = true, "readinessProbe", probe, w
			hc.Path = probe.HTTPGet.Path
			if hc.Path == "" {
				hc.Path = "/"
			}
			return hc
		}
	}
	for _, w := range workloads {
		hc.Misses = append(hc.Misses, probeMiss(w, target, scheme))
	}
	hc.Known, hc.Source, hc.Path = true, "default", "/"
	return hc
}

// simpleHTTPProbe is a probe GKE can translate into a health check.
func simpleHTTPProbe(p *corev1.Probe) bool {
	if p == nil || p.HTTPGet == nil || p.HTTPGet.Host != "" {
		return false
	}
	h := p.HTTPGet.HTTPHeaders
	return len(h) == 0 || (len(h) == 1 && strings.EqualFold(h[0].Name, "Host"))
}

func probeScheme(p *corev1.Probe) corev1.URIScheme {
	if p.HTTPGet.Scheme == "" {
		return corev1.URISchemeHTTP // the API server's default
	}
	return p.HTTPGet.Scheme
}

// servingPort finds the container port (declared in a container's ports)
// that a Service targetPort refers to.
func servingPort(w *Workload, target intstr.IntOrString) (ci int, p *corev1.ContainerPort) {
	for i := range w.PodSpec.Containers {
		for j := range w.PodSpec.Containers[i].Ports {
			cp := &w.PodSpec.Containers[i].Ports[j]
			if (target.Type == intstr.Int && target.IntVal == cp.ContainerPort) || (target.Type == intstr.String && target.StrVal == cp.Name) {
				return i, cp
			}
		}
	}
	return -1, nil
}

func probeOnPort(p *corev1.Probe, cp *corev1.ContainerPort) bool {
	port := p.HTTPGet.Port
	if port.Type == intstr.Int {
		return port.IntVal == cp.ContainerPort
	}
	return cp.Name != "" && port.StrVal == cp.Name
}

func usableProbe(w *Workload, target intstr.IntOrString, scheme corev1.URIScheme) *corev1.Probe {
	for _, c := range w.PodSpec.Containers {
		if !simpleHTTPProbe(c.ReadinessProbe) || probeScheme(c.ReadinessProbe) != scheme {
			continue
		}
		for j := range c.Ports {
			cp := &c.Ports[j]
			if (target.Type == intstr.Int && target.IntVal == cp.ContainerPort) || (target.Type == intstr.String && target.StrVal == cp.Name) {
				if probeOnPort(c.ReadinessProbe, cp) {
					return c.ReadinessProbe
				}
			}
		}
	}
	return nil
}

func probeMiss(w *Workload, target intstr.IntOrString, scheme corev1.URIScheme) ProbeMiss {
	ci, cp := servingPort(w, target)
	miss := ProbeMiss{Workload: w, Container: ci}
	if cp == nil {
		miss.Reason = fmt.Sprintf("declares no container port matching the Service targetPort %s, so GKE cannot take a readiness probe from it", target.String())
		if target.Type == intstr.Int {
			miss.ServingPort = target.IntVal
		}
		return miss
	}
	miss.ServingPort = cp.ContainerPort
	c := &w.PodSpec.Containers[ci]
	if c.LivenessProbe != nil && c.LivenessProbe.HTTPGet != nil {
		miss.Liveness = c.LivenessProbe.HTTPGet.Path
		if miss.Liveness == "" {
			miss.Liveness = "/"
		}
	}
	p := c.ReadinessProbe
	switch {
	case p == nil:
		miss.Reason = "has no readinessProbe"
	case p.HTTPGet == nil:
		kind := "an exec"
		if p.TCPSocket != nil {
			kind = "a tcpSocket"
		} else if p.GRPC != nil {
			kind = "a grpc"
		}
		miss.Reason = "has " + kind + " readinessProbe, and GKE only copies httpGet probes"
	case !simpleHTTPProbe(p):
		miss.Reason = "has an httpGet readinessProbe with a host or custom headers, which GKE does not copy"
		miss.CustomHeaders = probeOnPort(p, cp)
	case probeScheme(p) != scheme:
		miss.Reason = fmt.Sprintf("has an httpGet readinessProbe with scheme %s, but the backend protocol is %s", probeScheme(p), scheme)
		miss.Readiness = probePathOn(p)
	case !probeOnPort(p, cp):
		miss.Reason = fmt.Sprintf("has its httpGet readinessProbe on port %s, not on the serving port %d", p.HTTPGet.Port.String(), cp.ContainerPort)
		miss.Readiness = probePathOn(p)
	default:
		miss.Reason = "has no usable readinessProbe"
	}
	return miss
}

func probePathOn(p *corev1.Probe) string {
	path := p.HTTPGet.Path
	if path == "" {
		path = "/"
	}
	return path + " on port " + p.HTTPGet.Port.String()
}
