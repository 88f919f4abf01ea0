package workload

import (
	"fmt"
	"sort"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// ProxyVersionSkew: proxies run a version istiod does not support. Istio
// supports a control plane one minor version ahead of the data plane, and
// never a data plane ahead of the control plane.
var ProxyVersionSkew = &rules.Rule{
	Code: "MD4021", Name: "proxy-version-skew", Severity: finding.Warning, Area: "workload",
	Summary: "Proxies run an Istio version outside istiod's supported skew (newer than istiod, or more than one minor older).",
	Needs:   []string{"Deployment"},
	Since:   "0.1.0",
	Doc: rules.Doc{
		Mechanism: "istiod generates Envoy configuration for the proxy version each proxy reports. Istio supports a control plane at most one minor version ahead of its data plane, and no data plane ahead of its control plane: a newer proxy receives configuration shaped for the older istiod (feature defaults such as AUTO_SNI and certificate verification differ between minors), and a proxy two or more minors behind may not understand what istiod sends. This typically happens mid-upgrade: gateways upgraded before istiod (seed 000: gateway 1.22.2 with an older istiod), or workloads not restarted after an upgrade. meshdoctor reads the version from istiod's image and each proxy's proxyv2 image tag (live pods, or an explicit image in a pod template); with several istiod revisions a pod is compared with its own revision. With --upgrade-to, istiod is taken as upgraded in place to that version while the proxies keep theirs, which is what the cluster looks like right after the upgrade.",
		Symptom:   "Proxies reject or half-apply configuration: gateway pods never become ready, listeners or endpoints are missing (`istioctl proxy-status` shows STALE or NOT SENT), TLS to upstreams fails with CERTIFICATE_VERIFY_FAILED, and istiod logs NACKs for those proxies.",
		Fix:       "Upgrade in the supported order: istiod first (a canary revision), then gateways and workloads (restart them so they get the new proxy), and never let proxies run more than one minor behind. Use revisions (istio.io/rev) so each pod talks to the istiod of its version.",
		Before:    "# istiod: docker.io/istio/pilot:1.20.6\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: istio-ingressgateway\n  namespace: istio-system\nspec:\n  template:\n    spec:\n      containers:\n      - name: istio-proxy\n        image: docker.io/istio/proxyv2:1.22.2\n",
		After:     "# istiod upgraded first: docker.io/istio/pilot:1.22.2\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: istio-ingressgateway\n  namespace: istio-system\nspec:\n  template:\n    spec:\n      containers:\n      - name: istio-proxy\n        image: docker.io/istio/proxyv2:1.22.2\n",
		Sources: []string{
			"https://istio.io/latest/docs/releases/supported-releases/#control-planedata-plane-skew",
			"https://istio.io/latest/docs/setup/upgrade/canary/",
		},
	},
	Run: runProxyVersionSkew,
}

// controlPlaneFor picks the istiod a pod talks to: its revision's, or the
// only version installed. nil when that cannot be told.
func controlPlaneFor(cps []mesh.ControlPlane, w *mesh.Workload) *mesh.ControlPlane {
	if rev := mesh.PodRevision(w); rev != "" {
		for i := range cps {
			if cps[i].Revision == rev {
				return &cps[i]
			}
		}
	}
	for i := range cps {
		if cps[i].Version.Major != cps[0].Version.Major || cps[i].Version.Minor != cps[0].Version.Minor {
			return nil
		}
	}
	return &cps[0]
}

// nextMinor is the first release of the minor after v ("1.21").
func nextMinor(v mesh.Version) string { return fmt.Sprintf("%d.%d", v.Major, v.Minor+1) }

func runProxyVersionSkew(p *rules.Pass) {
	m := p.Model
	cps := m.Istio.ControlPlanes
	if len(cps) == 0 {
		return // istiod not in the input: nothing to compare with
	}
	for _, w := range m.Workloads {
		if w.Pod != nil && w.Pod.Status.Phase != "" && !livePod(w) {
			continue
		}
		// Live pods say what runs; a template with an explicit proxyv2
		// image says what will run.
		pods := []*mesh.Workload{w}
		var live []*mesh.Workload
		for _, in := range w.Instances {
			if livePod(in) {
				live = append(live, in)
			}
		}
		if len(live) > 0 {
			pods = live
		}
		type bad struct {
			version, why string
			cp           *mesh.ControlPlane
			pods         []string
		}
		byVersion := map[string]*bad{}
		var order []string
		for _, pod := range pods {
			raw := mesh.ProxyImageVersion(pod)
			v, ok := mesh.ParseVersion(raw)
			if !ok {
				continue // no explicit proxy image, or a tag that is not a version
			}
			cp := controlPlaneFor(cps, pod)
			if cp == nil {
				continue
			}
			why := mesh.ProxySkew(v, cp.Version)
			if why == "" {
				continue
			}
			k := v.String() + "/" + cp.Workload.Namespace + "/" + cp.Workload.Name
			b := byVersion[k]
			if b == nil {
				b = &bad{version: v.String(), why: why, cp: cp}
				byVersion[k] = b
				order = append(order, k)
			}
			if pod.Pod != nil && pod != w {
				b.pods = append(b.pods, pod.Name)
			}
		}
		for _, k := range order {
			b := byVersion[k]
			f := rules.AtPod(w, "spec", "containers")
			subject := fmt.Sprintf("%s %s/%s runs istio-proxy %s", w.Kind, w.Namespace, w.Name, b.version)
			if len(b.pods) > 0 {
				sort.Strings(b.pods)
				subject = fmt.Sprintf("%d pods of %s %s/%s run istio-proxy %s (%s)", len(b.pods), w.Kind, w.Namespace, w.Name, b.version, strings.Join(b.pods, ", "))
			}
			is := fmt.Sprintf("is %s (image %s)", b.cp.Version, b.cp.Image)
			if b.cp.UpgradedFrom != nil {
				is = fmt.Sprintf("will be %s after the upgrade (--upgrade-to; now image %s), while running proxies keep their version until their pods are re-created", b.cp.Version, b.cp.Image)
			}
			f.Message = fmt.Sprintf("%s, but istiod Deployment %s/%s (revision %s) %s: %s",
				subject, b.cp.Workload.Namespace, b.cp.Workload.Name, b.cp.Revision, is, b.why)
			f.Symptom = "these proxies may reject or half-apply istiod's configuration: pods not ready, missing listeners or endpoints (istioctl proxy-status: STALE), TLS failures such as CERTIFICATE_VERIFY_FAILED"
			f.Fix = fmt.Sprintf("bring istiod and the proxies within one minor version, istiod first: upgrade istiod (a canary revision) to %s or newer, then restart the workloads (kubectl rollout restart %s/%s -n %s) so they get its proxy",
				b.version, strings.ToLower(w.Kind), w.Name, w.Namespace)
			if b.cp.UpgradedFrom != nil {
				f.Fix = fmt.Sprintf("upgrade one minor version at a time (%s first) and bring the proxies along after each step: restart injected workloads (kubectl rollout restart), and update pinned proxyv2 images such as this one's; or upgrade with a canary revision (istio.io/rev) and move namespaces over", nextMinor(*b.cp.UpgradedFrom))
			} else if strings.HasPrefix(b.why, "newer") {
				f.Fix = fmt.Sprintf("upgrade istiod to %s before the proxies (or pin this workload's proxy back to %s); use a canary revision (istio.io/rev) for the new version", b.version, b.cp.Version.MinorString())
			}
			p.Report(f)
		}
	}
}
