package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func run(t *testing.T, stdin string, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(args, IO{In: strings.NewReader(stdin), Out: &out, Err: &errb, OutTTY: true, Getenv: func(k string) string { return env[k] }})
	return code, out.String(), errb.String()
}

const brokenVS = `apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v2}
`

func TestExitCodes(t *testing.T) {
	if code, out, _ := run(t, brokenVS, nil, "analyze", "-"); code != ExitFindings || !strings.Contains(out, "subset-not-found") {
		t.Errorf("findings: exit %d\n%s", code, out)
	}
	if code, _, _ := run(t, brokenVS, nil, "analyze", "--fail-on", "none", "-"); code != ExitOK {
		t.Errorf("--fail-on none: exit %d", code)
	}
	if code, _, _ := run(t, brokenVS, nil, "analyze", "--ignore", "subset-not-found", "-"); code != ExitOK {
		t.Errorf("--ignore: exit %d", code)
	}
	if code, _, _ := run(t, brokenVS, nil, "analyze", "--ignore", "subset-not-found=VirtualService/shop/reviews", "-"); code != ExitOK {
		t.Errorf("--ignore with resource: exit %d", code)
	}
	if code, _, _ := run(t, brokenVS, nil, "analyze", "--ignore", "subset-not-found=VirtualService/shop/other", "-"); code != ExitFindings {
		t.Errorf("--ignore for another resource must not silence: exit %d", code)
	}
	for _, args := range [][]string{
		{"analyze", "--kubeconfig", "/does/not/exist"},
		{"analyze", "--only-new", "-"},
		{"analyze", "-o", "xml", "-"},
		{"analyze", "--fail-on", "fatal", "-"},
		{"analyze", "--ignore", "no-such-rule", "-"},
		{"analyze", "/does/not/exist"},
		{"analyze", "--bogus-flag", "-"},
		{"rules", "no-such-rule"},
	} {
		if code, _, errOut := run(t, brokenVS, nil, args...); code != ExitUsage || errOut == "" {
			t.Errorf("%v: want exit 2 with a message, got %d %q", args, code, errOut)
		}
	}
	if code, _, errOut := run(t, "", nil, "analyze", "-"); code != ExitUsage || !strings.Contains(errOut, "no Kubernetes objects") {
		t.Errorf("empty input: exit %d %q", code, errOut)
	}
}

func TestColor(t *testing.T) {
	_, out, _ := run(t, brokenVS, nil, "analyze", "-")
	if !strings.Contains(out, "\x1b[") {
		t.Error("TTY output should be coloured")
	}
	_, out, _ = run(t, brokenVS, map[string]string{"NO_COLOR": "1"}, "analyze", "-")
	if strings.Contains(out, "\x1b[") {
		t.Error("NO_COLOR must disable colour")
	}
	_, out, _ = run(t, brokenVS, nil, "analyze", "--no-color", "-")
	if strings.Contains(out, "\x1b[") {
		t.Error("--no-color must disable colour")
	}
	var buf bytes.Buffer
	Main([]string{"analyze", "-"}, IO{In: strings.NewReader(brokenVS), Out: &buf, Err: &bytes.Buffer{}, Getenv: func(string) string { return "" }})
	if strings.Contains(buf.String(), "\x1b[") {
		t.Error("non-TTY output must not be coloured")
	}
}

func TestJSONAndSuppressionAnnotation(t *testing.T) {
	in := strings.Replace(brokenVS, "metadata: {name: reviews, namespace: shop}\nspec:\n  hosts", "metadata: {name: reviews, namespace: shop, annotations: {meshdoctor.io/ignore: subset-not-found}}\nspec:\n  hosts", 1)
	code, out, _ := run(t, in, nil, "analyze", "-o", "json", "-")
	var doc struct {
		Findings []any
		Summary  struct{ Suppressed int }
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err, out)
	}
	if code != ExitOK || len(doc.Findings) != 0 || doc.Summary.Suppressed != 1 {
		t.Errorf("annotation suppression: exit %d, %s", code, out)
	}
}

