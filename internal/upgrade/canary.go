package upgrade

import (
	"fmt"
	"sort"
	"strings"

	"github.com/meshdoctor/meshdoctor/internal/manifest"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
)

// Canary is a canary upgrade evaluated on a configuration: a control
// plane at To running as revision Revision beside the ones the input has.
// Which proxies move is decided by the injector labels (the model's
// WorkloadInjector): a namespace or pod that selects the revision (or a
// revision tag pointing at it) gets its proxy once its pods are
// re-created; the others stay with the revision that injected them.
// https://istio.io/latest/docs/setup/upgrade/canary/
type Canary struct {
	Revision string `json:"revision"`
	To       string `json:"to"`
	// Installed names the revision's istiod when the input has it.
	Installed  string          `json:"installed,omitempty"`
	Revisions  []RevisionState `json:"revisions"`
	Namespaces []NamespaceMove `json:"namespaces"`
	Workloads  []WorkloadMove  `json:"workloads"`
	// Changes are the behaviour changes crossed, from the oldest control
	// plane of the moving workloads to To, with the resources of the
	// namespaces that move.
	Changes []Result `json:"changes"`
	Notes   []string `json:"notes,omitempty"`
	// Unsupported counts proxies left outside the supported skew.
	Unsupported int `json:"unsupported"`
}

// RevisionState is one revision of the input.
type RevisionState struct {
	Name    string   `json:"name"`
	Version string   `json:"version,omitempty"` // "" when its istiod is not in the input
	Source  string   `json:"source"`
	Tags    []string `json:"tags,omitempty"`
}

// NamespaceMove says whether a namespace's new pods move to the revision.
type NamespaceMove struct {
	Namespace string `json:"namespace"`
	Moves     bool   `json:"moves"`
	// Injector is the label that decides and the revision it selects.
	Injector string `json:"injector"`
	// How moves a namespace that stays.
	How string `json:"how,omitempty"`
}

// WorkloadMove is one proxy's fate: its revision and versions once the
// namespaces that move have restarted their pods.
type WorkloadMove struct {
	Resource manifest.Ref      `json:"resource"`
	Origin   manifest.Position `json:"origin"`
	Gateway  bool              `json:"gateway,omitempty"`
	Moves    bool              `json:"moves"`
	Why      string            `json:"why"`
	// After the move: the revision, its istiod's version and the proxy's
	// ("" when the input does not say).
	Revision     string `json:"revision"`
	ControlPlane string `json:"controlPlane,omitempty"`
	Proxy        string `json:"proxy,omitempty"`
	// Skew says why the proxy is outside the supported skew ("" within
	// it or unknown); SkewKnown whether both versions are known.
	Skew      string `json:"skew,omitempty"`
	SkewKnown bool   `json:"skewKnown"`
}

// EvaluateCanary evaluates moving to revision rev at version to.
func EvaluateCanary(m *mesh.Model, rev string, to mesh.Version) Canary {
	c := Canary{Revision: rev, To: to.String(), Namespaces: []NamespaceMove{}, Workloads: []WorkloadMove{}, Changes: []Result{}}
	if cp := m.ControlPlaneOf(rev); cp != nil {
		c.Installed = fmt.Sprintf("istiod Deployment %s/%s (image %s)", cp.Workload.Namespace, cp.Workload.Name, cp.Image)
		if cp.Version.Major != to.Major || cp.Version.Minor != to.Minor {
			c.Notes = append(c.Notes, fmt.Sprintf("revision %s runs Istio %s in the input, not %s: the report assumes %s", rev, cp.Version, to, to))
		}
	} else {
		c.Notes = append(c.Notes, fmt.Sprintf("revision %s is not in the input: install it first (istioctl install --set revision=%s, or helm install istiod with --set revision=%s), then restart the namespaces that move", rev, rev, rev))
	}
	c.Revisions = revisionStates(m)
	versionOf := func(r string) (mesh.Version, bool) {
		if r == rev {
			return to, true
		}
		if cp := m.ControlPlaneOf(r); cp != nil {
			return cp.Version, true
		}
		return mesh.Version{}, false
	}

	// Namespaces, by the label that selects their injector.
	var names []string
	for ns := range m.Namespaces {
		names = append(names, ns)
	}
	sort.Strings(names)
	moving := map[string]bool{}
	injectors := map[string]mesh.Injector{}
	byTag := map[string][]string{} // the namespaces that select each tag
	for _, ns := range names {
		if in, ok := m.NamespaceInjector(ns); ok {
			injectors[ns] = in
			if in.Tag != "" {
				byTag[in.Tag] = append(byTag[in.Tag], ns)
			}
		}
	}
	for _, ns := range names {
		in, ok := injectors[ns]
		if !ok {
			continue
		}
		nm := NamespaceMove{Namespace: ns, Moves: in.Revision == rev, Injector: in.String()}
		moving[ns] = nm.Moves
		if !nm.Moves {
			nm.How = moveNamespace(ns, in, rev, byTag[in.Tag])
		}
		c.Namespaces = append(c.Namespaces, nm)
	}

	from := to
	for _, w := range m.Workloads {
		wm, current, ok := moveWorkload(m, w, rev, to, versionOf)
		if !ok {
			continue
		}
		if wm.Moves {
			moving[w.Namespace] = true
			if v, ok := versionOf(current); ok && v.Less(from) {
				from = v
			}
		}
		if wm.Skew != "" {
			c.Unsupported++
		}
		c.Workloads = append(c.Workloads, wm)
	}
	if from == to {
		from = m.Istio.Version
	}
	for _, r := range Evaluate(m, from, to) {
		var kept []Resource
		for _, res := range r.Resources {
			if moving[res.Resource.Namespace] {
				kept = append(kept, res)
			}
		}
		r.Resources = kept
		r.Affected = len(kept) > 0 && r.OptedOut == ""
		c.Changes = append(c.Changes, r)
	}
	return c
}

