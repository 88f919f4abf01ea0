package cluster

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

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
	refs := mesh.CredentialSecretsOf(objs)
	var out []*manifest.Object
	var denied []Denied
	forbidden := map[string]bool{}
	for _, ref := range refs {
		if l.opts.Namespace != "" && ref.Namespace != l.opts.Namespace && ref.Namespace != l.opts.RootNamespace {
			continue
		}
		raw, err := doRaw(ctx, l.client.Get().AbsPath(path(r, ref.Namespace, ref.Name)))
		switch {
		case err == nil:
		case apierrors.IsNotFound(err):
			continue
		case apierrors.IsForbidden(err):
			if !forbidden[ref.Namespace] {
				forbidden[ref.Namespace] = true
				denied = append(denied, Denied{Kind: secretKind, Resource: "secrets", Namespace: ref.Namespace, Verb: "get", Reason: reason(err)})
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
