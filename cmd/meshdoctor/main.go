// Command meshdoctor finds why traffic in a Kubernetes + Istio cluster
// fails. Also installable as the kubectl plugin kubectl-meshdoctor.
package main

import (
	"os"
	"runtime/debug"

	"github.com/meshdoctor/meshdoctor/internal/cli"
)

func main() {
	tuneGC()
	os.Exit(cli.Main(os.Args[1:], cli.IO{
		In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
		OutTTY: isTerminal(os.Stdout), ErrTTY: isTerminal(os.Stderr),
		Getenv: os.Getenv,
	}))
}

// tuneGC trades a little memory for speed unless the user set GOGC or
// GOMEMLIMIT: a run allocates mostly short-lived decoding garbage, so a
// lazier collector saves about a fifth of the CPU, and the soft limit keeps
// the peak near what the default would reach on large inputs.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(320 << 20)
	}
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