func TestNamespaceFlagAndFiles(t *testing.T) {
	dir := t.TempDir()
	noNS := strings.ReplaceAll(brokenVS, ", namespace: shop", "")
	os.WriteFile(filepath.Join(dir, "app.yaml"), []byte(noNS), 0o644)
	_, out, _ := run(t, "", nil, "analyze", "-n", "team-a", "--no-color", dir)
	if !strings.Contains(out, "reviews.team-a.svc.cluster.local") || !strings.Contains(out, filepath.Join(dir, "app.yaml")+":15") {
		t.Errorf("-n should place namespaceless objects, and findings carry file:line:\n%s", out)
	}
}

func TestRulesCommand(t *testing.T) {
	code, out, _ := run(t, "", nil, "rules")
	if code != 0 || !strings.Contains(out, "MD1001") || !strings.Contains(out, "subset-not-found") {
		t.Errorf("rules list: %d\n%s", code, out)
	}
	_, out, _ = run(t, "", nil, "rules", "subset-not-found")
	for _, want := range []string{"MECHANISM", "SYMPTOM", "FIX", "BEFORE", "AFTER"} {
		if !strings.Contains(out, want) {
			t.Errorf("rule doc lacks %s:\n%s", want, out)
		}
	}
	_, out2, _ := run(t, "", nil, "rules", "MD1001")
	if out2 != out {
		t.Error("rules accepts codes as well as names")
	}
}

// Secret values never reach the output, whatever the format, even when a
// rule reports on the Secret.
func TestSecretDataNeverPrinted(t *testing.T) {
	const in = `apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: shop}
type: kubernetes.io/tls
data:
  tls.crt: bm90LWEtY2VydGlmaWNhdGUtU0VDUkVUTUFSS0VS
  tls.key: U0VDUkVUS0VZTUFSS0VS
stringData:
  password: PLAINSECRETMARKER
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: shop}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [shop.example.com]
    tls: {mode: SIMPLE, credentialName: creds}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ingress, namespace: shop}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  template:
    metadata: {labels: {istio: ingressgateway}}
    spec:
      containers: [{name: istio-proxy, image: docker.io/istio/proxyv2:1.27.0}]
`
	for _, format := range []string{"text", "json", "yaml", "sarif"} {
		_, out, errOut := run(t, in, nil, "analyze", "-o", format, "-")
		if !strings.Contains(out, "gateway-certificate-invalid") {
			t.Errorf("%s: expected the certificate finding on the Secret:\n%s", format, out)
		}
		for _, secret := range []string{"SECRETMARKER", "bm90LWEtY2VydGlmaWNhdGUt", "U0VDUkVUS0VZ", "PLAINSECRET", "not-a-certificate"} {
			if strings.Contains(out+errOut, secret) {
				t.Errorf("%s output contains secret material %q", format, secret)
			}
		}
	}
}

// As a kubectl plugin the usage reads "kubectl meshdoctor …".
func TestKubectlPluginName(t *testing.T) {
	saved := os.Args[0]
	defer func() { os.Args[0] = saved }()
	os.Args[0] = "/usr/local/bin/kubectl-meshdoctor"
	_, out, _ := run(t, "", nil, "analyze", "--help")
	if !strings.Contains(out, "kubectl meshdoctor analyze [PATH|-]") {
		t.Errorf("plugin usage line missing:\n%s", out)
	}
}

