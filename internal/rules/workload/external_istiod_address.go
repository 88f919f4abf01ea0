package workload

import (
	"fmt"
	"net/netip"
	"net/url"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// ExternalIstiodAddress: an Istio webhook of a cluster whose control plane
// runs elsewhere reaches it by a URL that cannot work, or by an IP.
var ExternalIstiodAddress = &rules.Rule{
	Code: "MD4016", Name: "external-istiod-address", Severity: finding.Error, Area: "workload",
	Summary: "An Istio webhook that reaches an external control plane has no address, an unusable URL, or an IP address instead of a hostname.",
	Needs:   []string{"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"},
	Since:   "0.2.0",
	IST:     []string{"IST0163", "IST0164"},
	Doc: rules.Doc{
		Mechanism: "In a cluster whose istiod runs elsewhere (an external control plane, a remote cluster), the injector webhooks (istio-sidecar-injector*) and the config validator (istiod-default-validator, istio-validator*) call istiod through clientConfig.url, the address of the ingress gateway in front of it. The API server requires an https URL with a host and no query or fragment, and one of url or service; a URL that breaks those rules makes the webhook configuration invalid, and a wrong host makes every call fail. An IP address works but ties the mesh to that address: the gateway's certificate must carry it as an IP SAN and the address changes when the load balancer is recreated. meshdoctor reports unusable addresses as errors and IP addresses at info level, as istioctl analyze does.",
		Symptom:   "With an unusable address, pod creation in injected namespaces fails or pods start without a sidecar (depending on failurePolicy), and Istio configuration is rejected or not validated. With an IP, the same happens later, when the load balancer's address changes.",
		Fix:       "Set clientConfig.url to https://<hostname of the external istiod's gateway>:15017/inject/... (for injection) or .../validate, with a DNS name covered by the gateway's certificate; reinstall the remote profile with values.global.remotePilotAddress set to that hostname.",
		Before:    "kind: MutatingWebhookConfiguration\nmetadata: {name: istio-sidecar-injector-external-istiod}\nwebhooks:\n- name: rev.namespace.sidecar-injector.istio.io\n  clientConfig:\n    url: https://203.0.113.10:15017/inject/cluster/remote1/net/network1\n",
		After:     "kind: MutatingWebhookConfiguration\nmetadata: {name: istio-sidecar-injector-external-istiod}\nwebhooks:\n- name: rev.namespace.sidecar-injector.istio.io\n  clientConfig:\n    url: https://istiod.mesh.example.com:15017/inject/cluster/remote1/net/network1\n",
		Sources: []string{
			"https://istio.io/latest/docs/setup/install/external-controlplane/",
			"https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/#url",
			"https://istio.io/latest/docs/reference/config/analysis/ist0163/",
			"https://istio.io/latest/docs/reference/config/analysis/ist0164/",
		},
	},
	Run: runExternalIstiodAddress,
}

func runExternalIstiodAddress(p *rules.Pass) {
	for _, h := range p.Model.IstioWebhookClients() {
		if h.Client.Service != nil {
			continue
		}
		f := rules.At(h.Config, "webhooks", h.Index, "clientConfig")
		kind := h.Config.Kind
		if h.Client.URL == nil || *h.Client.URL == "" {
			f.Message = fmt.Sprintf("webhook %s of %s %s has neither clientConfig.url nor clientConfig.service: it has no address for istiod", h.Name, kind, h.Config.Name)
			f.Symptom = "the API server rejects the configuration, so the webhook does not exist: pods are not injected (or Istio configuration is not validated)"
			f.Fix = "set clientConfig.url to https://<external istiod hostname>:15017/... or clientConfig.service to the local istiod Service"
			p.Report(f)
			continue
		}
		raw := *h.Client.URL
		f = rules.At(h.Config, "webhooks", h.Index, "clientConfig", "url")
		u, err := url.Parse(raw)
		problem := ""
		switch {
		case err != nil:
			problem = "is not a URL"
		case u.Scheme != "https":
			problem = "is not an https URL (the API server calls webhooks over TLS only)"
		case u.Hostname() == "":
			problem = "has no host"
		case u.RawQuery != "" || u.Fragment != "":
			problem = "has a query or fragment, which webhook URLs may not have"
		}
		if problem != "" {
			f.Message = fmt.Sprintf("webhook %s of %s %s calls istiod at %q, which %s", h.Name, kind, h.Config.Name, raw, problem)
			f.Symptom = "the API server rejects the configuration or every call fails: pods are not injected or cannot be created, and Istio configuration is not validated"
			f.Fix = "set clientConfig.url to https://<external istiod hostname>:15017/inject/... (or /validate)"
			p.Report(f)
			continue
		}
		if _, err := netip.ParseAddr(u.Hostname()); err == nil {
			f.Severity = finding.Info
			f.Message = fmt.Sprintf("webhook %s of %s %s reaches the external istiod at an IP address (%s) rather than a hostname", h.Name, kind, h.Config.Name, u.Hostname())
			f.Symptom = "works while the load balancer keeps that address and the gateway's certificate lists it as an IP SAN; injection and validation fail when either changes"
			f.Fix = "use a DNS name for the external istiod's gateway, covered by its certificate"
			p.Report(f)
		}
	}
}
