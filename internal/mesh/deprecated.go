package mesh

import (
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

// DeprecatedField is a field (or enum value) an Istio object sets that the
// Istio API marks deprecated.
type DeprecatedField struct {
	// Path from the object's root in JSON names ("spec", "http", 0,
	// "mirrorPercent"), for the finding's position.
	Path []any
	// Field is the proto name ("istio.networking.v1alpha3.HTTPRoute.mirror_percent"),
	// or for an enum value the value's full name.
	Field string
	// Value is the deprecated enum value as written, when it is one.
	Value string
	// Known is what meshdoctor knows of it beyond the schema's flag; the
	// zero value (only the flag) means Istio still reads it.
	Known DeprecationKnown
}

// DeprecationKnown is what one deprecated field does in the Istio release
// meshdoctor models, and what replaces it.
type DeprecationKnown struct {
	// Replacement is the field to write instead, as a user writes it; ""
	// when there is none (remove the field).
	Replacement string
	// Ignored: istiod no longer reads the field, so the setting has no
	// effect at all; Effect says what happens instead.
	Ignored bool
	Effect  string
	Source  string // where the behaviour is decided
}

// deprecations is what meshdoctor knows of each deprecated field, by proto
// name. The schema (istio.io/api) only flags a field; whether istiod still
// honours it was read off pilot's translation (istio 1.31 source paths
// cited).
var deprecations = map[protoreflect.FullName]DeprecationKnown{
	"istio.networking.v1alpha3.OutlierDetection.consecutive_errors": {
		Replacement: "consecutiveGatewayErrors (it counted 502, 503 and 504) or consecutive5xxErrors",
		Ignored:     true,
		Effect:      "istiod does not translate it: Envoy's own default applies, ejecting a host after 5 consecutive 5xx responses, whatever the value written here",
		Source:      "pilot/pkg/networking/core/cluster_traffic_policy.go applyOutlierDetection reads only consecutive5xxErrors and consecutiveGatewayErrors",
	},
	"istio.networking.v1alpha3.Port.target_port": {
		Ignored: true,
		Effect:  "istiod ignores it: the proxy listens on port.number, a Gateway's Service maps its own ports to that",
		Source:  "pilot/pkg/networking/core (no reader of Port.target_port for Gateway or Sidecar servers)",
	},
	"istio.networking.v1alpha3.HTTPRoute.mirror_percent": {
		Replacement: "mirrorPercentage: {value: N}",
		Source:      "pilot/pkg/networking/core/route/route.go MirrorPercent still reads it when mirrorPercentage is unset",
	},
	"istio.networking.v1alpha3.CorsPolicy.allow_origin": {
		Replacement: "allowOrigins: [{exact: ORIGIN}]",
		Source:      "pilot/pkg/networking/core/route/route.go TranslateCORSPolicy reads allowOrigin as exact matches when allowOrigins is unset",
	},
	"istio.networking.v1alpha3.HTTPFaultInjection.Delay.percent": {
		Replacement: "percentage: {value: N}",
		Source:      "pilot/pkg/networking/core/route/route.go TranslateFault converts the integer percent",
	},
	"istio.networking.v1alpha3.LoadBalancerSettings.ConsistentHashLB.minimum_ring_size": {
		Replacement: "ringHash: {minimumRingSize: N}",
		Source:      "pilot/pkg/networking/core/cluster_traffic_policy.go ApplyRingHashLoadBalancer reads it when ringHash is unset",
	},
	"istio.networking.v1alpha3.LoadBalancerSettings.LEAST_CONN": {
		Replacement: "LEAST_REQUEST (the same Envoy policy)",
		Source:      "pilot/pkg/networking/core/cluster_traffic_policy.go maps LEAST_CONN and LEAST_REQUEST alike",
	},
}

// DeprecatedFieldsOf lists the deprecated fields and enum values o's spec
// sets, in schema order. Only Istio kinds have a schema that flags them.
func DeprecatedFieldsOf(o *manifest.Object) []DeprecatedField {
	spec := manifest.IstioSpec(o)
	if spec == nil {
		return nil
	}
	var out []DeprecatedField
	walkDeprecated(spec, []any{"spec"}, 0, &out)
	return out
}

// maxDeprecatedDepth bounds the walk: Istio specs nest a dozen levels at
// most, and a hostile Struct should not recurse without end.
const maxDeprecatedDepth = 32

func walkDeprecated(m protoreflect.Message, path []any, depth int, out *[]DeprecatedField) {
	if depth > maxDeprecatedDepth || m.Descriptor().ParentFile().Package() == "google.protobuf" {
		return
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		p := append(append([]any(nil), path...), fd.JSONName())
		if opts, ok := fd.Options().(*descriptorpb.FieldOptions); ok && opts.GetDeprecated() {
			*out = append(*out, DeprecatedField{Path: p, Field: string(fd.FullName()), Known: deprecations[fd.FullName()]})
		}
		switch {
		case fd.IsMap():
			if fd.MapValue().Kind() == protoreflect.MessageKind {
				v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
					walkDeprecated(mv.Message(), append(append([]any(nil), p...), k.String()), depth+1, out)
					return true
				})
			}
		case fd.IsList():
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				ip := append(append([]any(nil), p...), i)
				switch fd.Kind() {
				case protoreflect.MessageKind:
					walkDeprecated(l.Get(i).Message(), ip, depth+1, out)
				case protoreflect.EnumKind:
					deprecatedEnum(fd, l.Get(i).Enum(), ip, out)
				}
			}
		case fd.Kind() == protoreflect.MessageKind:
			walkDeprecated(v.Message(), p, depth+1, out)
		case fd.Kind() == protoreflect.EnumKind:
			deprecatedEnum(fd, v.Enum(), p, out)
		}
		return true
	})
}

func deprecatedEnum(fd protoreflect.FieldDescriptor, n protoreflect.EnumNumber, path []any, out *[]DeprecatedField) {
	ev := fd.Enum().Values().ByNumber(n)
	if ev == nil {
		return
	}
	if opts, ok := ev.Options().(*descriptorpb.EnumValueOptions); ok && opts.GetDeprecated() {
		*out = append(*out, DeprecatedField{Path: path, Field: string(ev.FullName()), Value: string(ev.Name()), Known: deprecations[ev.FullName()]})
	}
}
