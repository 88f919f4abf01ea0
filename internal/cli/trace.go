package cli

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/meshdoctor/meshdoctor/internal/trace"
)

type traceFlags struct {
	in      inputFlags
	spec    trace.Spec
	output  string
	noColor bool
	host    string
	port    string
	path    string
	scheme  string
}

func newTrace(streams IO) *cobra.Command {
	f := traceFlags{in: newInputFlags()}
	cmd := &cobra.Command{
		Use:   "trace [PATH|-]... --from CLIENT --url URL",
		Short: "Follow one request hop by hop and say why it fails",
		Long: `Follow one request through the mesh as configured: the client's proxy, the
listener and protocol, the VirtualService rule, the Envoy cluster
(outbound|PORT|SUBSET|HOST) and DestinationRule, upstream TLS and what the
server accepts, the endpoints. Each hop says what decided it (object, file
and line) and which candidates lost; the outcome is what the client sees:
HTTP status, Envoy response flag, error text, the analyze rule that explains
it and the fix.

Inputs are as for analyze: files and directories, - for stdin, no PATH for
the live cluster, --kube PATH... for the cluster with the files applied.

  --from workload:NS/NAME   a Deployment, StatefulSet, DaemonSet, Job, CronJob or Pod
  --from pod:NS/NAME        a Pod (a live pod of a controller, too)
  --from gateway:NS/NAME    a gateway Deployment, its Service, or an Istio Gateway
  --from external           a client outside the cluster, through a Kubernetes Ingress

Exit codes: 0 the request succeeds, 1 it fails (or the input cannot tell),
2 bad input.`,
		Example: `  meshdoctor trace ./k8s --from gateway:istio-system/istio-ingressgateway --url http://myapp.com/hello
  meshdoctor trace ./k8s --from workload:shop/frontend --url http://reviews:9080/ -H 'end-user: jason'
  meshdoctor trace ./k8s --from external --url https://spacejam.com/
  meshdoctor trace ./k8s --from workload:shop/sleep --url tcp://mysql.data:3306
  meshdoctor trace -n shop --from workload:sleep --url http://httpbin:8000/   # the live cluster`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTrace(cmd.Context(), streams, f, args, cmd.Flags().Changed("namespace"))
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.spec.From, "from", "", "the client: workload:NS/NAME, pod:NS/NAME, gateway:NS/NAME or external")
	fl.StringVar(&f.spec.URL, "url", "", "the request: http://HOST[:PORT]/PATH, https://…, tcp://HOST:PORT, tls://HOST:PORT")
	fl.StringVar(&f.scheme, "scheme", "http", "with --host: http, https, tcp or tls")
	fl.StringVar(&f.host, "host", "", "instead of --url: the host")
	fl.StringVar(&f.port, "port", "", "instead of --url: the port")
	fl.StringVar(&f.path, "path", "/", "instead of --url: the path")
	fl.StringVarP(&f.spec.Method, "request", "X", "GET", "the HTTP method (as curl's -X)")
	fl.StringVar(&f.spec.Method, "method", "GET", "the HTTP method")
	fl.StringArrayVarP(&f.spec.Headers, "header", "H", nil, "a request header \"Name: value\" (repeatable; Host: overrides the URL's host for routing)")
	fl.StringVar(&f.spec.HTTPVersion, "http-version", "", "the client's HTTP version: 1.0, 1.1 or 2 (default 1.1, or what the client's nginx configuration speaks)")
	fl.StringVar(&f.spec.SNI, "sni", "", "the SNI the client sends (https/tls; default the host)")
	fl.StringArrayVar(&f.spec.Resolve, "resolve", nil, "HOST:PORT:ADDRESS as curl means it: connect to ADDRESS (picks the outbound listener)")
	fl.StringVarP(&f.output, "output", "o", "text", "output format: "+strings.Join(trace.Formats, "|"))
	fl.BoolVar(&f.noColor, "no-color", false, "no colour in text output (also NO_COLOR)")
	f.in.add(fl, "Istio version whose behaviour to trace (default: from istiod's image in the input)",
		"trace on the live cluster with the given files applied on top",
		"the namespace of --from when it names none; files: namespace for objects that set none; cluster: read only this namespace (plus istio-system)")
	return cmd
}

func runTrace(ctx context.Context, streams IO, f traceFlags, args []string, namespaceSet bool) error {
	if err := checkFormat(f.output, trace.Formats); err != nil {
		return err
	}
	if f.spec.URL == "" && f.host != "" {
		u := f.scheme + "://" + f.host
		if f.port != "" {
			u += ":" + f.port
		}
		f.spec.URL = u + f.path
	}
	f.spec.DefaultNamespace = f.in.namespace()
	if f.spec.DefaultNamespace == "" {
		f.spec.DefaultNamespace = "default"
	}
	parsed, err := trace.Parse(f.spec)
	if err != nil {
		return usageErr("%v", err)
	}
	opts, err := f.in.options()
	if err != nil {
		return err
	}
	res, err := analyzeInput(ctx, streams, f.in, args, namespaceSet, opts)
	if err != nil {
		return err
	}
	tr, err := trace.Run(res.Model, parsed, res.Findings)
	if err != nil {
		return usageErr("--from %s: %v", f.spec.From, err)
	}
	color := streams.OutTTY && !f.noColor && streams.Getenv("NO_COLOR") == "" && streams.Getenv("TERM") != "dumb"
	if err := trace.Write(streams.Out, f.output, tr, color); err != nil {
		return usageErr("writing output: %v", err)
	}
	if !tr.Outcome.Success {
		return &exitError{code: ExitFindings}
	}
	return nil
}
