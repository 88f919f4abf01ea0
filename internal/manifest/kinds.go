package manifest

import (
	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"google.golang.org/protobuf/reflect/protoreflect"
	istioext "istio.io/client-go/pkg/apis/extensions/v1alpha1"
	istionet "istio.io/client-go/pkg/apis/networking/v1"
	istionetalpha "istio.io/client-go/pkg/apis/networking/v1alpha3"
	istionetbeta "istio.io/client-go/pkg/apis/networking/v1beta1"
	istiosec "istio.io/client-go/pkg/apis/security/v1"
	istiotel "istio.io/client-go/pkg/apis/telemetry/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// GroupKind identifies a kind independently of its version: every served
// version of an Istio kind decodes into the same Go type (their specs share
// one protobuf message), and rules never care which version was written.
type GroupKind struct{ Group, Kind string }

// kind describes how to decode one known kind.
type kind struct {
	new       func() any
	clustered bool
	spec      func(typed any) protoreflect.Message // Istio specs: schema for unknown-field checks
}

func istio[T any, PT interface{ *T }](spec func(PT) protoreflect.Message) kind {
	return kind{
		new:  func() any { return PT(new(T)) },
		spec: func(o any) protoreflect.Message { return spec(o.(PT)) },
	}
}

func typed[T any](clustered bool) kind {
	return kind{new: func() any { return new(T) }, clustered: clustered}
}

var kinds = map[GroupKind]kind{
	{"", "Namespace"}:      typed[corev1.Namespace](true),
	{"", "Pod"}:            typed[corev1.Pod](false),
	{"", "Service"}:        typed[corev1.Service](false),
	{"", "ConfigMap"}:      typed[corev1.ConfigMap](false),
	{"", "Secret"}:         typed[corev1.Secret](false),
	{"", "ServiceAccount"}: typed[corev1.ServiceAccount](false),
	//lint:ignore SA1019 deprecated, but manifests and older clusters still hold Endpoints
	{"", "Endpoints"}:                     typed[corev1.Endpoints](false),
	{"apps", "Deployment"}:                typed[appsv1.Deployment](false),
	{"apps", "StatefulSet"}:               typed[appsv1.StatefulSet](false),
	{"apps", "DaemonSet"}:                 typed[appsv1.DaemonSet](false),
	{"apps", "ReplicaSet"}:                typed[appsv1.ReplicaSet](false),
	{"batch", "Job"}:                      typed[batchv1.Job](false),
	{"batch", "CronJob"}:                  typed[batchv1.CronJob](false),
	{"discovery.k8s.io", "EndpointSlice"}: typed[discoveryv1.EndpointSlice](false),
	{"networking.k8s.io", "Ingress"}:      typed[networkingv1.Ingress](false),
	{"networking.k8s.io", "IngressClass"}: typed[networkingv1.IngressClass](true),
	// Old manifests still say extensions/v1beta1; the fields rules read
	// (class annotation, backend service name and port) decode the same.
	{"extensions", "Ingress"}: typed[networkingv1.Ingress](false),
	// extensions/v1beta1 workloads (removed in Kubernetes 1.16) hold the
	// same pod template as apps/v1; the API server defaulted their
	// selector to the template's labels, and the model reads workloads
	// by their template alone.
	{"extensions", "Deployment"}: typed[appsv1.Deployment](false),
	{"extensions", "DaemonSet"}:  typed[appsv1.DaemonSet](false),
	{"extensions", "ReplicaSet"}: typed[appsv1.ReplicaSet](false),

	{"networking.istio.io", "VirtualService"}:  istio(func(o *istionet.VirtualService) protoreflect.Message { return o.Spec.ProtoReflect() }),
	{"networking.istio.io", "DestinationRule"}: istio(func(o *istionet.DestinationRule) protoreflect.Message { return o.Spec.ProtoReflect() }),
	{"networking.istio.io", "Gateway"}:         istio(func(o *istionet.Gateway) protoreflect.Message { return o.Spec.ProtoReflect() }),
	{"networking.istio.io", "ServiceEntry"}:    istio(func(o *istionet.ServiceEntry) protoreflect.Message { return o.Spec.ProtoReflect() }),
	{"networking.istio.io", "Sidecar"}:         istio(func(o *istionet.Sidecar) protoreflect.Message { return o.Spec.ProtoReflect() }),
	{"networking.istio.io", "WorkloadEntry"}:   istio(func(o *istionet.WorkloadEntry) protoreflect.Message { return o.Spec.ProtoReflect() }),
	// EnvoyFilter and ProxyConfig have no v1 yet; v1alpha3/v1beta1 is all
	// that is served.
	{"networking.istio.io", "EnvoyFilter"}:         istio(func(o *istionetalpha.EnvoyFilter) protoreflect.Message { return o.Spec.ProtoReflect() }),
	{"networking.istio.io", "ProxyConfig"}:         istio(func(o *istionetbeta.ProxyConfig) protoreflect.Message { return o.Spec.ProtoReflect() }),
	{"telemetry.istio.io", "Telemetry"}:            istio(func(o *istiotel.Telemetry) protoreflect.Message { return o.Spec.ProtoReflect() }),
	{"extensions.istio.io", "WasmPlugin"}:          istio(func(o *istioext.WasmPlugin) protoreflect.Message { return o.Spec.ProtoReflect() }),
	{"security.istio.io", "PeerAuthentication"}:    istio(func(o *istiosec.PeerAuthentication) protoreflect.Message { return o.Spec.ProtoReflect() }),
	{"security.istio.io", "AuthorizationPolicy"}:   istio(func(o *istiosec.AuthorizationPolicy) protoreflect.Message { return o.Spec.ProtoReflect() }),
	{"security.istio.io", "RequestAuthentication"}: istio(func(o *istiosec.RequestAuthentication) protoreflect.Message { return o.Spec.ProtoReflect() }),

	{"gateway.networking.k8s.io", "Gateway"}:        typed[gwv1.Gateway](false),
	{"gateway.networking.k8s.io", "GatewayClass"}:   typed[gwv1.GatewayClass](true),
	{"gateway.networking.k8s.io", "HTTPRoute"}:      typed[gwv1.HTTPRoute](false),
	{"gateway.networking.k8s.io", "GRPCRoute"}:      typed[gwv1.GRPCRoute](false),
	{"gateway.networking.k8s.io", "TCPRoute"}:       typed[gwv1.TCPRoute](false),
	{"gateway.networking.k8s.io", "TLSRoute"}:       typed[gwv1.TLSRoute](false),
	{"gateway.networking.k8s.io", "ReferenceGrant"}: typed[gwv1.ReferenceGrant](false),

	// Istio's injector and validator are webhooks: which namespaces and
	// revisions they select decides whether pods get a proxy.
	{"admissionregistration.k8s.io", "MutatingWebhookConfiguration"}:   typed[admissionv1.MutatingWebhookConfiguration](true),
	{"admissionregistration.k8s.io", "ValidatingWebhookConfiguration"}: typed[admissionv1.ValidatingWebhookConfiguration](true),

	// GKE's BackendConfig has no Go module small enough to depend on for a
	// few fields; BackendConfig below declares exactly what rules read.
	{"cloud.google.com", "BackendConfig"}: typed[BackendConfig](false),
}

// clusterScoped lists kinds without a namespace beyond the typed ones, so an
// unknown cluster-scoped kind is not given the default namespace.
var clusterScoped = map[string]bool{
	"Namespace": true, "ClusterRole": true, "ClusterRoleBinding": true, "CustomResourceDefinition": true,
	"MutatingWebhookConfiguration": true, "ValidatingWebhookConfiguration": true, "PersistentVolume": true,
	"StorageClass": true, "PriorityClass": true, "GatewayClass": true, "IngressClass": true, "Node": true,
	"APIService": true, "PodSecurityPolicy": true,
}

// Known reports whether the loader decodes group/kind into a Go type.
func Known(group, kindName string) bool {
	_, ok := kinds[GroupKind{group, kindName}]
	return ok
}

// ClusterScoped reports a kind without a namespace (Namespace,
// GatewayClass, ClusterRole…), by kind name alone as users write it.
func ClusterScoped(kindName string) bool {
	if clusterScoped[kindName] {
		return true
	}
	for gk, k := range kinds {
		if gk.Kind == kindName && k.clustered {
			return true
		}
	}
	return false
}

// BackendConfig is the part of GKE's cloud.google.com BackendConfig that
// decides the load balancer health check.
// See https://cloud.google.com/kubernetes-engine/docs/how-to/ingress-configuration#direct_health
type BackendConfig struct {
	Spec struct {
		HealthCheck *struct {
			Type        *string `json:"type,omitempty"`
			RequestPath *string `json:"requestPath,omitempty"`
			Port        *int64  `json:"port,omitempty"`
		} `json:"healthCheck,omitempty"`
	} `json:"spec"`
}

// IstioSpec is the protobuf message of an Istio object's spec, for callers
// that walk it by schema (deprecated fields, field options); nil for other
// kinds and for objects that failed to decode.
func IstioSpec(o *Object) protoreflect.Message {
	k, ok := kinds[GroupKind{o.Group(), o.Kind}]
	if !ok || k.spec == nil || o.Typed == nil {
		return nil
	}
	return k.spec(o.Typed)
}
