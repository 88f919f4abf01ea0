package cluster_test

import (
	"bytes"
	"encoding/json"
	"k8s.io/client-go/tools/clientcmd"
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/meshdoctor/meshdoctor/internal/cli"
	"github.com/meshdoctor/meshdoctor/internal/cluster"
	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// setPodStatus writes a pod's status through the status subresource, as a
// kubelet would.
func setPodStatus(t *testing.T, ns, name string, phase corev1.PodPhase, ready bool) {
	t.Helper()
	pod := &corev1.Pod{}
	if err := k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: name}, pod); err != nil {
		t.Fatal(err)
	}
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	pod.Status.Phase = phase
	pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: status, LastTransitionTime: metav1.Now()}}
	if err := k8sClient.Status().Update(testCtx, pod); err != nil {
		t.Fatal(err)
	}
}

func uidOf(t *testing.T, obj client.Object) string {
	t.Helper()
	if err := k8sClient.Get(testCtx, client.ObjectKeyFromObject(obj), obj); err != nil {
		t.Fatal(err)
	}
	return string(obj.GetUID())
}

func findings(fs []finding.Finding, rule string) []finding.Finding {
	var out []finding.Finding
	for _, f := range fs {
		if f.Rule == rule {
			out = append(out, f)
		}
	}
	return out
}

// TestLiveStateRules creates pods, their owners and an EndpointSlice
// through the API and sets pod status the way a kubelet would.
func TestLiveStateRules(t *testing.T) {
	requireAPIServer(t)
	ns := testPrefix + "live"
	apply(t, k8sClient, `
apiVersion: v1
kind: Namespace
metadata:
  name: `+ns+`
  labels: {istio-injection: enabled}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: `+ns+`}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: example/web:1}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: `+ns+`}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web, namespace: `+ns+`}
spec:
  hosts: [web]
  http:
  - route:
    - destination: {host: web}
`)
	depUID := uidOf(t, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"}})
	apply(t, k8sClient, `
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-5d8f
  namespace: `+ns+`
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: "`+depUID+`", controller: true}]
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: example/web:1}]
`)
	rsUID := uidOf(t, &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web-5d8f"}})
	pod := func(name, proxyImage string) string {
		proxy := ""
		if proxyImage != "" {
			proxy = "\n  - {name: istio-proxy, image: " + proxyImage + "}"
		}
		return `
apiVersion: v1
kind: Pod
metadata:
  name: ` + name + `
  namespace: ` + ns + `
  labels: {app: web}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-5d8f, uid: "` + rsUID + `", controller: true}]
spec:
  containers:
  - {name: web, image: example/web:1}` + proxy + "\n"
	}
	// web-old predates the label (no proxy); web-new runs a 1.20 proxy
	// against the examples' istiod 1.22.2.
	apply(t, k8sClient, pod("web-old", "")+"---"+pod("web-new", "docker.io/istio/proxyv2:1.20.6"))
	setPodStatus(t, ns, "web-old", corev1.PodRunning, false)
	setPodStatus(t, ns, "web-new", corev1.PodRunning, false)
	apply(t, k8sClient, `
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-abc12
  namespace: `+ns+`
  labels: {kubernetes.io/service-name: web}
addressType: IPv4
ports: [{name: http, port: 80, protocol: TCP}]
endpoints:
- addresses: [10.1.0.1]
  conditions: {ready: false}
  targetRef: {kind: Pod, name: web-old, namespace: `+ns+`}
- addresses: [10.1.0.2]
  conditions: {ready: false}
  targetRef: {kind: Pod, name: web-new, namespace: `+ns+`}
`)

	live := loadCluster(t, cluster.Options{Namespace: ns})
	res := analyze(live.Result, nil)
	check := func(rule, want string) {
		t.Helper()
		fs := findings(res.Findings, rule)
		if len(fs) != 1 || !strings.Contains(fs[0].Message, want) {
			t.Errorf("%s: want one finding containing %q, got %+v", rule, want, fs)
		}
	}
	check("sidecar-missing", "1 of 2 pods of Deployment "+ns+"/web run without an istio-proxy container although namespace "+ns+" has istio-injection=enabled: web-old")
	check("proxy-version-skew", "1 pods of Deployment "+ns+"/web run istio-proxy 1.20.6 (web-new), but istiod Deployment istio-system/istiod (revision default) is 1.22.2")
	check("pods-not-ready-behind-route", "none of its 2 endpoints is ready (EndpointSlice "+ns+"/web-abc12): pod web-new, pod web-old")

	// Once the pods are ready the route is healthy.
	setPodStatus(t, ns, "web-new", corev1.PodRunning, true)
	slice := &discoveryv1.EndpointSlice{}
	if err := k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "web-abc12"}, slice); err != nil {
		t.Fatal(err)
	}
	ready := true
	slice.Endpoints[1].Conditions.Ready = &ready
	if err := k8sClient.Update(testCtx, slice); err != nil {
		t.Fatal(err)
	}
	res = analyze(loadCluster(t, cluster.Options{Namespace: ns}).Result, nil)
	if fs := findings(res.Findings, "pods-not-ready-behind-route"); len(fs) != 0 {
		t.Errorf("a ready endpoint must silence the rule: %+v", fs)
	}
}

