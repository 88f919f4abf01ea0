package mesh

import (
	"slices"
	"strings"
	"sync"

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
	path := make([]any, 1, 16)
	path[0] = "spec"
	walkDeprecated(spec, path, 0, &out)
	return out
}

// maxDeprecatedDepth bounds the walk: Istio specs nest a dozen levels at
// most, and a hostile Struct should not recurse without end.
const maxDeprecatedDepth = 32

// walkDeprecated visits only the fields that can lead to a deprecation
// (deprecatedPlan), so the few deprecated fields of a large spec cost a
// handful of Has checks instead of a walk of every value set. path is a
// stack the walk pushes on and pops; a finding copies it.
func walkDeprecated(m protoreflect.Message, path []any, depth int, out *[]DeprecatedField) {
	if depth > maxDeprecatedDepth {
		return
	}
	for _, fd := range deprecatedPlan(m.Descriptor()).fields {
		if !m.Has(fd) {
			continue
		}
		p := append(path, fd.JSONName())
		if opts, ok := fd.Options().(*descriptorpb.FieldOptions); ok && opts.GetDeprecated() {
			*out = append(*out, DeprecatedField{Path: slices.Clone(p), Field: string(fd.FullName()), Known: deprecations[fd.FullName()]})
		}
		v := m.Get(fd)
		switch {
		case fd.IsMap():
			if fd.MapValue().Kind() == protoreflect.MessageKind {
				// Map order is random; sort the keys so the findings are
				// in the same order on every run.
				mp := v.Map()
				keys := make([]protoreflect.MapKey, 0, mp.Len())
				mp.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
					keys = append(keys, k)
					return true
				})
				slices.SortFunc(keys, func(a, b protoreflect.MapKey) int { return strings.Compare(a.String(), b.String()) })
				for _, k := range keys {
					walkDeprecated(mp.Get(k).Message(), append(p, k.String()), depth+1, out)
				}
			}
		case fd.IsList():
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				switch fd.Kind() {
				case protoreflect.MessageKind:
					walkDeprecated(l.Get(i).Message(), append(p, i), depth+1, out)
				case protoreflect.EnumKind:
					deprecatedEnum(fd, l.Get(i).Enum(), append(p, i), out)
				}
			}
		case fd.Kind() == protoreflect.MessageKind:
			walkDeprecated(v.Message(), p, depth+1, out)
		case fd.Kind() == protoreflect.EnumKind:
			deprecatedEnum(fd, v.Enum(), p, out)
		}
	}
}

func deprecatedEnum(fd protoreflect.FieldDescriptor, n protoreflect.EnumNumber, path []any, out *[]DeprecatedField) {
	ev := fd.Enum().Values().ByNumber(n)
	if ev == nil {
		return
	}
	if opts, ok := ev.Options().(*descriptorpb.EnumValueOptions); ok && opts.GetDeprecated() {
		*out = append(*out, DeprecatedField{Path: slices.Clone(path), Field: string(ev.FullName()), Value: string(ev.Name()), Known: deprecations[ev.FullName()]})
	}
}

// deprecationPlan is, for one message type, the fields (in schema order)
// that are deprecated, or hold an enum with a deprecated value, or hold a
// message through which a deprecated field can be reached. Well-known
// types (Struct, Duration, wrappers) hold none.
type deprecationPlan struct {
	fields []protoreflect.FieldDescriptor
}

// deprecationPlans caches plans by message name; rules run concurrently.
var deprecationPlans sync.Map // protoreflect.FullName → *deprecationPlan

func deprecatedPlan(md protoreflect.MessageDescriptor) *deprecationPlan {
	if p, ok := deprecationPlans.Load(md.FullName()); ok {
		return p.(*deprecationPlan)
	}
	p := &deprecationPlan{}
	fields := md.Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		opts, _ := fd.Options().(*descriptorpb.FieldOptions)
		sub := fieldMessage(fd)
		if opts.GetDeprecated() || (fd.Kind() == protoreflect.EnumKind && enumHasDeprecated(fd.Enum())) ||
			(sub != nil && reachesDeprecated(sub)) {
			p.fields = append(p.fields, fd)
		}
	}
	if md.ParentFile().Package() == "google.protobuf" {
		p.fields = nil
	}
	actual, _ := deprecationPlans.LoadOrStore(md.FullName(), p)
	return actual.(*deprecationPlan)
}

// fieldMessage is the message type a field holds (a map's value type), or
// nil.
func fieldMessage(fd protoreflect.FieldDescriptor) protoreflect.MessageDescriptor {
	if fd.IsMap() {
		fd = fd.MapValue()
	}
	if fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind {
		return fd.Message()
	}
	return nil
}

// reachesDeprecated reports whether a value of type md can hold a
// deprecated field or enum value at any depth: whether one of the message
// types reachable from it declares one. Reachability, not recursion on
// plans, so a recursive type is judged by everything it can hold.
func reachesDeprecated(md protoreflect.MessageDescriptor) bool {
	seen := map[protoreflect.FullName]bool{}
	var reach func(md protoreflect.MessageDescriptor) bool
	reach = func(md protoreflect.MessageDescriptor) bool {
		if seen[md.FullName()] || md.ParentFile().Package() == "google.protobuf" {
			return false
		}
		seen[md.FullName()] = true
		fields := md.Fields()
		for i := 0; i < fields.Len(); i++ {
			fd := fields.Get(i)
			if opts, ok := fd.Options().(*descriptorpb.FieldOptions); ok && opts.GetDeprecated() {
				return true
			}
			if fd.Kind() == protoreflect.EnumKind && enumHasDeprecated(fd.Enum()) {
				return true
			}
			if sub := fieldMessage(fd); sub != nil && reach(sub) {
				return true
			}
		}
		return false
	}
	return reach(md)
}

func enumHasDeprecated(ed protoreflect.EnumDescriptor) bool {
	vals := ed.Values()
	for i := 0; i < vals.Len(); i++ {
		if opts, ok := vals.Get(i).Options().(*descriptorpb.EnumValueOptions); ok && opts.GetDeprecated() {
			return true
		}
	}
	return false
}
