package trace

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"sigs.k8s.io/yaml"
)

// Formats trace can write.
var Formats = []string{"text", "json", "yaml"}

// Write renders a trace.
func Write(w io.Writer, format string, res *Result, color bool) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	case "yaml":
		b, err := yaml.Marshal(res)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	case "text", "":
		return writeText(w, res, color)
	}
	return fmt.Errorf("unknown output format %q (want %s)", format, strings.Join(Formats, ", "))
}

func writeText(w io.Writer, res *Result, color bool) error {
	paint := func(code, s string) string {
		if !color {
			return s
		}
		return "\x1b[" + code + "m" + s + "\x1b[0m"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s from %s\n\n", paint("1", "Trace:"), res.Request.URL, res.From)
	for i, h := range res.Hops {
		mark := " "
		if h.Fails {
			mark = paint("31", "✗")
		}
		fmt.Fprintf(&b, "%s %d. %-16s %s\n", mark, i+1, h.Step, h.Decision)
		if h.Origin != nil {
			fmt.Fprintf(&b, "       %-16s %s\n", "", paint("2", h.Origin.String()+"  ("+h.Resource.String()+")"))
		}
		for _, c := range h.Considered {
			where := ""
			if c.Origin != nil {
				where = "  " + paint("2", c.Origin.String())
			}
			fmt.Fprintf(&b, "       %-16s · %s%s\n", "", c.Decision, where)
		}
	}
	o := res.Outcome
	b.WriteString("\n")
	switch {
	case o.Unknown:
		fmt.Fprintf(&b, "%s cannot tell: %s\n", paint("33", "Outcome:"), strings.TrimPrefix(o.Error, "the input ends here: "))
		b.WriteString("  add the missing objects to the input (or trace against the live cluster) to follow the request further\n")
	case o.Success:
		what := "the request reaches the application"
		if o.Status == 0 {
			what = "the connection reaches the application"
		}
		if o.Status >= 300 && o.Status < 400 {
			what = fmt.Sprintf("the proxy answers %d itself (%s)", o.Status, o.Error)
		} else if o.Status > 0 && o.Status != 200 {
			what = fmt.Sprintf("the proxy answers %d itself", o.Status)
		}
		fmt.Fprintf(&b, "%s %s\n", paint("32", "Outcome: success:"), what)
		if o.Cluster != "" {
			fmt.Fprintf(&b, "  cluster: %s\n", o.Cluster)
		}
	default:
		status := "connection fails"
		if o.Status != 0 {
			status = fmt.Sprintf("HTTP %d", o.Status)
		}
		flag := ""
		if o.Flag != "" && o.Flag != "-" {
			flag = ", response flag " + o.Flag
		}
		fmt.Fprintf(&b, "%s%s\n", paint("31", "Outcome: "+status), flag)
		if o.Error != "" {
			fmt.Fprintf(&b, "  the client sees: %s\n", o.Error)
		}
		if o.Cluster != "" {
			fmt.Fprintf(&b, "  cluster: %s\n", o.Cluster)
		}
		if o.Rule != "" {
			fmt.Fprintf(&b, "  explained by: %s (meshdoctor rules %s)\n", o.Rule, o.Rule)
		}
		if o.Fix != "" {
			fmt.Fprintf(&b, "  fix: %s\n", strings.ReplaceAll(o.Fix, "\n", "\n    "))
		}
	}
	if len(o.Split) > 1 {
		b.WriteString("  split:\n")
		for _, s := range o.Split {
			fmt.Fprintf(&b, "    %3d%%  %s: %s\n", s.Weight, s.Cluster, s.Outcome)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
