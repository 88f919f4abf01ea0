package workload

import (
	"fmt"
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// IstioWebhookServiceNotFound: an Istio webhook (injector or config
// validator) calls an istiod Service that does not exist.
var IstioWebhookServiceNotFound = &rules.Rule{
	Code: "MD4015", Name: "istio-webhook-service-not-found", Severity: finding.Error, Area: "workload",
	Summary: "An Istio webhook (sidecar injector or config validator) calls an istiod Service that is not in its namespace: pod creation or Istio config changes fail (failurePolicy Fail), or pass unprocessed (Ignore).",
	Needs:   []string{"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"},
	Reads:   []string{"Service"},
	Since:   "0.2.0",
	IST:     []string{"IST0139"},
	Doc: rules.Doc{
		Mechanism: "The API server sends each request a webhook selects to its clientConfig.service (istiod, istiod-<revision>): pod creations to the sidecar injector, Istio resource changes to the config validator (istiod-default-validator, istio-validator-*). When that Service does not exist (the revision was uninstalled but its webhook configurations stayed, or the Service was renamed), the call fails: with failurePolicy Fail (the API default, and Istio's for injection and, once istiod is ready, validation) the request is rejected; with Ignore the pod is created without a sidecar, the resource unvalidated. meshdoctor reports a webhook whose Service is missing from a namespace whose other Services the input holds; when the input has no Service of that namespace (manifests of the application only) nothing is concluded. Webhooks called by URL are external-istiod-address's. istioctl analyze checks the injector's webhooks only.",
		Symptom:   "Injector: no pod in the selected namespaces can be created (`failed calling webhook \"…sidecar-injector.istio.io\": … service \"istiod-canary\" not found`), or new pods silently run without istio-proxy. Validator: every kubectl apply of an Istio resource fails (`failed calling webhook \"validation.istio.io\"`), typically after istiod was uninstalled.",
		Fix:       "Delete the webhook configurations of the removed revision (`kubectl delete mutatingwebhookconfiguration NAME`, `kubectl delete validatingwebhookconfiguration NAME`), or point clientConfig.service at the running istiod's Service (reinstalling the revision recreates both).",
		Before:    "kind: MutatingWebhookConfiguration\nmetadata: {name: istio-sidecar-injector-canary}\nwebhooks:\n- name: rev.namespace.sidecar-injector.istio.io\n  clientConfig:\n    service: {name: istiod-canary, namespace: istio-system, path: /inject}   # uninstalled\n",
		After:     "# kubectl delete mutatingwebhookconfiguration istio-sidecar-injector-canary\n",
		Sources: []string{
			"https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/#failure-policy",
			"https://istio.io/latest/docs/ops/common-problems/injection/",
			"https://istio.io/latest/docs/ops/common-problems/validation/",
			"https://istio.io/latest/docs/reference/config/analysis/ist0139/",
		},
	},
	Run: runIstioWebhookServiceNotFound,
}

func runIstioWebhookServiceNotFound(p *rules.Pass) {
	m := p.Model
	for _, h := range m.IstioWebhookClients() {
		svc := h.Client.Service
		if svc == nil || svc.Name == "" || m.Service(svc.Namespace, svc.Name) != nil || len(m.ServicesIn(svc.Namespace)) == 0 {
			continue
		}
		f := rules.At(h.Config, "webhooks", h.Index, "clientConfig", "service", "name")
		f.Message = fmt.Sprintf("webhook %s of %s %s calls Service %s/%s, which is not among the Services of namespace %s", h.Name, h.Config.Kind, h.Config.Name, svc.Namespace, svc.Name, svc.Namespace)
		ignore := h.FailurePolicy == admissionv1.Ignore
		switch {
		case h.Validating && ignore:
			f.Severity = finding.Warning
			f.Symptom = "the call fails and failurePolicy is Ignore: Istio resources are applied without validation, so invalid configuration reaches istiod"
		case h.Validating:
			f.Symptom = fmt.Sprintf("the call fails and failurePolicy is Fail: every create or update of an Istio resource is rejected (`failed calling webhook \"%s\": service \"%s\" not found`)", h.Name, svc.Name)
		case ignore:
			f.Severity = finding.Warning
			f.Symptom = "the call fails and failurePolicy is Ignore: pods the webhook selects are created without istio-proxy, outside the mesh"
		default:
			f.Symptom = fmt.Sprintf("the call fails and failurePolicy is Fail: pods the webhook selects cannot be created (`failed calling webhook \"%s\": service \"%s\" not found`)", h.Name, svc.Name)
		}
		f.Fix = fmt.Sprintf("delete the stale configuration (kubectl delete %s %s) or point clientConfig.service at the running istiod's Service", strings.ToLower(h.Config.Kind), h.Config.Name)
		p.Report(f)
	}
}
