package mesh

import (
	"encoding/json"

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

// negativeConditions are the conditions whose False status means Istio
// (or a Gateway API controller) did not act on the object as written.
var negativeConditions = map[GroupKind]map[string]bool{
	{"", "Service"}:                               {"istio.io/WaypointBound": true},
	{"networking.istio.io", "ServiceEntry"}:       {"istio.io/WaypointBound": true},
	{"networking.istio.io", "WorkloadEntry"}:      {"istio.io/WaypointBound": true},
	{"security.istio.io", "AuthorizationPolicy"}:  {"ZtunnelAccepted": true, "WaypointAccepted": true},
	{"gateway.networking.k8s.io", "Gateway"}:      {"Accepted": true, "Programmed": true, "ResolvedRefs": true},
	{"gateway.networking.k8s.io", "HTTPRoute"}:    {"Accepted": true, "ResolvedRefs": true},
	{"gateway.networking.k8s.io", "GRPCRoute"}:    {"Accepted": true, "ResolvedRefs": true},
	{"gateway.networking.k8s.io", "TCPRoute"}:     {"Accepted": true, "ResolvedRefs": true},
	{"gateway.networking.k8s.io", "TLSRoute"}:     {"Accepted": true, "ResolvedRefs": true},
	{"gateway.networking.k8s.io", "GatewayClass"}: {"Accepted": true},
}

// NegativeConditions returns the conditions of o that say its controller
// rejected or could not carry out (part of) it: Gateway API Accepted,
// Programmed and ResolvedRefs that are False (on a route, per parent),
// Istio's ZtunnelAccepted/WaypointAccepted on AuthorizationPolicies and
// istio.io/WaypointBound on Services and entries when False, and
// WaypointAccepted with reason PartiallyInvalid (True, but only part of the
// policy applies).
func NegativeConditions(o *manifest.Object) []Condition {
	types, ok := negativeConditions[GroupKind{o.Group(), o.Kind}]
	if !ok {
		return nil
	}
	var out []Condition
	read := func(path []any, parent string) {
		var cs []struct {
			Type, Status, Reason, Message string
		}
		if js := o.FieldJSON(path...); js == nil || json.Unmarshal(js, &cs) != nil {
			return
		}
		for i, c := range cs {
			if !types[c.Type] {
				continue
			}
			partial := c.Type == "WaypointAccepted" && c.Reason == "PartiallyInvalid"
			if c.Status == "False" || partial {
				p := append(append([]any{}, path...), i)
				out = append(out, Condition{Type: c.Type, Status: c.Status, Reason: c.Reason, Message: c.Message, Path: p, Parent: parent})
			}
		}
	}
	read([]any{"status", "conditions"}, "")
	var parents []struct {
		ParentRef struct {
			Namespace, Name, SectionName string
		} `json:"parentRef"`
	}
	if js := o.FieldJSON("status", "parents"); js != nil && json.Unmarshal(js, &parents) == nil {
		for i, p := range parents {
			name := p.ParentRef.Name
			if p.ParentRef.Namespace != "" {
				name = p.ParentRef.Namespace + "/" + name
			}
			if p.ParentRef.SectionName != "" {
				name += " (" + p.ParentRef.SectionName + ")"
			}
			read([]any{"status", "parents", i, "conditions"}, name)
		}
	}
	return out
}
