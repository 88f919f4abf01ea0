// Package cluster loads resources from a live Kubernetes API server into the
// same manifest.Object values the file loader produces, so every rule runs
// unchanged on a running cluster. It only reads: discovery, list and get.
package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"

	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

// Options tune a Load.
type Options struct {
	// Namespace limits namespaced kinds to one namespace; "" reads every
	// namespace the credentials may list.
	Namespace string
	// Secrets reads the TLS Secrets Gateways and DestinationRules
	// reference (certificates only; private keys are never kept).
	Secrets bool
	// RootNamespace is where istiod and its ConfigMaps live; they are
	// read from there even when Namespace names another one, because the
	// Istio version and mesh config decide what many rules report.
	RootNamespace string
	// Parallel bounds concurrent list calls (default 8).
	Parallel int
	// PageSize is the limit of each list call (default 500).
	PageSize int64
	// Progress, when set, receives a line per kind listed (a terminal).
	Progress io.Writer
	// FallbackNamespace is read instead when Namespace is "" and no
	// namespaced kind may be listed across namespaces: a user with rights
	// in one namespace only, as kubectl without -A reads the context's
	// namespace. "" turns the fallback off.
	FallbackNamespace string
}

// Denied is a kind the credentials may not list: rules that need it see
// less than the cluster has.
type Denied struct {
	Group, Kind string
	Resource    string // the plural the API serves it as (virtualservices)
	Namespace   string // "" for all namespaces
	// Verb is what was denied: "list", or "get" for objects read one by
	// one (the Namespace asked for, Secrets).
	Verb   string
	Reason string
}

// Result is what a Load read.
type Result struct {
	*manifest.Result
	Denied []Denied
	// Fallback is the namespace read instead of all of them, when
	// FallbackNamespace had to be used.
	Fallback string
	// Host is the API server's URL, for messages.
	Host string
	// Kinds is how many kinds were listed.
	Kinds int
	// NamespaceMissing: Options.Namespace names a namespace the server
	// says does not exist (a typo reads as an empty, healthy namespace).
	NamespaceMissing bool
	// Read counts the kinds that were listed (or got) without error, the
	// best-effort reads of istiod apart: 0 means nothing could be read.
	Read int
	// ServerVersion is the API server's version (v1.29.3), "" when the
	// server would not say.
	ServerVersion string
}

// Error is a failure to talk to the cluster at all (unreachable, bad
// credentials, timeout): the caller prints it and exits 2.
type Error struct {
	Host string
	Err  error
}

func (e *Error) Error() string {
	msg := e.Err.Error()
	switch {
	case apierrors.IsUnauthorized(e.Err):
		msg = "the credentials were rejected (401 Unauthorized): log in again or check --context/--kubeconfig"
	case apierrors.IsTimeout(e.Err) || apierrors.IsServerTimeout(e.Err) || errors.Is(e.Err, context.DeadlineExceeded):
		msg = "the API server did not answer in time (use --request-timeout to wait longer): " + msg
	}
	return fmt.Sprintf("cluster %s: %s", e.Host, msg)
}

func (e *Error) Unwrap() error { return e.Err }

// secretKinds are read by reference only (see secrets.go), never listed.
const secretKind = "Secret"

// resource is where a known kind is served.
type resource struct {
	gk         manifest.GroupKind
	gv         schema.GroupVersion
	plural     string
	namespaced bool
}

