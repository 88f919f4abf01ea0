package workload

import (
	"fmt"

	admissionv1 "k8s.io/api/admissionregistration/v1"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// InjectorWebhookServiceNotFound: an injector webhook calls an istiod
// Service that does not exist.
var InjectorWebhookServiceNotFound = &rules.Rule{
	Code: "MD4015", Name: "injector-webhook-service-not-found", Severity: finding.Error, Area: "workload",
	Summary: "A sidecar injector webhook calls an istiod Service that is not in its namespace: pod creation fails (failurePolicy Fail) or pods start without a sidecar (Ignore).",
	Needs:   []string{"MutatingWebhookConfiguration"},
	Reads:   []string{"Service"},
	Since:   "0.3.0",
	IST:     []string{"IST0139"},
	Doc: rules.Doc{
		Mechanism: "The API server sends each pod creation the webhook selects to clientConfig.service (istiod, istiod-<revision>). When that Service does not exist (the revision was uninstalled but its webhook configuration stayed, or the Service was renamed), the call fails: with failurePolicy Fail (Istio's default for injection) the pod is rejected, with Ignore it is created without a sidecar. meshdoctor reports a webhook whose Service is missing from a namespace whose other Services the input holds; when the input has no Service of that namespace (manifests of the application only) nothing is concluded. Webhooks called by URL are not checked.",
		Symptom:   "With failurePolicy Fail, no pod in the selected namespaces can be created: the ReplicaSet's events say `failed calling webhook \"…sidecar-injector.istio.io\": … service \"istiod-canary\" not found`. With Ignore, new pods silently run without istio-proxy.",
		Fix:       "Delete the webhook configuration of the removed revision (`kubectl delete mutatingwebhookconfiguration NAME`), or point clientConfig.service at the running istiod's Service (reinstalling the revision recreates both).",
		Before:    "kind: MutatingWebhookConfiguration\nmetadata: {name: istio-sidecar-injector-canary}\nwebhooks:\n- name: rev.namespace.sidecar-injector.istio.io\n  clientConfig:\n    service: {name: istiod-canary, namespace: istio-system, path: /inject}   # uninstalled\n",
		After:     "# kubectl delete mutatingwebhookconfiguration istio-sidecar-injector-canary\n",
		Sources: []string{
			"https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/#failure-policy",
			"https://istio.io/latest/docs/ops/common-problems/injection/",
			"https://istio.io/latest/docs/reference/config/analysis/ist0139/",
		},
	},
	Run: runInjectorWebhookServiceNotFound,
}

func runInjectorWebhookServiceNotFound(p *rules.Pass) {
	m := p.Model
	for _, h := range m.InjectorWebhooks() {
		svc := h.Hook.ClientConfig.Service
		if svc == nil || svc.Name == "" || m.Service(svc.Namespace, svc.Name) != nil || len(m.ServicesIn(svc.Namespace)) == 0 {
			continue
		}
		f := rules.At(h.Config, "webhooks", h.Index, "clientConfig", "service", "name")
		f.Message = fmt.Sprintf("injector webhook %s of MutatingWebhookConfiguration %s calls Service %s/%s, which is not among the Services of namespace %s", h.Hook.Name, h.Config.Name, svc.Namespace, svc.Name, svc.Namespace)
		if h.Hook.FailurePolicy != nil && *h.Hook.FailurePolicy == admissionv1.Ignore {
			f.Severity = finding.Warning
			f.Symptom = "the call fails and failurePolicy is Ignore: pods the webhook selects are created without istio-proxy, outside the mesh"
		} else {
			f.Symptom = fmt.Sprintf("the call fails and failurePolicy is Fail: pods the webhook selects cannot be created (`failed calling webhook \"%s\": service \"%s\" not found`)", h.Hook.Name, svc.Name)
		}
		f.Fix = fmt.Sprintf("delete the stale configuration (kubectl delete mutatingwebhookconfiguration %s) or point clientConfig.service at the running istiod's Service", h.Config.Name)
		p.Report(f)
	}
}
