package gateway

import (
	"fmt"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// GatewayAPICRDBelowMinimum: a Gateway API CRD is older than the release
// istiod requires (or carries no bundle version), so istiod does not watch
// its kind and every resource of it is ignored.
var GatewayAPICRDBelowMinimum = &rules.Rule{
	Code: "MD3030", Name: "gateway-api-crd-below-minimum", Severity: finding.Warning, Area: "gateway",
	Summary: "A Gateway API CRD is older than the Gateway API release Istio requires, or has no bundle version: istiod ignores every resource of its kind.",
	Needs:   []string{"CustomResourceDefinition.apiextensions.k8s.io"},
	Since:   "0.4.0",
	IST:     []string{"IST0176"},
	Doc: rules.Doc{
		Mechanism: "istiod reads some Gateway API kinds only at the API version of a recent Gateway API release: in Istio 1.31 GRPCRoute from 1.1, BackendTLSPolicy from 1.4, TLSRoute from 1.5 and TCPRoute from 1.6 (pkg/config/schema/gatewayapi). Before watching such a kind it reads the gateway.networking.k8s.io/bundle-version annotation of the CRD and skips the CRD when the release is older, or when the annotation is missing or is no version (pkg/kube/kclient/crdwatcher.go, which only logs it): an older CRD serves an older API version, which istiod does not read. meshdoctor reports such CRDs of the input when the Istio version is 1.31 or later (the minimums of older releases are not modelled), including a missing or unparseable annotation, which istioctl analyze (IST0176) skips although istiod ignores the CRD then too. meshdoctor reads CRDs from manifests only (a Gateway API install file beside the configuration): the live loader does not list every CRD of a cluster for one annotation.",
		Symptom:   "Routes and policies of that kind (TLSRoutes, TCPRoutes, GRPCRoutes, BackendTLSPolicies) are accepted by the API server but have no effect: the Gateway does not route them, their status stays empty, and istiod logs a warning that the CRD is below the minimum version.",
		Fix:       "Install the Gateway API CRDs of a release at least the minimum (the experimental channel for TLSRoute and TCPRoute), e.g. kubectl apply --server-side -f https://github.com/kubernetes-sigs/gateway-api/releases/download/<version>/experimental-install.yaml, then check the routes' status.",
		Before:    "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: tlsroutes.gateway.networking.k8s.io\n  annotations:\n    gateway.networking.k8s.io/bundle-version: v1.3.0\n    gateway.networking.k8s.io/channel: experimental\nspec:\n  group: gateway.networking.k8s.io\n  names: {kind: TLSRoute, plural: tlsroutes}\n  scope: Namespaced\n",
		After:     "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: tlsroutes.gateway.networking.k8s.io\n  annotations:\n    gateway.networking.k8s.io/bundle-version: v1.5.0\n    gateway.networking.k8s.io/channel: experimental\nspec:\n  group: gateway.networking.k8s.io\n  names: {kind: TLSRoute, plural: tlsroutes}\n  scope: Namespaced\n",
		Sources: []string{
			"https://istio.io/latest/docs/reference/config/analysis/ist0176/",
			"https://istio.io/latest/docs/tasks/traffic-management/ingress/gateway-api/",
			"https://gateway-api.sigs.k8s.io/guides/#installing-gateway-api",
		},
	},
	Run: runGatewayAPICRDBelowMinimum,
}

func runGatewayAPICRDBelowMinimum(p *rules.Pass) {
	m := p.Model
	for _, c := range m.IgnoredGatewayAPICRDs() {
		f := rules.At(c.CRD, "metadata", "name")
		if c.Bundle != "" {
			f = rules.At(c.CRD, "metadata", "annotations", mesh.GatewayAPIBundleVersionAnnotation)
		}
		kind := c.Kind.Kind
		if kind == "" {
			kind = "resource"
		}
		f.Message = fmt.Sprintf("CustomResourceDefinition %s %s: istiod (Istio %s) does not watch it, so every %s is ignored", c.CRD.Name, c.Why, m.Istio.Version.MinorString(), kind)
		if c.Kind.Kind != "" && m.Has(c.Kind.Kind+"."+c.Kind.Group) {
			f.Message += fmt.Sprintf(", including the %ss of the input", c.Kind.Kind)
		}
		if !m.Istio.VersionKnown {
			f.Message += " (Istio version " + m.Istio.VersionSource + ")"
		}
		f.Symptom = fmt.Sprintf("%ss are accepted by the API server but do nothing: gateways do not route them and their status stays empty", kind)
		f.Fix = fmt.Sprintf("install the Gateway API CRDs of release %s or later:\nkubectl apply --server-side -f https://github.com/kubernetes-sigs/gateway-api/releases/download/v%s/experimental-install.yaml", c.Minimum.String(), c.Minimum.String())
		p.Report(f)
	}
}