// Load reads every kind the file loader knows from the cluster cfg points
// at. Kinds the server does not serve (Istio, Gateway API, BackendConfig
// not installed) are skipped silently; kinds the credentials may not list
// are returned in Denied and the rest is still read.
func Load(ctx context.Context, cfg *rest.Config, opts Options) (*Result, error) {
	if opts.Parallel <= 0 {
		opts.Parallel = 8
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 500
	}
	if opts.RootNamespace == "" {
		opts.RootNamespace = "istio-system"
	}
	cfg = rest.CopyConfig(cfg)
	// Listing thousands of objects page by page needs more than
	// client-go's default 5 requests per second.
	if cfg.QPS == 0 {
		cfg.QPS, cfg.Burst = 100, 200
	}
	// Deprecation warnings (v1 Endpoints…) are not the user's problem here.
	cfg.WarningHandler = rest.NoWarnings{}
	cfg.UserAgent = "meshdoctor"
	res := &Result{Result: &manifest.Result{Unknown: map[string]int{}}, Host: cfg.Host}

	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, &Error{Host: cfg.Host, Err: err}
	}
	resources, err := discover(ctx, dc)
	if err != nil {
		return nil, &Error{Host: cfg.Host, Err: err}
	}
	// The Kubernetes version decides which Istio releases support the
	// cluster (upgrade); /version is readable by any authenticated user.
	if v, err := dc.ServerVersion(); err == nil {
		res.ServerVersion = v.GitVersion
	}
	client, err := rest.UnversionedRESTClientFor(withJSON(cfg))
	if err != nil {
		return nil, &Error{Host: cfg.Host, Err: err}
	}
	l := &lister{client: client, opts: opts, host: cfg.Host}

	tasks := plan(resources, opts.Namespace, opts.RootNamespace)
	outs := l.run(ctx, tasks)
	if opts.Namespace == "" && opts.FallbackNamespace != "" && namespacedForbidden(tasks, outs) {
		ftasks := plan(resources, opts.FallbackNamespace, opts.RootNamespace)
		fouts := l.run(ctx, ftasks)
		if !namespacedForbidden(ftasks, fouts) {
			tasks, outs, res.Fallback = ftasks, fouts, opts.FallbackNamespace
		}
	}
	res.Kinds = len(tasks)
	for i, o := range outs {
		if o.err != nil {
			if tasks[i].bestEffort {
				// istiod and its ConfigMaps decide the Istio version
				// and mesh config: without them the newest Istio and
				// its defaults are assumed, which changes findings,
				// so a denial is said, not skipped.
				if apierrors.IsForbidden(o.err) {
					res.Denied = append(res.Denied, Denied{Group: tasks[i].r.gk.Group, Kind: tasks[i].r.gk.Kind, Resource: tasks[i].r.plural, Namespace: tasks[i].namespace, Verb: "list", Reason: reason(o.err) + "; the Istio control plane there was not read, so its version and mesh config are assumed"})
				}
				continue
			}
			if apierrors.IsForbidden(o.err) {
				verb := "list"
				if tasks[i].name != "" {
					verb = "get"
				}
				res.Denied = append(res.Denied, Denied{Group: tasks[i].r.gk.Group, Kind: tasks[i].r.gk.Kind, Resource: tasks[i].r.plural, Namespace: tasks[i].namespace, Verb: verb, Reason: reason(o.err)})
				continue
			}
			return nil, &Error{Host: cfg.Host, Err: fmt.Errorf("listing %s: %w", kindName(tasks[i].r.gk), o.err)}
		}
		if !tasks[i].bestEffort {
			res.Read++
		}
		if o.notFound && tasks[i].r.gk == (manifest.GroupKind{Kind: "Namespace"}) {
			res.NamespaceMissing = true
		}
		res.Objects = append(res.Objects, o.objects...)
		res.Problems = append(res.Problems, o.problems...)
	}
	if opts.Secrets {
		for _, r := range resources {
			if r.gk == (manifest.GroupKind{Kind: secretKind}) {
				secrets, denied, err := l.secrets(ctx, r, res.Objects)
				if err != nil {
					return nil, &Error{Host: cfg.Host, Err: err}
				}
				res.Objects = append(res.Objects, secrets...)
				res.Denied = append(res.Denied, denied...)
			}
		}
	}
	if opts.Progress != nil {
		fmt.Fprintf(opts.Progress, "\rmeshdoctor: listed %d kinds, %d objects from %s\x1b[K\n", len(tasks), len(res.Objects), cfg.Host)
	}
	return res, nil
}

