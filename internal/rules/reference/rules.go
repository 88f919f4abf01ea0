// Package reference holds the rules about references that must resolve:
// hosts, selectors, ports and duplicate resources.
package reference

import "github.com/meshdoctor/meshdoctor/internal/rules"

// Rules of this area, by code.
var Rules = []*rules.Rule{
	DestinationHostNotFound,
	DestinationPortNotFound,
	PolicySelectsNoPods,
	SidecarSelectorConflict,
	TelemetrySelectorConflict,
	AuthorizationNamespaceNotFound,
	ServiceProtocolConflict,
	DestinationRuleHostNotFound,
	ServiceSelectsNoPods,
	ServiceTargetPortNotExposed,
	DuplicateResource,
	ConflictingVirtualServiceHosts,
	RemovedAPI,
	MeshConfigUnreadable,
	DeprecatedField,
	ServiceEntryProtocolConflict,
	TelemetryAccessLogWithoutProvider,
	JWKSFetchUnrestricted,
}
