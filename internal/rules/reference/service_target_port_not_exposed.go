package reference

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// ServiceTargetPortNotExposed: a Service port's targetPort is not a port
// the selected pods declare.
var ServiceTargetPortNotExposed = &rules.Rule{
	Code: "MD5004", Name: "service-target-port-not-exposed", Severity: finding.Warning, Area: "reference",
	Summary: "A Service's targetPort is not declared by the pods it selects.",
	Needs:   []string{"Service"},
	Since:   "0.1.0",
	Doc: rules.Doc{
		Mechanism: "A named targetPort is resolved per pod: the endpoints controller looks for a container port (in containers and sidecar init containers) with that name and the Service port's protocol, and leaves out pods that have none, so a name no selected pod declares gives the port no endpoints at all. A numeric targetPort is used as is, declared or not: declaring container ports is optional and Istio captures inbound traffic on undeclared ports too. A number that differs from every port the pods do declare is still usually a mistake (the app listens on the declared one); meshdoctor reports it as a warning only when every selected workload declares its ports, is not an Istio gateway (Envoy listens on the ports of its Gateway servers) and does not name the port in its own arguments, environment or prometheus.io/port annotation.",
		Symptom:   "Named: the Service port has no endpoints; sidecar clients get HTTP 503 UH \"no healthy upstream\", others get connection refused. Numeric: if the app does not listen on that port, connections are refused; through a sidecar, HTTP 503 \"upstream connect error or disconnect/reset before headers. reset reason: connection failure\".",
		Fix:       "Set targetPort to the containerPort (or its name) the application listens on, or declare that port in the pod template.",
		Before:    "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: web}\n  ports:\n  - name: http\n    port: 80\n    targetPort: http-web   # the container port is named http\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: web:1.0\n        ports:\n        - name: http\n          containerPort: 8080\n",
		After:     "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: web}\n  ports:\n  - name: http\n    port: 80\n    targetPort: http\n",
		Sources: []string{
			"https://kubernetes.io/docs/concepts/services-networking/service/#field-spec-ports",
			"https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#ports",
			"https://istio.io/latest/docs/ops/deployment/requirements/",
		},
	},
	Run: runServiceTargetPortNotExposed,
}

func runServiceTargetPortNotExposed(p *rules.Pass) {
	m := p.Model
	for _, s := range m.Services {
		if s.Spec.Type == corev1.ServiceTypeExternalName || len(s.Spec.Selector) == 0 {
			continue
		}
		ws := m.ServiceWorkloads(s)
		if len(ws) == 0 {
			continue // service-selects-no-pods speaks for it
		}
		for i := range s.Spec.Ports {
			sp := &s.Spec.Ports[i]
			if sp.TargetPort.Type == intstr.String && sp.TargetPort.StrVal != "" {
				checkNamedTarget(p, s, i, sp, ws)
			} else {
				checkNumericTarget(p, s, i, sp, ws)
			}
		}
	}
}

func checkNamedTarget(p *rules.Pass, s *mesh.Service, i int, sp *corev1.ServicePort, ws []*mesh.Workload) {
	name := sp.TargetPort.StrVal
	proto := protocolOf(sp.Protocol)
	var otherProto []string
	for _, w := range ws {
		for _, cp := range servingPorts(w) {
			if cp.Name != name {
				continue
			}
			if protocolOf(cp.Protocol) == proto {
				return
			}
			otherProto = append(otherProto, fmt.Sprintf("%s %s/%s declares %s as %s", w.Kind, w.Namespace, w.Name, name, protocolOf(cp.Protocol)))
		}
	}
	f := rules.At(s.Object, "spec", "ports", i, "targetPort")
	f.Severity = finding.Error
	f.Message = fmt.Sprintf("Service %s/%s port %d targets the container port named %q (%s), but no pod it selects (%s) declares it", s.Namespace, s.Name, sp.Port, name, proto, rules.WorkloadList(ws, 4))
	if len(otherProto) > 0 {
		f.Message += "; " + strings.Join(otherProto, "; ")
	} else if names := declaredPorts(ws, true); len(names) > 0 {
		f.Message += "; they declare " + strings.Join(names, ", ")
	}
	f.Symptom = fmt.Sprintf("port %d of the Service has no endpoints: sidecar clients get HTTP 503 UH \"no healthy upstream\", others get connection refused", sp.Port)
	if t := suggestTarget(sp, ws, true); t != "" && len(otherProto) == 0 {
		f.Fix = fmt.Sprintf("set targetPort to the declared port:\n  ports:\n  - port: %d\n    targetPort: %s", sp.Port, t)
	} else {
		f.Fix = fmt.Sprintf("name the container port the app listens on %q (protocol %s) in the pod template, or set targetPort to a declared port name or number:\n  ports:\n  - name: %s\n    containerPort: <port the app listens on>", name, proto, name)
	}
	p.Report(f)
}

