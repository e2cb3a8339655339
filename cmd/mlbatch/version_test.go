package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestVersionCommit builds the binary with make build's own command (from
// make -n, less -trimpath so that the packages this test was built from are
// reused) and expects mlbatch version to print the checkout's commit.
func TestVersionCommit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("no git")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	head, err := exec.Command(git, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "mlbatch")
	recipe, err := exec.Command("make", "-s", "-n", "-C", "../..", "build", "BIN="+bin, "GO=go").Output()
	if err != nil {
		t.Fatalf("make -n build: %v", err)
	}
	cmdline := strings.TrimSpace(string(recipe))
	if !strings.Contains(cmdline, "-X main.commit=") {
		t.Fatalf("make build does not pass the commit: %s", cmdline)
	}
	build := exec.Command("sh", "-c", strings.Replace(cmdline, "-trimpath ", "", 1))
	build.Dir = "../.."
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmdline, err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	rev := strings.TrimSpace(string(head))
	// In a worktree the version is devel+<rev[:12]>; in a plain clone Go's VCS
	// stamp makes it a pseudo-version holding rev[:12] (then +dirty when the
	// tree has changes).
	if !strings.Contains(string(out), "commit      "+rev) || !strings.Contains(strings.SplitN(string(out), "\n", 2)[0], rev[:12]) {
		t.Errorf("version does not show commit %s:\n%s", rev, out)
	}
}
