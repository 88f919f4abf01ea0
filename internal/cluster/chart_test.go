package cluster_test

import (
	"testing"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	authzv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshdoctor/meshdoctor/deploy"
	"github.com/meshdoctor/meshdoctor/internal/cluster"
)

// renderChart renders deploy/helm/meshdoctor into namespace (created here).
func renderChart(t *testing.T, namespace string, values map[string]any) []*unstructured.Unstructured {
	t.Helper()
	out, err := deploy.Render(deploy.Release{Name: "meshdoctor", Namespace: namespace}, values)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := deploy.Objects(out)
	if err != nil {
		t.Fatal(err)
	}
	apply(t, k8sClient, "apiVersion: v1\nkind: Namespace\nmetadata: {name: "+namespace+"}\n")
	return objs
}

// TestChartDryRun: the real API server accepts every object the chart
// renders (server-side dry run, strict field validation), with the
// generated certificate and with cert-manager's. cert-manager's own kinds
// are not checked here: their CRDs are not installed.
func TestChartDryRun(t *testing.T) {
	requireAPIServer(t)
	for name, values := range map[string]map[string]any{"self-signed": nil, "cert-manager": deploy.PlainValues()} {
		objs := renderChart(t, "mdtest-chart-dryrun", values)
		checked := 0
		for _, o := range objs {
			if o.GroupVersionKind().Group == "cert-manager.io" {
				continue
			}
			if err := k8sClient.Create(testCtx, o, client.DryRunAll, client.FieldValidation("Strict")); err != nil {
				t.Errorf("%s: %s %s: %v", name, o.GetKind(), o.GetName(), err)
			}
			checked++
		}
		if checked < 10 {
			t.Errorf("%s: only %d objects dry-run", name, checked)
		}
	}
}

