package mesh

import (
	secapi "istio.io/api/security/v1beta1"
)

// MTLSMode is a server-side PeerAuthentication mode.
type MTLSMode string

// Server-side modes as written in PeerAuthentication.
const (
	ModePermissive MTLSMode = "PERMISSIVE"
	ModeStrict     MTLSMode = "STRICT"
	ModeDisable    MTLSMode = "DISABLE"
)

// ServerMTLS is the effective PeerAuthentication mode for a workload port
// and the resource (and field path) that decided it; Source is nil when
// nothing in the input sets it and Istio's default (PERMISSIVE) applies.
type ServerMTLS struct {
	Mode   MTLSMode
	Source *PeerAuthentication
	Path   []any
}

// EffectiveMTLS decides the mode for w on containerPort the way Istio does:
// the oldest PeerAuthentication whose selector matches w in its namespace
// (with its portLevelMtls for that port), else the namespace-wide one, else
// the mesh-wide one in the root namespace; UNSET inherits from the next
// level. https://istio.io/latest/docs/reference/config/security/peer_authentication/
func (m *Model) EffectiveMTLS(w *Workload, containerPort uint32) ServerMTLS {
	var workloadPA, nsPA, meshPA *PeerAuthentication
	for _, pa := range m.peerAuthsByNS[w.Namespace] {
		sel := pa.Spec.GetSelector().GetMatchLabels()
		if len(sel) == 0 {
			if nsPA == nil {
				nsPA = pa
			}
		} else if workloadPA == nil && Matches(sel, w.Labels) {
			workloadPA = pa
		}
	}
	if root := m.Mesh.RootNamespace; root != "" {
		for _, pa := range m.peerAuthsByNS[root] {
			if len(pa.Spec.GetSelector().GetMatchLabels()) == 0 {
				meshPA = pa
				break
			}
		}
	}
	if workloadPA != nil {
		if pm, ok := workloadPA.Spec.PortLevelMtls[containerPort]; ok && pm != nil {
			if mode := paMode(pm.Mode); mode != "" {
				return ServerMTLS{Mode: mode, Source: workloadPA, Path: portLevelPath(workloadPA, containerPort)}
			}
		}
		if mode := paMode(workloadPA.Spec.GetMtls().GetMode()); mode != "" {
			return ServerMTLS{Mode: mode, Source: workloadPA, Path: []any{"spec", "mtls", "mode"}}
		}
	}
	for _, pa := range []*PeerAuthentication{nsPA, meshPA} {
		if pa == nil {
			continue
		}
		if mode := paMode(pa.Spec.GetMtls().GetMode()); mode != "" {
			return ServerMTLS{Mode: mode, Source: pa, Path: []any{"spec", "mtls", "mode"}}
		}
	}
	return ServerMTLS{Mode: ModePermissive}
}

func paMode(m secapi.PeerAuthentication_MutualTLS_Mode) MTLSMode {
	switch m {
	case secapi.PeerAuthentication_MutualTLS_STRICT:
		return ModeStrict
	case secapi.PeerAuthentication_MutualTLS_PERMISSIVE:
		return ModePermissive
	case secapi.PeerAuthentication_MutualTLS_DISABLE:
		return ModeDisable
	}
	return ""
}

// portLevelPath is the YAML path of a portLevelMtls entry; map keys are
// written as strings in YAML.
func portLevelPath(pa *PeerAuthentication, port uint32) []any {
	return []any{"spec", "portLevelMtls", itoa(port)}
}

// AnyStrict reports whether some PeerAuthentication in the input can make a
// port STRICT; rules use it to skip work in meshes without any.
func (m *Model) AnyStrict() bool {
	for _, pa := range m.PeerAuths {
		if pa.Spec.GetMtls().GetMode() == secapi.PeerAuthentication_MutualTLS_STRICT {
			return true
		}
		for _, p := range pa.Spec.PortLevelMtls {
			if p.GetMode() == secapi.PeerAuthentication_MutualTLS_STRICT {
				return true
			}
		}
	}
	return false
}
