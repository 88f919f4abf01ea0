package mesh

import (
	corev1 "k8s.io/api/core/v1"

	"fmt"
	"strings"
)

// listenIngress follows an external request into the cluster through a
// Kubernetes Ingress: the rule whose host and path match (the longest
// path; spec.defaultBackend otherwise), its backend Service port, and, for
// a GKE load balancer, the health check that decides whether the backend
// gets traffic at all.
// https://kubernetes.io/docs/concepts/services-networking/ingress/#path-types
func (m *Model) listenIngress(r Request) Listener {
	l := Listener{Host: r.Host, Name: "load balancer"}
	var best *IngressBackend
	var bestIng *Ingress
	bestLen := -1
	noTLS := false
	for _, ing := range m.Ingresses {
		if r.Scheme == "https" && !ingressServesTLS(ing) {
			// A load balancer without a certificate for the Ingress
			// serves no HTTPS; keep looking for one that does.
			noTLS = true
			continue
		}
		for _, b := range IngressBackends(ing) {
			switch {
			case b.Default:
				if bestLen < 0 {
					best, bestIng, bestLen = &b, ing, 0
				}
				continue
			case b.Host != "" && !HostMatches(strings.ToLower(b.Host), r.Host):
				continue
			}
			if !strings.HasPrefix(r.Path, b.Path) || len(b.Path)+1 <= bestLen {
				continue
			}
			best, bestIng, bestLen = &b, ing, len(b.Path)+1
		}
	}
	if best == nil {
		l.Decision = Decision{Reason: ReasonIngressNoRule, Note: fmt.Sprintf("no Ingress in the input has a rule for %s%s (scheme %s)", r.Host, r.Path, r.Scheme)}
		switch {
		case noTLS:
			l.Decision.Note += "; the Ingresses for it have no certificate (spec.tls, or GKE's pre-shared or managed certificate annotations)"
			l.Failure = &Failure{Error: "connection refused or reset on port 443: the load balancer serves no HTTPS for " + r.Host}
		case len(m.Ingresses) > 0:
			l.Failure = &Failure{Status: 404, Error: "404 Not Found from the load balancer's default backend"}
		}
		return l
	}
	l.Ingress, l.Backend = bestIng, best
	l.Decision = Decision{Reason: ReasonIngressRule, Object: bestIng.Object, Path: best.FieldPath,
		Note: fmt.Sprintf("Ingress %s/%s %s sends it to Service %s port %s", bestIng.Namespace, bestIng.Name, best.Where(), best.Service, best.PortString())}
	s := m.Service(bestIng.Namespace, best.Service)
	if s == nil {
		if m.NamespaceInInput(bestIng.Namespace) && m.Has("Service") {
			l.Failure = &Failure{Status: 502, Error: fmt.Sprintf("502 Bad Gateway: Service %s/%s does not exist", bestIng.Namespace, best.Service)}
		}
		return l
	}
	sp := ServicePortFor(s, best.Port)
	if sp == nil {
		l.Failure = &Failure{Status: 502, Error: fmt.Sprintf("502 Bad Gateway: Service %s/%s has no port %s", s.Namespace, s.Name, best.PortString())}
		return l
	}
	l.Service, l.ServicePort, l.Host = s, sp, s.Host
	l.Protocol = PortProtocol(sp)
	l.HTTP = true
	if gke, why := m.GKEIngress(bestIng, s); gke {
		l.Notes = append(l.Notes, m.gkeHealth(s, sp, why, &l))
	}
	return l
}

// gkeHealth decides the GKE load balancer's view of the backend: healthy
// when its health check path is one the app is known to answer; unhealthy
// (every request 502) when the check falls back to GET / while the pods'
// health endpoint is elsewhere (seed 002: a livenessProbe on /health-check
// and no readinessProbe).
func (m *Model) gkeHealth(s *Service, sp *corev1.ServicePort, why string, l *Listener) Decision {
	hc := m.GKEHealthCheckFor(s, sp)
	d := Decision{Reason: ReasonLBHealthCheck, Object: s.Object, Path: []any{"spec", "ports"}}
	switch {
	case !hc.Known:
		d.Note = "a GKE load balancer (" + why + "); its health check path cannot be told from the input"
	case hc.Source == "BackendConfig":
		d.Object, d.Path = hc.BackendConfig.Object, []any{"spec", "healthCheck"}
		d.Note = fmt.Sprintf("a GKE load balancer (%s) checks %q, from BackendConfig %s", why, hc.Path, hc.BackendConfig.Name)
	case hc.Source == "readinessProbe":
		d.Object, d.Path = hc.Workload.Object, hc.Workload.PodPath()
		d.Note = fmt.Sprintf("a GKE load balancer (%s) checks GET %s, copied from the readinessProbe of %s %s/%s", why, hc.Path, hc.Workload.Kind, hc.Workload.Namespace, hc.Workload.Name)
	default:
		elsewhere := ""
		for _, miss := range hc.Misses {
			if miss.Liveness != "" && miss.Liveness != "/" {
				elsewhere = fmt.Sprintf("%s %s/%s serves its health on %s (livenessProbe) and %s", miss.Workload.Kind, miss.Workload.Namespace, miss.Workload.Name, miss.Liveness, miss.Reason)
				d.Object, d.Path = miss.Workload.Object, miss.Workload.PodPath()
				break
			}
		}
		if elsewhere != "" {
			d.Reason = ReasonLBUnhealthy
			d.Note = fmt.Sprintf("a GKE load balancer (%s) health-checks GET / on the pods, because no readinessProbe gives it a path; %s, so / is not known to answer 200 and the backend is marked unhealthy", why, elsewhere)
			l.Failure = &Failure{Status: 502, Error: "502 Bad Gateway from the Google Cloud load balancer: every backend fails its health check (GET / does not answer 200)"}
			return d
		}
		d.Note = fmt.Sprintf("a GKE load balancer (%s) health-checks GET / (no readinessProbe gives it a path): the backend is healthy only if the app answers 200 on /", why)
	}
	return d
}

// ingressServesTLS: the Ingress has a certificate, in spec.tls or, on GKE,
// as a pre-shared or managed certificate annotation.
// https://cloud.google.com/kubernetes-engine/docs/how-to/ingress-multi-ssl
func ingressServesTLS(ing *Ingress) bool {
	if len(ing.Spec.TLS) > 0 {
		return true
	}
	for _, a := range []string{"ingress.gcp.kubernetes.io/pre-shared-cert", "networking.gke.io/managed-certificates"} {
		if ing.Annotations[a] != "" {
			return true
		}
	}
	return false
}
