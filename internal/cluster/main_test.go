package cluster_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"
)

// The API-server tests share one etcd + kube-apiserver started here (no
// controllers, no kubelet: objects are exactly what the tests create).
var (
	env       *envtest.Environment
	cfg       *rest.Config
	skipWhy   string
	repoRoot  = filepath.Join("..", "..")
	testCtx   = context.Background()
	k8sClient client.Client
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		assets = cachedAssets()
	}
	if assets == "" {
		skipWhy = "no etcd/kube-apiserver binaries: run `make test` (it builds them with hack/kube-assets.sh) or set KUBEBUILDER_ASSETS"
		if os.Getenv("CI") == "true" {
			fmt.Fprintln(os.Stderr, "internal/cluster: "+skipWhy+" (CI=true: failing instead of skipping)")
			return 1
		}
		return m.Run()
	}
	crds, err := loadCRDs()
	if err != nil {
		fmt.Fprintln(os.Stderr, "internal/cluster: CRDs:", err)
		return 1
	}
	env = &envtest.Environment{BinaryAssetsDirectory: assets, CRDs: crds, ControlPlaneStartTimeout: 2 * time.Minute}
	// Room for the benchmark's thousands of Services (default: a /24).
	env.ControlPlane.GetAPIServer().Configure().Set("service-cluster-ip-range", "10.96.0.0/16")
	cfg, err = env.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "internal/cluster: starting the API server:", err)
		_ = env.Stop()
		return 1
	}
	defer func() {
		if err := env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "internal/cluster: stopping the API server:", err)
		}
	}()
	cfg.QPS, cfg.Burst = 500, 1000
	if k8sClient, err = client.New(cfg, client.Options{}); err != nil {
		fmt.Fprintln(os.Stderr, "internal/cluster: client:", err)
		return 1
	}
	if err := applyExamples(); err != nil {
		fmt.Fprintln(os.Stderr, "internal/cluster: applying examples:", err)
		return 1
	}
	return m.Run()
}

// requireAPIServer skips (or, under CI, never reaches: TestMain fails) the
// tests that need the local API server.
func requireAPIServer(tb testing.TB) {
	tb.Helper()
	if cfg == nil {
		tb.Skip(skipWhy)
	}
}

// cachedAssets finds binaries hack/kube-assets.sh built earlier.
func cachedAssets() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	dirs, _ := filepath.Glob(filepath.Join(home, ".cache", "meshdoctor", "kube-assets", "*"))
	for i := len(dirs) - 1; i >= 0; i-- {
		ok := true
		for _, b := range []string{"etcd", "kube-apiserver"} {
			if st, err := os.Stat(filepath.Join(dirs[i], b)); err != nil || st.Mode()&0o111 == 0 {
				ok = false
			}
		}
		if ok {
			return dirs[i]
		}
	}
	return ""
}