// TestUpgradeTo: the seed-000 configuration at Istio 1.20 is clean; checked
// for an upgrade to 1.22 it gets the auto-SNI finding, marked as new; an
// upgrade within 1.20 adds nothing; without a current version to compare
// with, --upgrade-to refuses (exit 2).
func TestUpgradeTo(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"istio-system.yaml", "mdm.yaml"} {
		data, err := os.ReadFile(filepath.Join("../../examples/000-auto-sni-upgrade", name))
		if err != nil {
			t.Fatal(err)
		}
		old := strings.NewReplacer("pilot:1.22.2", "pilot:1.20.6", "proxyv2:1.22.2", "proxyv2:1.20.6").Replace(string(data))
		old = strings.ReplaceAll(old, "# want:", "# was:")
		os.WriteFile(filepath.Join(dir, name), []byte(old), 0o644)
	}
	if code, out, _ := run(t, "", nil, "analyze", "--no-color", dir); code != ExitOK {
		t.Fatalf("1.20 must be clean: exit %d\n%s", code, out)
	}
	code, out, _ := run(t, "", nil, "analyze", "--upgrade-to", "1.22.2", "--only-new", "-o", "json", dir)
	var res struct {
		Findings []struct {
			Rule, Message string
			PreExisting   bool `json:"preExisting"`
		}
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	// The new defaults break the gateway's TLS to the datastore, and the
	// pinned 1.20 gateway proxy would be two minors behind istiod.
	rules := map[string]string{}
	for _, f := range res.Findings {
		if f.PreExisting {
			t.Errorf("--only-new kept a pre-existing finding: %+v", f)
		}
		rules[f.Rule] = f.Message
	}
	if code != ExitFindings || len(res.Findings) != 2 ||
		!strings.Contains(rules["auto-sni-san-mismatch"], "on by default in Istio 1.22 (--upgrade-to)") ||
		!strings.Contains(rules["proxy-version-skew"], "will be 1.22.2 after the upgrade") {
		t.Errorf("upgrade to 1.22: exit %d %+v", code, res.Findings)
	}
	if code, out, _ := run(t, "", nil, "analyze", "--upgrade-to", "1.20.8", "--only-new", dir); code != ExitOK {
		t.Errorf("patch upgrade must add nothing: exit %d\n%s", code, out)
	}
	if code, _, errOut := run(t, brokenVS, nil, "analyze", "--upgrade-to", "1.22.2", "-"); code != ExitUsage || !strings.Contains(errOut, "needs the current Istio version") {
		t.Errorf("no current version: exit %d %q", code, errOut)
	}
	if code, _, _ := run(t, brokenVS, nil, "analyze", "--upgrade-to", "latest", "-"); code != ExitUsage {
		t.Errorf("a non-version: exit %d", code)
	}
}

