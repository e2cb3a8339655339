package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// demoCSVParts splits the demo CSV into files of the given row counts under dir.
func demoCSVParts(t *testing.T, dir string, names []string, counts []int) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testdata, "demo", "diabetes.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	at := 1
	for i, name := range names {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		body := strings.Join(append([]string{lines[0]}, lines[at:at+counts[i]]...), "\n") + "\n"
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		at += counts[i]
	}
}

// TestDatasetCSVRejectsAndSummary: a CSV folder with a bad cell in its second
// file, scored with --on-error=skip: the rejects file names the file and its own
// row, the summary counts per file, and the folder output's predictions are
// scikit-learn's.
func TestDatasetCSVRejectsAndSummary(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	demoCSVParts(t, in, []string{"a.csv", "b.csv", "c.csv"}, []int{100, 200, 142})
	// Row 7 of b.csv (row 107 of the demo) gets a bad bmi.
	b := filepath.Join(in, "b.csv")
	data, _ := os.ReadFile(b)
	lines := strings.Split(string(data), "\n")
	cells := strings.Split(lines[7], ",")
	cells[2] = "oops"
	lines[7] = strings.Join(cells, ",")
	os.WriteFile(b, []byte(strings.Join(lines, "\n")), 0o644)

	out := filepath.Join(dir, "preds")
	sumPath := filepath.Join(dir, "summary.json")
	args := append([]string{"score"}, demoModel...)
	code, stderr := cli(t, append(args, "--in", in, "--out", out, "--out-format", "csv", "--on-error", "skip", "--summary-json", sumPath, "--workers", "2", "--batch-size", "64")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	rej := readTable(t, filepath.Join(out, "_rejects.parquet"))
	if rej.rows != 1 || rej.cols["file"][0] != b || rej.cols["row"][0] != "7" || !strings.Contains(rej.cols["reason"][0], `"bmi"`) {
		t.Fatalf("rejects %+v", rej)
	}
	var sum runSummary
	sj, _ := os.ReadFile(sumPath)
	if err := json.Unmarshal(sj, &sum); err != nil {
		t.Fatal(err)
	}
	if len(sum.Inputs) != 3 || sum.Inputs[1].Path != b || sum.Inputs[1].RowsRead != 200 || sum.Inputs[1].RowsRejected != 1 ||
		sum.Inputs[2].RowsWritten != 142 || sum.RowsWritten != 441 {
		t.Fatalf("summary inputs %+v", sum.Inputs)
	}
	got := readFolder(t, out)
	want := expectedPredictions(t)
	k := 0
	for i, w := range want {
		if i == 106 {
			continue // the rejected row
		}
		if g := got.cols["prediction"][k]; !closeTo(g, w) {
			t.Fatalf("row %d: %s, scikit-learn %v", i, g, w)
		}
		k++
	}
	if ents, _ := os.ReadDir(out); len(ents) != 3 { // part, _SUCCESS, _rejects
		t.Fatalf("folder holds %v", ents)
	}
}

// TestDatasetErrors: the exit codes and messages of dataset mistakes.
func TestDatasetErrors(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	demoCSVParts(t, in, []string{"a.csv", "b.csv"}, []int{10, 10})
	bad := filepath.Join(dir, "bad")
	demoCSVParts(t, bad, []string{"a.csv", "b.csv"}, []int{10, 10})
	data, _ := os.ReadFile(filepath.Join(bad, "b.csv"))
	os.WriteFile(filepath.Join(bad, "b.csv"), []byte(strings.Replace(string(data), "age,sex", "age,gender", 1)), 0o644)

	base := append([]string{"score"}, demoModel...)
	for _, c := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"schema differs", []string{"--in", bad, "--out", filepath.Join(dir, "o1")}, 4, `b.csv: schema differs from the dataset's first file`},
		{"shard needs a folder", []string{"--in", in, "--out", filepath.Join(dir, "o.csv"), "--shard", "0/2"}, 2, "needs a folder --out"},
		{"bad shard", []string{"--in", in, "--out", filepath.Join(dir, "o2"), "--shard", "2/2"}, 2, "want i/n"},
		{"shard count without index", []string{"--in", in, "--out", filepath.Join(dir, "o3"), "--shard-count", "3"}, 2, "JOB_COMPLETION_INDEX"},
		{"stdin needs a format", []string{"--in", "-", "--out", filepath.Join(dir, "o4")}, 2, "--in-format"},
		{"empty glob", []string{"--in", filepath.Join(dir, "nothing*"), "--out", filepath.Join(dir, "o5")}, 6, "no file matches"},
		{"folder output as arrow", []string{"--in", in, "--out", filepath.Join(dir, "o6"), "--out-format", "arrow"}, 2, "parquet or csv"},
		{"max rows for a file", []string{"--in", in, "--out", filepath.Join(dir, "o.parquet"), "--max-rows-per-file", "5"}, 2, "folder --out"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, stderr := cli(t, append(base, c.args...)...)
			if code != c.code || !strings.Contains(stderr, c.msg) {
				t.Fatalf("exit %d, want %d; stderr %q, want %q", code, c.code, stderr, c.msg)
			}
		})
	}
	// Several specs: the flag repeated and a comma list are one dataset.
	out := filepath.Join(dir, "multi")
	code, stderr := cli(t, append(base, "--in", filepath.Join(in, "b.csv")+","+filepath.Join(in, "a.csv"), "--in", filepath.Join(in, "a.csv"), "--out", out+"/", "-q")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got := readFolder(t, out)
	want := expectedPredictions(t)
	if got.rows != 20 || !closeTo(got.cols["prediction"][0], want[10]) || !closeTo(got.cols["prediction"][10], want[0]) {
		t.Fatalf("b.csv then a.csv once: %d rows, %v", got.rows, got.cols["prediction"][:1])
	}
}

func closeTo(got string, want float64) bool {
	var g float64
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		return false
	}
	d := g - want
	if d < 0 {
		d = -d
	}
	if want < 0 {
		want = -want
	}
	return d <= 1e-9*want
}