// TestPartialAccess: a user who may list everything but VirtualServices
// gets one partial-access finding and the rest of the analysis.
func TestPartialAccess(t *testing.T) {
	requireAPIServer(t)
	apply(t, k8sClient, `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: mdtest-no-virtualservices}
rules:
- apiGroups: ["", apps, batch, discovery.k8s.io, networking.k8s.io, security.istio.io, telemetry.istio.io, extensions.istio.io, gateway.networking.k8s.io, admissionregistration.k8s.io, cloud.google.com]
  resources: ["*"]
  verbs: [get, list]
- apiGroups: [networking.istio.io]
  resources: [destinationrules, gateways, serviceentries, sidecars, workloadentries, envoyfilters, proxyconfigs]
  verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: mdtest-no-virtualservices}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: mdtest-no-virtualservices}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: mdtest-viewer}]
`)
	user, err := env.AddUser(envtest.User{Name: "mdtest-viewer"}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	live, err := cluster.Load(testCtx, user.Config(), cluster.Options{Secrets: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(live.Denied) != 1 || live.Denied[0].Kind != "VirtualService" {
		t.Fatalf("want VirtualService denied only, got %+v", live.Denied)
	}
	res := analyze(live.Result, live.Denied)
	pa := findings(res.Findings, rules.PartialAccess.Name)
	if len(pa) != 1 || !strings.Contains(pa[0].Message, "cannot list VirtualService.networking.istio.io in any namespace") || !strings.Contains(pa[0].Message, "subset-not-found") ||
		!strings.Contains(pa[0].Message, `User "mdtest-viewer" cannot list resource "virtualservices"`) {
		t.Errorf("partial-access finding: %+v", pa)
	}
	if len(findings(res.Findings, "mtls-mode-conflict")) == 0 {
		t.Error("the other kinds must still be analyzed")
	}
	if len(findings(res.Findings, "subset-not-found")) != 0 {
		t.Error("VirtualServices were not readable")
	}

	// The command line: exit 1 for the findings, not 2.
	kc, err := user.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	os.WriteFile(path, kc, 0o600)
	code, out, errOut := runCLI(t, "analyze", "--kubeconfig", path, "--no-color")
	if code != cli.ExitFindings || !strings.Contains(out, "partial-access [MD0003]") || errOut != "" {
		t.Errorf("exit %d, stderr %q\n%s", code, errOut, out)
	}
}

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Main(args, cli.IO{In: strings.NewReader(""), Out: &out, Err: &errb, Getenv: func(string) string { return "" }})
	return code, out.String(), errb.String()
}

func adminKubeconfig(t *testing.T) string {
	t.Helper()
	admin, err := env.AddUser(envtest.User{Name: "mdtest-admin", Groups: []string{"system:masters"}}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	kc, err := admin.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, kc, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestOverlay: --kube with files analyzes the cluster with the files
// applied; findings the cluster already had are pre-existing, and
// --only-new drops them.
func TestOverlay(t *testing.T) {
	requireAPIServer(t)
	ns := testPrefix + "overlay"
	apply(t, k8sClient, `
apiVersion: v1
kind: Namespace
metadata: {name: `+ns+`}
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: `+ns+`}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: `+ns+`}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: `+ns+`}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v2}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews-canary, namespace: `+ns+`}
spec:
  hosts: [reviews-canary.example.com]
  http:
  - route:
    - destination: {host: reviews, subset: v9}
`)
	// The change under review drops subset v2 that the (unchanged)
	// VirtualService reviews still routes to.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "dr.yaml"), []byte(`apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
`), 0o644)
	kc := adminKubeconfig(t)
	type out struct {
		Findings []struct {
			Rule        string
			Resource    struct{ Kind, Namespace, Name string }
			Origin      struct{ File string }
			PreExisting bool
		}
	}
	parse := func(args ...string) out {
		t.Helper()
		code, stdout, stderr := runCLI(t, append([]string{"analyze", "--kubeconfig", kc, "-o", "json", "-n", ns}, args...)...)
		if code != cli.ExitFindings {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var o out
		if err := json.Unmarshal([]byte(stdout), &o); err != nil {
			t.Fatal(err, stdout)
		}
		return o
	}
	all := parse("--kube", dir)
	byVS := map[string]bool{}
	for _, f := range all.Findings {
		if f.Rule == "subset-not-found" {
			byVS[f.Resource.Name] = f.PreExisting
		}
	}
	if pre, ok := byVS["reviews"]; !ok || pre {
		t.Errorf("subset v2 removed by the files: a new finding on VirtualService reviews, got %+v", all.Findings)
	}
	if pre, ok := byVS["reviews-canary"]; !ok || !pre {
		t.Errorf("subset v9 was already missing: pre-existing, got %+v", all.Findings)
	}
	onlyNew := parse("--kube", "--only-new", dir)
	for _, f := range onlyNew.Findings {
		if f.PreExisting || f.Resource.Name == "reviews-canary" {
			t.Errorf("--only-new kept %+v", f)
		}
	}
	if len(onlyNew.Findings) == 0 {
		t.Error("--only-new dropped the new finding")
	}
}

// TestClusterErrors: unreachable servers and broken kubeconfigs give one
// line and exit 2.
func TestClusterErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: \"https://127.0.0.1:1\"}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\nusers: [{name: u, user: {token: t}}]\ncurrent-context: x\n"), 0o600)
	broken := filepath.Join(dir, "broken")
	os.WriteFile(broken, []byte("clusters: [\n"), 0o600)
	for _, args := range [][]string{
		{"analyze", "--kubeconfig", bad},
		{"analyze", "--kubeconfig", bad, "--context", "missing"},
		{"analyze", "--kubeconfig", broken},
	} {
		code, _, errOut := runCLI(t, args...)
		if code != cli.ExitUsage || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.HasPrefix(errOut, "Error: ") || strings.Contains(errOut, "goroutine") {
			t.Errorf("%v: want exit 2 and one line, got %d %q", args, code, errOut)
		}
	}
}

// TestNamespaceFallback: a user allowed into one namespace only, asking
// for the whole cluster without -n, gets that namespace (the context's),
// an info finding saying so, and partial-access for cluster-scoped kinds.
func TestNamespaceFallback(t *testing.T) {
	requireAPIServer(t)
	apply(t, k8sClient, `
apiVersion: v1
kind: Namespace
metadata: {name: mdtest-team}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: read-all, namespace: mdtest-team}
rules:
- apiGroups: ["*"]
  resources: ["*"]
  verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: read-all, namespace: mdtest-team}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: read-all}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: mdtest-team-dev}]
