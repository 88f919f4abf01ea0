package cli

import (
	"context"
	"os"
	"slices"
	"strings"

	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/meshdoctor/meshdoctor/internal/analysis"
	"github.com/meshdoctor/meshdoctor/internal/catalog"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
)

// meshOptions checks the model flags every command shares, before anything
// is loaded: a --istio-version that is no version or a --mesh-config that
// is no MeshConfig ends the run with one line and exit 2, never silence.
func meshOptions(istioVersion, meshConfig string) (mesh.Options, error) {
	var o mesh.Options
	if istioVersion != "" {
		v, ok := mesh.ParseVersion(istioVersion)
		if !ok {
			return o, usageErr("--istio-version: %q is not a version (want e.g. 1.22.2)", istioVersion)
		}
		o.IstioVersion, o.IstioVersionSource = &v, "--istio-version"
	}
	if meshConfig != "" {
		b, err := os.ReadFile(meshConfig)
		if err != nil {
			return o, usageErr("--mesh-config: %v", err)
		}
		if err := mesh.CheckMeshConfig(b); err != nil {
			return o, usageErr("--mesh-config %s: %s", meshConfig, oneLine(err.Error()))
		}
		o.MeshConfig, o.MeshConfigSource = b, "--mesh-config"
	}
	return o, nil
}

// inputFlags are the input and model flags trace, plan and upgrade take as
// analyze does: the Istio version, the mesh config, and the cluster to read
// (kubectl's flags, --kube for files over it, -A, --no-secrets).
type inputFlags struct {
	istioVersion, meshConfig string
	kube                     *genericclioptions.ConfigFlags
	kubeOverlay              bool
	allNamespaces            bool
	noSecrets                bool
}

func newInputFlags() inputFlags {
	return inputFlags{kube: genericclioptions.NewConfigFlags(true)}
}

// add registers the flags; the usages that differ by command are given.
func (f *inputFlags) add(fl *pflag.FlagSet, versionUsage, kubeUsage, namespaceUsage string) {
	fl.StringVar(&f.meshConfig, "mesh-config", "", "MeshConfig YAML (or the istio ConfigMap) to use instead of the one in the input")
	fl.StringVar(&f.istioVersion, "istio-version", "", versionUsage)
	fl.BoolVar(&f.kubeOverlay, "kube", false, kubeUsage)
	fl.BoolVarP(&f.allNamespaces, "all-namespaces", "A", false, "read every namespace (the default for a cluster unless -n is given)")
	fl.BoolVar(&f.noSecrets, "no-secrets", false, "cluster: do not read TLS Secrets")
	f.kube.AddFlags(fl)
	fl.Lookup("namespace").Usage = namespaceUsage
}

// options checks the model flags and returns the analysis options with
// every rule.
func (f inputFlags) options() (analysis.Options, error) {
	opts := analysis.Options{Rules: catalog.All()}
	var err error
	opts.Mesh, err = meshOptions(f.istioVersion, f.meshConfig)
	return opts, err
}

// cluster is the flags as the cluster reader takes them.
func (f inputFlags) cluster() analyzeFlags {
	return analyzeFlags{kube: f.kube, kubeOverlay: f.kubeOverlay, allNamespaces: f.allNamespaces, noSecrets: f.noSecrets}
}

// namespace is -n as given ("" when unset).
func (f inputFlags) namespace() string {
	if f.kube.Namespace != nil {
		return *f.kube.Namespace
	}
	return ""
}

// checkFormat refuses an -o the command does not write.
func checkFormat(got string, formats []string) error {
	if !slices.Contains(formats, got) {
		return usageErr("unknown output format %q (want %s)", got, strings.Join(formats, ", "))
	}
	return nil
}

// analyzeInput loads what the arguments name, as analyze does (files and
// stdin, the live cluster without arguments, files over it with --kube),
// and analyzes it with opts.
func analyzeInput(ctx context.Context, streams IO, in inputFlags, args []string, namespaceSet bool, opts analysis.Options) (*analysis.Result, error) {
	if len(args) == 0 || in.kubeOverlay {
		return analyzeCluster(ctx, streams, in.cluster(), args, namespaceSet, opts, opts)
	}
	ns := in.namespace()
	if ns == "" {
		ns = "default"
	}
	loaded, err := manifest.Load(args, manifest.Options{DefaultNamespace: ns, Stdin: streams.In})
	if err != nil {
		return nil, usageErr("%v", err)
	}
	if len(loaded.Objects) == 0 {
		return nil, usageErr("no Kubernetes objects in %s", strings.Join(args, ", "))
	}
	return analysis.Run(loaded, opts), nil
}