// plan lists what to read: every kind (Secrets apart), namespaced ones in
// namespace ("" for all).
func plan(resources []resource, namespace, root string) []task {
	var tasks []task
	for _, r := range resources {
		if r.gk.Kind == secretKind {
			continue
		}
		switch {
		case !r.namespaced && r.gk.Kind == "Namespace" && namespace != "":
			tasks = append(tasks, task{r: r, name: namespace})
		case r.namespaced:
			tasks = append(tasks, task{r: r, namespace: namespace})
		default:
			tasks = append(tasks, task{r: r})
		}
	}
	// With one namespace asked for, still read istiod and its ConfigMaps:
	// they decide the Istio version and the mesh config (best effort).
	if namespace != "" && namespace != root {
		for _, r := range resources {
			switch r.gk {
			case manifest.GroupKind{Group: "apps", Kind: "Deployment"}:
				tasks = append(tasks, task{r: r, namespace: root, bestEffort: true, keep: func(name string) bool { return strings.HasPrefix(name, "istiod") }})
			case manifest.GroupKind{Kind: "ConfigMap"}:
				tasks = append(tasks, task{r: r, namespace: root, bestEffort: true, keep: func(name string) bool { return strings.HasPrefix(name, "istio") }})
			}
		}
	}
	return tasks
}

// namespacedForbidden reports that every namespaced kind was forbidden.
func namespacedForbidden(tasks []task, outs []taskResult) bool {
	n := 0
	for i, t := range tasks {
		if !t.r.namespaced || t.bestEffort {
			continue
		}
		if !apierrors.IsForbidden(outs[i].err) {
			return false
		}
		n++
	}
	return n > 0
}

// doRaw is Request.DoRaw with the API server's Status decoded from the
// body of an error: DoRaw alone returns a generic error ("the server does
// not allow access to the requested resource") whose message has lost the
// server's, which names the user, the verb and the resource.
func doRaw(ctx context.Context, req *rest.Request) ([]byte, error) {
	raw, err := req.DoRaw(ctx)
	if err == nil || len(raw) == 0 {
		return raw, err
	}
	var st metav1.Status
	if json.Unmarshal(raw, &st) == nil && st.Kind == "Status" && st.Status == metav1.StatusFailure {
		return raw, &apierrors.StatusError{ErrStatus: st}
	}
	return raw, err
}

func reason(err error) string {
	var se apierrors.APIStatus
	if errors.As(err, &se) && se.Status().Message != "" {
		return se.Status().Message
	}
	return err.Error()
}

func kindName(gk manifest.GroupKind) string {
	if gk.Group == "" {
		return gk.Kind
	}
	return gk.Kind + "." + gk.Group
}

// withJSON asks for JSON: the typed decoders are the file loader's.
func withJSON(cfg *rest.Config) *rest.Config {
	c := rest.CopyConfig(cfg)
	c.ContentType = "application/json"
	c.AcceptContentTypes = "application/json"
	c.GroupVersion = &schema.GroupVersion{}
	c.APIPath = "/"
	c.NegotiatedSerializer = scheme.Codecs.WithoutConversion()
	return c
}

