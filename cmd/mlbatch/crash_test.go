package main

import (
	"bufio"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// buildBinary compiles mlbatch once for the process-level tests (the build is
// shared by every test of the package and removed by TestMain).
func buildBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mlbatch-test-bin-")
		if err != nil {
			binErr = err
			return
		}
		binDir = dir
		bin := filepath.Join(dir, "mlbatch")
		cmd := exec.Command("go", "build", "-o", bin, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		binPath = bin
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

var (
	binOnce         sync.Once
	binPath, binDir string
	binErr          error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// bigInput writes rows of the diabetes columns (seeded values).
func bigInput(t *testing.T, dir string, rows int) string {
	t.Helper()
	path := filepath.Join(dir, "big.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "age,sex,bmi,bp,s1,s2,s3,s4,s5,s6")
	r := rand.New(rand.NewSource(7))
	for range rows {
		for j := range 10 {
			if j > 0 {
				w.WriteByte(',')
			}
			fmt.Fprintf(w, "%.6f", r.NormFloat64()*0.05)
		}
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return path
}

// finalFiles lists the files in dir that are not temporaries.
func finalFiles(t *testing.T, dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if !strings.Contains(e.Name(), ".mlbatch-tmp-") {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestCrashSIGKILL kills mlbatch at random points of a multi-batch run, many
// times, and checks after each that no file exists under the final names, or
// that the one that exists is complete and valid.
func TestCrashSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	work := t.TempDir()
	const rows = 120000
	in := bigInput(t, work, rows)
	model := filepath.Join(testdata, "models", "linreg")
	r := rand.New(rand.NewSource(1))

	// How long does a whole run take here? Kill points are drawn within it.
	start := time.Now()
	ref := filepath.Join(work, "ref.parquet")
	if out, err := exec.Command(bin, "score", "--model", model, "--in", in, "--out", ref, "--batch-size", "4096", "-q").CombinedOutput(); err != nil {
		t.Fatalf("reference run: %v\n%s", err, out)
	}
	full := time.Since(start)

	complete, killed := 0, 0
	for it := range 12 {
		dir := filepath.Join(work, fmt.Sprintf("run%d", it))
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "preds.parquet")
		cmd := exec.Command(bin, "score", "--model", model, "--in", in, "--out", out, "--batch-size", "4096",
			"--on-error", "skip", "-q")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(r.Int63n(int64(full)*3/2 + 1)))
		_ = cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		if err == nil {
			complete++
		} else {
			killed++
		}
		for _, name := range finalFiles(t, dir) {
			// Whatever exists under a final name must be whole.
			tb := readTable(t, filepath.Join(dir, name))
			want := rows
			if strings.Contains(name, "rejects") {
				want = 0
			}
			if tb.rows != want {
				t.Errorf("run %d: %s has %d rows, want %d (a partial file under its final name)", it, name, tb.rows, want)
			}
		}
		// Re-running after the crash succeeds (with --overwrite where an output exists).
		if it%4 == 0 {
			rerun := exec.Command(bin, "score", "--model", model, "--in", in, "--out", out, "--batch-size", "4096", "--overwrite", "-q")
			if b, err := rerun.CombinedOutput(); err != nil {
				t.Errorf("run %d: rerun after the crash: %v\n%s", it, err, b)
			}
		}
	}
	t.Logf("%d runs killed, %d finished first (a whole run takes %s)", killed, complete, full.Round(time.Millisecond))
	if killed == 0 {
		t.Error("no run was killed mid-way: the test proved nothing")
	}
}

// TestSignalsRemoveTemporaries: SIGINT and SIGTERM stop a run, remove its
// temporary files and exit 130.
func TestSignalsRemoveTemporaries(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	work := t.TempDir()
	in := bigInput(t, work, 400000)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		dir := t.TempDir()
		out := filepath.Join(dir, "preds.csv")
		cmd := exec.Command(bin, "score", "--model", filepath.Join(testdata, "models", "linreg"), "--in", in, "--out", out,
			"--batch-size", "2048", "--workers", "1")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Wait until the temporary output exists, then signal.
		deadline := time.Now().Add(20 * time.Second)
		for {
			entries, _ := os.ReadDir(dir)
			if len(entries) > 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		_ = cmd.Process.Signal(sig)
		err := cmd.Wait()
		code := cmd.ProcessState.ExitCode()
		if err == nil {
			t.Logf("%v: the run finished before the signal", sig)
			continue
		}
		if code != 130 {
			t.Errorf("%v: exit %d, want 130; stderr: %s", sig, code, stderr.String())
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("%v: left %v behind", sig, entries)
		}
		if !strings.Contains(stderr.String(), "interrupted") {
			t.Errorf("%v: stderr %q", sig, stderr.String())
		}
	}
}
