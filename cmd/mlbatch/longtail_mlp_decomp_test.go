package main

import (
	"path/filepath"
	"slices"
	"testing"
)

// mlpDecompFixtures is testdata/longtail/mlp_decomp/cases.json (written by
// testdata/longtail/mlp_decomp/gen.py with scikit-learn 1.2.1).
func mlpDecompFixtures(t *testing.T) pipelineFixtures {
	t.Helper()
	var f pipelineFixtures
	readJSON(t, filepath.Join(testdata, "longtail", "mlp_decomp", "cases.json"), &f)
	if len(f.Cases) < 34 {
		t.Fatalf("only %d cases", len(f.Cases))
	}
	return f
}

// TestScoreMLPDecomp scores every MLP, decomposition, feature selection and
// DictVectorizer fixture through the command line (CSV input, 2 workers,
// 64-row batches; Parquet input for the first case of each model folder) and
// compares with what scikit-learn predicted.
func TestScoreMLPDecomp(t *testing.T) {
	dir := t.TempDir()
	var seen []string
	for _, c := range mlpDecompFixtures(t).Cases {
		proba := false
		for _, o := range c.Outputs {
			proba = proba || o.Method == "predict_proba"
		}
		formats := []string{"csv"}
		if !slices.Contains(seen, c.ModelDir) {
			seen = append(seen, c.ModelDir)
			formats = append(formats, "parquet")
		}
		for _, in := range formats {
			t.Run(c.Name+"/"+in, func(t *testing.T) {
				input := filepath.Join(testdata, c.Input)
				if in == "parquet" {
					input = csvToParquet(t, input, dir)
				}
				out := filepath.Join(t.TempDir(), "preds.csv")
				args := []string{"score", "--model", filepath.Join(testdata, c.ModelDir), "--in", input,
					"--out", out, "--batch-size", "64", "--workers", "2"}
				if proba {
					args = append(args, "--proba")
				}
				code, stderr := cli(t, args...)
				if code != 0 {
					t.Fatalf("exit %d: %s", code, stderr)
				}
				got := readTable(t, out)
				for _, o := range c.Outputs {
					compareColumns(t, got, readTable(t, filepath.Join(testdata, o.Golden)), o.Columns, o.Tol)
				}
			})
		}
	}
}
