package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/meshdoctor/meshdoctor/internal/catalog"
	"github.com/meshdoctor/meshdoctor/internal/ruledoc"
)

func newRules(streams IO) *cobra.Command {
	var markdown bool
	cmd := &cobra.Command{
		Use:   "rules [NAME|CODE]",
		Short: "List the rules, or print one rule's documentation",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if markdown {
				fmt.Fprint(streams.Out, ruledoc.Markdown(catalog.All()))
				return nil
			}
			if len(args) == 1 {
				r := catalog.ByName(args[0])
				if r != nil {
					fmt.Fprint(streams.Out, ruledoc.Text(r))
					return nil
				}
				// An istioctl analyze code: the rules that cover it.
				if rs := catalog.ByIST(args[0]); len(rs) > 0 {
					for i, r := range rs {
						if i > 0 {
							fmt.Fprint(streams.Out, "\n---\n\n")
						}
						fmt.Fprint(streams.Out, ruledoc.Text(r))
					}
					return nil
				}
				return usageErr("%v %q; run 'meshdoctor rules' for the list", errNoRule, args[0])
			}
			tw := tabwriter.NewWriter(streams.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "CODE\tRULE\tSEVERITY\tAREA\tISTIOCTL\tSUMMARY")
			for _, r := range catalog.All() {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Code, r.Name, r.Severity, r.Area, strings.Join(r.IST, ","), r.Summary)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&markdown, "markdown", false, "print the whole catalog as Markdown (docs/rules.md)")
	return cmd
}
