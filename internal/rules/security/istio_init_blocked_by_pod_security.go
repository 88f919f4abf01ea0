package security

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

const psaEnforce = "pod-security.kubernetes.io/enforce"

// IstioInitBlockedByPodSecurity: a namespace whose pods get a sidecar
// enforces the baseline or restricted Pod Security level, and Istio CNI is
// not (known to be) installed, so the injected istio-init container asks for
// capabilities the level forbids.
//
// When the input does not say whether Istio CNI is installed the finding is
// a warning, not an error: CNI is opt-in for istioctl and Helm installs (so
// most meshes lack it), but managed and vendor distributions (Cloud Service
// Mesh, OpenShift Service Mesh) always run it, and an error there would be
// wrong. The message says "unless Istio CNI is installed".
var IstioInitBlockedByPodSecurity = &rules.Rule{
	Code: "MD2006", Name: "istio-init-blocked-by-pod-security", Severity: finding.Error, Area: "security",
	Summary: "An injected namespace enforces Pod Security baseline/restricted without Istio CNI: istio-init is rejected.",
	Needs:   []string{"Namespace"},
	Since:   "0.1.0",
	Doc: rules.Doc{
		Mechanism: "Without the Istio CNI plugin, sidecar injection adds an istio-init init container that programs iptables in the pod's network namespace and therefore adds the NET_ADMIN and NET_RAW capabilities. The Pod Security admission controller, enforcing the baseline level (pod-security.kubernetes.io/enforce=baseline) or restricted, rejects any pod that adds capabilities outside the baseline set (restricted allows none but NET_BIND_SERVICE, and also requires runAsNonRoot, which istio-init, running as root, breaks). Only the enforce label rejects pods; warn and audit only report. With Istio CNI the redirection is set up by the node agent and the injected istio-validation container needs no capabilities, which is how Istio documents running under baseline.",
		Symptom:   "Pods are never created: the ReplicaSet (or StatefulSet/Job) shows FailedCreate events like `Error creating: pods \"app-7c9f…\" is forbidden: violates PodSecurity \"baseline:latest\": non-default capabilities (container \"istio-init\" must not include \"NET_ADMIN\", \"NET_RAW\" in securityContext.capabilities.add)`; the Deployment stays at 0 available replicas.",
		Fix:       "Install Istio with the CNI plugin (`istioctl install --set components.cni.enabled=true`, or the istio/cni Helm chart with `pilot.cni.enabled=true` for istiod) and keep the CNI namespace (istio-system) at the privileged level; or, less safely, label the namespace `pod-security.kubernetes.io/enforce: privileged`.",
		Before:    "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n    istio-injection: enabled\n    pod-security.kubernetes.io/enforce: baseline\n",
		After:     "# Istio installed with the CNI plugin:\n#   istioctl install --set components.cni.enabled=true\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n    istio-injection: enabled\n    pod-security.kubernetes.io/enforce: baseline\n",
		Sources: []string{
			"https://istio.io/latest/docs/setup/additional-setup/pod-security-admission/",
			"https://istio.io/latest/docs/setup/additional-setup/cni/",
			"https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline",
			"https://kubernetes.io/docs/concepts/security/pod-security-admission/",
		},
	},
	Run: runIstioInitBlockedByPodSecurity,
}

