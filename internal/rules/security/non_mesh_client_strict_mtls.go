package security

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// NonMeshClientStrictMTLS: a workload outside the mesh calls a Service
// whose pods only accept Istio mTLS.
var NonMeshClientStrictMTLS = &rules.Rule{
	Code: "MD2002", Name: "non-mesh-client-strict-mtls", Severity: finding.Error, Area: "security",
	Summary: "A workload without sidecar calls a Service whose pods require mTLS (STRICT).",
	Needs:   []string{"PeerAuthentication"},
	Since:   "0.1.0",
	Doc: rules.Doc{
		Mechanism: "A pod without a sidecar (injection disabled, namespace not labelled, hostNetwork, kube-system) has no Istio certificate and sends plaintext. When the PeerAuthentication in effect for the destination's workload port is STRICT, the destination's sidecar (or ztunnel, in ambient mode) only accepts Istio mTLS and closes every plaintext connection. meshdoctor finds the calls in the client's configuration: env values, command and args, and ConfigMaps loaded as env or mounted as files.",
		Symptom:   "The client's requests fail with \"connection reset by peer\" (curl: (56) Recv failure), \"EOF\" or \"upstream connect error or disconnect/reset before headers\"; the server's sidecar never logs the request as HTTP.",
		Fix:       "Put the client in the mesh (label its namespace istio-injection=enabled, or its pods sidecar.istio.io/inject: \"true\"), or, if it must stay outside, allow plaintext on that port with a workload-scoped PeerAuthentication using portLevelMtls PERMISSIVE.",
		Before:    "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: istio-system\nspec:\n  mtls:\n    mode: STRICT\n---\napiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: report\n  namespace: batch   # not labelled for injection\nspec:\n  schedule: \"0 * * * *\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers:\n          - name: report\n            image: report:1.0\n            env:\n            - name: ORDERS_URL\n              value: http://orders.shop:8080\n",
		After:     "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: batch\n  labels:\n    istio-injection: enabled\n# or keep the client outside and open the port:\n---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: orders-plaintext\n  namespace: shop\nspec:\n  selector:\n    matchLabels:\n      app: orders\n  portLevelMtls:\n    8080:\n      mode: PERMISSIVE\n",
		Sources: []string{
			"https://istio.io/latest/docs/tasks/security/authentication/authn-policy/#globally-enabling-istio-mutual-tls-in-strict-mode",
			"https://istio.io/latest/docs/reference/config/security/peer_authentication/",
			"https://istio.io/latest/docs/tasks/security/authentication/mtls-migration/",
		},
	},
	Run: runNonMeshClientStrictMTLS,
}

func runNonMeshClientStrictMTLS(p *rules.Pass) {
	m := p.Model
	if !m.AnyStrict() {
		return
	}
	for _, w := range m.Workloads {
		dp, why := m.Injection(w)
		if dp != mesh.DataplaneNone {
			continue
		}
		for _, ref := range m.ServiceReferences(w) {
			ports := referencedPorts(ref)
			if len(ports) == 0 {
				continue
			}
			// Every port the text may mean must reject plaintext.
			var strict []mesh.Backend
			all := true
			for _, sp := range ports {
				bs := strictServers(m.Backends(ref.Service, sp))
				if len(bs) == 0 {
					all = false
					break
				}
				strict = append(strict, bs...)
			}
			if !all {
				continue
			}
			reportNonMeshClient(p, w, why, ref, ports, strict)
		}
	}
}

// referencedPorts are the Service ports a reference may mean: the one it
// names, or every port when it names none (or only a scheme default the
// Service does not have). A written port the Service lacks is some other
// problem and not judged here.
func referencedPorts(ref mesh.HostReference) []*corev1.ServicePort {
	if ref.Port != 0 {
		if sp, _ := ref.Service.Port(ref.Port); sp != nil {
			return []*corev1.ServicePort{sp}
		}
		if !ref.FromScheme {
			return nil
		}
	}
	var out []*corev1.ServicePort
	for i := range ref.Service.Spec.Ports {
		out = append(out, &ref.Service.Spec.Ports[i])
	}
	return out
}

// strictServers are the backends that close plaintext connections, as
// the model decides (RejectsPlaintext).
func strictServers(bs []mesh.Backend) []mesh.Backend {
	var out []mesh.Backend
	for _, b := range bs {
		if mesh.RejectsPlaintext(b) {
			out = append(out, b)
		}
	}
	return out
}

func reportNonMeshClient(p *rules.Pass, w *mesh.Workload, why string, ref mesh.HostReference, ports []*corev1.ServicePort, strict []mesh.Backend) {
	f := finding.Finding{Resource: w.Ref(), Origin: ref.Object.Pos(ref.Path...)}
	target := ref.Service.Host
	if len(ports) == 1 {
		target = fmt.Sprintf("%s:%d", ref.Service.Host, ports[0].Port)
	}
	var servers []string
	seen := map[string]bool{}
	for _, b := range strict {
		s := fmt.Sprintf("%s %s/%s port %d is STRICT (%s)", b.Workload.Kind, b.Workload.Namespace, b.Workload.Name, b.ContainerPort, mtlsSourceDesc(b.MTLS))
		if !seen[s] {
			seen[s] = true
			servers = append(servers, s)
		}
	}
	sort.Strings(servers)
	if len(servers) > 3 {
		servers = append(servers[:3], fmt.Sprintf("and %d more", len(servers)-3))
	}
	f.Message = fmt.Sprintf("%s %s/%s has no sidecar (%s) but its %s calls %s (%q), whose pods only accept mTLS: %s",
		w.Kind, w.Namespace, w.Name, why, ref.Where, target, ref.Text, strings.Join(servers, "; "))
	f.Symptom = fmt.Sprintf("the plaintext connections of %s/%s to %s are closed by the server's proxy: \"connection reset by peer\" / \"EOF\" (curl: (56) Recv failure), or \"upstream connect error or disconnect/reset before headers\"", w.Namespace, w.Name, target)
	b := strict[0]
	f.Fix = fmt.Sprintf("%s; or, if it must stay outside the mesh, accept plaintext on that port:\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: %s-allow-plaintext\n  namespace: %s\nspec:\n  selector:\n    matchLabels:\n%s\n  portLevelMtls:\n    %d:\n      mode: PERMISSIVE",
		joinMeshAdvice(w, why), ref.Service.Name, ref.Service.Namespace, rules.LabelsYAML(ref.Service.Spec.Selector, "      "), b.ContainerPort)
	p.Report(f)
}

// joinMeshAdvice says how this workload gets a sidecar, given why it has
// none.
func joinMeshAdvice(w *mesh.Workload, why string) string {
	name := fmt.Sprintf("%s %s/%s", w.Kind, w.Namespace, w.Name)
	switch {
	case w.PodSpec.HostNetwork:
		return name + " uses hostNetwork and can never get a sidecar"
	case w.Namespace == "kube-system" || w.Namespace == "kube-public":
		return name + " runs in " + w.Namespace + ", where Istio never injects"
	case strings.Contains(why, "sidecar.istio.io/inject"):
		return "remove sidecar.istio.io/inject: \"false\" from the pod template of " + name + " so it gets a sidecar"
	case strings.Contains(why, "istio-injection=disabled"):
		return "give " + name + " a sidecar (namespace " + w.Namespace + " has istio-injection=disabled; change it to enabled or move the workload)"
	}
	return fmt.Sprintf("put %s in the mesh: label namespace %s istio-injection=enabled (or istio.io/rev=<revision>), or set the pod label sidecar.istio.io/inject: \"true\"", name, w.Namespace)
}
