package cli

import "runtime/debug"

// gcForInput sets the garbage collector for a run that reads input files
// of this total size, holds what it decoded until it reports, and exits;
// it returns how to undo it.
//
// Nearly all the heap such a run allocates stays live (typed objects, the
// model, findings), so with Go's default GOGC=100 most collector cycles of
// the load phase mark a heap that only grows. GOGC=400 cut CPU time by 5%
// on the findings-heavy mesh of 100k objects (30 MB of YAML), for 4% more
// peak RSS (hack/bench.sh). Past inputMaxForGOGC the headroom would cost
// more memory than it saves time, so large inputs keep the default; so does
// a user's own GOGC.
func gcForInput(getenv func(string) string, inputBytes int64) (undo func()) {
	if getenv("GOGC") != "" || inputBytes > inputMaxForGOGC {
		return func() {}
	}
	prev := debug.SetGCPercent(400)
	return func() { debug.SetGCPercent(prev) }
}

// inputMaxForGOGC is the largest input read with GOGC=400: a live heap of
// about 0.6 GB at the end of the load.
const inputMaxForGOGC = 64 << 20
