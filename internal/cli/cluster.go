package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/meshdoctor/meshdoctor/internal/analysis"
	"github.com/meshdoctor/meshdoctor/internal/change"
	"github.com/meshdoctor/meshdoctor/internal/cluster"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
)

// requestTimeout bounds each API request when --request-timeout is unset,
// so an unreachable server ends in a message instead of a hang.
const requestTimeout = 60 * time.Second

// readCluster reads the live cluster as analyze, trace and plan do:
// kubeconfig flags, -n/-A scope and the context namespace's fallback,
// progress on a terminal. It refuses (exit 2) a read that saw nothing.
// The denied kinds go into opts.
func readCluster(ctx context.Context, streams IO, f analyzeFlags, namespaceSet, withFiles bool, opts *analysis.Options) (*cluster.Result, string, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	cfg, err := f.kube.ToRESTConfig()
	if err != nil {
		return nil, "", clusterErr(err)
	}
	// Without any kubeconfig client-go falls back to localhost:8080;
	// say what is missing instead of "connection refused".
	if raw, err := f.kube.ToRawKubeConfigLoader().RawConfig(); err == nil && len(raw.Clusters) == 0 && (f.kube.APIServer == nil || *f.kube.APIServer == "") {
		if _, err := rest.InClusterConfig(); err != nil {
			return nil, "", clusterErr(clientcmd.ErrEmptyConfig)
		}
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = requestTimeout
	}
	scope := ""
	if namespaceSet && !f.allNamespaces {
		scope = *f.kube.Namespace
	}
	copts := cluster.Options{Namespace: scope, Secrets: !f.noSecrets}
	// Without -n or -A, a user allowed into one namespace only gets that
	// one (the context's), as with kubectl, instead of nothing.
	if !namespaceSet && !f.allNamespaces {
		if ns, _, err := f.kube.ToRawKubeConfigLoader().Namespace(); err == nil {
			copts.FallbackNamespace = ns
		}
	}
	if streams.ErrTTY {
		copts.Progress = streams.Err
	}
	live, err := cluster.Load(ctx, cfg, copts)
	if err != nil {
		return nil, "", clusterErr(err)
	}
	if v, ok := mesh.ParseVersion(live.ServerVersion); ok && opts.Mesh.KubernetesVersion == nil {
		opts.Mesh.KubernetesVersion, opts.Mesh.KubernetesVersionSource = &v, "the API server at "+live.Host
	}
	for _, d := range live.Denied {
		opts.Denied = append(opts.Denied, analysis.Denied{Group: d.Group, Kind: d.Kind, Resource: d.Resource, Namespace: d.Namespace, Verb: d.Verb, Reason: d.Reason})
	}
	if err := nothingRead(live, scope, withFiles); err != nil {
		return nil, "", err
	}
	return live, scope, nil
}

// overlayFiles loads the files to apply on the cluster: objects without a
// namespace land where kubectl apply would put them (-n, else the
// context's namespace).
func overlayFiles(streams IO, f analyzeFlags, namespaceSet bool, args []string) (*manifest.Result, error) {
	defNS := ""
	if namespaceSet {
		defNS = *f.kube.Namespace
	} else if ns, _, err := f.kube.ToRawKubeConfigLoader().Namespace(); err == nil {
		defNS = ns
	}
	files, err := manifest.Load(args, manifest.Options{DefaultNamespace: defNS, Stdin: streams.In})
	if err != nil {
		return nil, usageErr("%v", err)
	}
	return files, nil
}

// analyzeCluster analyzes the live cluster (with the files in args
// applied when given) under opts; current is the baseline's options (they
// differ with --upgrade-to).
func analyzeCluster(ctx context.Context, streams IO, f analyzeFlags, args []string, namespaceSet bool, opts, current analysis.Options) (*analysis.Result, error) {
	live, scope, err := readCluster(ctx, streams, f, namespaceSet, len(args) > 0, &opts)
	if err != nil {
		return nil, err
	}
	opts.Fallback = live.Fallback
	if live.Fallback != "" {
		scope = live.Fallback
	}
	if len(args) == 0 {
		if len(live.Objects) == 0 && len(live.Denied) == 0 {
			where := "the cluster"
			if scope != "" {
				where = "namespace " + scope + " (does it exist?)"
			}
			return nil, usageErr("no resources meshdoctor analyzes in %s at %s", where, live.Host)
		}
		res := analysis.Run(live.Result, opts)
		if f.upgradeTo != "" {
			if err := markUpgrade(res, analysis.Run(live.Result, current), f, opts.Ignore); err != nil {
				return nil, err
			}
		}
		return res, nil
	}
	files, err := overlayFiles(streams, f, namespaceSet, args)
	if err != nil {
		return nil, err
	}
	// The files are the change to check: if none could be read, there
	// is no change, only the cluster.
	if err := nothingReadable(files); err != nil {
		return nil, err
	}
	if live.NamespaceMissing && !definesNamespace(files, scope) {
		return nil, namespaceMissing(live, scope)
	}
	// The cluster as it is, at the version it runs.
	baseline := analysis.Run(live.Result, current)
	res := change.Analyze(live.Result, change.Change{Apply: files}, opts, baseline)
	if f.onlyNew {
		res.DropPreExisting()
	}
	return res, nil
}

// nothingRead is the input error of a cluster read that cannot stand for
// the cluster: the namespace asked for does not exist, or every kind was
// denied and nothing read. Reported as partial-access findings, either
// would pass a CI gate that checked nothing.
func nothingRead(live *cluster.Result, scope string, withFiles bool) error {
	// With --kube files, the files may create it (checked once loaded).
	if live.NamespaceMissing && !withFiles {
		return namespaceMissing(live, scope)
	}
	if live.Read > 0 || len(live.Denied) == 0 {
		return nil
	}
	d := live.Denied[0]
	verb := d.Verb
	if verb == "" {
		verb = "list"
	}
	where := "across namespaces"
	if d.Namespace != "" {
		where = "in namespace " + d.Namespace
	}
	hint := "use credentials that may list what meshdoctor reads (get and list on the mesh's kinds)"
	if scope == "" {
		hint = "with rights in one namespace only, give -n NAMESPACE (or set the kubeconfig context's namespace); else " + hint
	}
	return usageErr("nothing could be read at %s: the credentials may read none of the %d kinds meshdoctor reads (e.g. %s %s %s: %s); %s",
		live.Host, len(live.Denied), verb, d.Resource, where, oneLine(d.Reason), hint)
}

func namespaceMissing(live *cluster.Result, ns string) error {
	return usageErr("namespace %q does not exist at %s (kubectl get namespaces lists those that do)", ns, live.Host)
}

// definesNamespace tells whether the --kube files create the namespace,
// which may then not exist yet.
func definesNamespace(files *manifest.Result, ns string) bool {
	for _, o := range files.Objects {
		if o.Kind == "Namespace" && o.Name == ns {
			return true
		}
	}
	return false
}

// clusterErr turns client and API errors into one line and exit code 2.
func clusterErr(err error) error {
	switch {
	case clientcmd.IsEmptyConfig(err):
		return usageErr("no cluster to analyze: no kubeconfig (set KUBECONFIG or --kubeconfig) and not running in a pod; to analyze files, give their paths")
	case clientcmd.IsConfigurationInvalid(err):
		return usageErr("kubeconfig: %v", err)
	}
	var ce *cluster.Error
	if errors.As(err, &ce) {
		return usageErr("%s", oneLine(ce.Error()))
	}
	return usageErr("%s", oneLine(fmt.Sprint(err)))
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
