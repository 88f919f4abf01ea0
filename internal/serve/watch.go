package serve

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/meshdoctor/meshdoctor/internal/change"
	"github.com/meshdoctor/meshdoctor/internal/cluster"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
)

// watcher keeps a change.State current with informers on every kind the
// cluster loader reads (its discovery decides which, at which version),
// decoding each object the way a one-off read does.
type watcher struct {
	state   *change.State
	synced  []cache.InformerSynced
	changed chan struct{} // a buffered nudge for the continuous loop
	log     *slog.Logger
}

// lastApplied is kubectl's copy of the previous manifest: large, unread.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

func watch(ctx context.Context, cfg *rest.Config, state *change.State, log *slog.Logger) (*watcher, error) {
	resources, err := cluster.Discover(ctx, cfg)
	if err != nil {
		return nil, err
	}
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	w := &watcher{state: state, changed: make(chan struct{}, 1), log: log}
	factory := dynamicinformer.NewDynamicSharedInformerFactory(client, 0)
	for _, r := range resources {
		// An informer on a kind the account may not list retries
		// forever and never syncs (never ready): leave such kinds out,
		// and say so.
		if _, err := client.Resource(r.GroupVersionResource()).List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
			if apierrors.IsForbidden(err) {
				log.Warn("not watching a kind the service account may not list: its checks see none", "kind", r.GroupKind().Kind, "group", r.GroupKind().Group)
				continue
			}
			return nil, fmt.Errorf("listing %s: %w", r.GroupVersionResource().Resource, err)
		}
		inf := factory.ForResource(r.GroupVersionResource()).Informer()
		// The cache keeps what the model reads, not the bookkeeping.
		_ = inf.SetTransform(func(obj any) (any, error) {
			if u, ok := obj.(*unstructured.Unstructured); ok {
				u.SetManagedFields(nil)
				if a := u.GetAnnotations(); a[lastApplied] != "" {
					delete(a, lastApplied)
					u.SetAnnotations(a)
				}
			}
			return obj, nil
		})
		r := r
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { w.put(r, obj) },
			UpdateFunc: func(_, obj any) { w.put(r, obj) },
			DeleteFunc: func(obj any) { w.remove(r, obj) },
		}); err != nil {
			return nil, err
		}
		w.synced = append(w.synced, inf.HasSynced)
	}
	factory.Start(ctx.Done())
	log.Info("watching", "kinds", len(resources), "host", cfg.Host)
	return w, nil
}

// Synced tells whether every informer has listed its kind once.
func (w *watcher) Synced() bool {
	for _, s := range w.synced {
		if !s() {
			return false
		}
	}
	return true
}

func (w *watcher) waitSynced(ctx context.Context) bool {
	start := time.Now()
	ok := cache.WaitForCacheSync(ctx.Done(), w.synced...)
	if ok {
		w.log.Info("cache synced", "objects", w.state.Len(), "took", time.Since(start).Round(time.Millisecond))
	}
	return ok
}

func (w *watcher) put(r cluster.Resource, obj any) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return
	}
	raw, err := u.MarshalJSON()
	if err != nil {
		w.log.Error("encoding a watched object", "kind", r.GroupKind().Kind, "name", u.GetName(), "err", err)
		return
	}
	o, p := cluster.Decode(r, raw)
	if p != nil {
		w.state.PutProblem(id(r, u), *p)
	} else {
		w.state.Put(o)
	}
	w.nudge()
}

func (w *watcher) remove(r cluster.Resource, obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return
	}
	w.state.Delete(id(r, u))
	w.nudge()
}

func (w *watcher) nudge() {
	select {
	case w.changed <- struct{}{}:
	default:
	}
}

func id(r cluster.Resource, u *unstructured.Unstructured) manifest.ID {
	gk := r.GroupKind()
	return manifest.ID{Group: gk.Group, Kind: gk.Kind, Namespace: u.GetNamespace(), Name: u.GetName()}
}
