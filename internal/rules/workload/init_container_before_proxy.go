package workload

import (
	"fmt"
	"regexp"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// InitContainerBeforeProxy: an application init container makes network
// calls while the sidecar is not running but traffic is already redirected.
var InitContainerBeforeProxy = &rules.Rule{
	Code: "MD4003", Name: "init-container-before-proxy", Severity: finding.Warning, Area: "workload",
	Summary: "An init container makes network calls before the sidecar runs, while its traffic is already redirected to it.",
	Needs:   []string{"Deployment", "StatefulSet", "DaemonSet", "Pod", "Job", "CronJob", "ReplicaSet"},
	Since:   "0.1.0",
	Doc: rules.Doc{
		Mechanism: "Pod traffic redirection is installed before any application container starts: by the istio-init init container, which Istio puts first, or by the Istio CNI plugin when the pod's network is set up. Classic sidecars start only after every init container has finished, so an application init container's outbound TCP connections are redirected to port 15001 of a proxy that is not running yet. Traffic from UID/GID 1337 (the proxy's) is not redirected, nor are destinations excluded by the traffic.sidecar.istio.io annotations. Native sidecars (istio-proxy as an init container with restartPolicy Always, the default since Istio 1.27 on Kubernetes 1.29+, or sidecar.istio.io/nativeSidecar: \"true\") start the proxy before the application's init containers. UDP DNS lookups are not redirected unless DNS capture is on.",
		Symptom:   "The init container's connections are refused or time out (curl: (7) Failed to connect, \"connection refused\", database clients unable to connect), so it retries forever or fails: the pod stays in Init:0/1 or Init:CrashLoopBackOff.",
		Fix:       "Run the init container as UID 1337 (securityContext.runAsUser: 1337) so its traffic bypasses redirection, or exclude its destinations with traffic.sidecar.istio.io/excludeOutboundIPRanges / excludeOutboundPorts, or enable native sidecars (pod annotation sidecar.istio.io/nativeSidecar: \"true\" on Kubernetes 1.29+).",
		Before:    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: orders\nspec:\n  selector:\n    matchLabels: {app: orders}\n  template:\n    metadata:\n      labels: {app: orders}\n    spec:\n      initContainers:\n      - name: wait-for-db\n        image: postgres:16\n        command: [sh, -c, 'until pg_isready -h orders-db; do sleep 2; done']\n      containers:\n      - name: app\n        image: example/orders\n",
		After:     "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: orders\nspec:\n  selector:\n    matchLabels: {app: orders}\n  template:\n    metadata:\n      labels: {app: orders}\n    spec:\n      initContainers:\n      - name: wait-for-db\n        image: postgres:16\n        command: [sh, -c, 'until pg_isready -h orders-db; do sleep 2; done']\n        securityContext:\n          runAsUser: 1337\n      containers:\n      - name: app\n        image: example/orders\n",
		Sources: []string{
			"https://istio.io/latest/docs/setup/additional-setup/cni/#compatibility-with-application-init-containers",
			"https://istio.io/latest/blog/2023/native-sidecars/",
			"https://istio.io/latest/docs/reference/config/annotations/ (traffic.sidecar.istio.io/excludeOutboundIPRanges, sidecar.istio.io/nativeSidecar)",
		},
	},
	Run: runInitContainerBeforeProxy,
}

var (
	// Network clients as a command word: the tool name at a word start,
	// followed by a space or the end.
	netTools = regexp.MustCompile(`(?:^|[\s;&|('"/])(curl|wget|nc|ncat|telnet|psql|pg_isready|mysql|mysqladmin|mongosh|mongo|redis-cli|kubectl|aws|gcloud|gsutil|az|flyway|liquibase|migrate|helm|vault|dockerize|wait-for-it(?:\.sh)?|db:migrate)(?:\s|$|['"])`)
	// URLs with a host; loopback hosts are dropped afterwards.
	netURL = regexp.MustCompile(`\b(?:https?|tcp|postgres(?:ql)?|mysql|mongodb(?:\+srv)?|redis|amqps?|nats|jdbc:[a-z]+)://(?:[^@/\s'"]*@)?([A-Za-z0-9.\-\[\]:]+)`)
	// Images whose only job is a network call.
	netImages = map[string]bool{
		"curl": true, "kubectl": true, "aws-cli": true, "cloud-sdk": true, "google-cloud-cli": true,
		"flyway": true, "liquibase": true, "migrate": true, "k8s-wait-for": true, "wait-for-it": true, "dockerize": true,
	}
	istioInitNames = map[string]bool{"istio-init": true, "istio-validation": true, "istio-proxy": true}
)

// initNetworkEvidence says why an init container is thought to make TCP
// calls, or "" when nothing says so.
func initNetworkEvidence(c *corev1.Container) string {
	cmd := strings.Join(append(append([]string{}, c.Command...), c.Args...), " ")
	for _, u := range netURL.FindAllStringSubmatch(cmd, -1) {
		host := strings.Trim(u[1], "[]")
		if i := strings.LastIndexByte(host, ':'); i > 0 && !strings.Contains(host[:i], ":") {
			host = host[:i]
		}
		if h := strings.ToLower(host); h != "localhost" && !strings.HasPrefix(h, "127.") && h != "::1" && h != "" {
			return fmt.Sprintf("connects to %s", shorten(u[0]))
		}
	}
	if m := netTools.FindStringSubmatch(cmd); m != nil {
		if !strings.Contains(cmd, "localhost") && !strings.Contains(cmd, "127.0.0.1") {
			return fmt.Sprintf("runs %s (%q)", m[1], shorten(cmd))
		}
	}
	if netImages[mesh.ImageName(c.Image)] {
		return "runs image " + c.Image
	}
	return ""
}

func shorten(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

// runsAsProxy reports whether a container runs with the proxy's UID or
// GID 1337, whose traffic Istio's redirection rules let through.
func runsAsProxy(pod *corev1.PodSpec, c *corev1.Container) bool {
	var uid, gid *int64
	if pod.SecurityContext != nil {
		uid, gid = pod.SecurityContext.RunAsUser, pod.SecurityContext.RunAsGroup
	}
	if c.SecurityContext != nil {
		if c.SecurityContext.RunAsUser != nil {
			uid = c.SecurityContext.RunAsUser
		}
		if c.SecurityContext.RunAsGroup != nil {
			gid = c.SecurityContext.RunAsGroup
		}
	}
	return (uid != nil && *uid == 1337) || (gid != nil && *gid == 1337)
}

// nativeSidecar tells whether w's proxy starts before application init
// containers, and whether that is known (false, false: it does not).
// When the Istio version is only assumed, known is false.
func nativeSidecar(m *mesh.Model, w *mesh.Workload) (native, known bool, why string) {
	for _, c := range w.PodSpec.InitContainers {
		if c.Name == "istio-proxy" {
			return true, true, "istio-proxy is already a native sidecar"
		}
	}
	switch w.Annotations["sidecar.istio.io/nativeSidecar"] {
	case "true":
		return true, true, "sidecar.istio.io/nativeSidecar is \"true\""
	case "false":
		return false, true, "sidecar.istio.io/nativeSidecar is \"false\""
	}
	f := m.Istio.Flag("ENABLE_NATIVE_SIDECARS")
	_, inEnv := m.Istio.Env["ENABLE_NATIVE_SIDECARS"]
	why = f.Why
	if !strings.HasPrefix(why, f.Name) {
		why = f.Name + " " + why
	}
	return f.On, m.Istio.VersionKnown || inEnv, why
}

// outboundExcluded reports whether the pod's annotations take (some of)
// its outbound traffic out of redirection; the rule cannot tell which
// destinations an init container uses, so any exclusion silences it.
func outboundExcluded(w *mesh.Workload) (string, bool) {
	for _, a := range []string{"traffic.sidecar.istio.io/excludeOutboundIPRanges", "traffic.sidecar.istio.io/excludeOutboundPorts", "traffic.sidecar.istio.io/includeOutboundIPRanges", "traffic.sidecar.istio.io/includeOutboundPorts"} {
		v, ok := w.Annotations[a]
		if !ok {
			continue
		}
		if a == "traffic.sidecar.istio.io/includeOutboundIPRanges" && strings.TrimSpace(v) == "*" {
			continue
		}
		return a, true
	}
	return "", false
}

func runInitContainerBeforeProxy(p *rules.Pass) {
	m := p.Model
	for _, w := range m.Workloads {
		dp, dpWhy := m.Injection(w)
		if dp != mesh.DataplaneSidecar || len(w.PodSpec.InitContainers) == 0 {
			continue
		}
		native, known, nativeWhy := nativeSidecar(m, w)
		if native && known {
			continue
		}
		if _, excluded := outboundExcluded(w); excluded {
			continue
		}
		for i := range w.PodSpec.InitContainers {
			c := &w.PodSpec.InitContainers[i]
			if istioInitNames[c.Name] || runsAsProxy(w.PodSpec, c) {
				continue
			}
			ev := initNetworkEvidence(c)
			if ev == "" {
				continue
			}
			f := rules.AtPod(w, "spec", "initContainers", i, "name")
			redirect := "istio-init"
			if m.Mesh.CNIKnown && m.Mesh.CNI {
				redirect = "the Istio CNI plugin"
			}
			f.Message = fmt.Sprintf("init container %s of %s %s/%s %s, but it runs before the istio-proxy sidecar starts (%s) while %s has already redirected the pod's outbound TCP to the proxy", c.Name, w.Kind, w.Namespace, w.Name, ev, dpWhy, redirect)
			if !known {
				f.Severity = finding.Info
				f.Message += fmt.Sprintf("; unless this mesh runs native sidecars (Istio 1.27+ on Kubernetes 1.29+), which the input cannot tell: %s", nativeWhy)
			} else {
				f.Message += "; native sidecars are off (" + nativeWhy + ")"
			}
			f.Symptom = "the init container's connections are refused or hang (e.g. curl: (7) Failed to connect, \"connection refused\"), so the pod stays in Init:0/1 or Init:CrashLoopBackOff"
			f.Fix = fmt.Sprintf("let its traffic bypass the sidecar by running it as the proxy's UID:\n  initContainers:\n  - name: %s\n    securityContext:\n      runAsUser: 1337\nor exclude its destinations with the pod annotation traffic.sidecar.istio.io/excludeOutboundIPRanges (or excludeOutboundPorts), or enable native sidecars with the pod annotation sidecar.istio.io/nativeSidecar: \"true\" (Kubernetes 1.29+)", c.Name)
			p.Report(f)
		}
	}
}