---
apiVersion: v1
kind: Service
metadata: {name: lonely, namespace: mdtest-team}
spec:
  selector: {app: webb}
  ports: [{port: 80}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: mdtest-team}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: example/web}]}
`)
	user, err := env.AddUser(envtest.User{Name: "mdtest-team-dev"}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Without a fallback namespace: everything namespaced is denied.
	live, err := cluster.Load(testCtx, user.Config(), cluster.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if live.Fallback != "" || len(live.Objects) != 0 {
		t.Fatalf("no fallback asked: fallback %q, %d objects", live.Fallback, len(live.Objects))
	}
	live, err = cluster.Load(testCtx, user.Config(), cluster.Options{FallbackNamespace: "mdtest-team"})
	if err != nil {
		t.Fatal(err)
	}
	if live.Fallback != "mdtest-team" {
		t.Fatalf("fallback = %q, want mdtest-team; denied %+v", live.Fallback, live.Denied)
	}
	for _, o := range live.Objects {
		if o.Namespace != "mdtest-team" && o.Namespace != "" {
			t.Errorf("read %s/%s outside the namespace", o.Namespace, o.Name)
		}
	}
	for _, d := range live.Denied {
		if d.Namespace == "mdtest-team" {
			t.Errorf("denied inside the namespace: %+v", d)
		}
	}

	// The command line, with the namespace in the kubeconfig context.
	kc, err := user.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	conf, err := clientcmd.Load(kc)
	if err != nil {
		t.Fatal(err)
	}
	conf.Contexts[conf.CurrentContext].Namespace = "mdtest-team"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*conf, path); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "analyze", "--kubeconfig", path, "--no-color")
	if code != 0 || !strings.Contains(out, "Service mdtest-team/lonely") ||
		!strings.Contains(out, "only namespace mdtest-team (the kubeconfig context's) was read") {
		t.Errorf("exit %d, stderr %q: want the context's namespace analyzed, and said so\n%s", code, errOut, out)
	}
	// -A asks for everything: no fallback, the denials stand.
	if _, out, _ := runCLI(t, "analyze", "--kubeconfig", path, "--no-color", "-A"); strings.Contains(out, "mdtest-team/lonely") {
		t.Errorf("-A must not fall back to one namespace:\n%s", out)
	}
}

// TestUpgradeToLive: --upgrade-to against the cluster marks everything the
// running version already reports as pre-existing; a patch upgrade adds
// nothing, so --only-new leaves nothing.
func TestUpgradeToLive(t *testing.T) {
	requireAPIServer(t)
	kc := adminKubeconfig(t)
	code, out, errOut := runCLI(t, "analyze", "--kubeconfig", kc, "--upgrade-to", "1.22.9", "-o", "json")
	var res struct {
		Findings []struct {
			Rule        string
			PreExisting bool `json:"preExisting"`
		}
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("exit %d, stderr %q: %v", code, errOut, err)
	}
	if len(res.Findings) == 0 {
		t.Fatal("the examples in the cluster have findings")
	}
	for _, f := range res.Findings {
		if !f.PreExisting {
			t.Errorf("a patch upgrade from 1.22.2 must add nothing, got new %s", f.Rule)
		}
	}
	if code, out, errOut := runCLI(t, "analyze", "--kubeconfig", kc, "--upgrade-to", "1.22.9", "--only-new"); code != cli.ExitOK {
		t.Errorf("--only-new: exit %d, stderr %q\n%s", code, errOut, out)
	}
}

// TestUpgradeKubernetesLive: the API server's version is the cluster's
// Kubernetes version for upgrade, checked against what --to supports
// (the test server runs a Kubernetes newer than Istio 1.22 supports);
// --kube-version, given, wins.
func TestUpgradeKubernetesLive(t *testing.T) {
	requireAPIServer(t)
	kc := adminKubeconfig(t)
	code, out, errOut := runCLI(t, "upgrade", "--kubeconfig", kc, "--to", "1.22.9", "--istio-version", "1.22.2", "-o", "json")
	var rep struct {
		Kubernetes struct{ Version, Source, Problem string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("exit %d, stderr %q: %v", code, errOut, err)
	}
	if rep.Kubernetes.Version == "" || !strings.Contains(rep.Kubernetes.Source, "API server") || !strings.Contains(rep.Kubernetes.Problem, "supports Kubernetes up to 1.30") {
		t.Errorf("exit %d: want the server's version, outside 1.22's range: %+v", code, rep.Kubernetes)
	}
	_, out, _ = runCLI(t, "upgrade", "--kubeconfig", kc, "--to", "1.22.9", "--istio-version", "1.22.2", "--kube-version", "1.29", "-o", "json")
	rep.Kubernetes.Problem = ""
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Kubernetes.Problem != "" || rep.Kubernetes.Source != "--kube-version" {
		t.Errorf("--kube-version 1.29 wins and is supported: %+v (%v)", rep.Kubernetes, err)
	}
}

// TestRolloutOrder: a change that adds a subset and the route to it (or
// removes both) is healthy when finished but not while proxies receive it
// in parts; --kube reports the order to apply it in.
func TestRolloutOrder(t *testing.T) {
	requireAPIServer(t)
	ns := testPrefix + "rollout"
	apply(t, k8sClient, `