// discover finds where each kind the loader knows is served: the group's
// preferred version when it serves the kind, else the newest that does.
// Groups that fail discovery (an aggregated API that is down) are skipped.
func discover(ctx context.Context, dc *discovery.DiscoveryClient) ([]resource, error) {
	groups, lists, err := dc.ServerGroupsAndResources()
	if err != nil && !discovery.IsGroupDiscoveryFailedError(err) {
		return nil, err
	}
	if len(groups) == 0 {
		return nil, err
	}
	served := map[string]map[string]metav1.APIResource{} // groupVersion -> kind -> resource
	for _, l := range lists {
		if l == nil {
			continue
		}
		m := map[string]metav1.APIResource{}
		for _, r := range l.APIResources {
			if strings.Contains(r.Name, "/") || !hasVerb(r.Verbs, "list") && !hasVerb(r.Verbs, "get") {
				continue
			}
			m[r.Kind] = r
		}
		served[l.GroupVersion] = m
	}
	var out []resource
	have := map[string]bool{}
	for _, gk := range manifest.KnownKinds() {
		for _, g := range groups {
			if g.Name != gk.Group {
				continue
			}
			versions := append([]metav1.GroupVersionForDiscovery{g.PreferredVersion}, g.Versions...)
			for _, v := range versions {
				if r, ok := served[v.GroupVersion][gk.Kind]; ok {
					gv, _ := schema.ParseGroupVersion(v.GroupVersion)
					out = append(out, resource{gk: gk, gv: gv, plural: r.Name, namespaced: r.Namespaced})
					have[gk.Kind+"."+gk.Group] = true
					break
				}
			}
		}
	}
	// The same objects are served under two names: keep the current one.
	// extensions/v1beta1 Ingress is networking.k8s.io's; v1 Endpoints
	// mirror EndpointSlices (and are deprecated).
	filtered := out[:0]
	for _, r := range out {
		if r.gk.Group == "extensions" && r.gk.Kind == "Ingress" && have["Ingress.networking.k8s.io"] {
			continue
		}
		if r.gk.Group == "" && r.gk.Kind == "Endpoints" && have["EndpointSlice.discovery.k8s.io"] {
			continue
		}
		filtered = append(filtered, r)
	}
	return filtered, nil
}

func hasVerb(vs []string, v string) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}

// task is one list (or get) call sequence.
type task struct {
	r          resource
	namespace  string
	name       string // get one object instead of listing
	selector   string
	bestEffort bool
	keep       func(name string) bool
}

type taskResult struct {
	objects  []*manifest.Object
	problems []manifest.Problem
	err      error
	notFound bool // a get found no such object
}

type lister struct {
	client *rest.RESTClient
	opts   Options
	host   string

	mu               sync.Mutex
	doneKinds, total int
}

// run executes tasks with at most opts.Parallel in flight; results come
// back in task order so output is deterministic.
func (l *lister) run(ctx context.Context, tasks []task) []taskResult {
	out := make([]taskResult, len(tasks))
	sem := make(chan struct{}, l.opts.Parallel)
	var wg sync.WaitGroup
	for i := range tasks {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			out[i] = l.list(ctx, tasks[i])
			l.progress(len(tasks), len(out[i].objects))
		}(i)
	}
	wg.Wait()
	return out
}

func (l *lister) progress(kinds, objects int) {
	if l.opts.Progress == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.doneKinds++
	l.total += objects
	fmt.Fprintf(l.opts.Progress, "\rmeshdoctor: listing kinds %d/%d, %d objects\x1b[K", l.doneKinds, kinds, l.total)
}

// path is the REST path of a resource collection (or one object).
func path(r resource, namespace, name string) string {
	var b strings.Builder
	if r.gv.Group == "" {
		b.WriteString("/api/" + r.gv.Version)
	} else {
		b.WriteString("/apis/" + r.gv.Group + "/" + r.gv.Version)
	}
	if r.namespaced && namespace != "" {
		b.WriteString("/namespaces/" + url.PathEscape(namespace))
	}
	b.WriteString("/" + r.plural)
	if name != "" {
		b.WriteString("/" + url.PathEscape(name))
	}
	return b.String()
}

type listPage struct {
	Metadata struct {
		Continue string `json:"continue"`
	} `json:"metadata"`
	Items []json.RawMessage `json:"items"`
}

