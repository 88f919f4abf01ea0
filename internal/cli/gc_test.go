package cli

import (
	"runtime/debug"
	"testing"
)

// TestGCForInput: GOGC=400 for inputs up to inputMaxForGOGC, undone
// afterwards; a user's GOGC and large inputs keep the collector as it is.
func TestGCForInput(t *testing.T) {
	current := func() int { p := debug.SetGCPercent(100); debug.SetGCPercent(p); return p }
	before := current()
	noEnv := func(string) string { return "" }
	undo := gcForInput(noEnv, 30<<20)
	if got := current(); got != 400 {
		t.Errorf("30 MB of input: GOGC %d, want 400", got)
	}
	undo()
	if got := current(); got != before {
		t.Errorf("after undo: GOGC %d, want %d", got, before)
	}
	for _, c := range []struct {
		name  string
		env   func(string) string
		bytes int64
	}{
		{"large input", noEnv, inputMaxForGOGC + 1},
		{"user's GOGC", func(k string) string {
			if k == "GOGC" {
				return "50"
			}
			return ""
		}, 1 << 20},
	} {
		undo := gcForInput(c.env, c.bytes)
		if got := current(); got != before {
			t.Errorf("%s: GOGC %d, want it left at %d", c.name, got, before)
		}
		undo()
	}
}