// TestChartRBAC: the chart's ServiceAccount, with the chart's ClusterRole
// and Role bound, runs meshdoctor's live loader against a cluster holding
// every kind it reads, and is denied nothing: it reads what cluster-admin
// reads. The same loader as a ServiceAccount without the bindings is
// denied (the impersonation is real). Every resource the ClusterRole and
// the webhook name is one the server serves, so a misspelled plural fails
// here. Writes: Events anywhere, the Lease in the release namespace only.
func TestChartRBAC(t *testing.T) {
	requireAPIServer(t)
	const ns = "mdtest-chart-rbac"
	objs := renderChart(t, ns, nil)
	var role rbacv1.ClusterRole
	var hook admissionv1.ValidatingWebhookConfiguration
	for _, o := range objs {
		switch o.GetKind() {
		case "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding":
			if err := k8sClient.Create(testCtx, o); err != nil && !apierrors.IsAlreadyExists(err) {
				t.Fatal(err)
			}
		}
		var into any
		switch o.GetKind() {
		case "ClusterRole":
			into = &role
		case "ValidatingWebhookConfiguration":
			into = &hook
		default:
			continue
		}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, into); err != nil {
			t.Fatal(err)
		}
	}
	user := "system:serviceaccount:" + ns + ":meshdoctor"
	as := func(name string) *rest.Config {
		c := rest.CopyConfig(cfg)
		c.Impersonate = rest.ImpersonationConfig{UserName: name, Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}}
		return c
	}

	admin, err := cluster.Load(testCtx, cfg, cluster.Options{Secrets: true})
	if err != nil {
		t.Fatal(err)
	}
	live, err := cluster.Load(testCtx, as(user), cluster.Options{Secrets: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range live.Denied {
		t.Errorf("the chart's ServiceAccount is denied %s %s (%s) in %q: %s", d.Verb, d.Resource, d.Group, d.Namespace, d.Reason)
	}
	if live.Kinds != admin.Kinds || live.Read != admin.Read || len(live.Objects) != len(admin.Objects) {
		t.Errorf("the ServiceAccount read %d kinds (%d without error), %d objects; cluster-admin %d, %d, %d",
			live.Kinds, live.Read, len(live.Objects), admin.Kinds, admin.Read, len(admin.Objects))
	}
	if live.Kinds < 30 {
		t.Errorf("only %d kinds listed: the CRDs of Istio and the Gateway API are missing, the test proves little", live.Kinds)
	}
	unbound, err := cluster.Load(testCtx, as("system:serviceaccount:"+ns+":not-bound"), cluster.Options{Secrets: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(unbound.Denied) == 0 {
		t.Error("a ServiceAccount without the bindings was denied nothing: the impersonation does not work")
	}

	// Every resource named is served (extensions/v1beta1 Ingress only by
	// clusters older than 1.22).
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, lists, err := dc.ServerGroupsAndResources()
	if err != nil {
		t.Fatal(err)
	}
	served := map[schema.GroupResource]bool{}
	for _, l := range lists {
		gv, _ := schema.ParseGroupVersion(l.GroupVersion)
		for _, r := range l.APIResources {
			served[schema.GroupResource{Group: gv.Group, Resource: r.Name}] = true
		}
	}
	named := map[schema.GroupResource]string{}
	for _, r := range role.Rules {
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				named[schema.GroupResource{Group: g, Resource: res}] = "ClusterRole"
			}
		}
	}
	for _, h := range hook.Webhooks {
		for _, r := range h.Rules {
			for _, g := range r.APIGroups {
				for _, res := range r.Resources {
					named[schema.GroupResource{Group: g, Resource: res}] = "webhook"
				}
			}
		}
	}
	for gr, where := range named {
		// The extensions group is granted for clusters older than this
		// one (Ingress before 1.22, workloads before 1.16).
		if !served[gr] && gr.Group != "extensions" {
			t.Errorf("the %s names %s, which the API server does not serve", where, gr)
		}
	}

	for _, c := range []struct {
		attrs authzv1.ResourceAttributes
		allow bool
	}{
		{authzv1.ResourceAttributes{Verb: "create", Resource: "events", Namespace: "default"}, true},
		{authzv1.ResourceAttributes{Verb: "patch", Group: "events.k8s.io", Resource: "events", Namespace: "shop"}, true},
		{authzv1.ResourceAttributes{Verb: "get", Group: "coordination.k8s.io", Resource: "leases", Namespace: ns}, true},
		{authzv1.ResourceAttributes{Verb: "create", Group: "coordination.k8s.io", Resource: "leases", Namespace: ns}, true},
		{authzv1.ResourceAttributes{Verb: "update", Group: "coordination.k8s.io", Resource: "leases", Namespace: ns}, true},
		{authzv1.ResourceAttributes{Verb: "watch", Group: "networking.istio.io", Resource: "virtualservices"}, true},
		{authzv1.ResourceAttributes{Verb: "update", Group: "coordination.k8s.io", Resource: "leases", Namespace: "kube-system"}, false},
		{authzv1.ResourceAttributes{Verb: "delete", Resource: "events", Namespace: "default"}, false},
		{authzv1.ResourceAttributes{Verb: "list", Resource: "secrets"}, false},
		{authzv1.ResourceAttributes{Verb: "create", Resource: "configmaps", Namespace: ns}, false},
		{authzv1.ResourceAttributes{Verb: "update", Group: "networking.istio.io", Resource: "virtualservices", Namespace: "default"}, false},
	} {
		sar := &authzv1.SubjectAccessReview{Spec: authzv1.SubjectAccessReviewSpec{User: user, Groups: []string{"system:serviceaccounts", "system:authenticated"}, ResourceAttributes: &c.attrs}}
		if err := k8sClient.Create(testCtx, sar); err != nil {
			t.Fatal(err)
		}
		if sar.Status.Allowed != c.allow {
			t.Errorf("%s %s.%s in %q: allowed %v, want %v", c.attrs.Verb, c.attrs.Resource, c.attrs.Group, c.attrs.Namespace, sar.Status.Allowed, c.allow)
		}
	}
}
