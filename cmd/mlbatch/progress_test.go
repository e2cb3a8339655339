package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestProgressJSON parses every JSON progress line of a run.
func TestProgressJSON(t *testing.T) {
	dir := t.TempDir()
	in := bigInput(t, dir, 20000)
	code, stderr := cli(t, "score", "--model", filepath.Join(testdata, "models", "linreg"), "--in", in,
		"--out", filepath.Join(dir, "p.parquet"), "--batch-size", "500", "--workers", "2",
		"--progress", "json", "--progress-interval", "1ms")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var events []progressEvent
	for _, line := range strings.Split(stderr, "\n") {
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var ev progressEvent
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("%v: %q", err, line)
		}
		events = append(events, ev)
	}
	if len(events) < 2 {
		t.Fatalf("%d events:\n%s", len(events), stderr)
	}
	var prev progressEvent
	for i, ev := range events {
		if ev.RowsRead < prev.RowsRead || ev.RowsWritten > ev.RowsRead || ev.BytesTotal != events[0].BytesTotal || ev.BytesTotal == 0 {
			t.Errorf("event %d: %+v after %+v", i, ev, prev)
		}
		if ev.Fraction != nil && (*ev.Fraction < 0 || *ev.Fraction > 1) {
			t.Errorf("event %d: fraction %v", i, *ev.Fraction)
		}
		prev = ev
	}
	last := events[len(events)-1]
	if last.Event != "done" || last.RowsRead != 20000 || last.RowsWritten != 20000 || last.Fraction == nil || *last.Fraction != 1 {
		t.Errorf("last event: %+v", last)
	}
	for _, ev := range events[:len(events)-1] {
		if ev.Event != "progress" {
			t.Errorf("event %+v", ev)
		}
	}
	// --quiet turns progress off, and so does --progress none.
	for _, flag := range []string{"-q", "--progress=none"} {
		code, stderr = cli(t, "score", "--model", filepath.Join(testdata, "models", "linreg"), "--in", in,
			"--out", filepath.Join(dir, "p.parquet"), "--overwrite", "--progress-interval", "1ms", "--batch-size", "500", flag)
		if code != 0 || strings.Contains(stderr, "{") {
			t.Errorf("%s: exit %d: %s", flag, code, stderr)
		}
	}
	if code, _ := cli(t, "score", "--model", "x", "--in", in, "--out", filepath.Join(dir, "q.csv"), "--progress", "fancy"); code != 2 {
		t.Errorf("--progress fancy: exit %d, want 2", code)
	}
}

// TestProgressBarTTY runs mlbatch in a tmux pane (a pseudo-terminal) and captures
// the screen while it runs: a bar with rows, rows/s, bytes and the ETA, cleared
// once the run ends and followed by the summary.
func TestProgressBarTTY(t *testing.T) {
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		t.Skip("tmux is not installed")
	}
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	in := bigInput(t, dir, 400000)
	sock := filepath.Join(dir, "tmux.sock")
	out := filepath.Join(dir, "p.parquet")
	// A brute-force k-nearest-neighbours regressor (442 training rows searched
	// per input row), so the run lasts seconds and the bar is seen: the forest
	// this used before now scores 400k rows in half a second.
	model, _ := filepath.Abs(filepath.Join(testdata, "longtail", "neighbors", "knn_reg_diabetes_brute_minkowski_p2_distance_k7"))
	script := filepath.Join(dir, "run.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n"+bin+" score --model "+model+" --in "+in+" --out "+out+
		" --batch-size 1000 --workers 1 --keep=\necho EXIT=$?\nsleep 60\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tm := func(args ...string) (string, error) {
		cmd := exec.Command(tmux, append([]string{"-S", sock}, args...)...)
		cmd.Env = append(os.Environ(), "TERM=xterm-256color")
		b, err := cmd.CombinedOutput()
		return string(b), err
	}
	if out, err := tm("new-session", "-d", "-x", "160", "-y", "30", script); err != nil {
		t.Fatalf("tmux: %v: %s", err, out)
	}
	t.Cleanup(func() { tm("kill-server") })

	// A frame is caught whole once it shows rows, rows/s, bytes read of the total
	// and the percentage (the ETA follows in brackets).
	barParts := []string{" rows, ", "rows/s", "/36 MiB", "%", "["}
	var during, final string
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		screen, err := tm("capture-pane", "-p")
		if err != nil {
			t.Fatalf("capture-pane: %v: %s", err, screen)
		}
		full := !strings.Contains(screen, " 0%") && !strings.Contains(screen, "EXIT=")
		for _, want := range barParts {
			full = full && strings.Contains(screen, want)
		}
		if full {
			during = screen
		}
		if strings.Contains(screen, "EXIT=") {
			final = screen
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("screen during the run:\n%s", strings.TrimRight(during, "\n"))
	t.Logf("screen at the end:\n%s", strings.TrimRight(final, "\n"))
	if during == "" {
		t.Fatalf("no whole progress bar (with %q) seen while the run was going", barParts)
	}
	if !strings.Contains(final, "EXIT=0") || !strings.Contains(final, "mlbatch: scored") || strings.Contains(final, "rows/s,") {
		t.Errorf("final screen: want the summary, exit 0 and no bar left")
	}
}
