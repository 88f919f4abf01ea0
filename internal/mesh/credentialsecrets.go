package mesh

import (
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	istioapi "istio.io/api/networking/v1alpha3"
	istionet "istio.io/client-go/pkg/apis/networking/v1"

	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

// SecretRef names one Secret.
type SecretRef struct{ Namespace, Name string }

// CredentialSecrets answers "which Secrets may Istio read as TLS
// credentials for this configuration", sorted: an Istio Gateway's
// credentials in the namespaces of the gateway workloads it selects (its
// own namespace when none is in the input), a DestinationRule's
// credentialName in its own namespace and in those gateway namespaces
// (gateways originating TLS read it from theirs), and a Gateway API
// listener's certificateRefs where they point. Each name comes with its
// <name>-cacert companion, where Istio looks for the CA of a MUTUAL
// server or client.
func (m *Model) CredentialSecrets() []SecretRef {
	seen := map[SecretRef]bool{}
	add := func(ns, name string) {
		if name == "" || ns == "" {
			return
		}
		seen[SecretRef{ns, name}] = true
		seen[SecretRef{ns, name + CACertSuffix}] = true
	}
	gatewayNS := map[string]bool{}
	for _, g := range m.Gateways {
		nss, _ := m.SecretNamespaces(g)
		for _, ns := range nss {
			gatewayNS[ns] = true
			for _, c := range GatewayCredentials(g) {
				add(ns, c.Name)
			}
		}
	}
	for _, dr := range m.DestinationRules {
		for _, name := range destinationRuleCredentials(dr.Spec) {
			add(dr.Namespace, name)
			for ns := range gatewayNS {
				add(ns, name)
			}
		}
	}
	for _, o := range m.Objects {
		g, ok := o.Typed.(*gwv1.Gateway)
		if !ok {
			continue
		}
		for _, lst := range g.Spec.Listeners {
			if lst.TLS == nil {
				continue
			}
			for _, c := range lst.TLS.CertificateRefs {
				if c.Kind != nil && *c.Kind != "Secret" || c.Group != nil && *c.Group != "" {
					continue
				}
				ns := o.Namespace
				if c.Namespace != nil {
					ns = string(*c.Namespace)
				}
				add(ns, string(c.Name))
			}
		}
	}
	out := make([]SecretRef, 0, len(seen))
	for r := range seen {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// destinationRuleCredentials lists the Kubernetes Secrets a
// DestinationRule's client TLS settings name: top level, per port, per
// subset and per subset port.
func destinationRuleCredentials(spec *istioapi.DestinationRule) []string {
	var out []string
	policy := func(p *istioapi.TrafficPolicy) {
		for _, tls := range append([]*istioapi.ClientTLSSettings{p.GetTls()}, portTLS(p)...) {
			if name, ok := CredentialSecretName(tls.GetCredentialName()); ok {
				out = append(out, name)
			}
		}
	}
	policy(spec.GetTrafficPolicy())
	for _, s := range spec.GetSubsets() {
		policy(s.GetTrafficPolicy())
	}
	return out
}

func portTLS(p *istioapi.TrafficPolicy) []*istioapi.ClientTLSSettings {
	var out []*istioapi.ClientTLSSettings
	for _, pl := range p.GetPortLevelSettings() {
		out = append(out, pl.GetTls())
	}
	return out
}

// CredentialSecretsOf is CredentialSecrets for a loader that has objects
// but no model yet (the live loader, deciding which Secrets to GET rather
// than listing them all). It models only the kinds the answer depends on:
// gateways, DestinationRules, namespaces and workloads.
func CredentialSecretsOf(objs []*manifest.Object) []SecretRef {
	var keep []*manifest.Object
	for _, o := range objs {
		switch o.Typed.(type) {
		case *istionet.Gateway, *istionet.DestinationRule, *gwv1.Gateway, *corev1.Namespace, *corev1.Pod,
			*appsv1.Deployment, *appsv1.StatefulSet, *appsv1.DaemonSet, *appsv1.ReplicaSet, *batchv1.Job, *batchv1.CronJob:
			keep = append(keep, o)
		}
	}
	return Build(keep, Options{}).CredentialSecrets()
}