// TestInputsTypedAtTheEdge: flags that cannot mean what they say end the
// run (exit 2, one line naming the flag) instead of being ignored.
func TestInputsTypedAtTheEdge(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, c := range []struct{ name, content, want string }{
		{"syntax.yaml", "rootNamespace: [istio-system\n", "not YAML"},
		{"type.yaml", "enableAutoMtls: maybe\n", "not a MeshConfig"},
		{"scalar.yaml", "just words\n", "not a MeshConfig"},
		{"deploy.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n", "a Deployment, not a MeshConfig"},
		{"cm-nomesh.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio}\ndata: {meshNetworks: 'networks: {}'}\n", "no data.mesh"},
		{"cm-bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio}\ndata:\n  mesh: |\n    enableAutoMtls: 3\n", "data.mesh of the ConfigMap: not a MeshConfig"},
	} {
		code, _, errOut := run(t, brokenVS, nil, "analyze", "--mesh-config", write(c.name, c.content), "-")
		if code != ExitUsage || !strings.Contains(errOut, "--mesh-config") || !strings.Contains(errOut, c.want) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("--mesh-config %s: want exit 2 and one line with %q, got %d %q", c.name, c.want, code, errOut)
		}
	}
	for name, content := range map[string]string{
		"mesh.yaml": "rootNamespace: istio-system\nenableAutoMtls: false\nunknownFutureField: 1\n",
		"cm.yaml":   "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata:\n  mesh: |\n    enableAutoMtls: true\n",
	} {
		if code, _, errOut := run(t, brokenVS, nil, "analyze", "--mesh-config", write(name, content), "-"); code != ExitFindings || errOut != "" {
			t.Errorf("--mesh-config %s is valid: exit %d %q", name, code, errOut)
		}
	}
	for _, v := range []string{"latest", "1", "one.two", "1.x"} {
		if code, _, errOut := run(t, brokenVS, nil, "analyze", "--istio-version", v, "-"); code != ExitUsage || !strings.Contains(errOut, "--istio-version") {
			t.Errorf("--istio-version %s: exit %d %q", v, code, errOut)
		}
	}
	code, _, errOut := run(t, brokenVS, nil, "analyze", "--istio-version", "1.40.1", "-")
	if code != ExitFindings || !strings.Contains(errOut, "Warning: Istio 1.40") || !strings.Contains(errOut, "extrapolated") {
		t.Errorf("a version newer than known: exit %d %q", code, errOut)
	}
	if _, _, errOut := run(t, brokenVS, nil, "analyze", "--istio-version", "1.22.2", "-"); errOut != "" {
		t.Errorf("a known version must not warn: %q", errOut)
	}
	// Seed 000 runs 1.22.2: "upgrading" to 1.20 is a downgrade.
	code, _, errOut = run(t, "", nil, "analyze", "--upgrade-to", "1.20.6", "../../examples/000-auto-sni-upgrade")
	if code != ExitUsage || !strings.Contains(errOut, "--upgrade-to 1.20.6 is older than the current Istio 1.22.2") {
		t.Errorf("downgrade: exit %d %q", code, errOut)
	}
	if code, _, errOut := run(t, "", nil, "analyze", "--upgrade-to", "1.22.2", "--fail-on", "none", "../../examples/000-auto-sni-upgrade"); code != ExitOK || errOut != "" {
		t.Errorf("an upgrade to the same version is no error: exit %d %q", code, errOut)
	}
}

// TestUnreadableFiles: a file that cannot be read is an input error when
// it is all there is (exit 2, one line), and otherwise an error finding
// that no --fail-on turns into a pass.
func TestUnreadableFiles(t *testing.T) {
	if !unprivileged(t) {
		return
	}
	dir, err := os.MkdirTemp("", "meshdoctor-unreadable")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	secret := filepath.Join(dir, "secret.yaml")
	os.WriteFile(secret, []byte(brokenVS), 0o644)
	os.Chmod(secret, 0)
	if f, err := os.Open(secret); err == nil {
		f.Close()
		t.Skip("this user reads files of mode 000")
	}
	ok := filepath.Join(dir, "ok.yaml")
	os.WriteFile(ok, []byte(strings.ReplaceAll(brokenVS, "subset: v2", "")), 0o644)
	code, out, errOut := run(t, "", nil, "analyze", "--fail-on", "none", secret)
	if code != ExitUsage || out != "" || !strings.Contains(errOut, "permission denied; nothing was analyzed") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("only an unreadable file: exit %d %q %q", code, out, errOut)
	}
	code, out, _ = run(t, "", nil, "analyze", "--fail-on", "none", "--no-color", secret, ok)
	if code != ExitFindings || !strings.Contains(out, "invalid-manifest") || !strings.Contains(out, "chmod a+r "+secret) || !strings.Contains(out, "in 2 objects") {
		t.Errorf("an unreadable file next to a readable one: exit %d\n%s", code, out)
	}
}

