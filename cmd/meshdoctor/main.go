// Command meshdoctor finds why traffic in a Kubernetes + Istio cluster
// fails. Also installable as the kubectl plugin kubectl-meshdoctor.
package main

import (
	"os"

	"github.com/meshdoctor/meshdoctor/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], cli.IO{
		In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
		OutTTY: isTerminal(os.Stdout), ErrTTY: isTerminal(os.Stderr),
		Getenv: os.Getenv,
	}))
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
