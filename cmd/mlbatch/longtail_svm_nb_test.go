package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mlbatch/mlbatch/internal/mlerr"
)

// svmNBFixtures is testdata/longtail/svm_nb/cases.json (written by
// testdata/longtail/svm_nb/gen.py).
func svmNBFixtures(t *testing.T) fixtures {
	t.Helper()
	var f fixtures
	readJSON(t, filepath.Join(testdata, "longtail", "svm_nb", "cases.json"), &f)
	if len(f.Cases) < 30 || len(f.Errors) < 2 {
		t.Fatalf("only %d cases and %d error cases", len(f.Cases), len(f.Errors))
	}
	return f
}

// TestScoreSVMNaiveBayes scores every SVM / naive Bayes fixture through the
// command line (CSV, 2 workers, batches of 64 rows; Parquet for a few) and
// compares predict and predict_proba with scikit-learn's.
func TestScoreSVMNaiveBayes(t *testing.T) {
	dir := t.TempDir()
	parquet := map[string]bool{
		"longtail/svm_nb/svc_rbf_digits_proba": true,
		"longtail/svm_nb/gaussiannb_breast":    true,
		"longtail/svm_nb/categoricalnb":        true,
	}
	for _, c := range svmNBFixtures(t).Cases {
		proba := false
		for _, o := range c.Outputs {
			proba = proba || o.Method == "predict_proba"
		}
		ins := []string{"csv"}
		if parquet[c.Name] {
			ins = append(ins, "parquet")
		}
		for _, in := range ins {
			t.Run(strings.TrimPrefix(c.Name, "longtail/svm_nb/")+"/"+in, func(t *testing.T) {
				input := filepath.Join(testdata, c.Input)
				if in == "parquet" {
					input = csvToParquet(t, input, dir)
				}
				out := filepath.Join(t.TempDir(), "preds.csv")
				args := []string{"score", "--model", filepath.Join(testdata, c.ModelDir), "--in", input,
					"--out", out, "--batch-size", "64", "--workers", "2", "-q"}
				if proba {
					args = append(args, "--proba")
				}
				code, stderr := cli(t, args...)
				if code != 0 {
					t.Fatalf("exit %d: %s", code, stderr)
				}
				got := readTable(t, out)
				n := 0
				for _, o := range c.Outputs {
					if o.Method == "decision_function" {
						continue // model/sklearn's unit tests compare these
					}
					want := readTable(t, filepath.Join(testdata, o.Golden))
					compareColumns(t, got, want, o.Columns, o.Tol)
					n++
				}
				if n == 0 {
					t.Fatal("no predict output to compare")
				}
			})
		}
	}
}

// TestScoreSVMNaiveBayesErrors: a CategoricalNB input with a category index
// scikit-learn cannot look up fails with a data error naming the file, row,
// column and value (or is rejected with --skip).
func TestScoreSVMNaiveBayesErrors(t *testing.T) {
	for _, e := range svmNBFixtures(t).Errors {
		t.Run(strings.TrimPrefix(e.Name, "longtail/svm_nb/"), func(t *testing.T) {
			args := []string{"score", "--model", filepath.Join(testdata, e.ModelDir),
				"--in", filepath.Join(testdata, e.Input), "--out", filepath.Join(t.TempDir(), "p.csv"), "-q"}
			code, stderr := cli(t, args...)
			if code != mlerr.Data.ExitCode() {
				t.Fatalf("exit %d, want %d: %s", code, mlerr.Data.ExitCode(), stderr)
			}
			for _, want := range []string{filepath.Base(e.Input), "row " + strconv.Itoa(e.Row), strconv.Quote(e.Column), strconv.Quote(e.Value)} {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %s: %s", want, stderr)
				}
			}
		})
	}
}

// TestScoreSharedSVC scores the real SVC (scikit-learn 1.5.1, numpy 2 pickle)
// of ../shared/mlflow-examples straight from its model folder.
func TestScoreSharedSVC(t *testing.T) {
	base := filepath.Join("..", "..", "..", "shared", "mlflow-examples", "iris-svc-registry-skl151")
	if _, err := os.Stat(base); err != nil {
		t.Skipf("skipping: %s is absent (%v)", base, err)
	}
	out := filepath.Join(t.TempDir(), "p.csv")
	code, stderr := cli(t, "score", "--model", filepath.Join(base, "model"), "--in", filepath.Join(base, "input.csv"),
		"--out", out, "--batch-size", "64", "--workers", "2", "-q")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	compareColumns(t, readTable(t, out), readTable(t, filepath.Join(base, "expected_shim.csv")), []string{"prediction"}, tolerance{Exact: true})
}

// TestScoreSVCProbaWarning: --proba on an SVC fitted without probabilities
// scores the labels and says why there are no probability columns.
func TestScoreSVCProbaWarning(t *testing.T) {
	out := filepath.Join(t.TempDir(), "p.csv")
	code, stderr := cli(t, "score", "--model", filepath.Join(testdata, "longtail", "svm_nb", "svc_rbf_iris"),
		"--in", filepath.Join(testdata, "longtail", "svm_nb", "inputs", "iris.csv"), "--out", out, "--proba")
	if code != 0 || !strings.Contains(stderr, "probability=False") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got := readTable(t, out); len(got.names) != 5 {
		t.Errorf("columns %v, want the 4 inputs and prediction", got.names)
	}
}
