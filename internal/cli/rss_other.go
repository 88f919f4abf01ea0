//go:build !linux

package cli

// peakRSSMB is not measured outside Linux.
func peakRSSMB() int64 { return 0 }
