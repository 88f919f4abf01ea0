package mesh

import (
	"encoding/json"

	networkingv1 "k8s.io/api/networking/v1"
	networkingv1beta1 "k8s.io/api/networking/v1beta1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

// RemovedAPI describes an API version (or a whole kind) that Kubernetes or
// Istio no longer serves: applying a manifest that uses it fails, and a
// cluster that still holds such objects ignores them after the upgrade.
type RemovedAPI struct {
	APIVersion string // as written, e.g. extensions/v1beta1
	Kind       string
	// Project and Release say who removed it and when ("Kubernetes",
	// "1.22").
	Project, Release string
	// Replacement is what to write instead; Change what differs.
	Replacement, Change string
	// AnalyzedAs is the API version meshdoctor analyzes the object as
	// (its meaning is unchanged there), or "" when it is not analyzed.
	AnalyzedAs string
	Source     string
	// ClusterScoped kinds have no namespace (the loader, not knowing a
	// removed kind, may have given it one).
	ClusterScoped bool
}

// removedAPIs lists the removed APIs meshdoctor recognises, by apiVersion
// and kind.
// Kubernetes: https://kubernetes.io/docs/reference/using-api/deprecation-guide/
// Istio 1.6 removed the v1alpha1 authentication (MeshPolicy, Policy) and
// RBAC (ServiceRole, ServiceRoleBinding, RbacConfig, ClusterRbacConfig)
// APIs: https://istio.io/latest/news/releases/1.6.x/announcing-1.6/upgrade-notes/
var removedAPIs = map[[2]string]RemovedAPI{}

func init() {
	const k8sGuide = "https://kubernetes.io/docs/reference/using-api/deprecation-guide/"
	const istio16 = "https://istio.io/latest/news/releases/1.6.x/announcing-1.6/upgrade-notes/"
	ingress := "networking.k8s.io/v1 Ingress"
	ingressChange := "backend.serviceName/servicePort become backend.service.name and backend.service.port.number (or .name), spec.backend becomes spec.defaultBackend, and every path needs a pathType (Prefix, Exact or ImplementationSpecific)"
	add := func(r RemovedAPI) { removedAPIs[[2]string{r.APIVersion, r.Kind}] = r }
	for _, v := range []string{"extensions/v1beta1", "networking.k8s.io/v1beta1"} {
		add(RemovedAPI{APIVersion: v, Kind: "Ingress", Project: "Kubernetes", Release: "1.22", Replacement: ingress, Change: ingressChange,
			AnalyzedAs: "networking.k8s.io/v1", Source: k8sGuide + "#ingress-v122"})
	}
	add(RemovedAPI{APIVersion: "networking.k8s.io/v1beta1", Kind: "IngressClass", Project: "Kubernetes", Release: "1.22", ClusterScoped: true,
		Replacement: "networking.k8s.io/v1 IngressClass", AnalyzedAs: "networking.k8s.io/v1", Source: k8sGuide + "#ingressclass-v122"})
	for _, v := range []string{"extensions/v1beta1", "apps/v1beta1", "apps/v1beta2"} {
		for _, k := range []string{"Deployment", "DaemonSet", "ReplicaSet", "StatefulSet"} {
			if v == "extensions/v1beta1" && k == "StatefulSet" || v == "apps/v1beta1" && (k == "DaemonSet" || k == "ReplicaSet") {
				continue // never served there
			}
			r := RemovedAPI{APIVersion: v, Kind: k, Project: "Kubernetes", Release: "1.16", Replacement: "apps/v1 " + k,
				Change: "spec.selector is required and must match the pod template's labels", Source: k8sGuide + "#v1-16"}
			// The pod template is unchanged; the selector the old
			// versions defaulted from the template's labels is not
			// something the model reads.
			r.AnalyzedAs = "apps/v1"
			add(r)
		}
	}
	add(RemovedAPI{APIVersion: "batch/v1beta1", Kind: "CronJob", Project: "Kubernetes", Release: "1.25",
		Replacement: "batch/v1 CronJob", AnalyzedAs: "batch/v1", Source: k8sGuide + "#cronjob-v125"})
	add(RemovedAPI{APIVersion: "authentication.istio.io/v1alpha1", Kind: "MeshPolicy", Project: "Istio", Release: "1.6", ClusterScoped: true,
		Replacement: "security.istio.io/v1 PeerAuthentication in the root namespace (istio-system) without a selector",
		Change:      "peers: [{mtls: {}}] becomes spec.mtls.mode: STRICT (PERMISSIVE for mode PERMISSIVE); JWT origins become a RequestAuthentication plus an AuthorizationPolicy",
		Source:      istio16})
	add(RemovedAPI{APIVersion: "authentication.istio.io/v1alpha1", Kind: "Policy", Project: "Istio", Release: "1.6",
		Replacement: "security.istio.io/v1 PeerAuthentication (peers) and RequestAuthentication (origins)",
		Change:      "targets become a workload selector on pod labels; peers: [{mtls: {}}] becomes spec.mtls.mode: STRICT; origins' jwt settings move to RequestAuthentication.spec.jwtRules, and requiring a token takes an AuthorizationPolicy",
		Source:      istio16})
	for _, k := range []string{"ServiceRole", "ServiceRoleBinding", "RbacConfig", "ClusterRbacConfig"} {
		add(RemovedAPI{APIVersion: "rbac.istio.io/v1alpha1", Kind: k, Project: "Istio", Release: "1.6", ClusterScoped: k == "ClusterRbacConfig",
			Replacement: "security.istio.io/v1 AuthorizationPolicy",
			Change:      "a ServiceRole and its bindings become the rules of an AuthorizationPolicy selecting the workloads; RbacConfig's enforcement mode has no equivalent (AuthorizationPolicy applies as soon as it exists)",
			Source:      istio16})
	}
}

// RemovedAPIOf says whether o is written in an API version that is no
// longer served, and what replaces it.
func RemovedAPIOf(o *manifest.Object) (RemovedAPI, bool) {
	r, ok := removedAPIs[[2]string{o.APIVersion, o.Kind}]
	return r, ok
}

// legacyIngressSpec reads the spec of an extensions/v1beta1 or
// networking.k8s.io/v1beta1 Ingress as the networking.k8s.io/v1 spec it
// means (the API server's own conversion: serviceName/servicePort become
// service.name/port, backend becomes defaultBackend). The loader decodes
// every Ingress into the v1 type, which drops the old backend fields.
func legacyIngressSpec(o *manifest.Object) (*networkingv1.IngressSpec, bool) {
	raw := o.FieldJSON("spec")
	if raw == nil {
		return nil, false
	}
	var old networkingv1beta1.IngressSpec
	if json.Unmarshal(raw, &old) != nil {
		return nil, false
	}
	spec := &networkingv1.IngressSpec{IngressClassName: old.IngressClassName, DefaultBackend: legacyBackend(old.Backend)}
	for _, t := range old.TLS {
		spec.TLS = append(spec.TLS, networkingv1.IngressTLS{Hosts: t.Hosts, SecretName: t.SecretName})
	}
	for _, r := range old.Rules {
		nr := networkingv1.IngressRule{Host: r.Host}
		if r.HTTP != nil {
			nr.HTTP = &networkingv1.HTTPIngressRuleValue{}
			for _, p := range r.HTTP.Paths {
				pt := (*networkingv1.PathType)(p.PathType)
				if pt == nil {
					// v1beta1's default.
					it := networkingv1.PathTypeImplementationSpecific
					pt = &it
				}
				nb := legacyBackend(&p.Backend)
				if nb == nil {
					nb = &networkingv1.IngressBackend{}
				}
				nr.HTTP.Paths = append(nr.HTTP.Paths, networkingv1.HTTPIngressPath{Path: p.Path, PathType: pt, Backend: *nb})
			}
		}
		spec.Rules = append(spec.Rules, nr)
	}
	return spec, true
}

func legacyBackend(b *networkingv1beta1.IngressBackend) *networkingv1.IngressBackend {
	if b == nil || (b.ServiceName == "" && b.Resource == nil) {
		return nil
	}
	if b.Resource != nil {
		return &networkingv1.IngressBackend{Resource: b.Resource}
	}
	port := networkingv1.ServiceBackendPort{Number: b.ServicePort.IntVal}
	if b.ServicePort.Type == intstr.String {
		port = networkingv1.ServiceBackendPort{Name: b.ServicePort.StrVal}
	}
	return &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: b.ServiceName, Port: port}}
}