func TestBinaryAndUTF16Files(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin.yaml")
	os.WriteFile(bin, []byte("\x00\x01\x02apiVersion"), 0o644)
	code, _, errOut := run(t, "", nil, "analyze", bin)
	if code != ExitUsage || !strings.Contains(errOut, bin+": binary file") {
		t.Errorf("binary only: exit %d %q", code, errOut)
	}
	if code, _, errOut := run(t, "\x00\x01binary", nil, "analyze", "-"); code != ExitUsage || !strings.Contains(errOut, "<stdin>: binary file") {
		t.Errorf("binary stdin: exit %d %q", code, errOut)
	}
	// UTF-16 LE with a byte order mark, as PowerShell's > writes it.
	var u16 []byte
	for _, r := range "\uFEFF" + brokenVS {
		u16 = append(u16, byte(r), byte(r>>8))
	}
	utf := filepath.Join(dir, "utf16.yaml")
	os.WriteFile(utf, u16, 0o644)
	code, out, _ := run(t, "", nil, "analyze", "--no-color", "--fail-on", "none", bin, utf)
	if code != ExitFindings || !strings.Contains(out, "subset-not-found") || !strings.Contains(out, utf+":15") || !strings.Contains(out, "leave the file out of the paths") {
		t.Errorf("binary next to UTF-16: exit %d\n%s", code, out)
	}
}

// For files, -n only places objects without a namespace: when none lands
// there, say so.
func TestNamespaceMatchingNothingWarns(t *testing.T) {
	code, _, errOut := run(t, brokenVS, nil, "analyze", "-n", "shoop", "-")
	if code != ExitFindings || !strings.Contains(errOut, "Warning: -n shoop matches nothing") {
		t.Errorf("exit %d %q", code, errOut)
	}
	if _, _, errOut := run(t, brokenVS, nil, "analyze", "-n", "shop", "-"); errOut != "" {
		t.Errorf("-n naming the input's namespace: %q", errOut)
	}
}

// TestSuppressionOneLanguage: --ignore and the annotation take rule names
// and codes in any case; Kind/name means -n's namespace (else default); a
// name that is no rule is an error in the flag and a warning on the
// annotation.
func TestSuppressionOneLanguage(t *testing.T) {
	for _, args := range [][]string{
		{"--ignore", "SUBSET-NOT-FOUND"},
		{"--ignore", "md1001"},
		{"--ignore", "Md1001=VirtualService/shop/reviews"},
		{"--ignore", "subset-not-found=virtualservice/shop/reviews"},
		{"--ignore", "subset-not-found=VirtualService/reviews", "-n", "shop"},
	} {
		if code, out, errOut := run(t, brokenVS, nil, append(append([]string{"analyze"}, args...), "-")...); code != ExitOK {
			t.Errorf("%v: exit %d %q\n%s", args, code, errOut, out)
		}
	}
	// Without -n, Kind/name is in namespace default: not this one.
	if code, _, _ := run(t, brokenVS, nil, "analyze", "--ignore", "subset-not-found=VirtualService/reviews", "-"); code != ExitFindings {
		t.Errorf("Kind/name without -n must mean namespace default: exit %d", code)
	}
	if code, _, errOut := run(t, brokenVS, nil, "analyze", "--ignore", "subset-not-fund", "-"); code != ExitUsage || !strings.Contains(errOut, `no rule named "subset-not-fund"`) {
		t.Errorf("unknown rule in --ignore: exit %d %q", code, errOut)
	}
	annotate := func(v string) string {
		return strings.Replace(brokenVS, "metadata: {name: reviews, namespace: shop}\nspec:\n  hosts", "metadata: {name: reviews, namespace: shop, annotations: {meshdoctor.io/ignore: \""+v+"\"}}\nspec:\n  hosts", 1)
	}
	for _, v := range []string{"MD1001", "Subset-Not-Found", "gateway-selects-no-pods, md1001"} {
		if code, out, _ := run(t, annotate(v), nil, "analyze", "--no-color", "-"); code != ExitOK || strings.Contains(out, "WARNING") {
			t.Errorf("annotation %q: exit %d\n%s", v, code, out)
		}
	}
	code, out, _ := run(t, annotate("subset-not-fund"), nil, "analyze", "--no-color", "-")
	if code != ExitFindings || !strings.Contains(out, `names no rule "subset-not-fund"`) || !strings.Contains(out, "did you mean subset-not-found?") || !strings.Contains(out, "<stdin>:10") {
		t.Errorf("unknown rule in the annotation: exit %d\n%s", code, out)
	}
}

