package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestVersionStamp: the -ldflags -X that hack/release.sh and the
// Dockerfile pass reaches `meshdoctor version`. A renamed package or
// variable makes -X a silent no-op; this builds the binary the same way
// and fails then. (No -trimpath: the test binary's build cache serves
// this build, so it only links.)
func TestVersionStamp(t *testing.T) {
	const v = "9.8.7-stamp"
	bin := filepath.Join(t.TempDir(), "meshdoctor")
	build := exec.Command("go", "build", "-ldflags", "-X github.com/meshdoctor/meshdoctor/internal/cli.Version="+v, "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(out)); got != "meshdoctor "+v {
		t.Errorf("meshdoctor version printed %q, want %q", got, "meshdoctor "+v)
	}
}