apiVersion: v1
kind: Namespace
metadata: {name: `+ns+`}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: `+ns+`}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: `+ns+`}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v1}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ratings, namespace: `+ns+`}
spec:
  host: ratings
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings, namespace: `+ns+`}
spec:
  hosts: [ratings]
  http:
  - route:
    - destination: {host: ratings, subset: v2}
`)
	// Adds reviews v2 and routes to it; drops ratings v2 and the route.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "change.yaml"), []byte(`apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v2}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ratings}
spec:
  host: ratings
  subsets:
  - {name: v1, labels: {version: v1}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings}
spec:
  hosts: [ratings]
  http:
  - route:
    - destination: {host: ratings, subset: v1}
`), 0o644)
	kc := adminKubeconfig(t)
	code, out, errOut := runCLI(t, "analyze", "--kubeconfig", kc, "-n", ns, "--kube", "--only-new", "-o", "json", dir)
	var res struct {
		Findings []struct {
			Rule, Message, Fix string
			Resource           struct{ Kind, Namespace, Name string }
		}
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("exit %d, stderr %q: %v", code, errOut, err)
	}
	got := map[string]string{}
	for _, f := range res.Findings {
		if f.Rule != "rollout-order" {
			t.Errorf("only the rollout is a problem, got %s on %s: %s", f.Rule, f.Resource.Name, f.Message)
			continue
		}
		got[f.Resource.Name] = f.Fix
	}
	if !strings.Contains(got["reviews"], "apply DestinationRule "+ns+"/reviews first") {
		t.Errorf("adding a subset: apply the DestinationRule first; got %q", got["reviews"])
	}
	// The planner's order (meshdoctor plan --kube), restricted to the
	// resources of each hazard.
	if !strings.Contains(got["ratings"], "apply VirtualService "+ns+"/ratings first") || !strings.HasSuffix(got["ratings"], "then apply DestinationRule "+ns+"/ratings") {
		t.Errorf("removing a subset: apply the VirtualService first; got %q", got["ratings"])
	}

	// Negative: the DestinationRule gains a subset and the VirtualService
	// changes, but still routes to a subset both states have; and a route
	// to a subset missing before and after is subset-not-found, not a
	// rollout problem.
	os.WriteFile(filepath.Join(dir, "change.yaml"), []byte(`apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - timeout: 2s
    route:
    - destination: {host: reviews, subset: v1}
  - route:
    - destination: {host: reviews, subset: v9}
`), 0o644)
	_, out, _ = runCLI(t, "analyze", "--kubeconfig", kc, "-n", ns, "--kube", "-o", "json", dir)
	res.Findings = nil
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	sawMissing := false
	for _, f := range res.Findings {
		if f.Rule == "rollout-order" {
			t.Errorf("no rollout hazard in this change, got: %s", f.Message)
		}
		sawMissing = sawMissing || (f.Rule == "subset-not-found" && f.Resource.Name == "reviews")
	}
	if !sawMissing {
		t.Errorf("subset v9 is missing after the change too: subset-not-found expected\n%s", out)
	}
}
