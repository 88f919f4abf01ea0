// Package cli is meshdoctor's command line, shaped like kubectl and
// istioctl: `meshdoctor analyze`, `meshdoctor rules`, `meshdoctor version`.
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

// Version is set at build time with -ldflags "-X .../internal/cli.Version=…".
var Version = "0.2.0-dev"

// Exit codes: usable as a CI gate.
const (
	ExitOK       = 0 // no findings at or above --fail-on
	ExitFindings = 1 // findings at or above --fail-on
	ExitUsage    = 2 // usage, input or cluster errors
)

// exitError carries an exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}

// IO is where commands read and write; tests swap it.
type IO struct {
	In       io.Reader
	Out, Err io.Writer
	// OutTTY/ErrTTY tell whether colour and progress are wanted.
	OutTTY, ErrTTY bool
	Getenv         func(string) string
}

// Main runs the command line and returns the process exit code.
func Main(args []string, streams IO) int {
	root := NewRoot(streams)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(streams.Err, "Error:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(streams.Err, "Error:", err)
	return ExitUsage
}

// NewRoot builds the command tree.
func NewRoot(streams IO) *cobra.Command {
	root := &cobra.Command{
		Use:   "meshdoctor",
		Short: "Find why traffic in a Kubernetes + Istio cluster fails, before it does",
		Long: `meshdoctor reads Kubernetes, Istio and Gateway API manifests, builds one model
of how the mesh will route and secure each request, and reports the
misconfigurations that cause 503s, TLS failures, 426s, 502s and pods that never
become ready: with the file and line to change, the symptom you would see, and
the fix.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	// As a kubectl plugin (kubectl-meshdoctor on PATH) help and usage read
	// "kubectl meshdoctor …", the way kubectl documents plugins.
	if base := filepath.Base(os.Args[0]); strings.HasPrefix(base, "kubectl-") {
		root.Annotations = map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl meshdoctor"}
	}
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.Err)
	root.AddCommand(newAnalyze(streams), newTrace(streams), newPlan(streams), newUpgrade(streams), newServe(streams), newRules(streams), newVersion(streams))
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		//lint:ignore ST1005 the usage-error shape of kubectl: error, then "See '… --help'."
		return &exitError{code: ExitUsage, err: fmt.Errorf("%w\nSee '%s --help'.", err, c.CommandPath())}
	})
	return root
}

func newVersion(streams IO) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the meshdoctor version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(streams.Out, "meshdoctor", Version)
		},
	}
}
