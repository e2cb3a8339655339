package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func TestEnvFlags(t *testing.T) {
	dir := t.TempDir()
	args := []string{"score", "--tracking-uri", demoTracking, "--model", demoURI, "--in", demoInput}
	t.Setenv("MLBATCH_WORKERS", "0")
	if code, stderr := cli(t, append(args, "--out", filepath.Join(dir, "a.csv"))...); code != 2 || !strings.Contains(stderr, "--workers must be at least 1") {
		t.Errorf("MLBATCH_WORKERS=0: exit %d: %s", code, stderr)
	}
	// An explicit flag wins over the environment.
	if code, stderr := cli(t, append(args, "--out", filepath.Join(dir, "b.csv"), "--workers", "2")...); code != 0 {
		t.Errorf("--workers 2 over MLBATCH_WORKERS=0: exit %d: %s", code, stderr)
	}
	t.Setenv("MLBATCH_WORKERS", "many")
	if code, stderr := cli(t, append(args, "--out", filepath.Join(dir, "c.csv"))...); code != 2 || !strings.Contains(stderr, "MLBATCH_WORKERS") {
		t.Errorf("MLBATCH_WORKERS=many: exit %d: %s", code, stderr)
	}
	t.Setenv("MLBATCH_WORKERS", "")
	t.Setenv("MLBATCH_QUIET", "true")
	if code, stderr := cli(t, append(args, "--out", filepath.Join(dir, "d.csv"))...); code != 0 || stderr != "" {
		t.Errorf("MLBATCH_QUIET=true: exit %d: %q", code, stderr)
	}
}

func TestLogFormatJSON(t *testing.T) {
	dir := t.TempDir()
	code, stderr := cli(t, "score", "--tracking-uri", demoTracking, "--model", demoURI, "--in", demoInput,
		"--out", filepath.Join(dir, "a.csv"), "--log-format", "json", "--log-level", "debug", "--proba", "-q")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	levels := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		var rec struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.Msg == "" {
			t.Fatalf("not a JSON log record: %q (%v)", line, err)
		}
		levels[rec.Level] = true
	}
	if !levels["DEBUG"] || !levels["WARN"] {
		t.Errorf("want debug and warning records, got %v:\n%s", levels, stderr)
	}
	// The default text form keeps mlbatch's plain lines; --log-level error hides warnings.
	code, stderr = cli(t, "score", "--tracking-uri", demoTracking, "--model", demoURI, "--in", demoInput,
		"--out", filepath.Join(dir, "b.csv"), "--proba", "-q", "--log-level", "error")
	if code != 0 || stderr != "" {
		t.Errorf("--log-level error: exit %d: %q", code, stderr)
	}
	if code, _ := cli(t, "version", "--log-format", "xml"); code != 2 {
		t.Errorf("--log-format xml: exit %d, want 2", code)
	}
}

func TestCompletion(t *testing.T) {
	for shell, want := range map[string]string{"bash": "__start_mlbatch", "zsh": "#compdef mlbatch", "fish": "complete -c mlbatch", "powershell": "Register-ArgumentCompleter"} {
		code, out, stderr := cliOut(t, "completion", shell)
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("%s: exit %d, %s; output lacks %q", shell, code, stderr, want)
		}
	}
	if code, _, _ := cliOut(t, "completion", "tcsh"); code != 2 {
		t.Errorf("tcsh: exit %d, want 2", code)
	}
}

func TestVersionBuildInfo(t *testing.T) {
	code, out, _ := cliOut(t, "version")
	if code != 0 || !strings.HasPrefix(out, "mlbatch ") || !strings.Contains(out, "module") {
		t.Errorf("exit %d: %q", code, out)
	}
}
