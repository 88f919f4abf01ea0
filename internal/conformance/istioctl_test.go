package conformance

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestIstioctlConformance scores istioctl analyze itself on the same
// expectations, in file mode with every analyzer (as a user runs it), and
// holds the outcome to the istioctl field of istio-analyzers.yaml.
// Opt-in: ISTIOCTL names the binary (hack/istioctl.sh builds it).
func TestIstioctlConformance(t *testing.T) {
	bin := os.Getenv("ISTIOCTL")
	if bin == "" {
		t.Skip("ISTIOCTL is not set (ISTIOCTL=$(hack/istioctl.sh))")
	}
	dir := istioSource(t)
	cases := analyzerCases(t, dir)
	exp := readAnalyzerExpectations(t)
	byKey := map[string]*caseExpect{}
	for _, c := range exp.Cases {
		byKey[caseKey(c.Case, c.Files)] = c
	}
	testdata := filepath.Join(dir, "pkg", "config", "analysis", "analyzers")
	score := map[string]*[2]int{}
	matched, total := 0, 0
	for _, c := range cases {
		ce := byKey[caseKey(c.Name, c.Files)]
		if ce == nil || len(ce.Messages) != len(c.Expected) {
			t.Fatalf("case %s %v: %s is out of date (go test -run TestIstioAnalyzers -update)", c.Name, c.Files, analyzersFile)
		}
		args := []string{"analyze", "--use-kube=false", "-o", "json", "--output-threshold", "Info"}
		if c.MeshConfig != "" {
			args = append(args, "--meshConfigFile", filepath.Join(testdata, c.MeshConfig))
		}
		for _, f := range c.Files {
			args = append(args, filepath.Join(testdata, f))
		}
		// Without -A istioctl places unnamespaced objects in default and
		// reports only on that namespace; with -A it reports on every
		// namespace but leaves unnamespaced objects without one, which
		// some analyzers then miss. istioctl gets the union of both runs.
		msgs := istioctlAnalyze(t, bin, args)
		msgs = append(msgs, istioctlAnalyze(t, bin, append([]string{args[0], "-A"}, args[1:]...))...)
		for i, m := range c.Expected {
			res, err := parseResource(m.Resource)
			if err != nil {
				t.Fatal(err)
			}
			ok := false
			for _, got := range msgs {
				if r, err := parseResource(got.Origin); err == nil && got.Code == m.Code && r.Kind == res.Kind && r.Name == res.Name &&
					(r.Namespace == res.Namespace || res.Namespace == "" && r.Namespace == "default") {
					ok = true
					break
				}
			}
			status := statusMissing
			if ok {
				status = statusMatch
			}
			me := ce.Messages[i]
			if *update {
				me.Istioctl = status
			} else if me.Istioctl != status {
				t.Errorf("%s: istioctl on %s %s: %s, the file says %q (-update)", c.Name, m.Code, m.Resource, status, me.Istioctl)
			}
			s := score[m.Code]
			if s == nil {
				s = &[2]int{}
				score[m.Code] = s
			}
			s[1]++
			total++
			if ok {
				s[0]++
				matched++
			}
		}
	}
	logScore(t, "istioctl analyze --use-kube=false", matched, total, score)
	if *update {
		writeAnalyzerExpectations(t, exp)
		writeConformanceDoc(t, exp)
	}
}

type istioctlMessage struct{ Code, Level, Origin, Message string }

// istioctlAnalyze runs istioctl and reads its JSON messages. istioctl
// exits non-zero when it finds issues (79) or cannot parse a file (1,
// with the messages it could produce still printed).
func istioctlAnalyze(t *testing.T, bin string, args []string) []istioctlMessage {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	_ = cmd.Run()
	out := bytes.TrimSpace(stdout.Bytes())
	if len(out) == 0 {
		return nil
	}
	// The JSON array is the last thing printed.
	if i := bytes.IndexByte(out, '['); i > 0 {
		out = out[i:]
	}
	var msgs []istioctlMessage
	if err := json.Unmarshal(out, &msgs); err != nil {
		t.Fatalf("istioctl %s: %v\n%s\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return msgs
}
