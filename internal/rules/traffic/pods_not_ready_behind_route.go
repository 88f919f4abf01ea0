package traffic

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// PodsNotReadyBehindRoute: a route's destination has endpoints, and none of
// them is ready. Only live state (EndpointSlices, pod status) can say so.
var PodsNotReadyBehindRoute = &rules.Rule{
	Code: "MD1020", Name: "pods-not-ready-behind-route", Severity: finding.Error, Area: "traffic",
	Summary: "A VirtualService routes to a destination whose endpoints are all not ready.",
	Needs:   []string{"VirtualService"},
	Since:   "0.1.0",
	Doc: rules.Doc{
		Mechanism: "Istio builds a destination's Envoy endpoints from the Service's EndpointSlices and, like kube-proxy, leaves out endpoints whose ready condition is false (pods failing their readiness probe, starting, or terminating). When every endpoint of a route's destination (of its subset, for a subset route) is not ready, the Envoy cluster exists but has no healthy host. meshdoctor reads the EndpointSlices of the destination Service, or the readiness of the live pods its selector picks when the input has no EndpointSlices; a Service with publishNotReadyAddresses is not checked.",
		Symptom:   "Requests on the route fail with HTTP 503 \"no healthy upstream\" and response flag UH in the proxy's access log; with weighted routes, that share of requests fails.",
		Fix:       "Find out why the pods are not ready (`kubectl describe pod`: readiness probe failures, crash loops, pending scheduling) and fix that, or shift the route's weight to a version whose pods are ready until it is fixed.",
		Before:    "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\nspec:\n  hosts: [reviews]\n  http:\n  - route:\n    - destination:\n        host: reviews\n        subset: v2   # every v2 pod fails its readiness probe\n",
		After:     "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\nspec:\n  hosts: [reviews]\n  http:\n  - route:\n    - destination:\n        host: reviews\n        subset: v1   # back to ready pods until v2 is fixed\n",
		Sources: []string{
			"https://kubernetes.io/docs/concepts/services-networking/endpoint-slices/#conditions",
			"https://istio.io/latest/docs/ops/common-problems/network-issues/#503-errors-after-setting-destination-rule",
			"https://www.envoyproxy.io/docs/envoy/latest/configuration/observability/access_log/usage#config-access-log-format-response-flags",
		},
	},
	Run: runPodsNotReadyBehindRoute,
}

// endpoint is one backend of a Service, as the endpoint controller (or pod
// status) says.
type endpoint struct {
	name   string // pod name, or the address
	ready  bool
	labels map[string]string // nil when the pod is not in the input
}

func runPodsNotReadyBehindRoute(p *rules.Pass) {
	m := p.Model
	pods := map[string]*mesh.Workload{} // namespace/name of live pods
	for _, w := range m.Workloads {
		for _, pod := range append([]*mesh.Workload{w}, w.Instances...) {
			if pod.Pod != nil && pod.Pod.Status.Phase != "" {
				pods[pod.Namespace+"/"+pod.Name] = pod
			}
		}
	}
	slices := map[string][]*discoveryv1.EndpointSlice{} // namespace/service
	sliceNames := map[string][]string{}
	for _, o := range m.Objects {
		if s, ok := o.Typed.(*discoveryv1.EndpointSlice); ok {
			if svc := o.Labels[discoveryv1.LabelServiceName]; svc != "" {
				k := o.Namespace + "/" + svc
				slices[k] = append(slices[k], s)
				sliceNames[k] = append(sliceNames[k], o.Name)
			}
		}
	}
	for _, vs := range m.VirtualServices {
		for _, d := range m.Destinations(vs) {
			if d.Mirror {
				continue // mirrored requests' responses are discarded
			}
			svc := m.ServiceByHost(d.Host)
			if svc == nil || svc.Spec.PublishNotReadyAddresses {
				continue
			}
			var subsetLabels map[string]string
			if name := d.Destination.Subset; name != "" {
				s, _ := mesh.Subset(m.DestinationRuleFor(vs.Namespace, d.Host), name)
				if s == nil {
					continue // subset-not-found speaks for it
				}
				subsetLabels = s.Labels
			}
			key := svc.Namespace + "/" + svc.Name
			var eps []endpoint
			source := ""
			if ss := slices[key]; len(ss) > 0 {
				source = "EndpointSlice " + svc.Namespace + "/" + strings.Join(sliceNames[key], ", ")
				eps = sliceEndpoints(ss, pods, svc.Namespace)
			} else {
				source = "pod status"
				eps = podEndpoints(m, svc)
			}
			if len(subsetLabels) > 0 {
				var in []endpoint
				for _, e := range eps {
					if e.labels == nil {
						in = nil
						break // a backend we cannot place in or out of the subset
					}
					if mesh.Matches(subsetLabels, e.labels) {
						in = append(in, e)
					}
				}
				eps = in
			}
			if len(eps) == 0 {
				continue
			}
			var names []string
			for _, e := range eps {
				if e.ready {
					names = nil
					break
				}
				names = append(names, e.name)
			}
			if len(names) == 0 {
				continue
			}
			sort.Strings(names)
			target := d.Host
			if d.Destination.Subset != "" {
				target += " subset " + d.Destination.Subset
			}
			f := rules.At(vs.Object, d.FieldPath("host")...)
			f.Message = fmt.Sprintf("VirtualService %s/%s routes to %s, but none of its %d endpoints is ready (%s): %s",
				vs.Namespace, vs.Name, target, len(eps), source, strings.Join(names, ", "))
			f.Symptom = fmt.Sprintf("requests on this route to %s get HTTP 503 \"no healthy upstream\" (response flag UH)", target)
			f.Fix = fmt.Sprintf("find why the pods are not ready (kubectl describe pod -n %s %s: readiness probe, crash loop, scheduling) and fix it, or move this route's weight to ready pods until then", svc.Namespace, names[0])
			p.Report(f)
		}
	}
}

func sliceEndpoints(ss []*discoveryv1.EndpointSlice, pods map[string]*mesh.Workload, ns string) []endpoint {
	var out []endpoint
	for _, s := range ss {
		for _, e := range s.Endpoints {
			ep := endpoint{ready: e.Conditions.Ready == nil || *e.Conditions.Ready}
			if len(e.Addresses) > 0 {
				ep.name = e.Addresses[0]
			}
			if r := e.TargetRef; r != nil && r.Kind == "Pod" {
				ep.name = "pod " + r.Name
				if pod := pods[ns+"/"+r.Name]; pod != nil {
					ep.labels = pod.Labels
				}
			}
			out = append(out, ep)
		}
	}
	return out
}

// podEndpoints are the live, not terminating pods a Service selects.
func podEndpoints(m *mesh.Model, svc *mesh.Service) []endpoint {
	var out []endpoint
	for _, w := range m.ServiceWorkloads(svc) {
		for _, pod := range append([]*mesh.Workload{w}, w.Instances...) {
			if pod.Pod == nil || pod.Pod.DeletionTimestamp != nil {
				continue
			}
			switch pod.Pod.Status.Phase {
			case corev1.PodRunning, corev1.PodPending:
			default:
				continue // manifests (no status) and finished pods
			}
			ready := false
			for _, c := range pod.Pod.Status.Conditions {
				if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
					ready = true
				}
			}
			out = append(out, endpoint{name: "pod " + pod.Name, ready: ready, labels: pod.Labels})
		}
	}
	return out
}
