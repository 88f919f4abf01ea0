package mesh

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	metaapi "istio.io/api/meta/v1alpha1"
	istionet "istio.io/client-go/pkg/apis/networking/v1"
	istiosec "istio.io/client-go/pkg/apis/security/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

// Condition is one status condition a controller wrote on an object (a
// live cluster's, or a manifest exported from one).
type Condition struct {
	Type, Status, Reason, Message string
	// Path leads to the condition in the object, for positions.
	Path []any
	// Parent is the parentRef a route's condition is about ("" for the
	// object's own conditions).
	Parent string
}

// Condition types whose False status means the controller rejected the
// resource or could not carry it out.
var (
	waypointBound     = map[string]bool{"istio.io/WaypointBound": true}
	policyAccepted    = map[string]bool{"ZtunnelAccepted": true, "WaypointAccepted": true}
	gatewayConditions = map[string]bool{"Accepted": true, "Programmed": true, "ResolvedRefs": true}
	routeConditions   = map[string]bool{"Accepted": true, "ResolvedRefs": true}
	classConditions   = map[string]bool{"Accepted": true}
)

// NegativeConditions returns the conditions of o that say its controller
// rejected or could not carry out (part of) it: Gateway API Accepted,
// Programmed and ResolvedRefs that are False (on a route, per parent),
// Istio's ZtunnelAccepted/WaypointAccepted on AuthorizationPolicies and
// istio.io/WaypointBound on Services and entries when False, and
// WaypointAccepted with reason PartiallyInvalid (True, but only part of the
// policy applies). It reads the typed status: no YAML is parsed again.
func NegativeConditions(o *manifest.Object) []Condition {
	own := []any{"status", "conditions"}
	switch t := o.Typed.(type) {
	case *corev1.Service:
		return kubeConditions(t.Status.Conditions, waypointBound, own, "")
	case *istionet.ServiceEntry:
		return istioConditions(t.Status.Conditions, waypointBound, own)
	case *istionet.WorkloadEntry:
		return istioConditions(t.Status.Conditions, waypointBound, own)
	case *istiosec.AuthorizationPolicy:
		return istioConditions(t.Status.Conditions, policyAccepted, own)
	case *gwv1.Gateway:
		return kubeConditions(t.Status.Conditions, gatewayConditions, own, "")
	case *gwv1.GatewayClass:
		return kubeConditions(t.Status.Conditions, classConditions, own, "")
	case *gwv1.HTTPRoute:
		return parentConditions(t.Status.Parents)
	case *gwv1.GRPCRoute:
		return parentConditions(t.Status.Parents)
	case *gwv1.TCPRoute:
		return parentConditions(t.Status.Parents)
	}
	return nil
}

func negative(typ, status, reason string, types map[string]bool) bool {
	if !types[typ] {
		return false
	}
	return status == "False" || typ == "WaypointAccepted" && reason == "PartiallyInvalid"
}

func kubeConditions(cs []metav1.Condition, types map[string]bool, path []any, parent string) []Condition {
	var out []Condition
	for i, c := range cs {
		if negative(c.Type, string(c.Status), c.Reason, types) {
			out = append(out, Condition{Type: c.Type, Status: string(c.Status), Reason: c.Reason, Message: c.Message, Path: append(append([]any{}, path...), i), Parent: parent})
		}
	}
	return out
}

func istioConditions(cs []*metaapi.IstioCondition, types map[string]bool, path []any) []Condition {
	var out []Condition
	for i, c := range cs {
		if c != nil && negative(c.Type, c.Status, c.Reason, types) {
			out = append(out, Condition{Type: c.Type, Status: c.Status, Reason: c.Reason, Message: c.Message, Path: append(append([]any{}, path...), i)})
		}
	}
	return out
}

func parentConditions(parents []gwv1.RouteParentStatus) []Condition {
	var out []Condition
	for i, p := range parents {
		name := string(p.ParentRef.Name)
		if p.ParentRef.Namespace != nil && *p.ParentRef.Namespace != "" {
			name = string(*p.ParentRef.Namespace) + "/" + name
		}
		if p.ParentRef.SectionName != nil && *p.ParentRef.SectionName != "" {
			name += " (" + string(*p.ParentRef.SectionName) + ")"
		}
		out = append(out, kubeConditions(p.Conditions, routeConditions, []any{"status", "parents", i, "conditions"}, name)...)
	}
	return out
}