// moduleDir is the module cache directory of a dependency.
func moduleDir(mod string) (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", mod).Output()
	if err != nil {
		return "", fmt.Errorf("go list -m %s: %w", mod, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// loadCRDs reads Istio's CRDs (istio.io/api), the Gateway API standard
// channel (sigs.k8s.io/gateway-api) and a minimal GKE BackendConfig.
func loadCRDs() ([]*apiextensionsv1.CustomResourceDefinition, error) {
	istio, err := moduleDir("istio.io/api")
	if err != nil {
		return nil, err
	}
	gw, err := moduleDir("sigs.k8s.io/gateway-api")
	if err != nil {
		return nil, err
	}
	files := []string{filepath.Join(istio, "kubernetes", "customresourcedefinitions.gen.yaml")}
	std, _ := filepath.Glob(filepath.Join(gw, "config", "crd", "standard", "*.yaml"))
	files = append(files, std...)
	var out []*apiextensionsv1.CustomResourceDefinition
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		docs, err := splitYAML(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		for _, d := range docs {
			if d.GetKind() != "CustomResourceDefinition" {
				continue // gateway-api also ships a ValidatingAdmissionPolicy
			}
			js, _ := d.MarshalJSON()
			crd := &apiextensionsv1.CustomResourceDefinition{}
			if err := yaml.Unmarshal(js, crd); err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			out = append(out, crd)
		}
	}
	var bc apiextensionsv1.CustomResourceDefinition
	if err := yaml.Unmarshal([]byte(backendConfigCRD), &bc); err != nil {
		return nil, err
	}
	return append(out, &bc), nil
}

// backendConfigCRD stands in for GKE's (not published as a module): the
// schema keeps every field, which is all meshdoctor needs.
const backendConfigCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: backendconfigs.cloud.google.com}
spec:
  group: cloud.google.com
  names: {kind: BackendConfig, listKind: BackendConfigList, plural: backendconfigs, singular: backendconfig}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
`

func splitYAML(b []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
	var out []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, err
		}
		if len(u.Object) > 0 {
			out = append(out, u)
		}
	}
}

// examplesDir holds the seed incidents; every test compares against them.
var examplesDir = filepath.Join(repoRoot, "examples")

func applyExamples() error {
	var all []*unstructured.Unstructured
	err := filepath.WalkDir(examplesDir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || (filepath.Ext(p) != ".yaml" && filepath.Ext(p) != ".yml") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		docs, err := splitYAML(b)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		all = append(all, docs...)
		return nil
	})
	if err != nil {
		return err
	}
	return createAll(testCtx, k8sClient, all)
}

// createAll creates objects the way kubectl apply -f would on a fresh
// cluster: namespaces first, "default" for namespaced objects without one.
func createAll(ctx context.Context, c client.Client, objs []*unstructured.Unstructured) error {
	ordered := make([]*unstructured.Unstructured, 0, len(objs))
	for _, o := range objs {
		if o.GetKind() == "Namespace" {
			ordered = append(ordered, o)
		}
	}
	for _, o := range objs {
		if o.GetKind() != "Namespace" {
			ordered = append(ordered, o)
		}
	}
	for _, o := range ordered {
		if namespaced, err := c.IsObjectNamespaced(o); err == nil && namespaced && o.GetNamespace() == "" {
			o.SetNamespace("default")
		}
		// A live cluster always has the namespace; manifests may leave
		// it out (partial input).
		if ns := o.GetNamespace(); ns != "" {
			nsObj := &unstructured.Unstructured{}
			nsObj.SetAPIVersion("v1")
			nsObj.SetKind("Namespace")
			nsObj.SetName(ns)
			if err := c.Create(ctx, nsObj); err != nil && !apierrors.IsAlreadyExists(err) {
				return err
			}
		}
		err := c.Create(ctx, o)
		if apierrors.IsAlreadyExists(err) {
			// Declared twice (istio-system in two examples): apply merges.
			cur := &unstructured.Unstructured{}
			cur.SetGroupVersionKind(o.GroupVersionKind())
			if err = c.Get(ctx, client.ObjectKeyFromObject(o), cur); err == nil {
				labels := cur.GetLabels()
				if labels == nil {
					labels = map[string]string{}
				}
				for k, v := range o.GetLabels() {
					labels[k] = v
				}
				o.SetLabels(labels)
				o.SetResourceVersion(cur.GetResourceVersion())
				err = c.Update(ctx, o)
			}
		}
		if err != nil {
			return fmt.Errorf("%s %s/%s: %w", o.GetKind(), o.GetNamespace(), o.GetName(), err)
		}
	}
	return nil
}

// apply creates the objects of a YAML stream.
func apply(tb testing.TB, c client.Client, text string) {
	tb.Helper()
	docs, err := splitYAML([]byte(text))
	if err != nil {
		tb.Fatal(err)
	}
	if err := createAll(testCtx, c, docs); err != nil {
		tb.Fatal(err)
	}
}
