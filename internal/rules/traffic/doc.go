// Package traffic holds the rules about routing: VirtualServices,
// DestinationRules, subsets and protocol selection.
package traffic
