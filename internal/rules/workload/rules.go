// Package workload holds the rules about what runs in meshed pods:
// application protocols, init containers and proxies such as nginx.
package workload

import "github.com/meshdoctor/meshdoctor/internal/rules"

// Rules of this area, by code.
var Rules = []*rules.Rule{
	NginxUpstreamHTTP10,
	ServerFirstProtocolSniffed,
	ServiceEntryServerFirstSniffed,
	InitContainerBeforeProxy,
	SidecarMissing,
	ProxyVersionSkew,
	AnnotationUnknown,
	AnnotationMisplaced,
	AnnotationInvalidValue,
	AnnotationDeprecated,
	NamespaceInjectionLabelConflict,
	NamespaceNotInjected,
	ImageAutoWithoutInjection,
	ApplicationUID1337,
	ProxyImageOutdated,
	InjectorWebhooksOverlap,
	IstioWebhookServiceNotFound,
	ExternalIstiodAddress,
	NegativeStatusCondition,
	PolicySelectorIgnoredByK8sGateway,
	SidecarResourceAmbient,
	MeshNetworksUnknownRegistry,
	PortProtocolUnsupported,
}
