package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const planData = "../../testdata/plan/"

func TestPlanCLI(t *testing.T) {
	code, out, errb := run(t, "", nil, "plan", planData+"add-subset/from", planData+"add-subset/to", "-o", "json")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errb)
	}
	var doc struct {
		Steps []struct {
			Action    string
			Resources []struct{ Kind, Namespace, Name string }
			Wait, Why string
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Steps) != 2 || doc.Steps[0].Resources[0].Kind != "DestinationRule" || doc.Steps[1].Resources[0].Kind != "VirtualService" || doc.Steps[0].Action != "apply" || doc.Steps[0].Why == "" {
		t.Errorf("steps: %+v", doc.Steps)
	}

	dir := filepath.Join(t.TempDir(), "rollout")
	if code, out, errb := run(t, "", nil, "plan", planData+"rename-subset/from", planData+"rename-subset/to", "--write", dir); code != ExitOK || !strings.Contains(out, "[intermediate]") {
		t.Fatalf("exit %d: %s%s", code, out, errb)
	}
	script, err := os.ReadFile(filepath.Join(dir, "plan.sh"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"kubectl apply -f 01-apply.yaml", "kubectl apply -f 02-apply.yaml", "kubectl apply -f 03-apply.yaml", "sleep"} {
		if !strings.Contains(string(script), want) {
			t.Errorf("plan.sh lacks %q:\n%s", want, script)
		}
	}
	bridge, _ := os.ReadFile(filepath.Join(dir, "01-apply.yaml"))
	if !strings.Contains(string(bridge), "name: v1") || !strings.Contains(string(bridge), "name: v2") {
		t.Errorf("the intermediate DestinationRule carries both subsets:\n%s", bridge)
	}

	if code, _, _ := run(t, "", nil, "plan", planData+"delete-all/from", planData+"delete-all/to", "--write", dir); code != ExitOK {
		t.Fatalf("delete-all: exit %d", code)
	}
	if script, _ := os.ReadFile(filepath.Join(dir, "plan.sh")); !strings.Contains(string(script), "kubectl delete virtualservice.networking.istio.io reviews -n shop") {
		t.Errorf("deletes name kind.group:\n%s", script)
	}

	if code, out, _ := run(t, "", nil, "plan", planData+"relabel/from", planData+"relabel/to"); code != ExitFindings || !strings.Contains(out, "No safe order") {
		t.Errorf("no safe order: exit %d\n%s", code, out)
	}
	for _, args := range [][]string{
		{"plan", planData + "add-subset/from"},
		{"plan", "--kube"},
		{"plan", planData + "add-subset/from", planData + "add-subset/to", "-o", "xml"},
		{"plan", "/does/not/exist", planData + "add-subset/to"},
	} {
		if code, _, errb := run(t, "", nil, args...); code != ExitUsage || strings.Count(strings.TrimSpace(errb), "\n") > 0 {
			t.Errorf("%v: exit %d, %q", args, code, errb)
		}
	}
}
