//go:build linux

package cli

import "syscall"

// peakRSSMB is the process's peak resident set size (Linux reports KiB).
func peakRSSMB() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Maxrss / 1024
}
