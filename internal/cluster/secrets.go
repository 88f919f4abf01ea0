package cluster

import (
	"context"
	"encoding/json"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	istionet "istio.io/client-go/pkg/apis/networking/v1"

	"github.com/meshdoctor/meshdoctor/internal/manifest"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
)

// certificateKeys are the Secret keys that hold certificates (what the
// certificate checks read). Every other key's value is replaced: private
// keys are never kept in memory longer than the decode, nor printed.
var certificateKeys = map[string]bool{"tls.crt": true, "ca.crt": true, "cert": true, "cacert": true, "ca.crl": true}

// redacted stands in for a value meshdoctor does not keep, so that "the key
// is present" still holds for rules that ask.
var redacted = []byte("<redacted by meshdoctor>")

// secrets gets the Secrets that Gateways and DestinationRules name as TLS
// credentials, one GET each, instead of listing every Secret in the
// cluster. Missing ones are simply absent; forbidden ones make Secret a
// denied kind.
func (l *lister) secrets(ctx context.Context, r resource, objs []*manifest.Object) ([]*manifest.Object, []Denied, error) {
	refs := credentialRefs(objs)
	var out []*manifest.Object
	var denied []Denied
	forbidden := map[string]bool{}
	for _, ref := range refs {
		if l.opts.Namespace != "" && ref.ns != l.opts.Namespace && ref.ns != l.opts.RootNamespace {
			continue
		}
		raw, err := doRaw(ctx, l.client.Get().AbsPath(path(r, ref.ns, ref.name)))
		switch {
		case err == nil:
		case apierrors.IsNotFound(err):
			continue
		case apierrors.IsForbidden(err):
			if !forbidden[ref.ns] {
				forbidden[ref.ns] = true
				denied = append(denied, Denied{Kind: secretKind, Resource: "secrets", Namespace: ref.ns, Verb: "get", Reason: reason(err)})
			}
			continue
		default:
			return nil, nil, err
		}
		var res taskResult
		l.decode(r, raw, &res)
		for _, o := range res.objects {
			if s, ok := o.Typed.(*corev1.Secret); ok {
				sanitize(s)
			}
			out = append(out, o)
		}
	}
	return out, denied, nil
}

func sanitize(s *corev1.Secret) {
	for k := range s.Data {
		if !certificateKeys[k] {
			s.Data[k] = redacted
		}
	}
	s.StringData = nil
}

type secretRef struct{ ns, name string }

// credentialRefs lists the Secrets TLS settings name, in every namespace
// where Istio might read them: an Istio Gateway's credentials come from the
// namespace of the gateway pods it selects (the Gateway's own namespace
// when those are not known), a DestinationRule's credentialName from the
// namespace of the gateway using it, and a Gateway API listener's
// certificateRefs from the namespace they say (the Gateway's by default).
func credentialRefs(objs []*manifest.Object) []secretRef {
	seen := map[secretRef]bool{}
	add := func(ns, name string) {
		if name == "" || ns == "" {
			return
		}
		for _, n := range []string{name, name + "-cacert"} {
			seen[secretRef{ns, n}] = true
		}
	}
	m := mesh.Build(objs, mesh.Options{})
	gatewayNS := map[string]bool{}
	for _, g := range m.Gateways {
		nss, _ := m.SecretNamespaces(g)
		for _, ns := range nss {
			gatewayNS[ns] = true
			for _, c := range mesh.GatewayCredentials(g) {
				add(ns, c.Name)
			}
		}
	}
	for _, o := range objs {
		switch t := o.Typed.(type) {
		case *istionet.DestinationRule:
			for _, name := range drCredentials(t) {
				add(o.Namespace, name)
				for ns := range gatewayNS {
					add(ns, name)
				}
			}
		case *gwv1.Gateway:
			for _, lst := range t.Spec.Listeners {
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
	}
	out := make([]secretRef, 0, len(seen))
	for r := range seen {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].ns != out[j].ns {
			return out[i].ns < out[j].ns
		}
		return out[i].name < out[j].name
	})
	return out
}

// drCredentials returns the credentialNames of a DestinationRule's TLS
// settings (top level, per port, per subset).
func drCredentials(dr *istionet.DestinationRule) []string {
	// The proto has several nesting levels; reading them through JSON keeps
	// this independent of which ones a release adds.
	b, err := json.Marshal(&dr.Spec)
	if err != nil {
		return nil
	}
	var names []string
	var walk func(v any)
	walk = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			for k, x := range t {
				if s, ok := x.(string); ok && k == "credentialName" {
					if name, ok := mesh.CredentialSecretName(s); ok {
						names = append(names, name)
					}
					continue
				}
				walk(x)
			}
		case []any:
			for _, x := range t {
				walk(x)
			}
		}
	}
	var v any
	if json.Unmarshal(b, &v) == nil {
		walk(v)
	}
	sort.Strings(names)
	return dedupe(names)
}

func dedupe(s []string) []string {
	out := s[:0]
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, strings.TrimSpace(x))
		}
	}
	return out
}