// revisionStates lists the input's revisions: istiod Deployments, then
// injectors whose istiod is not in the input, each with its tags.
func revisionStates(m *mesh.Model) []RevisionState {
	tags := map[string][]string{}
	for tag, r := range m.Istio.Revisions.Tags {
		tags[r] = append(tags[r], tag)
	}
	for _, t := range tags {
		sort.Strings(t)
	}
	var out []RevisionState
	seen := map[string]bool{}
	for _, cp := range m.Istio.ControlPlanes {
		if seen[cp.Revision] {
			continue
		}
		seen[cp.Revision] = true
		out = append(out, RevisionState{Name: cp.Revision, Version: cp.Version.String(), Source: fmt.Sprintf("istiod Deployment %s/%s", cp.Workload.Namespace, cp.Workload.Name), Tags: tags[cp.Revision]})
	}
	var rest []string
	for r := range m.Istio.Revisions.Injectors {
		if !seen[r] {
			rest = append(rest, r)
		}
	}
	sort.Strings(rest)
	for _, r := range rest {
		out = append(out, RevisionState{Name: r, Source: "MutatingWebhookConfiguration " + m.Istio.Revisions.Injectors[r] + " (its istiod is not in the input)", Tags: tags[r]})
	}
	return out
}

// moveNamespace is how a namespace that stays moves to rev; with are the
// namespaces that select the same revision tag.
func moveNamespace(ns string, in mesh.Injector, rev string, with []string) string {
	relabel := fmt.Sprintf("kubectl label namespace %s istio-injection- istio.io/rev=%s --overwrite, then kubectl rollout restart deployment -n %s", ns, rev, ns)
	if in.Tag == "" {
		return relabel
	}
	return fmt.Sprintf("istioctl tag set %s --revision %s --overwrite moves every namespace of tag %s at once (%s), then restart their workloads; or alone: %s", in.Tag, rev, in.Tag, strings.Join(with, ", "), relabel)
}

// moveWorkload is w's fate, and the revision its running proxy has now;
// ok is false for workloads without a proxy.
func moveWorkload(m *mesh.Model, w *mesh.Workload, rev string, to mesh.Version, versionOf func(string) (mesh.Version, bool)) (WorkloadMove, string, bool) {
	if mesh.IsIstiod(w) {
		return WorkloadMove{}, "", false
	}
	gateway, _ := mesh.IsGatewayWorkload(w)
	pinned := mesh.PinnedProxy(w)
	in, injected := m.WorkloadInjector(w)
	if !injected && !pinned && !m.Meshed(w) {
		return WorkloadMove{}, "", false
	}
	// The revision the running proxies came from: the pods' own word,
	// else the injector's, else the default.
	current := ""
	running := ""
	for _, p := range append([]*mesh.Workload{w}, w.Instances...) {
		if r := mesh.PodRevision(p); r != "" && current == "" {
			current = r
		}
		if v := mesh.ProxyImageVersion(p); v != "" && running == "" && (p.Pod != nil || pinned) {
			running = v
		}
	}
	if current == "" && injected {
		current = in.Revision
	}
	if current == "" {
		current = mesh.DefaultRevision
	}
	wm := WorkloadMove{Resource: w.Ref(), Origin: w.PodPos("metadata"), Gateway: gateway}
	kind := strings.ToLower(w.Kind)
	switch {
	case pinned:
		wm.Revision = current
		wm.Why = fmt.Sprintf("stays: its istio-proxy image (%s) is set in the spec, so relabelling does not move it; set image proxyv2:%s and label istio.io/rev=%s", running, to, rev)
		if gateway {
			wm.Why += fmt.Sprintf(" (or upgrade its gateway chart with --set revision=%s)", rev)
		}
	case injected && in.Revision == rev:
		wm.Moves, wm.Revision = true, rev
		wm.Why = "injected by " + in.String()
		if w.Pod == nil {
			wm.Why += fmt.Sprintf("; its pods move when re-created: kubectl rollout restart %s/%s -n %s", kind, w.Name, w.Namespace)
		}
		running = to.String()
	case injected:
		wm.Revision = in.Revision
		wm.Why = "stays: injected by " + in.String()
	default:
		wm.Revision = current
		wm.Why = "stays: its pods have an istio-proxy from revision " + current
	}
	if running == "" {
		// Injected from the template: the proxy of the revision that
		// injects it.
		if v, ok := versionOf(wm.Revision); ok {
			running = v.String()
		}
	}
	wm.Proxy = running
	if cp, ok := versionOf(wm.Revision); ok {
		wm.ControlPlane = cp.String()
		if pv, ok := mesh.ParseVersion(running); ok {
			wm.SkewKnown = true
			wm.Skew = mesh.ProxySkew(pv, cp)
		}
	}
	return wm, current, true
}