func checkNumericTarget(p *rules.Pass, s *mesh.Service, i int, sp *corev1.ServicePort, ws []*mesh.Workload) {
	num := sp.TargetPort.IntVal
	path := []any{"spec", "ports", i, "targetPort"}
	if num == 0 {
		num = sp.Port // targetPort defaults to port
		path = []any{"spec", "ports", i, "port"}
	}
	for _, w := range ws {
		ports := servingPorts(w)
		if len(ports) == 0 {
			return // this workload declares nothing: the port may well be open
		}
		// An Istio gateway's Envoy listens on the ports of the Gateway
		// resources bound to it and on its status port 15021, none of which
		// its pod declares (the istio/gateway chart declares only 15090).
		if ok, _ := mesh.IsGatewayWorkload(w); ok {
			return
		}
		// The pod configures its process to listen there (istiod's
		// --monitoringAddr=:15014, ISTIOD_ADDR=...:15012): undeclared, not
		// wrong.
		if ok, _ := p.Model.ConfiguresPort(w, num); ok {
			return
		}
		for _, cp := range ports {
			if cp.ContainerPort == num {
				return
			}
		}
	}
	declared := declaredPorts(ws, false)
	f := rules.At(s.Object, path...)
	f.Message = fmt.Sprintf("Service %s/%s port %d sends traffic to container port %d, but the pods it selects (%s) declare only %s", s.Namespace, s.Name, sp.Port, num, rules.WorkloadList(ws, 4), strings.Join(declared, ", "))
	f.Symptom = fmt.Sprintf("unless the app also listens on undeclared port %d, connections are refused; through a sidecar, HTTP 503 \"upstream connect error or disconnect/reset before headers. reset reason: connection failure\"", num)
	if t := suggestTarget(sp, ws, false); t != "" {
		f.Fix = fmt.Sprintf("if the app listens on %s, point the Service there:\n  ports:\n  - port: %d\n    targetPort: %s\n(or, if it really listens on %d, declare containerPort: %d in the pod template)", t, sp.Port, t, num, num)
	} else {
		f.Fix = fmt.Sprintf("set targetPort to the containerPort the app listens on (%s), or declare containerPort: %d in the pod template if the app listens there", strings.Join(declared, ", "), num)
	}
	p.Report(f)
}

// servingPorts are the ports of a pod's containers and of its sidecar init
// containers (restartPolicy Always), which the endpoints controller also
// resolves named ports against.
func servingPorts(w *mesh.Workload) []corev1.ContainerPort {
	var out []corev1.ContainerPort
	for _, c := range w.PodSpec.Containers {
		out = append(out, c.Ports...)
	}
	for _, c := range w.PodSpec.InitContainers {
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			out = append(out, c.Ports...)
		}
	}
	return out
}

// protocolOf applies the Kubernetes default protocol.
func protocolOf(p corev1.Protocol) corev1.Protocol {
	if p == "" {
		return corev1.ProtocolTCP
	}
	return p
}

// declaredPorts lists the distinct declared ports, as name=number when named
// (only named ones when namedOnly).
func declaredPorts(ws []*mesh.Workload, namedOnly bool) []string {
	seen := map[string]bool{}
	var out []string
	for _, w := range ws {
		for _, cp := range servingPorts(w) {
			var s string
			switch {
			case cp.Name != "":
				s = fmt.Sprintf("%s=%d", cp.Name, cp.ContainerPort)
			case namedOnly:
				continue
			default:
				s = fmt.Sprint(cp.ContainerPort)
			}
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	sort.Strings(out)
	return out
}

// suggestTarget proposes the declared port a Service port most likely
// means: the one named like the Service port, else the only one declared.
// byName returns the port's name (named ports only), otherwise its number.
func suggestTarget(sp *corev1.ServicePort, ws []*mesh.Workload, byName bool) string {
	render := func(cp corev1.ContainerPort) string {
		if byName {
			return cp.Name
		}
		return fmt.Sprint(cp.ContainerPort)
	}
	seen := map[string]bool{}
	var only []string
	for _, w := range ws {
		for _, cp := range servingPorts(w) {
			if byName && cp.Name == "" || protocolOf(cp.Protocol) != protocolOf(sp.Protocol) {
				continue
			}
			if sp.Name != "" && cp.Name == sp.Name {
				return render(cp)
			}
			if r := render(cp); !seen[r] {
				seen[r] = true
				only = append(only, r)
			}
		}
	}
	if len(only) == 1 {
		return only[0]
	}
	return ""
}
