package manifest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	istionet "istio.io/client-go/pkg/apis/networking/v1"
	corev1 "k8s.io/api/core/v1"
)

func load(t *testing.T, paths ...string) *Result {
	t.Helper()
	res, err := Load(paths, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestLoadMultiDocument(t *testing.T) {
	res := load(t, "testdata/multi.yaml")
	var got []string
	for _, o := range res.Objects {
		got = append(got, o.Kind+"/"+o.Namespace+"/"+o.Name+"@"+itoa(o.Line))
	}
	want := []string{"Service/default/a@2", "ConfigMap/x/cm@13", "Namespace//x@20", "VirtualService/x/vs@25", "Deployment/default/after-errors@49"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("objects:\n got %v\nwant %v", got, want)
	}
	if len(res.Problems) != 2 {
		t.Fatalf("want 2 problems (schema mismatch, parse error), got %v", res.Problems)
	}
	if p := res.Problems[0]; p.Pos.Line != 41 || !strings.Contains(p.Message, "schema: spec.ports is a string") {
		t.Errorf("schema problem: %+v", p)
	}
	if p := res.Problems[1]; p.Pos.Line != 45 || !strings.Contains(p.Message, "cannot parse") {
		t.Errorf("parse problem should point at the enclosing block, line 45: %+v", p)
	}
	vs := res.Objects[3]
	if _, ok := vs.Typed.(*istionet.VirtualService); !ok {
		t.Fatalf("v1beta1 VirtualService decoded as %T", vs.Typed)
	}
	if pos := vs.Pos("spec", "http", 0, "route", 0, "destination", "subset"); pos.Line != 34 {
		t.Errorf("subset line = %d, want 34", pos.Line)
	}
	if pos := vs.Pos("spec", "http", 0, "route", 0, "destination", "missing"); pos.Line != 32 {
		t.Errorf("missing field falls back to its parent: line %d, want 32", pos.Line)
	}
	if cm := res.Objects[1].Typed.(*corev1.ConfigMap); cm.Data["k"] != "v" {
		t.Errorf("ConfigMap data = %v", cm.Data)
	}
}

func TestLoadDirectoryJSONAndUnknown(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("svc.json", `{"apiVersion":"v1","kind":"Service","metadata":{"name":"j","namespace":"n"},"spec":{"ports":[{"port":1}]}}`)
	write("sub/cert.yml", "apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata:\n  name: c\n")
	write("README.md", "not yaml")
	write(".hidden/x.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  name: hidden\n")
	write("empty.yaml", "# nothing\n---\n")
	write("kustomization.yaml", "resources:\n- svc.json\n")
	res := load(t, dir)
	if len(res.NotManifests) != 1 || filepath.Base(res.NotManifests[0]) != "kustomization.yaml" {
		t.Errorf("kustomization.yaml must be skipped, not parsed: %v %+v", res.NotManifests, res.Problems)
	}
	if len(res.Objects) != 2 || res.Unknown["Certificate.cert-manager.io"] != 1 || res.Files != 3 {
		t.Fatalf("objects=%d unknown=%v files=%d", len(res.Objects), res.Unknown, res.Files)
	}
	if res.Objects[0].Typed != nil || res.Objects[1].Typed == nil {
		t.Errorf("unknown kinds are kept untyped, known ones typed")
	}
}

func TestLoadStdinAndBinary(t *testing.T) {
	res, err := Load([]string{"-"}, Options{Stdin: strings.NewReader("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: s\n"), DefaultNamespace: "other"})
	if err != nil || len(res.Objects) != 1 || res.Objects[0].File != "<stdin>" || res.Objects[0].Namespace != "" {
		t.Fatalf("stdin: %v %+v", err, res)
	}
	bin := filepath.Join(t.TempDir(), "bin.yaml")
	os.WriteFile(bin, []byte("\x00\x01\x02apiVersion"), 0o644)
	res = load(t, bin)
	if len(res.Problems) != 1 || !strings.Contains(res.Problems[0].Message, "binary") {
		t.Fatalf("binary: %+v", res.Problems)
	}
}

func TestLoadMissingFields(t *testing.T) {
	res, _ := Load([]string{"-"}, Options{Stdin: strings.NewReader("apiVersion: v1\nmetadata:\n  name: x\n---\nkind: Service\nmetadata:\n  name: y\n---\napiVersion: v1\nkind: Service\nmetadata: {}\n---\n- a list\n")})
	if len(res.Objects) != 0 || len(res.Problems) != 4 {
		t.Fatalf("want 4 problems, got %+v", res.Problems)
	}
	for i, want := range []string{"no kind", "no apiVersion", "no metadata.name", "not a Kubernetes object"} {
		if !strings.Contains(res.Problems[i].Message, want) {
			t.Errorf("problem %d = %q, want %q", i, res.Problems[i].Message, want)
		}
	}
}

func TestUnknownIstioField(t *testing.T) {
	res, _ := Load([]string{"-"}, Options{Stdin: strings.NewReader(`apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: d
spec:
  host: a
  subsets:
  - name: v1
    lables: {version: v1}
  trafficPolicy:
    connectionPool:
      tcp: {maxConnections: 1}
    outlierDetection:
      baseEjectionTime: 30s
`)})
	if len(res.Problems) != 1 {
		t.Fatalf("want one unknown-field warning, got %+v", res.Problems)
	}
	p := res.Problems[0]
	if p.Severity != "warning" || p.Pos.Line != 9 || !strings.Contains(p.Message, "spec.subsets[0].lables") || !strings.Contains(p.Message, "did you mean labels") {
		t.Errorf("got %+v", p)
	}
}

// Fields Istio removed (istio/api#1214, Istio 1.5) are named as such, with
// their replacement, not taken for typos.
func TestRemovedIstioField(t *testing.T) {
	res, _ := Load([]string{"-"}, Options{Stdin: strings.NewReader(`apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: r
spec:
  hosts: [r]
  http:
  - appendHeaders: {x-a: b}
    route:
    - destination: {host: r}
`)})
	if len(res.Problems) != 1 {
		t.Fatalf("want one unknown-field warning, got %+v", res.Problems)
	}
	p := res.Problems[0]
	if p.Pos.Line != 8 || !strings.Contains(p.Message, "spec.http[0].appendHeaders") || !strings.Contains(p.Message, "write headers.request.add (removed in Istio 1.5)") || strings.Contains(p.Message, "did you mean") {
		t.Errorf("got %+v", p)
	}
}

func TestEmptyInputIsAnError(t *testing.T) {
	if _, err := Load([]string{t.TempDir()}, Options{}); err == nil {
		t.Fatal("a directory without manifests must be an error")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// Regressions found on public manifests: comment-only documents (helm
// template's "# Source:" blocks, license headers), Go durations in Istio
// specs, and unnamed IstioOperators given to istioctl.
func TestLoadPublicManifestShapes(t *testing.T) {
	in := `# Copyright header only
---
# Source: istiod/templates/disabled.yaml
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: httpbin}
spec:
  host: httpbin
  trafficPolicy:
    outlierDetection: {interval: 1s, baseEjectionTime: 3m}
---
apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
spec:
  profile: empty
`
	res, err := Load([]string{"-"}, Options{Stdin: strings.NewReader(in)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) != 0 || len(res.Objects) != 2 {
		t.Fatalf("want 2 objects and no problems, got %d objects, problems %+v", len(res.Objects), res.Problems)
	}
	dr := res.Objects[0].Typed.(*istionet.DestinationRule)
	if got := dr.Spec.TrafficPolicy.OutlierDetection.BaseEjectionTime.AsDuration().String(); got != "3m0s" {
		t.Errorf("baseEjectionTime = %s, want 3m0s", got)
	}
}

// TestWalkSkipsWhatIsNotManifests: in a walked directory, Helm charts and
// files with no Kubernetes object at all (values under another name,
// package.json) are listed as skipped; named files, and files that mix
// objects with kind-less documents, are still judged.
func TestWalkSkipsWhatIsNotManifests(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("app/svc.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n")
	values := write("app/spire-values.yaml", "# values for the spire chart\n---\nglobal:\n  spire: {trustDomain: example.org}\n")
	pkg := write("app/package.json", `{"name": "ratings", "version": "1.0.0"}`)
	mixed := write("app/mixed.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\nmetadata: {name: x}\n")
	typo := write("app/typo.yaml", "apiversion: v1\nKind: Service\nmetadata: {name: s2}\n")
	write("overlay/kustomization.yaml", "resources: [../app]\npatches:\n- path: replicas.yaml\n- patch: |-\n    - op: replace\npatchesStrategicMerge: [probe.yaml]\n")
	write("overlay/replicas.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 3}\n")
	write("overlay/probe.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers: [{name: web, readinessProbe: {httpGet: {path: /ready, port: 8080}}}]\n")
	write("overlay/extra.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra}\n")
	write("chart/Chart.yaml", "apiVersion: v2\nname: tag\nversion: 0.1.0\n")
	write("chart/templates/webhook.yaml", "{{- range .Values.tags }}\napiVersion: v1\nkind: Service\n{{- end }}\n")

	res := load(t, dir)
	var skipped []string
	for _, f := range res.NotManifests {
		skipped = append(skipped, strings.TrimPrefix(f, dir+string(filepath.Separator)))
	}
	want := []string{"chart" + string(filepath.Separator), "overlay/kustomization.yaml", "overlay/probe.yaml", "overlay/replicas.yaml", "app/package.json", "app/spire-values.yaml"}
	if strings.Join(skipped, " ") != strings.Join(want, " ") {
		t.Errorf("skipped %v, want %v", skipped, want)
	}
	if len(res.Objects) != 3 || len(res.Problems) != 2 || res.Problems[0].Pos.File != mixed || res.Problems[0].Pos.Line != 5 || res.Problems[1].Pos.File != typo {
		t.Errorf("objects=%d problems=%+v: want the Service and two ConfigMaps, and mixed.yaml:5 and typo.yaml reported", len(res.Objects), res.Problems)
	}

	// Named, a file is judged whatever it holds.
	res = load(t, values, pkg)
	if len(res.NotManifests) != 0 || len(res.Problems) != 2 {
		t.Errorf("named files: skipped %v, problems %+v", res.NotManifests, res.Problems)
	}

	// A chart given as the input says how to render it.
	if _, err := Load([]string{filepath.Join(dir, "chart")}, Options{}); err == nil || !strings.Contains(err.Error(), "helm template") {
		t.Errorf("a chart directory: %v", err)
	}
}

// TestTemplateHint: an error in a document with {{ }} placeholders says to
// render it first.
func TestTemplateHint(t *testing.T) {
	res, err := Load([]string{"-"}, Options{Stdin: strings.NewReader("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  replicas: {{ .Values.replicas }}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: x}]}\n")})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) != 2 || !strings.Contains(res.Problems[0].Message, "helm template") || strings.Contains(res.Problems[1].Message, "template") {
		t.Errorf("want the hint on the templated document only: %+v", res.Problems)
	}
}

// TestUnknownKubernetesField: built-in kinds are checked as the API
// server's strict field validation checks them — exact names, case
// included — and a miscapitalized field is dropped as the server drops it.
// Older API versions decoded into newer types are not checked.
func TestUnknownKubernetesField(t *testing.T) {
	res, _ := Load([]string{"-"}, Options{Stdin: strings.NewReader(`apiVersion: v1
kind: Service
metadata:
  name: netexec
spec:
  Type: NodePort
  selector: {app: netexec}
  ports:
  - {port: 80, targetPort: 8080, name: http}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: example/web
        resources:
          limits: {cpu: "1", memory: 1Gi}
        readinesProbe:
          httpGet: {path: /ready, port: 8080}
---
apiVersion: extensions/v1beta1
kind: Ingress
metadata:
  name: old
spec:
  backend: {serviceName: web, servicePort: 80}
`)})
	var msgs []string
	for _, p := range res.Problems {
		msgs = append(msgs, fmt.Sprintf("%d %s %s", p.Pos.Line, p.Severity, p.Message))
	}
	if len(res.Problems) != 2 ||
		!strings.HasPrefix(msgs[0], "6 warning Service default/netexec: unknown field spec.Type") || !strings.Contains(msgs[0], "did you mean type?") ||
		!strings.HasPrefix(msgs[1], "27 warning Deployment default/web: unknown field spec.template.spec.containers[0].readinesProbe") || !strings.Contains(msgs[1], "did you mean readinessProbe?") {
		t.Fatalf("got:\n%s", strings.Join(msgs, "\n"))
	}
	svc := res.Objects[0].Typed.(*corev1.Service)
	if svc.Spec.Type != "" {
		t.Errorf("the API server drops spec.Type; the model must too, got %q", svc.Spec.Type)
	}
}

// TestMergeKeysAreNotUnknownFields: "<<: *anchor" folds a mapping in; its
// keys are checked, the merge key itself is no field.
func TestMergeKeysAreNotUnknownFields(t *testing.T) {
	data, err := os.ReadFile("testdata/merge-keys.yaml")
	if err != nil {
		t.Fatal(err)
	}
	res, _ := Load([]string{"-"}, Options{Stdin: bytes.NewReader(data)})
	if len(res.Problems) != 1 || !strings.Contains(res.Problems[0].Message, "spec.subsets[0].trafficPolicy.connectionPol") {
		t.Errorf("want only the misspelling inside the merged mapping, got %+v", res.Problems)
	}
}

// TestKubernetesAPIVersion: the version named in unknown-field messages is
// the one of the k8s.io/api module the types come from.
func TestKubernetesAPIVersion(t *testing.T) {
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	want := "k8s.io/api v0." + strings.TrimPrefix(kubernetesAPI, "1.") + "."
	if !strings.Contains(string(mod), want) {
		t.Errorf("go.mod has no %q: update kubernetesAPI (%s) with k8s.io/api", want, kubernetesAPI)
	}
}
