package mesh

import "strings"

// IsGatewayWorkload reports whether w runs an Istio gateway (Envoy started
// as "proxy router") rather than an application with a sidecar, and why.
// Istio applies Gateway resources only to such proxies.
//
// The signals are what Istio's own installers put on gateway pods: the
// istio=ingressgateway|egressgateway and app=istio-*gateway labels of
// istioctl/Helm installs, the inject.istio.io/templates=gateway annotation
// of the istio/gateway chart (image "auto"), the gateway-name labels of
// gateways deployed for Gateway API resources, the "router" argument of
// a proxyv2 container, and an istio-proxy container with no other beside it.
// https://istio.io/latest/docs/setup/additional-setup/gateway/
func IsGatewayWorkload(w *Workload) (bool, string) {
	if v := w.Labels["istio"]; strings.Contains(v, "gateway") {
		return true, "label istio=" + v
	}
	if v := w.Labels["app"]; v == "istio-ingressgateway" || v == "istio-egressgateway" {
		return true, "label app=" + v
	}
	if v := w.Annotations["inject.istio.io/templates"]; strings.Contains(v, "gateway") {
		return true, "annotation inject.istio.io/templates=" + v
	}
	for _, k := range []string{"gateway.networking.k8s.io/gateway-name", "istio.io/gateway-name"} {
		if v := w.Labels[k]; v != "" {
			return true, "label " + k + "=" + v
		}
	}
	for _, c := range w.PodSpec.Containers {
		if !strings.Contains(c.Image, "proxyv2") && c.Name != "istio-proxy" {
			continue
		}
		for _, a := range c.Args {
			if a == "router" {
				return true, "container " + c.Name + " runs the proxy as a router"
			}
		}
	}
	// A sidecar always runs beside an application container; a pod whose
	// only container is istio-proxy is a standalone proxy, a gateway (the
	// istio/gateway chart's pod spec, or a hand-written gateway deployment).
	if cs := w.PodSpec.Containers; len(cs) == 1 && cs[0].Name == "istio-proxy" {
		return true, "its only container is istio-proxy (no application beside the proxy)"
	}
	return false, ""
}

// MayBeProxy reports whether w could run an Envoy of Istio's in a form the
// heuristics of IsGatewayWorkload do not recognise (a custom gateway
// deployment): anything with an istio label, an istio-proxy container or a
// proxy image. Rules claiming "this is not a gateway" must exclude these.
func MayBeProxy(w *Workload) bool {
	if ok, _ := IsGatewayWorkload(w); ok {
		return true
	}
	if w.Labels["istio"] != "" {
		return true
	}
	for _, c := range w.PodSpec.Containers {
		if c.Name == "istio-proxy" || strings.Contains(c.Image, "proxyv2") || strings.Contains(c.Image, "envoy") {
			return true
		}
	}
	return false
}

// SharedGatewayNamespace reports whether ns is where an installation's
// shared gateways run: the root namespace (istio-system) or another istio-*
// namespace (istio-ingress, as Istio's gateway installation docs use).
func (m *Model) SharedGatewayNamespace(ns string) bool {
	return ns == m.Mesh.RootNamespace || strings.HasPrefix(ns, "istio-")
}

// SharedGatewaySelector reports whether sel selects a gateway Istio's
// installers deploy (istio: ingressgateway, egressgateway, eastwestgateway,
// or ingress/egress as the istio/gateway chart names its release's pods;
// app: istio-ingressgateway…). Such a gateway is installed apart from the
// applications whose Gateways select it, usually in a shared namespace.
// https://istio.io/latest/docs/setup/additional-setup/gateway/
func SharedGatewaySelector(sel map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		switch {
		case k == "istio" && (v == "ingressgateway" || v == "egressgateway" || v == "eastwestgateway" || v == "ingress" || v == "egress"):
		case k == "app" && (v == "istio-ingressgateway" || v == "istio-egressgateway" || v == "istio-eastwestgateway"):
		default:
			return false
		}
	}
	return true
}

// GatewayWorkloads lists the gateway workloads in the input (found once by
// Build; callers must not modify the list).
func (m *Model) GatewayWorkloads() []*Workload { return m.gatewayWorkloads }

// GatewaySelection is what an Istio Gateway's selector picks.
type GatewaySelection struct {
	// Workloads are all workloads the selector matches; Gateways the
	// subset that are gateway proxies.
	Workloads []*Workload
	Gateways  []*Workload
	// Scoped is true when istiod only looks in the Gateway's own
	// namespace (PILOT_SCOPE_GATEWAY_TO_NAMESPACE), with why.
	Scoped    bool
	ScopedWhy string
}

// GatewayPods answers "which proxies does this Gateway configure". Istio
// matches spec.selector against workloads in every namespace, unless istiod
// runs with PILOT_SCOPE_GATEWAY_TO_NAMESPACE=true, which restricts it to the
// Gateway's namespace.
// https://istio.io/latest/docs/reference/config/networking/gateway/#Gateway
// An empty selector is not resolved here (callers decide what it means).
func (m *Model) GatewayPods(g *Gateway) GatewaySelection {
	var s GatewaySelection
	flag := m.Istio.Flag("PILOT_SCOPE_GATEWAY_TO_NAMESPACE")
	if flag.On {
		s.Scoped, s.ScopedWhy = true, flag.Why
		s.Workloads = m.Select(g.Namespace, g.Spec.Selector)
	} else {
		s.Workloads = m.SelectAnyNamespace(g.Spec.Selector)
	}
	for _, w := range s.Workloads {
		if ok, _ := IsGatewayWorkload(w); ok {
			s.Gateways = append(s.Gateways, w)
		}
	}
	return s
}