func runIstioInitBlockedByPodSecurity(p *rules.Pass) {
	m := p.Model
	cni := m.IstioCNI()
	if cni.On {
		return
	}
	for _, name := range slices.Sorted(maps.Keys(m.Namespaces)) {
		ns := m.Namespaces[name]
		level := ns.Labels[psaEnforce]
		if level != "baseline" && level != "restricted" {
			continue
		}
		// Which pods get istio-init: the workloads in the input, or, for a
		// namespace given alone, the pods its labels will inject.
		var injected []string
		var admitted []string // live pods already running with istio-init
		workloads := m.WorkloadsIn(name)
		for _, w := range workloads {
			if !m.Meshed(w) || !psaGetsIstioInit(w) {
				continue
			}
			injected = append(injected, w.Kind+" "+w.Name)
			if w.Pod != nil && w.Pod.Status.Phase != "" && psaHasInit(w, "istio-init") {
				admitted = append(admitted, w.Name)
			}
			for _, i := range w.Instances {
				if i.Pod.Status.Phase != "" && psaHasInit(i, "istio-init") {
					admitted = append(admitted, i.Name)
				}
			}
		}
		why := psaNamespaceInjects(ns)
		switch {
		case len(injected) > 0:
			why = "its workloads get a sidecar (" + rules.ListUpTo(injected, 4) + ")"
		case len(workloads) > 0 || why == "":
			// Workloads here opt out, or nothing injects: no istio-init.
			continue
		}

		f := rules.At(ns.Object, "metadata", "labels", psaEnforce)
		capsText := "adds the NET_ADMIN and NET_RAW capabilities, which the baseline level forbids"
		symptom := fmt.Sprintf("new pods in %s are rejected at admission: FailedCreate `pods \"…\" is forbidden: violates PodSecurity \"%s:latest\": non-default capabilities (container \"istio-init\" must not include \"NET_ADMIN\", \"NET_RAW\" in securityContext.capabilities.add)`", name, level)
		if level == "restricted" {
			capsText = "adds the NET_ADMIN and NET_RAW capabilities and runs as root, which the restricted level forbids"
			symptom = fmt.Sprintf("new pods in %s are rejected at admission: FailedCreate `pods \"…\" is forbidden: violates PodSecurity \"restricted:latest\": unrestricted capabilities (container \"istio-init\" must not include \"NET_ADMIN\", \"NET_RAW\" in securityContext.capabilities.add), runAsNonRoot != true …`", name)
		}
		cniText := "Istio CNI is not in use (" + cni.Why + ")"
		if !cni.Known {
			cniText = "unless Istio CNI is installed (the input has no istio-cni-node DaemonSet, injector values or IstioOperator saying so)"
			f.Severity = finding.Warning
		}
		f.Message = fmt.Sprintf("Namespace %s enforces Pod Security %q (%s=%s) and %s, but %s: the injected istio-init container %s, so the API server rejects every injected pod", name, level, psaEnforce, level, why, cniText, capsText)
		if len(admitted) > 0 {
			f.Message += fmt.Sprintf("; running pods %s were admitted before the label or are exempt, their replacements will not be", rules.ListUpTo(admitted, 3))
		}
		f.Symptom = symptom + "; the ReplicaSet shows FailedCreate events and the workload stays at 0 ready replicas"
		f.Fix = "install Istio with the CNI plugin so injected pods need no capabilities (keep the CNI namespace, usually istio-system, at the privileged level):\n" +
			"  istioctl install --set components.cni.enabled=true\n" +
			"  # or Helm: helm install istio-cni istio/cni -n istio-system, and istiod with --set pilot.cni.enabled=true\n" +
			"then restart the workloads. Alternatively (weaker isolation) relax the namespace:\n" +
			"  metadata:\n    labels:\n      " + psaEnforce + ": privileged"
		p.Report(f)
	}
}

// psaNamespaceInjects says why a namespace's pods get a sidecar by default, or
// "" when its labels do not inject.
func psaNamespaceInjects(ns *mesh.Namespace) string {
	switch ns.Labels["istio-injection"] {
	case "enabled":
		return "it is labelled istio-injection=enabled"
	case "disabled":
		return ""
	}
	if rev := ns.Labels["istio.io/rev"]; rev != "" {
		return "it is labelled istio.io/rev=" + rev
	}
	return ""
}

// psaGetsIstioInit reports whether an injected workload gets the istio-init
// container: not gateway pods (the gateway injection template has no init
// container), not pods with interception turned off, and for pods injected
// ahead of time (istioctl kube-inject, live pods) only if they have one.
func psaGetsIstioInit(w *mesh.Workload) bool {
	if strings.Contains(w.Annotations["inject.istio.io/templates"], "gateway") {
		return false
	}
	if w.Annotations["sidecar.istio.io/interceptionMode"] == "NONE" {
		return false
	}
	if psaHasProxy(w) {
		return psaHasInit(w, "istio-init")
	}
	return true
}

func psaHasInit(w *mesh.Workload, name string) bool {
	for _, c := range w.PodSpec.InitContainers {
		if c.Name == name {
			return true
		}
	}
	return false
}

// psaHasProxy: istio-proxy is a container, or an init container when
// injected as a native sidecar.
func psaHasProxy(w *mesh.Workload) bool {
	for _, c := range w.PodSpec.Containers {
		if c.Name == "istio-proxy" {
			return true
		}
	}
	return psaHasInit(w, "istio-proxy")
}
