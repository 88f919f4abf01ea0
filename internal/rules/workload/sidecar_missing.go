package workload

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// SidecarMissing: a running pod has no istio-proxy although the injection
// policy says it should have one. Only live pods (with a status) are
// judged: a manifest's pod template is injected when the pod is created.
var SidecarMissing = &rules.Rule{
	Code: "MD4020", Name: "sidecar-missing", Severity: finding.Warning, Area: "workload",
	Summary: "A running pod in a namespace labelled for injection has no istio-proxy container.",
	Needs:   []string{"Pod"},
	Since:   "0.1.0",
	IST:     []string{"IST0103"},
	Doc: rules.Doc{
		Mechanism: "Istio injects the sidecar with a mutating admission webhook, only when a pod is created. A pod created before its namespace got istio-injection=enabled (or istio.io/rev), or while the webhook was unavailable or failed open (failurePolicy, istiod down, a revision label that no webhook serves), runs without istio-proxy until it is re-created. meshdoctor judges only live pods (status present), with the same policy as the injector: pod label sidecar.istio.io/inject=false, hostNetwork and kube-system are never injected.",
		Symptom:   "The pod's traffic bypasses the mesh: its requests to STRICT mTLS services are reset (curl: (56) Recv failure: Connection reset by peer; upstream 503 with UF/URX), AuthorizationPolicies that require a principal deny them (HTTP 403 RBAC: access denied), and VirtualService routing, retries and telemetry do not apply to it. `istioctl proxy-status` does not list the pod.",
		Fix:       "Re-create the pods so the webhook injects them: `kubectl rollout restart deployment/<name> -n <namespace>` (or delete a bare pod). If they come back without istio-proxy, check the webhook: `kubectl get mutatingwebhookconfiguration -l app=sidecar-injector`, istiod's logs, and that the namespace's istio.io/rev names an installed revision.",
		Before:    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web-7d9f\n  namespace: shop   # labelled istio-injection=enabled\nspec:\n  containers:\n  - name: web\n    image: example/web\nstatus:\n  phase: Running\n",
		After:     "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web-5c2a\n  namespace: shop\nspec:\n  containers:\n  - name: web\n    image: example/web\n  - name: istio-proxy\n    image: docker.io/istio/proxyv2:1.22.2\nstatus:\n  phase: Running\n",
		Sources: []string{
			"https://istio.io/latest/docs/setup/additional-setup/sidecar-injection/#automatic-sidecar-injection",
			"https://istio.io/latest/docs/ops/common-problems/injection/",
		},
	},
	Run: runSidecarMissing,
}

// livePod reports whether w is a pod read from a cluster (it has a status)
// that is still running or about to.
func livePod(w *mesh.Workload) bool {
	if w.Pod == nil || w.Pod.Status.Phase == "" {
		return false
	}
	return w.Pod.Status.Phase == corev1.PodRunning || w.Pod.Status.Phase == corev1.PodPending
}

func runSidecarMissing(p *rules.Pass) {
	m := p.Model
	for _, w := range m.Workloads {
		pods := []*mesh.Workload{w}
		if w.Pod == nil {
			pods = w.Instances
		}
		var missing []string
		why := ""
		for _, pod := range pods {
			if !livePod(pod) || hasProxyContainer(pod.PodSpec) || pod.Pod.DeletionTimestamp != nil {
				continue
			}
			// The injector's decision for this pod, ignoring what it
			// actually got.
			d, reason := m.InjectionPolicy(pod)
			if d != mesh.DataplaneSidecar {
				continue
			}
			missing = append(missing, pod.Name)
			why = reason
		}
		if len(missing) == 0 {
			continue
		}
		sort.Strings(missing)
		var f finding.Finding
		restart := fmt.Sprintf("kubectl rollout restart %s/%s -n %s", strings.ToLower(w.Kind), w.Name, w.Namespace)
		if w.Pod != nil {
			f = rules.At(w.Object, "spec", "containers")
			f.Message = fmt.Sprintf("Pod %s/%s is running without an istio-proxy container although %s: the injection webhook did not inject it (it failed, or the pod predates the label)", w.Namespace, w.Name, why)
			restart = fmt.Sprintf("kubectl delete pod %s -n %s   # and let its owner re-create it", w.Name, w.Namespace)
		} else {
			f = rules.AtPod(w, "spec", "containers")
			f.Message = fmt.Sprintf("%d of %d pods of %s %s/%s run without an istio-proxy container although %s: %s (the injection webhook did not inject them: it failed, or they predate the label)",
				len(missing), len(pods), w.Kind, w.Namespace, w.Name, why, strings.Join(missing, ", "))
		}
		f.Symptom = "these pods' traffic bypasses the mesh: their requests to STRICT mTLS services are reset (Connection reset by peer / 503 UF), principal-based AuthorizationPolicies deny them (403 RBAC: access denied), and routing rules do not apply to them"
		f.Fix = "re-create the pods so the webhook injects them:\n  " + restart + "\nif they come back without istio-proxy, check `kubectl get mutatingwebhookconfiguration` and istiod's logs"
		p.Report(f)
	}
}

func hasProxyContainer(spec *corev1.PodSpec) bool {
	for _, cs := range [][]corev1.Container{spec.Containers, spec.InitContainers} {
		for _, c := range cs {
			if c.Name == "istio-proxy" {
				return true
			}
		}
	}
	return false
}
