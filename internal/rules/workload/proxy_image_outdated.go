package workload

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// ProxyImageOutdated: running pods carry another proxy image than the one
// their injector injects today, usually because they were not restarted
// after an upgrade.
var ProxyImageOutdated = &rules.Rule{
	Code: "MD4013", Name: "proxy-image-outdated", Severity: finding.Warning, Area: "workload",
	Summary: "Running pods have another istio-proxy image than their injector injects now: they were not restarted after the control plane was upgraded.",
	Needs:   []string{"Pod"},
	Reads:   []string{"ConfigMap", "Namespace"},
	Since:   "0.2.0",
	IST:     []string{"IST0158"},
	Doc: rules.Doc{
		Mechanism: "The sidecar injector writes the proxy image of its revision (global.hub, global.proxy.image and global.tag in the istio-sidecar-injector[-<rev>] ConfigMap's values) into a pod only when the pod is created. Upgrading istiod in place changes that image, but running pods keep the old proxy until they are re-created. meshdoctor compares each live pod's istio-proxy image with its revision's injector image (the revision from the pod's sidecar.istio.io/status annotation or istio.io/rev label), allowing the variant suffix the injector adds (-distroless), and skips pods that pin their image with sidecar.istio.io/proxyImage. Pods two or more minors behind istiod are proxy-version-skew's; within the same minor the finding is informational. istioctl analyze reports one message per namespace; meshdoctor reports each workload, where the restart is done.",
		Symptom:   "The pods run a proxy without the fixes and defaults of the upgraded release (CVE fixes, changed defaults take effect only on restart), and behaviour differs between pods of the same service depending on when they started.",
		Fix:       "Restart the workloads so the injector gives them the current proxy: `kubectl rollout restart deployment/<name> -n <namespace>`.",
		Before:    "# injector: docker.io/istio/proxyv2:1.31.1\napiVersion: v1\nkind: Pod\nmetadata:\n  name: web-5c2a\n  namespace: shop\nspec:\n  containers:\n  - name: istio-proxy\n    image: docker.io/istio/proxyv2:1.30.3\nstatus:\n  phase: Running\n",
		After:     "# after kubectl rollout restart deployment/web -n shop\napiVersion: v1\nkind: Pod\nmetadata:\n  name: web-7f1b\n  namespace: shop\nspec:\n  containers:\n  - name: istio-proxy\n    image: docker.io/istio/proxyv2:1.31.1\nstatus:\n  phase: Running\n",
		Sources: []string{
			"https://istio.io/latest/docs/setup/upgrade/in-place/#upgrade-the-data-plane",
			"https://istio.io/latest/docs/reference/config/analysis/ist0158/",
		},
	},
	Run: runProxyImageOutdated,
}

func runProxyImageOutdated(p *rules.Pass) {
	m := p.Model
	// One look-up per revision: the injector's ConfigMap is parsed once.
	type injector struct {
		img mesh.InjectorImage
		ok  bool
	}
	byRev := map[string]injector{}
	injectorOf := func(rev string) (mesh.InjectorImage, bool) {
		i, seen := byRev[rev]
		if !seen {
			i.img, i.ok = m.InjectorProxyImage(rev)
			byRev[rev] = i
		}
		return i.img, i.ok
	}
	for _, w := range m.Workloads {
		pods := w.Instances
		if w.Pod != nil {
			pods = []*mesh.Workload{w}
		}
		var stale []string
		var injected mesh.InjectorImage
		running := map[string]bool{}
		minorBehind := false
		for _, pod := range pods {
			if !livePod(pod) || pod.Annotations["sidecar.istio.io/proxyImage"] != "" {
				continue
			}
			img := proxyImage(pod)
			if img == "" {
				continue
			}
			inj, ok := injectorOf(mesh.PodRevision(pod))
			if !ok || mesh.SameProxyImage(img, inj.Image) {
				continue
			}
			stale = append(stale, pod.Name)
			injected, running[img] = inj, true
			if a, okA := mesh.ParseVersion(mesh.ImageTag(img)); okA {
				if b, okB := mesh.ParseVersion(mesh.ImageTag(inj.Image)); okB && (a.Major != b.Major || a.Minor != b.Minor) {
					minorBehind = true
				}
			}
		}
		if len(stale) == 0 {
			continue
		}
		sort.Strings(stale)
		var images []string
		for img := range running {
			images = append(images, img)
		}
		sort.Strings(images)
		var f finding.Finding
		restart := fmt.Sprintf("kubectl rollout restart %s/%s -n %s", strings.ToLower(w.Kind), w.Name, w.Namespace)
		if w.Pod != nil {
			f = rules.At(w.Object, "spec", "containers")
			restart = fmt.Sprintf("kubectl delete pod %s -n %s   # and let its owner re-create it", w.Name, w.Namespace)
		} else {
			f = rules.AtPod(w, "spec", "containers")
		}
		f.Message = fmt.Sprintf("%d pod(s) of %s %s/%s run istio-proxy %s, but the injector (ConfigMap %s/%s) now injects %s: %s",
			len(stale), w.Kind, w.Namespace, w.Name, strings.Join(images, ", "), injected.ConfigMap.Namespace, injected.ConfigMap.Name, injected.Image, listSome(stale, 5))
		if !minorBehind {
			f.Severity = finding.Info
		}
		f.Symptom = "these pods keep the old proxy's behaviour and fixes until they are re-created; pods of the same workload behave differently"
		f.Fix = "re-create the pods so the injector gives them the current proxy:\n  " + restart
		p.Report(f)
	}
}

// proxyImage is the image of a pod's istio-proxy container, "" without one.
func proxyImage(w *mesh.Workload) string {
	for _, cs := range [][]corev1.Container{w.PodSpec.Containers, w.PodSpec.InitContainers} {
		for _, c := range cs {
			if c.Name == "istio-proxy" {
				return c.Image
			}
		}
	}
	return ""
}
