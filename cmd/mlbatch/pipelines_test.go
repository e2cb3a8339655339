package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mlbatch/mlbatch/internal/mlerr"
)

// pipelineFixtures is testdata/pipelines/cases.json (written by
// testdata/pipelines/gen.py).
type pipelineFixtures struct {
	Cases  []fixtureCase  `json:"cases"`
	Errors []fixtureError `json:"errors"`
}

func loadPipelineFixtures(t *testing.T) pipelineFixtures {
	t.Helper()
	var f pipelineFixtures
	readJSON(t, filepath.Join(testdata, "pipelines", "cases.json"), &f)
	if len(f.Cases) < 40 || len(f.Errors) < 2 {
		t.Fatalf("only %d pipeline cases and %d error cases", len(f.Cases), len(f.Errors))
	}
	return f
}

// TestScorePipelines scores every Pipeline fixture (mixed-type inputs: text,
// booleans, missing values; cloudpickle and skops) through the command line, from
// CSV and from Parquet, with 1 and 8 workers, and compares with scikit-learn.
func TestScorePipelines(t *testing.T) {
	dir := t.TempDir()
	for _, c := range loadPipelineFixtures(t).Cases {
		proba := false
		for _, o := range c.Outputs {
			proba = proba || o.Method == "predict_proba"
		}
		for _, in := range []string{"csv", "parquet"} {
			for _, workers := range []string{"1", "8"} {
				t.Run(c.Name+"/"+in+"/w"+workers, func(t *testing.T) {
					input := filepath.Join(testdata, c.Input)
					if in == "parquet" {
						input = csvToParquet(t, input, dir)
					}
					out := filepath.Join(t.TempDir(), "preds.csv")
					args := []string{"score", "--model", filepath.Join(testdata, c.ModelDir), "--in", input,
						"--out", out, "--batch-size", "64", "--workers", workers}
					if proba {
						args = append(args, "--proba")
					}
					code, stderr := cli(t, args...)
					if code != 0 {
						t.Fatalf("exit %d: %s", code, stderr)
					}
					got := readTable(t, out)
					for _, o := range c.Outputs {
						want := readTable(t, filepath.Join(testdata, o.Golden))
						compareColumns(t, got, want, o.Columns, o.Tol)
					}
				})
			}
		}
	}
}

// TestScorePipelineSmallBatches scores the mixed pipelines in batches of 7 rows:
// CSV column types are then inferred from 7 rows, and every batch must still
// score as the whole file does.
func TestScorePipelineSmallBatches(t *testing.T) {
	n := 0
	for _, c := range loadPipelineFixtures(t).Cases {
		if !strings.HasPrefix(c.Name, "pipelines/customers_") && !strings.HasPrefix(c.Name, "pipelines/titanic_") {
			continue
		}
		n++
		t.Run(c.Name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "preds.parquet")
			code, stderr := cli(t, "score", "--model", filepath.Join(testdata, c.ModelDir), "--in", filepath.Join(testdata, c.Input),
				"--out", out, "--batch-size", "7", "--workers", "4", "--proba")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			got := readTable(t, out)
			for _, o := range c.Outputs {
				compareColumns(t, got, readTable(t, filepath.Join(testdata, o.Golden)), o.Columns, o.Tol)
			}
		})
	}
	if n < 10 {
		t.Errorf("only %d cases", n)
	}
}

// TestScorePipelineErrors: an unseen category with handle_unknown='error', or a
// NaN reaching an estimator that refuses it, fails as Python fails: exit code 5,
// one line naming the file, row, column and value, and no output file.
func TestScorePipelineErrors(t *testing.T) {
	dir := t.TempDir()
	for _, e := range loadPipelineFixtures(t).Errors {
		for _, in := range []string{"csv", "parquet"} {
			t.Run(e.Name+"/"+in, func(t *testing.T) {
				input := filepath.Join(testdata, e.Input)
				if in == "parquet" {
					input = csvToParquet(t, input, dir)
				}
				out := filepath.Join(t.TempDir(), "out.csv")
				code, stderr := cli(t, "score", "--model", filepath.Join(testdata, e.ModelDir), "--in", input, "--out", out)
				if code != mlerr.Data.ExitCode() {
					t.Errorf("exit %d, want %d; stderr: %s", code, mlerr.Data.ExitCode(), stderr)
				}
				for _, w := range []string{filepath.Base(input), "row " + strconv.Itoa(e.Row), strconv.Quote(e.Column)} {
					if !strings.Contains(stderr, w) {
						t.Errorf("stderr %q should contain %q", stderr, w)
					}
				}
				if !strings.Contains(strings.ToLower(stderr), strings.ToLower(strconv.Quote(e.Value))) {
					t.Errorf("stderr %q should contain the value %q", stderr, e.Value)
				}
				if strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
					t.Errorf("want one line, got %q", stderr)
				}
				if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) != 0 {
					t.Errorf("left files behind: %v", entries)
				}
			})
		}
	}
}

// TestPipelineWorkersIdenticalBytes: a mixed-type Pipeline scored in 7-row
// batches with 1, 2 and 8 workers writes identical files.
func TestPipelineWorkersIdenticalBytes(t *testing.T) {
	// The provenance's mlbatch.created_at is the run's second unless fixed: three
	// runs may straddle a second on a loaded machine.
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	dir := t.TempDir()
	mdl := filepath.Join(testdata, "pipelines", "customers_ct_logreg")
	in := filepath.Join(testdata, "pipelines", "customers_unseen.csv")
	for _, format := range []string{"csv", "parquet"} {
		var first []byte
		for _, w := range []string{"1", "2", "8"} {
			out := filepath.Join(dir, "w"+w+"."+format)
			code, stderr := cli(t, "score", "--model", mdl, "--in", in, "--out", out, "--batch-size", "7", "--workers", w, "--proba")
			if code != 0 {
				t.Fatalf("workers %s: exit %d: %s", w, code, stderr)
			}
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if first == nil {
				first = data
			} else if !bytes.Equal(first, data) {
				t.Errorf("%s output with %s workers differs from 1 worker", format, w)
			}
		}
	}
}
