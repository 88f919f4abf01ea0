package traffic

import "github.com/meshdoctor/meshdoctor/internal/rules"

// Rules of this area, by code.
var Rules = []*rules.Rule{
	SubsetNotFound,
	UnnamedPortL7Rules,
	SubsetSelectsNoPods,
	PodsNotReadyBehindRoute,
	VirtualServiceRuleUnreachable,
	VirtualServiceMatchIneffective,
	EnvoyFilterOperationIgnored,
	EnvoyFilterPatchOrder,
	ServiceEntryTCPWithoutAddress,
	ExternalNamePortCatchesAll,
	EnvoyFilterProxyVersionUnmatched,
	EnvoyFilterLegacyEnvoyAPI,
	ServiceEntrySubsetSelectsNoEndpoints,
}