// An unknown field of a built-in kind is fixed against the Kubernetes API
// reference, not Istio's.
func TestUnknownKubernetesFieldFix(t *testing.T) {
	in := "apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: shop}\nspec:\n  Type: NodePort\n  ports: [{port: 80}]\n"
	_, out, _ := run(t, in, nil, "analyze", "--no-color", "-")
	if !strings.Contains(out, "unknown field spec.Type") || !strings.Contains(out, "Kubernetes API reference") || strings.Contains(out, "Istio reference") {
		t.Errorf("fix for a core kind's unknown field:\n%s", out)
	}
}

// Help and README agree on the request timeout meshdoctor uses.
func TestHelpRequestTimeout(t *testing.T) {
	_, out, _ := run(t, "", nil, "analyze", "--help")
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `(default "60s")`) || !strings.Contains(string(readme), "`--request-timeout` (default here 60s per request)") {
		t.Errorf("--request-timeout default differs between help and README:\n%s", out)
	}
}

// A namespace that looks complete only because a few Services are in the
// input, while a skipped Helm chart creates the rest: a missing host is a
// warning that says so, not an error (issue 9).
func TestSkippedChartSoftensMissingHost(t *testing.T) {
	dir := t.TempDir()
	app := `apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {selector: {app: web}, ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec: {selector: {app: api}, ports: [{name: http, port: 80}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: cart, namespace: shop}
spec:
  hosts: [cart.example.com]
  http:
  - route:
    - destination: {host: cart.shop.svc.cluster.local}
`
	if err := os.WriteFile(filepath.Join(dir, "app.yaml"), []byte(app), 0o644); err != nil {
		t.Fatal(err)
	}
	severity := func() string {
		_, out, _ := run(t, "", nil, "analyze", "-o", "json", dir)
		var res struct {
			Findings []struct{ Rule, Severity, Message string }
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatal(err)
		}
		for _, f := range res.Findings {
			if f.Rule == "destination-host-not-found" {
				return f.Severity
			}
		}
		return ""
	}
	if got := severity(); got != "error" {
		t.Fatalf("without a chart: %q, want error", got)
	}
	if err := os.MkdirAll(filepath.Join(dir, "cart-chart", "templates"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cart-chart", "Chart.yaml"), []byte("apiVersion: v2\nname: cart\nversion: 1.0.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := severity(); got != "warning" {
		t.Errorf("with a skipped chart: %q, want warning", got)
	}
}

// istioctl users find their code: `rules IST0101` lists the rules covering
// it, and `--ignore IST0101` silences them.
func TestISTCodes(t *testing.T) {
	code, out, _ := run(t, "", nil, "rules", "ist0101")
	if code != ExitOK || !strings.Contains(out, "subset-not-found (MD1001)") || !strings.Contains(out, "covers istioctl analyze IST0101") {
		t.Errorf("rules IST0101: exit %d\n%s", code, out)
	}
	if code, _, _ := run(t, brokenVS, nil, "analyze", "--ignore", "IST0101", "-"); code != ExitOK {
		t.Errorf("--ignore IST0101 must silence subset-not-found: exit %d", code)
	}
	if code, _, _ := run(t, brokenVS, nil, "analyze", "--ignore", "IST0118", "-"); code != ExitFindings {
		t.Errorf("--ignore IST0118 must not silence subset-not-found: exit %d", code)
	}
	if code, _, _ := run(t, "", nil, "rules", "IST9999"); code != ExitUsage {
		t.Errorf("an unknown code: exit %d", code)
	}
}
