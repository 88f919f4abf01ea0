package mesh

import (
	"strings"
	"sync"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

// InjectorWebhook is one of the sidecar injector's webhooks: an entry of a
// MutatingWebhookConfiguration whose name is in istio.io
// (namespace.sidecar-injector.istio.io, rev.object.sidecar-injector.istio.io…).
type InjectorWebhook struct {
	Config *manifest.Object
	Index  int // in webhooks[]
	Hook   *admissionv1.MutatingWebhook
	// Revision is the istio.io/rev the configuration serves ("" when it
	// has none).
	Revision string
	// Invalid is set when a selector does not parse: the API server
	// rejects such a configuration, so it matches nothing.
	Invalid       bool
	nsSel, objSel labels.Selector
}

// lazy is a value computed once, on first use, by whichever rule asks
// first (rules run side by side).
type lazy[T any] struct {
	once sync.Once
	v    T
}

func (l *lazy[T]) get(f func() T) T {
	l.once.Do(func() { l.v = f() })
	return l.v
}

// InjectorWebhooks lists the sidecar injector's webhooks in the input, in
// input order.
func (m *Model) InjectorWebhooks() []InjectorWebhook {
	return m.injectorWebhooks.get(m.findInjectorWebhooks)
}

func (m *Model) findInjectorWebhooks() []InjectorWebhook {
	var out []InjectorWebhook
	for _, o := range m.Objects {
		cfg, ok := o.Typed.(*admissionv1.MutatingWebhookConfiguration)
		if !ok {
			continue
		}
		for i := range cfg.Webhooks {
			h := &cfg.Webhooks[i]
			if !strings.HasSuffix(h.Name, "istio.io") {
				continue
			}
			wh := InjectorWebhook{Config: o, Index: i, Hook: h, Revision: o.Labels[RevisionLabel]}
			var err1, err2 error
			wh.nsSel, err1 = selectorOf(h.NamespaceSelector)
			wh.objSel, err2 = selectorOf(h.ObjectSelector)
			wh.Invalid = err1 != nil || err2 != nil
			out = append(out, wh)
		}
	}
	return out
}

// selectorOf reads a webhook selector; nil selects everything.
func selectorOf(s *metav1.LabelSelector) (labels.Selector, error) {
	if s == nil {
		return labels.Everything(), nil
	}
	return metav1.LabelSelectorAsSelector(s)
}

// Matches reports whether the webhook is called for a pod with podLabels
// in a namespace with nsLabels (the API server adds
// kubernetes.io/metadata.name to every namespace's labels).
func (wh InjectorWebhook) Matches(ns string, nsLabels, podLabels map[string]string) bool {
	if wh.Invalid {
		return false
	}
	nl := labels.Set{"kubernetes.io/metadata.name": ns}
	for k, v := range nsLabels {
		nl[k] = v
	}
	return wh.nsSel.Matches(nl) && wh.objSel.Matches(labels.Set(podLabels))
}

// WebhooksFor returns the injector webhooks in the input that the API
// server calls when w's pods are created. known is false when that cannot
// be told: the input has no injector webhooks, or the namespace is not in
// the input and a webhook's namespace selector looks at its labels.
func (m *Model) WebhooksFor(w *Workload) (hooks []InjectorWebhook, known bool) {
	all := m.InjectorWebhooks()
	if len(all) == 0 {
		return nil, false
	}
	ns := m.Namespaces[w.Namespace]
	var nsLabels map[string]string
	if ns != nil {
		nsLabels = ns.Labels
	}
	for _, wh := range all {
		if ns == nil && !wh.nsSel.Empty() {
			return nil, false
		}
		if wh.Matches(w.Namespace, nsLabels, w.Labels) {
			hooks = append(hooks, wh)
		}
	}
	return hooks, true
}

// WebhookInjects tells whether the sidecar injector will inject w's pods
// when they are created, whatever containers the template already has (an
// istio-proxy with image "auto" is a placeholder the injector fills). The
// injection labels decide (Injection's policy), and the input's injector
// webhooks, when it has any, can only add: a webhook whose selectors match
// injects even where the labels do not ask for it (custom selectors), but
// webhooks that do not match prove nothing, since an input often carries
// only some of an install's webhooks.
func (m *Model) WebhookInjects(w *Workload) (Dataplane, string) {
	if hooks, _ := m.WebhooksFor(w); len(hooks) > 0 {
		return DataplaneSidecar, "webhook " + hooks[0].Hook.Name + " of MutatingWebhookConfiguration " + hooks[0].Config.Name + " selects it"
	}
	policy := *w
	spec := *w.PodSpec
	spec.Containers = withoutProxy(spec.Containers)
	spec.InitContainers = withoutProxy(spec.InitContainers)
	policy.PodSpec, policy.Pod, policy.Instances, policy.injection = &spec, nil, nil, nil
	return m.injection(&policy)
}

func withoutProxy(cs []corev1.Container) []corev1.Container {
	var out []corev1.Container
	for _, c := range cs {
		if c.Name != "istio-proxy" {
			out = append(out, c)
		}
	}
	return out
}

// SelectorRevisions lists the istio.io/rev values the webhook's
// configuration and selectors name: the revisions users label namespaces
// and pods with for it.
func (wh InjectorWebhook) SelectorRevisions() []string {
	var out []string
	if wh.Revision != "" {
		out = append(out, wh.Revision)
	}
	for _, s := range []*metav1.LabelSelector{wh.Hook.NamespaceSelector, wh.Hook.ObjectSelector} {
		if s == nil {
			continue
		}
		if r, ok := s.MatchLabels[RevisionLabel]; ok {
			out = append(out, r)
		}
		for _, e := range s.MatchExpressions {
			if e.Key == RevisionLabel {
				out = append(out, e.Values...)
			}
		}
	}
	return out
}

// IstioWebhookClient is the client configuration of one webhook of an
// Istio install's webhook configurations: the sidecar injector's
// (istio-sidecar-injector*) and the config validator's
// (istiod-default-validator, istio-validator*).
type IstioWebhookClient struct {
	Config *manifest.Object
	Index  int // in webhooks[]
	Name   string
	Client admissionv1.WebhookClientConfig
	// Validating is set for the config validator's webhooks.
	Validating bool
	// FailurePolicy is what the API server does when the call fails
	// (Fail unless the webhook says Ignore).
	FailurePolicy admissionv1.FailurePolicyType
}

// IstioWebhookClients lists the webhooks of Istio's webhook
// configurations in the input, in input order. A sidecar injector webhook
// is recognised by its name (…istio.io) as well, so revisions installed
// under other configuration names are included.
func (m *Model) IstioWebhookClients() []IstioWebhookClient {
	var out []IstioWebhookClient
	for _, o := range m.Objects {
		switch cfg := o.Typed.(type) {
		case *admissionv1.MutatingWebhookConfiguration:
			for i, h := range cfg.Webhooks {
				if strings.HasPrefix(o.Name, "istio-sidecar-injector") || strings.HasSuffix(h.Name, "istio.io") {
					out = append(out, IstioWebhookClient{o, i, h.Name, h.ClientConfig, false, failurePolicy(h.FailurePolicy)})
				}
			}
		case *admissionv1.ValidatingWebhookConfiguration:
			if o.Name == "istiod-default-validator" || strings.HasPrefix(o.Name, "istio-validator") {
				for i, h := range cfg.Webhooks {
					out = append(out, IstioWebhookClient{o, i, h.Name, h.ClientConfig, true, failurePolicy(h.FailurePolicy)})
				}
			}
		}
	}
	return out
}

// failurePolicy is a webhook's failure policy with the API's default (Fail).
func failurePolicy(p *admissionv1.FailurePolicyType) admissionv1.FailurePolicyType {
	if p == nil {
		return admissionv1.Fail
	}
	return *p
}
