// Package gateway holds the rules about traffic entering the cluster: Istio
// Gateways, Kubernetes Ingress (GKE included) and the routes bound to them.
package gateway

import "github.com/meshdoctor/meshdoctor/internal/rules"

// Rules of this area, by code.
var Rules = []*rules.Rule{
	GatewayRouteBypassesMeshRules,
	GKEHealthCheckDefaultPath,
	VirtualServiceGatewayNotFound,
	GatewaySelectsNoPods,
	IngressBackendNotFound,
	GatewaySharedCertificate,
	GKEIngressClassNameIgnored,
	VirtualServiceHostNotInGateway,
	VirtualServiceInternalGateway,
	GatewayPortNotInService,
	GatewayServerConflict,
	GatewayAPICRDBelowMinimum,
}