func (l *lister) list(ctx context.Context, t task) taskResult {
	var out taskResult
	if t.name != "" {
		raw, err := doRaw(ctx, l.client.Get().AbsPath(path(t.r, "", t.name)))
		if err != nil {
			if apierrors.IsNotFound(err) {
				out.notFound = true
				return out
			}
			out.err = err
			return out
		}
		l.decode(t.r, raw, &out)
		return out
	}
	cont := ""
	for {
		req := l.client.Get().AbsPath(path(t.r, t.namespace, "")).Param("limit", fmt.Sprint(l.opts.PageSize))
		if cont != "" {
			req = req.Param("continue", cont)
		}
		if t.selector != "" {
			req = req.Param("labelSelector", t.selector)
		}
		raw, err := doRaw(ctx, req)
		if err != nil {
			// A continue token expires after etcd compaction (410 Gone):
			// start again rather than return half a kind.
			if apierrors.IsResourceExpired(err) && cont != "" {
				cont, out.objects, out.problems = "", nil, nil
				continue
			}
			out.err = err
			return out
		}
		var page listPage
		if err := json.Unmarshal(raw, &page); err != nil {
			out.err = fmt.Errorf("decoding %s list: %w", kindName(t.r.gk), err)
			return out
		}
		for _, it := range page.Items {
			if t.keep != nil {
				var m struct {
					Metadata struct{ Name string } `json:"metadata"`
				}
				if json.Unmarshal(it, &m) != nil || !t.keep(m.Metadata.Name) {
					continue
				}
			}
			l.decode(t.r, it, &out)
		}
		if page.Metadata.Continue == "" {
			return out
		}
		cont = page.Metadata.Continue
	}
}

// lastApplied is kubectl's copy of the previous manifest: large, and for
// Secrets it holds the key material.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// decode turns one item into an Object the way the file loader would.
func (l *lister) decode(r resource, raw []byte, out *taskResult) {
	o, p := decode(r, raw)
	if p != nil {
		out.problems = append(out.problems, *p)
		return
	}
	out.objects = append(out.objects, o)
}

// Decode turns one object of kind r, as the API server serves it in JSON,
// into the Object the file loader would produce (the informers of a
// long-running process read through it); a schema meshdoctor reads more
// strictly than the server is a Problem instead.
func Decode(r Resource, raw []byte) (*manifest.Object, *manifest.Problem) {
	return decode(r.r, raw)
}

func decode(r resource, raw []byte) (*manifest.Object, *manifest.Problem) {
	typed := manifest.NewTyped(r.gk)
	if err := json.Unmarshal(raw, typed); err != nil {
		// The server accepted it, so this is a schema meshdoctor reads
		// more strictly than the API server (CRDs without validation).
		var m struct {
			Metadata struct{ Namespace, Name string } `json:"metadata"`
		}
		_ = json.Unmarshal(raw, &m)
		ref := manifest.Ref{Kind: r.gk.Kind, Namespace: m.Metadata.Namespace, Name: m.Metadata.Name}
		return nil, &manifest.Problem{Pos: manifest.Position{File: manifest.ClusterOrigin(ref)}, Severity: "error", Ref: &ref,
			Message: fmt.Sprintf("%s does not match the %s schema: %v", ref, r.gk.Kind, err)}
	}
	var name, ns string
	var labels, annotations map[string]string
	if acc, err := meta.Accessor(typed); err == nil {
		acc.SetManagedFields(nil)
		if a := acc.GetAnnotations(); a[lastApplied] != "" {
			delete(a, lastApplied)
			acc.SetAnnotations(a)
		}
		name, ns, labels, annotations = acc.GetName(), acc.GetNamespace(), acc.GetLabels(), acc.GetAnnotations()
	} else {
		var m struct {
			Metadata struct {
				Name, Namespace     string
				Labels, Annotations map[string]string
			} `json:"metadata"`
		}
		_ = json.Unmarshal(raw, &m)
		name, ns, labels, annotations = m.Metadata.Name, m.Metadata.Namespace, m.Metadata.Labels, m.Metadata.Annotations
		delete(annotations, lastApplied)
	}
	if ok, isObj := typed.(interface{ GetObjectKind() schema.ObjectKind }); isObj {
		ok.GetObjectKind().SetGroupVersionKind(r.gv.WithKind(r.gk.Kind))
	}
	ref := manifest.Ref{Kind: r.gk.Kind, Namespace: ns, Name: name}
	return manifest.NewObject(r.gv.String(), r.gk.Kind, ns, name, labels, annotations, typed, manifest.ClusterOrigin(ref)), nil
}
