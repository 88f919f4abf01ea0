package security

import (
	"fmt"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// GatewayCredentialNotFound: an Istio Gateway server terminates TLS with a
// credentialName whose Secret is not in the namespace of the gateway
// workload, where Istio reads it.
//
// Reported only when the gateway workload is in the input (otherwise the
// namespace is unknown) and the input tells what Secrets that namespace
// holds (a Secret, a cert-manager Certificate, an ExternalSecret or a
// SealedSecret there). When it does not, but a Secret of that name sits in
// another namespace, the classic mistake (the Secret next to the Gateway
// resource) is reported as a warning.
var GatewayCredentialNotFound = &rules.Rule{
	Code: "MD2007", Name: "gateway-credential-not-found", Severity: finding.Error, Area: "security",
	Summary: "A Gateway's credentialName names a Secret that is not in the gateway workload's namespace.",
	Needs:   []string{"Gateway"},
	Reads:   []string{"Secret"},
	Since:   "0.1.0",
	IST:     []string{"IST0101"},
	Doc: rules.Doc{
		Mechanism: "For an Istio Gateway server with tls.mode SIMPLE, MUTUAL or OPTIONAL_MUTUAL, credentialName names a Kubernetes Secret (keys tls.crt/tls.key or cert/key) that istiod serves to the gateway proxy over SDS. istiod only serves Secrets from the namespace of the gateway proxy itself, the pods spec.selector picks, not from the namespace of the Gateway resource. For mutual TLS the CA comes from ca.crt/cacert in the same Secret or from a Secret named <credentialName>-cacert. When the Secret is missing the proxy waits for it and the server has no certificate.",
		Symptom:   "TLS handshakes for the server's hosts fail (curl: (35) OpenSSL SSL_connect: SSL_ERROR_SYSCALL / unexpected eof; openssl s_client: no peer certificate available); `istioctl proxy-config secret` shows kubernetes://<name> WARMING; istiod logs `failed to fetch key and certificate for kubernetes://<name>: secret <namespace>/<name> not found`.",
		Fix:       "Create the Secret (type kubernetes.io/tls) in the namespace where the gateway pods run, e.g. `kubectl create -n istio-system secret tls <name> --key key.pem --cert cert.pem`, or issue it there (cert-manager Certificate in that namespace with spec.secretName: <name>).",
		Before:    "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: shop\n  namespace: shop\nspec:\n  selector:\n    istio: ingressgateway   # pods in istio-system\n  servers:\n  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: [shop.example.com]\n    tls:\n      mode: SIMPLE\n      credentialName: shop-tls\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: shop-tls\n  namespace: shop          # not where the gateway reads it\ntype: kubernetes.io/tls\n",
		After:     "apiVersion: v1\nkind: Secret\nmetadata:\n  name: shop-tls\n  namespace: istio-system  # the gateway workload's namespace\ntype: kubernetes.io/tls\n",
		Sources: []string{
			"https://istio.io/latest/docs/reference/config/networking/gateway/#ServerTLSSettings",
			"https://istio.io/latest/docs/tasks/traffic-management/ingress/secure-ingress/",
		},
	},
	Run: runGatewayCredentialNotFound,
}

func runGatewayCredentialNotFound(p *rules.Pass) {
	m := p.Model
	for _, g := range m.Gateways {
		refs := mesh.GatewayCredentials(g)
		if len(refs) == 0 {
			continue
		}
		namespaces, workloads := m.CredentialNamespaces(g)
		if len(namespaces) == 0 {
			continue // gateway workload not in the input: namespace unknown
		}
		for _, ref := range refs {
			for _, ns := range namespaces {
				credCheck(p, ref, ns, credWorkloadsIn(workloads, ns))
			}
		}
	}
}

func credCheck(p *rules.Pass, ref mesh.CredentialRef, ns, who string) {
	m := p.Model
	g := ref.Gateway
	found, known := m.CredentialResolves(ref, ns)
	if found {
		if !ref.CAOnly && known {
			credCheckClientCA(p, ref, ns, who)
		}
		return
	}
	var elsewhere []string
	for _, s := range m.SecretsNamed(ref.Name) {
		if s.Namespace != ns {
			elsewhere = append(elsewhere, s.Namespace)
		}
	}
	if !known && len(elsewhere) == 0 {
		return // the input says nothing about Secrets in ns
	}
	f := rules.At(g.Object, ref.Path...)
	kind := "Secret"
	if ref.CAOnly {
		kind = "Secret or ConfigMap"
	}
	f.Message = fmt.Sprintf("Gateway %s/%s %s sets %s %q, but there is no %s %s/%s: Istio reads it from namespace %s, where the gateway workload runs (%s)",
		g.Namespace, g.Name, mesh.DescribeServer(ref.Index, ref.Server), ref.Field, ref.Name, kind, ns, ref.Name, ns, who)
	if g.Namespace != ns {
		f.Message += ", not from the Gateway's namespace " + g.Namespace
	}
	if len(elsewhere) > 0 {
		f.Message += fmt.Sprintf("; a Secret named %q exists in namespace %s instead, which this gateway cannot use", ref.Name, strings.Join(elsewhere, ", "))
	}
	if !known {
		// Only the misplaced copy says anything: the Secret may still
		// exist in ns outside the input.
		f.Severity = finding.Warning
		f.Message += fmt.Sprintf(" (the input holds no Secrets of namespace %s, so check it exists there)", ns)
	}
	hosts := strings.Join(mesh.ServerHosts(ref.Server), ", ")
	if ref.CAOnly {
		f.Symptom = fmt.Sprintf("the gateway cannot verify client certificates on port %d: istiod logs `failed to fetch ca certificate for kubernetes://%s`, and mutual TLS handshakes for %s fail", ref.Server.GetPort().GetNumber(), ref.Name, hosts)
	} else {
		f.Symptom = fmt.Sprintf("TLS handshakes to %s on port %d fail (curl: (35) SSL_ERROR_SYSCALL / unexpected eof; openssl s_client: no peer certificate available); `istioctl proxy-config secret` shows kubernetes://%s WARMING and istiod logs `failed to fetch key and certificate for kubernetes://%s: secret %s/%s not found`", hosts, ref.Server.GetPort().GetNumber(), ref.Name, ref.Name, ns, ref.Name)
	}
	if len(elsewhere) > 0 {
		f.Fix = fmt.Sprintf("copy the Secret into %s (or issue it there):\n  kubectl get secret %s -n %s -o yaml | sed 's/namespace: %s/namespace: %s/' | kubectl apply -f -\nwith cert-manager, put the Certificate in namespace %s with spec.secretName: %s", ns, ref.Name, elsewhere[0], elsewhere[0], ns, ns, ref.Name)
	} else {
		f.Fix = fmt.Sprintf("create the Secret in the gateway workload's namespace:\n  kubectl create secret tls %s -n %s --cert=cert.pem --key=key.pem\nor fix %s if it names the wrong Secret", ref.Name, ns, ref.Field)
	}
	p.Report(f)
}

// credCheckClientCA: a MUTUAL/OPTIONAL_MUTUAL server needs CA certificates
// from caCertCredentialName, the credential Secret itself (ca.crt or
// cacert) or a <name>-cacert Secret.
func credCheckClientCA(p *rules.Pass, ref mesh.CredentialRef, ns, who string) {
	m := p.Model
	tls := ref.Server.GetTls()
	if !mesh.VerifiesClients(tls) || tls.CaCertCredentialName != "" {
		return
	}
	s := m.SecretIn(ns, ref.Name)
	if s == nil || s.CAKey() != "" {
		return // produced by cert-manager & co. (ca.crt unknown), or has a CA
	}
	ca := ref.Name + mesh.CACertSuffix
	if m.SecretIn(ns, ca) != nil || m.SecretProducer(ns, ca) != "" {
		return
	}
	g := ref.Gateway
	f := rules.At(g.Object, ref.Path...)
	f.Message = fmt.Sprintf("Gateway %s/%s %s uses mode %s with %s %q, but Secret %s/%s has no ca.crt or cacert key and there is no Secret %s/%s: the gateway (%s) has no CA to verify client certificates with",
		g.Namespace, g.Name, mesh.DescribeServer(ref.Index, ref.Server), tls.GetMode(), ref.Field, ref.Name, ns, ref.Name, ns, ca, who)
	f.Symptom = fmt.Sprintf("istiod logs `failed to fetch ca certificate for kubernetes://%s`; mutual TLS handshakes on port %d fail, so clients with valid certificates are refused", ca, ref.Server.GetPort().GetNumber())
	f.Fix = fmt.Sprintf("add the CA bundle that signs client certificates as key ca.crt of Secret %s/%s, or create it separately:\n  kubectl create secret generic %s -n %s --from-file=ca.crt=client-ca.pem", ns, ref.Name, ca, ns)
	p.Report(f)
}

// credWorkloadsIn names the selected workloads in ns for messages.
func credWorkloadsIn(ws []*mesh.Workload, ns string) string {
	var in []*mesh.Workload
	for _, w := range ws {
		if w.Namespace == ns {
			in = append(in, w)
		}
	}
	return rules.WorkloadList(in, 3)
}
