package mesh

import (
	"fmt"
	"sort"

	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

// GatewayAPIBundleVersionAnnotation is the Gateway API release a CRD comes
// from, on every CRD the project publishes.
const GatewayAPIBundleVersionAnnotation = "gateway.networking.k8s.io/bundle-version"

// gatewayAPICRDMinimums are the Gateway API releases istiod requires of
// CRDs it watches, by CRD name, as Istio 1.31 records them
// (pkg/config/schema/gatewayapi, used by pkg/kube/kclient/crdwatcher.go):
// an older CRD serves an older API version than the one istiod reads.
// Older Istio releases have other minimums, not modelled here.
var gatewayAPICRDMinimums = map[string]Version{
	"grpcroutes.gateway.networking.k8s.io":         {1, 1, 0},
	"backendtlspolicies.gateway.networking.k8s.io": {1, 4, 0},
	"tlsroutes.gateway.networking.k8s.io":          {1, 5, 0},
	"tcproutes.gateway.networking.k8s.io":          {1, 6, 0},
}

// gatewayAPICRDMinimumsSince is the Istio release whose minimums
// gatewayAPICRDMinimums records.
var gatewayAPICRDMinimumsSince = Version{1, 31, 0}

// IgnoredGatewayAPICRD is a Gateway API CRD of the input that istiod does
// not watch, so it processes no resource of its kind.
type IgnoredGatewayAPICRD struct {
	CRD  *manifest.Object
	Kind GroupKind // the kind the CRD defines
	// Bundle is the bundle-version annotation ("" when missing),
	// Minimum the release istiod requires.
	Bundle  string
	Minimum Version
	// Why says what is wrong with Bundle.
	Why string
}

// IgnoredGatewayAPICRDs lists the Gateway API CRDs of the input istiod
// ignores: bundle version below the minimum the Istio version requires, or
// missing or unparseable (istiod then ignores the CRD as well). Nothing is
// listed for Istio versions before the recorded minimums.
func (m *Model) IgnoredGatewayAPICRDs() []IgnoredGatewayAPICRD {
	if !m.Istio.Version.AtLeast(gatewayAPICRDMinimumsSince.Major, gatewayAPICRDMinimumsSince.Minor) {
		return nil
	}
	var out []IgnoredGatewayAPICRD
	for _, o := range m.Objects {
		if o.Kind != "CustomResourceDefinition" || o.Group() != "apiextensions.k8s.io" {
			continue
		}
		minimum, ok := gatewayAPICRDMinimums[o.Name]
		if !ok {
			continue
		}
		c := IgnoredGatewayAPICRD{CRD: o, Minimum: minimum, Bundle: o.Annotations[GatewayAPIBundleVersionAnnotation]}
		if k, ok := o.Field("spec", "names", "kind"); ok {
			c.Kind = GroupKind{"gateway.networking.k8s.io", k}
		}
		v, parsed := ParseVersion(c.Bundle)
		switch {
		case c.Bundle == "":
			c.Why = "has no " + GatewayAPIBundleVersionAnnotation + " annotation"
		case !parsed:
			c.Why = fmt.Sprintf("has bundle version %q, which is no version", c.Bundle)
		case v.Less(minimum):
			c.Why = fmt.Sprintf("is from Gateway API %s, below the %s Istio %s requires", c.Bundle, minimum.String(), m.Istio.Version.MinorString())
		default:
			continue
		}
		out = append(out, c)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].CRD.Name < out[j].CRD.Name })
	return out
}
