package cluster_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/meshdoctor/meshdoctor/internal/cli"
	"github.com/meshdoctor/meshdoctor/internal/cluster"
	"github.com/meshdoctor/meshdoctor/internal/rules"
)

// userKubeconfig writes a kubeconfig for an envtest user (its context has
// no namespace).
func userKubeconfig(t *testing.T, name string) (string, *envtest.AuthenticatedUser) {
	t.Helper()
	user, err := env.AddUser(envtest.User{Name: name}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	kc, err := user.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, kc, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, user
}

// TestNothingReadableIsAnInputError: a token valid in one namespace, with
// no namespace in its context and no -n, may list nothing: that is exit 2
// with one line that says what to do, not a page of partial-access
// warnings over zero objects that passes. The denials carry the API
// server's own reason.
func TestNothingReadableIsAnInputError(t *testing.T) {
	requireAPIServer(t)
	apply(t, k8sClient, `
apiVersion: v1
kind: Namespace
metadata: {name: mdtest-only-here}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: read-all, namespace: mdtest-only-here}
rules:
- apiGroups: ["*"]
  resources: ["*"]
  verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: read-all, namespace: mdtest-only-here}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: read-all}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: mdtest-ns-token}]
`)
	path, user := userKubeconfig(t, "mdtest-ns-token")
	live, err := cluster.Load(testCtx, user.Config(), cluster.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(live.Objects) != 0 || len(live.Denied) == 0 {
		t.Fatalf("want everything denied: %d objects, %d denied", len(live.Objects), len(live.Denied))
	}
	for _, d := range live.Denied {
		if !strings.Contains(d.Reason, `User "mdtest-ns-token" cannot list resource`) || d.Verb != "list" {
			t.Errorf("the reason must be the API server's: %+v", d)
			break
		}
	}
	code, out, errOut := runCLI(t, "analyze", "--kubeconfig", path, "--no-color", "--fail-on", "none")
	if code != cli.ExitUsage || out != "" || strings.Count(strings.TrimSpace(errOut), "\n") != 0 ||
		!strings.Contains(errOut, "nothing could be read at") || !strings.Contains(errOut, "give -n NAMESPACE") || !strings.Contains(errOut, "cannot list resource") {
		t.Errorf("exit %d, stderr %q\n%s", code, errOut, out)
	}
	// With -n for its namespace, the same token reads it, and says that
	// istiod in istio-system, which decides the Istio version, was not.
	code, out, errOut = runCLI(t, "analyze", "--kubeconfig", path, "--no-color", "-n", "mdtest-only-here", "--fail-on", "none")
	if code != cli.ExitOK || errOut != "" || !strings.Contains(out, "cannot list Deployment.apps in namespace istio-system") || !strings.Contains(out, "the Istio control plane there was not read") {
		t.Errorf("-n its namespace: exit %d, stderr %q\n%s", code, errOut, out)
	}
}

// TestNamespaceMustExist: -n naming a namespace the cluster does not have
// is exit 2, not "No problems found"; with --kube files that create the
// namespace it is what the change adds.
func TestNamespaceMustExist(t *testing.T) {
	requireAPIServer(t)
	admin := adminKubeconfig(t)
	code, out, errOut := runCLI(t, "analyze", "--kubeconfig", admin, "-n", "mdtest-no-such-ns")
	if code != cli.ExitUsage || !strings.Contains(errOut, `namespace "mdtest-no-such-ns" does not exist at `) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("exit %d, stderr %q\n%s", code, errOut, out)
	}
	change := filepath.Join(t.TempDir(), "new.yaml")
	os.WriteFile(change, []byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: mdtest-new-ns}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80}]}\n"), 0o644)
	if code, out, errOut := runCLI(t, "analyze", "--kubeconfig", admin, "-n", "mdtest-new-ns", "--kube", change); code == cli.ExitUsage {
		t.Errorf("a namespace the files create: exit %d, stderr %q\n%s", code, errOut, out)
	}
	other := filepath.Join(t.TempDir(), "other.yaml")
	os.WriteFile(other, []byte("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80}]}\n"), 0o644)
	if code, _, errOut := runCLI(t, "analyze", "--kubeconfig", admin, "-n", "mdtest-no-such-ns", "--kube", other); code != cli.ExitUsage || !strings.Contains(errOut, "does not exist") {
		t.Errorf("--kube files that do not create it: exit %d, stderr %q", code, errOut)
	}
}

// TestSecretGetDenied: credentials that may list but not get are denied
// the one-by-one reads of TLS Secrets; the finding says get, not list,
// with the server's reason.
func TestSecretGetDenied(t *testing.T) {
	requireAPIServer(t)
	apply(t, k8sClient, `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: mdtest-list-only}
rules:
- apiGroups: ["*"]
  resources: ["*"]
  verbs: [list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: mdtest-list-only}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: mdtest-list-only}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: mdtest-lister}]
`)
	path, user := userKubeconfig(t, "mdtest-lister")
	live, err := cluster.Load(testCtx, user.Config(), cluster.Options{Secrets: true})
	if err != nil {
		t.Fatal(err)
	}
	var secret *cluster.Denied
	for i, d := range live.Denied {
		if d.Kind == "Secret" {
			secret = &live.Denied[i]
		}
	}
	if secret == nil || secret.Verb != "get" || !strings.Contains(secret.Reason, `cannot get resource "secrets"`) {
		t.Fatalf("want the Secret get denied with the server's reason: %+v", live.Denied)
	}
	code, out, errOut := runCLI(t, "analyze", "--kubeconfig", path, "--no-color", "-o", "json")
	if code != cli.ExitFindings || !strings.Contains(out, `"rule": "`+rules.PartialAccess.Name+`"`) || !strings.Contains(out, "cannot get Secret in namespace ") || strings.Contains(out, "(unknown)") {
		t.Errorf("exit %d, stderr %q\n%s", code, errOut, out)
	}
}

// TestKubeWithUnreadableFiles: with --kube, the files are the change: none
// readable is exit 2; one unreadable among others is an error finding that
// --fail-on none does not turn into a pass.
func TestKubeWithUnreadableFiles(t *testing.T) {
	requireAPIServer(t)
	admin := adminKubeconfig(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin.yaml")
	os.WriteFile(bin, []byte("\x00\x01binary"), 0o644)
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte("apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: default}\nspec: {ports: [{port: 80}]}\n"), 0o644)
	if code, _, errOut := runCLI(t, "analyze", "--kubeconfig", admin, "--kube", bin); code != cli.ExitUsage || !strings.Contains(errOut, bin+": binary file") {
		t.Errorf("only a binary file: exit %d, stderr %q", code, errOut)
	}
	code, out, errOut := runCLI(t, "analyze", "--kubeconfig", admin, "--no-color", "--fail-on", "none", "--only-new", "--kube", bin, good)
	if code != cli.ExitFindings || !strings.Contains(out, "invalid-manifest") || !strings.Contains(out, "binary file") {
		t.Errorf("a binary file next to a good one: exit %d, stderr %q\n%s", code, errOut, out)
	}
}
