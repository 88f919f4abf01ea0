package workload

import (
	"fmt"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// proxyUID is the user the sidecar runs as; redirection exempts its
// traffic so the proxy's own connections are not looped back to it.
const proxyUID = 1337

// ApplicationUID1337: an application container of a meshed pod runs as
// the proxy's UID, so its outbound traffic bypasses the sidecar.
var ApplicationUID1337 = &rules.Rule{
	Code: "MD4012", Name: "application-uid-1337", Severity: finding.Warning, Area: "workload",
	Summary: "An application container of a meshed pod runs as UID 1337, the proxy's: its outbound traffic is not redirected to the sidecar.",
	Needs:   []string{"Deployment", "StatefulSet", "DaemonSet", "Pod", "Job", "CronJob", "ReplicaSet"},
	Reads:   []string{"Namespace"},
	Since:   "0.2.0",
	IST:     []string{"IST0144"},
	Doc: rules.Doc{
		Mechanism: "The iptables rules installed by istio-init (or the Istio CNI plugin) send a pod's outbound TCP traffic to the sidecar, except traffic from UID 1337 (and GID 1337), which is the proxy's own: otherwise the proxy's upstream connections would loop back to it. An application container running as UID 1337 is exempt the same way: its requests leave the pod directly, without mTLS, routing rules, retries or telemetry. meshdoctor reads the effective UID of each application container (its securityContext.runAsUser, else the pod's) in pods that get a sidecar. Unlike istioctl analyze, init containers are not reported (running an init container as 1337 is the documented way to let it reach the network before the proxy starts), nor are containers that override a pod-level 1337, nor pods outside the mesh.",
		Symptom:   "The container's outbound requests bypass the mesh: calls to services with STRICT mTLS are reset (Connection reset by peer), AuthorizationPolicies that require its principal deny them (403), VirtualService routing does not apply, and the requests are missing from Istio's metrics.",
		Fix:       "Run the application as another UID (securityContext.runAsUser), or if it must bypass the proxy, say so explicitly with traffic.sidecar.istio.io/excludeOutboundIPRanges or excludeOutboundPorts.",
		Before:    "spec:\n  template:\n    spec:\n      securityContext:\n        runAsUser: 1337\n      containers:\n      - name: app\n        image: example/app\n",
		After:     "spec:\n  template:\n    spec:\n      securityContext:\n        runAsUser: 1000\n      containers:\n      - name: app\n        image: example/app\n",
		Sources: []string{
			"https://istio.io/latest/docs/ops/deployment/application-requirements/#pod-requirements",
			"https://istio.io/latest/docs/reference/config/analysis/ist0144/",
		},
	},
	Run: runApplicationUID1337,
}

func runApplicationUID1337(p *rules.Pass) {
	for _, w := range p.Model.Workloads {
		if d, _ := p.Model.Injection(w); d != mesh.DataplaneSidecar {
			continue
		}
		var podUID *int64
		if sc := w.PodSpec.SecurityContext; sc != nil {
			podUID = sc.RunAsUser
		}
		for i, c := range w.PodSpec.Containers {
			if c.Name == "istio-proxy" {
				continue
			}
			uid, path := podUID, []any{"spec", "securityContext", "runAsUser"}
			if c.SecurityContext != nil && c.SecurityContext.RunAsUser != nil {
				uid, path = c.SecurityContext.RunAsUser, []any{"spec", "containers", i, "securityContext", "runAsUser"}
			}
			if uid == nil || *uid != proxyUID {
				continue
			}
			f := rules.AtPod(w, path...)
			f.Message = fmt.Sprintf("container %s of %s %s/%s runs as UID 1337, the sidecar's: its outbound traffic is not redirected to istio-proxy", c.Name, w.Kind, w.Namespace, w.Name)
			f.Symptom = "its requests leave the pod without mTLS or routing: STRICT mTLS services reset them, principal-based AuthorizationPolicies deny them (403), and they are missing from Istio's metrics"
			f.Fix = fmt.Sprintf("run container %s as another user, e.g. securityContext.runAsUser: 1000", c.Name)
			p.Report(f)
		}
	}
}
