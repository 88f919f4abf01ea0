package workload

import (
	"fmt"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// ImageAutoWithoutInjection: an istio-proxy container with the injector's
// placeholder image "auto" in pods the injector will not process.
var ImageAutoWithoutInjection = &rules.Rule{
	Code: "MD4011", Name: "image-auto-without-injection", Severity: finding.Error, Area: "workload",
	Summary: "An istio-proxy container has `image: auto`, but the injector will not process the pods (namespace or pod not selected for injection): they try to pull an image named \"auto\".",
	Needs:   []string{"Deployment", "StatefulSet", "DaemonSet", "Pod", "ReplicaSet"},
	Reads:   []string{"Namespace", "MutatingWebhookConfiguration", "ConfigMap"},
	Since:   "0.2.0",
	IST:     []string{"IST0146", "IST0147"},
	Doc: rules.Doc{
		Mechanism: "Gateway deployments installed the recommended way (the gateway Helm chart, inject.istio.io/templates: gateway) declare their istio-proxy container with `image: auto`: the sidecar injector replaces it with the real proxy image when it injects the pod. That only happens if one of the injector's webhooks selects the pod (namespace label istio-injection=enabled or istio.io/rev, or pod label sidecar.istio.io/inject: \"true\"), and not in a namespace labelled istio-injection=disabled. Otherwise the pod is created as written. meshdoctor decides with the injection labels, and with the input's injector webhooks (MutatingWebhookConfigurations, their namespace and object selectors) where they select the pods even so (custom selectors); webhooks that do not match are not taken as proof, since an input often holds only some of an install's webhooks. A namespace the input does not show is not judged. A running pod that still has `image: auto` was not injected. istioctl analyze reports every Deployment with image auto when the input has no webhooks (IST0146); meshdoctor does not, and reports both cases as errors, since the pods cannot start either way.",
		Symptom:   "The pods stay in ErrImagePull / ImagePullBackOff (`Failed to pull image \"auto\"`), so the gateway has no ready pods and its LoadBalancer Service answers nothing (connection refused or timeouts).",
		Fix:       "Select the pods for injection: label the namespace (istio-injection=enabled or istio.io/rev=<revision>, not istio-injection=disabled), or the pod template sidecar.istio.io/inject: \"true\", then re-create the pods; or give istio-proxy an explicit proxyv2 image.",
		Before:    "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ingress\n  labels: {istio-injection: disabled}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ingressgateway\n  namespace: ingress\nspec:\n  template:\n    metadata:\n      annotations: {inject.istio.io/templates: gateway}\n      labels: {istio: ingressgateway}\n    spec:\n      containers:\n      - name: istio-proxy\n        image: auto\n",
		After:     "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ingress\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ingressgateway\n  namespace: ingress\nspec:\n  template:\n    metadata:\n      annotations: {inject.istio.io/templates: gateway}\n      labels: {istio: ingressgateway, sidecar.istio.io/inject: \"true\"}\n    spec:\n      containers:\n      - name: istio-proxy\n        image: auto\n",
		Sources: []string{
			"https://istio.io/latest/docs/setup/additional-setup/gateway/#deploying-a-gateway",
			"https://istio.io/latest/docs/reference/config/analysis/ist0146/",
			"https://istio.io/latest/docs/reference/config/analysis/ist0147/",
		},
	},
	Run: runImageAutoWithoutInjection,
}

func runImageAutoWithoutInjection(p *rules.Pass) {
	m := p.Model
	for _, w := range m.Workloads {
		i, init := autoProxy(w)
		if i < 0 {
			continue
		}
		field := "containers"
		if init {
			field = "initContainers"
		}
		f := rules.AtPod(w, "spec", field, i, "image")
		if livePod(w) {
			f.Message = fmt.Sprintf("Pod %s/%s runs with istio-proxy image \"auto\": the injector did not process it", w.Namespace, w.Name)
		} else {
			d, why := m.WebhookInjects(w)
			if d != mesh.DataplaneNone {
				continue
			}
			f.Message = fmt.Sprintf("%s %s/%s has istio-proxy `image: auto`, which only the sidecar injector replaces, but it will not inject these pods: %s", w.Kind, w.Namespace, w.Name, why)
		}
		f.Symptom = "the pods try to pull an image named \"auto\" and stay in ErrImagePull/ImagePullBackOff: the gateway has no ready pods and its Service answers nothing"
		f.Fix = fmt.Sprintf("select the pods for injection, then re-create them: remove istio-injection=disabled from namespace %s and label it istio-injection=enabled (or istio.io/rev=<revision>), or add to %s:\n  sidecar.istio.io/inject: \"true\"", w.Namespace, podLabelsPath(w))
		p.Report(f)
	}
}

// autoProxy finds the istio-proxy container with image "auto": its index,
// and whether it is an init container (native sidecar); -1 without one.
func autoProxy(w *mesh.Workload) (int, bool) {
	for i, c := range w.PodSpec.Containers {
		if c.Name == "istio-proxy" && c.Image == "auto" {
			return i, false
		}
	}
	for i, c := range w.PodSpec.InitContainers {
		if c.Name == "istio-proxy" && c.Image == "auto" {
			return i, true
		}
	}
	return -1, false
}

// podLabelsPath is where a workload's pod labels are, for fixes.
func podLabelsPath(w *mesh.Workload) string {
	if len(w.PodPath()) == 0 {
		return "metadata.labels"
	}
	return manifest.PathString(w.PodPath()) + ".metadata.labels"
}
