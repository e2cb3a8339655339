package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/mlbatch/mlbatch/batch/stats"
)

const (
	demoTracking = testdata + "/demo/mlruns"
	demoURI      = "runs:/d050509c3eccff80e45131fc149d7535/model"
	demoInput    = testdata + "/demo/diabetes.csv"
)

func readSummary(t *testing.T, path string) runSummary {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s runSummary
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return s
}

// TestSummaryJSON scores the demo and checks the JSON summary against the golden
// predictions: counts, min, max, mean, and the quantiles within the sketch's
// stated rank error.
func TestSummaryJSON(t *testing.T) {
	dir := t.TempDir()
	sumPath := filepath.Join(dir, "summary.json")
	code, stderr := cli(t, "score", "--tracking-uri", demoTracking, "--model", demoURI, "--in", demoInput,
		"--out", filepath.Join(dir, "preds.parquet"), "--summary-json", sumPath, "--workers", "3", "--batch-size", "50")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"scored " + demoInput, "sklearn.linear_model._base.LinearRegression", "442 read, 442 written, 0 rejected (9 batches)", "peak memory", "prediction", "p99"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	s := readSummary(t, sumPath)
	if s.Status != "ok" || s.ExitCode != 0 || s.RowsRead != 442 || s.RowsWritten != 442 || s.RowsRejected != 0 || s.Batches != 9 {
		t.Errorf("summary: %+v", s)
	}
	if s.Model.URI != demoURI || s.Model.Flavor != "sklearn" || s.Model.RunID != "d050509c3eccff80e45131fc149d7535" ||
		!strings.HasSuffix(s.Model.Location, filepath.Join("artifacts", "model")) || s.Model.ModelUUID == "" {
		t.Errorf("model: %+v", s.Model)
	}
	if len(s.Inputs) != 1 || s.Inputs[0].Path != demoInput || s.Inputs[0].RowsRead != 442 || s.Inputs[0].Bytes == 0 {
		t.Errorf("inputs: %+v", s.Inputs)
	}
	if s.WallSeconds <= 0 || s.RowsPerSecond <= 0 || s.PeakRSSBytes <= 0 || s.QuantileRankError != stats.RankError {
		t.Errorf("timings: %+v", s)
	}
	if len(s.Columns) != 1 || s.Columns[0].Name != "prediction" {
		t.Fatalf("columns: %+v", s.Columns)
	}

	// The golden predictions.
	want := readTable(t, filepath.Join(testdata, "demo", "expected.csv")).cols["prediction"]
	var vals []float64
	var sum float64
	for _, v := range want {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Fatal(err)
		}
		vals = append(vals, f)
		sum += f
	}
	slices.Sort(vals)
	c := s.Columns[0]
	if c.Count != 442 || c.Nulls != 0 || c.NaNs != 0 {
		t.Errorf("column: %+v", c)
	}
	close := func(name string, got *float64, want float64) {
		if got == nil || math.Abs(*got-want) > 1e-9*math.Abs(want) {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
	close("min", c.Min, vals[0])
	close("max", c.Max, vals[len(vals)-1])
	close("mean", c.Mean, sum/float64(len(vals)))
	// Each quantile is one of the predictions, its rank within the stated error.
	for _, q := range []struct {
		name string
		got  *float64
		q    float64
	}{{"p01", c.P01, 0.01}, {"p50", c.P50, 0.5}, {"p99", c.P99, 0.99}} {
		if q.got == nil {
			t.Fatalf("%s missing", q.name)
		}
		tol := 1e-9 * math.Abs(*q.got)
		i, _ := slices.BinarySearch(vals, *q.got-tol)
		if i == len(vals) || math.Abs(vals[i]-*q.got) > tol {
			t.Errorf("%s = %v is not a prediction", q.name, *q.got)
		}
		if e := math.Abs(float64(i+1)/float64(len(vals)) - q.q); e > stats.RankError+1.0/float64(len(vals)) {
			t.Errorf("%s = %v: rank error %.4f", q.name, *q.got, e)
		}
	}
}

// TestSummaryJSONFailed: a failed run still writes its summary, with the error and
// the exit code, and --quiet prints nothing but the error.
func TestSummaryJSONFailed(t *testing.T) {
	dir := t.TempDir()
	sumPath := filepath.Join(dir, "summary.json")
	in := filepath.Join(dir, "bad.csv")
	data, err := os.ReadFile(demoInput)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	f := strings.Split(lines[5], ",")
	f[2] = "abc"
	lines[5] = strings.Join(f, ",")
	if err := os.WriteFile(in, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stderr := cli(t, "score", "--tracking-uri", demoTracking, "--model", demoURI, "--in", in,
		"--out", filepath.Join(dir, "preds.csv"), "--summary-json", sumPath, "-q")
	if code != 5 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	s := readSummary(t, sumPath)
	if s.Status != "failed" || s.ExitCode != 5 || !strings.Contains(s.Error, "abc") || s.Model.Estimator == "" {
		t.Errorf("summary: %+v", s)
	}
}

func TestSummaryClassCounts(t *testing.T) {
	dir := t.TempDir()
	sumPath := filepath.Join(dir, "summary.json")
	code, stderr := cli(t, "score", "--model", filepath.Join(testdata, "models", "dtree_clf_iris"),
		"--in", filepath.Join(testdata, "models", "iris_input.csv"), "--out", filepath.Join(dir, "p.csv"), "--summary-json", sumPath)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	s := readSummary(t, sumPath)
	want := map[string]int64{}
	for _, v := range readTable(t, filepath.Join(dir, "p.csv")).cols["prediction"] {
		want[v]++
	}
	got := map[string]int64{}
	for _, c := range s.Columns[0].Classes {
		got[c.Label] = c.Count
	}
	if len(want) != 3 || len(got) != len(want) {
		t.Fatalf("classes %v, want %v", got, want)
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("class %s: %d, want %d", k, got[k], n)
		}
	}
	if !strings.Contains(stderr, "classes of prediction: ") {
		t.Errorf("stderr: %s", stderr)
	}
}
