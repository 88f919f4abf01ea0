package workload

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// PortProtocolUnsupported: a Service or container port's protocol is not
// one Kubernetes accepts (TCP, UDP, SCTP), typically an application
// protocol (HTTP, GRPC) meant for Istio. The API server rejects the object.
//
// A rule of its own rather than part of invalid-manifest: the loader
// checks structure (YAML, types, field names) for every kind, while this
// is a value the Kubernetes API server validates, and the mistake is a
// mesh one with a mesh fix (Istio reads the application protocol from
// appProtocol or the port name, never from protocol).
var PortProtocolUnsupported = &rules.Rule{
	Code: "MD4023", Name: "port-protocol-unsupported", Severity: finding.Error, Area: "workload",
	Summary: "A Service or container port sets protocol to something other than TCP, UDP or SCTP (e.g. HTTP); the API server rejects the object.",
	Needs:   []string{"Service", "Deployment", "StatefulSet", "DaemonSet", "Pod", "Job", "CronJob", "ReplicaSet"},
	Since:   "0.4.0",
	Doc: rules.Doc{
		Mechanism: "The protocol field of a Service port and of a container port is the Kubernetes transport protocol, and the API server accepts only TCP, UDP and SCTP, in capitals (empty means TCP). Any other value, such as HTTP, GRPC or a lower-case tcp, fails validation with `spec.ports[0].protocol: Unsupported value: \"HTTP\": supported values: \"SCTP\", \"TCP\", \"UDP\"`, so kubectl apply (and Helm, Argo CD, a controller) cannot create or update the object. Istio takes the application protocol of a port from the Service port's appProtocol or its name prefix (http-, grpc-, tcp-…), never from protocol; container ports carry no application protocol for Istio at all. meshdoctor checks Service ports and the ports of containers and init containers of Pods and pod templates (Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs); meshdoctor trace fails a request to such a Service at its listener (the Service is never created), while the other rules still read the object as written.",
		Symptom:   "kubectl apply fails with `Unsupported value` for the Service or workload and nothing in it is created (an existing object keeps its previous definition): clients of a new Service get no DNS name (NXDOMAIN) and no route, a new workload has no pods.",
		Fix:       "Remove protocol (TCP is the default) or set TCP, UDP or SCTP; declare the application protocol for Istio on the Service port instead, with appProtocol: http (or grpc, http2, tcp…) or a port name such as http-web.",
		Before:    "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: web}\n  ports:\n  - name: web\n    port: 80\n    targetPort: 8080\n    protocol: HTTP\n",
		After:     "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: web}\n  ports:\n  - name: http-web\n    port: 80\n    targetPort: 8080\n    appProtocol: http\n",
		Sources: []string{
			"https://kubernetes.io/docs/reference/kubernetes-api/service-resources/service-v1/#ServiceSpec",
			"https://kubernetes.io/docs/reference/networking/service-protocols/",
			"https://github.com/kubernetes/kubernetes/blob/master/pkg/apis/core/validation/validation.go",
			"https://istio.io/latest/docs/ops/configuration/traffic-management/protocol-selection/",
		},
	},
	Run: runPortProtocolUnsupported,
}

func runPortProtocolUnsupported(p *rules.Pass) {
	m := p.Model
	for _, s := range m.Services {
		for i := range s.Spec.Ports {
			sp := &s.Spec.Ports[i]
			if mesh.KubernetesPortProtocol(sp.Protocol) {
				continue
			}
			f := rules.At(s.Object, "spec", "ports", i, "protocol")
			f.Message = fmt.Sprintf("Service %s/%s port %d has protocol %s, which Kubernetes does not accept (only TCP, UDP or SCTP): the API server rejects the Service with %s",
				s.Namespace, s.Name, sp.Port, sp.Protocol, unsupportedValue([]any{"spec", "ports", i, "protocol"}, sp.Protocol))
			f.Symptom = fmt.Sprintf("kubectl apply fails for Service %s/%s and it is not created (or keeps its previous definition): clients of a new Service get no DNS name and no route", s.Namespace, s.Name)
			f.Fix = protocolFix(sp.Protocol, sp.Name, true)
			p.Report(f)
		}
	}
	for _, w := range m.Workloads {
		for _, set := range []struct {
			field string
			cs    []corev1.Container
		}{{"containers", w.PodSpec.Containers}, {"initContainers", w.PodSpec.InitContainers}} {
			for i := range set.cs {
				c := &set.cs[i]
				for j, cp := range c.Ports {
					if mesh.KubernetesPortProtocol(cp.Protocol) {
						continue
					}
					path := []any{"spec", set.field, i, "ports", j, "protocol"}
					full := append(append([]any{}, w.PodPath()...), path...)
					f := rules.AtPod(w, path...)
					f.Message = fmt.Sprintf("container %s of %s %s/%s declares port %d with protocol %s, which Kubernetes does not accept (only TCP, UDP or SCTP): the API server rejects the %s with %s",
						c.Name, w.Kind, w.Namespace, w.Name, cp.ContainerPort, cp.Protocol, w.Kind, unsupportedValue(full, cp.Protocol))
					f.Symptom = fmt.Sprintf("kubectl apply fails for %s %s/%s: no pods are created from this definition (existing ones keep the previous one)", w.Kind, w.Namespace, w.Name)
					f.Fix = protocolFix(cp.Protocol, "", false)
					p.Report(f)
				}
			}
		}
	}
}

// unsupportedValue writes the API server's validation error, so the user
// recognises the message kubectl printed.
func unsupportedValue(path []any, got corev1.Protocol) string {
	return fmt.Sprintf("`%s: Unsupported value: %q: supported values: \"SCTP\", \"TCP\", \"UDP\"`", manifest.PathString(path), string(got))
}

// protocolFix says what to write instead: the same transport protocol in
// capitals, or no protocol and the application protocol where Istio reads
// it (the Service port's appProtocol or name, here portName).
func protocolFix(got corev1.Protocol, portName string, servicePort bool) string {
	if up := corev1.Protocol(strings.ToUpper(string(got))); up != got && mesh.KubernetesPortProtocol(up) {
		return fmt.Sprintf("write the protocol in capitals: protocol: %s", up)
	}
	app := mesh.ApplicationProtocolName(string(got))
	if app == "" {
		return "set protocol to TCP, UDP or SCTP (or remove it: TCP is the default)"
	}
	lower := strings.ToLower(app)
	if servicePort {
		if mesh.ApplicationProtocolName(portNamePrefix(portName)) == app {
			return fmt.Sprintf("remove protocol (TCP is the default): the port name %s already declares %s for Istio", portName, app)
		}
		example := lower + "-api"
		if portName != "" {
			example = lower + "-" + portName
		}
		return fmt.Sprintf("remove protocol (TCP is the default) and declare %s for Istio with appProtocol: %s or a port name starting with %s- (e.g. %s)", app, lower, lower, example)
	}
	return fmt.Sprintf("remove protocol (TCP is the default): a container port carries no application protocol for Istio; declare %s on the Service port that targets it, with appProtocol: %s or a port name starting with %s-", app, lower, lower)
}

// portNamePrefix is the part of a port name before its first "-", the
// protocol Istio reads from it (grpc-web is a protocol of its own).
func portNamePrefix(name string) string {
	if strings.HasPrefix(name, "grpc-web") {
		return "grpc-web"
	}
	if i := strings.IndexByte(name, '-'); i >= 0 {
		return name[:i]
	}
	return name
}
