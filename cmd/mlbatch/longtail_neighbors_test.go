package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// neighborsFixtures is testdata/longtail/neighbors/cases.json (written by
// testdata/longtail/neighbors/gen.py).
func neighborsFixtures(t *testing.T) []fixtureCase {
	t.Helper()
	var f struct {
		Cases []fixtureCase `json:"cases"`
	}
	readJSON(t, filepath.Join(testdata, "longtail", "neighbors", "cases.json"), &f)
	if len(f.Cases) < 60 {
		t.Fatalf("only %d neighbours cases", len(f.Cases))
	}
	return f.Cases
}

// TestScoreNeighbors scores every KNN, NearestCentroid and KMeans fixture
// through the command line (CSV, 2 workers, batches of 64 rows) and compares
// with scikit-learn 1.2.1: labels exactly, numbers to 1e-9. Most KNN fixtures
// are built on integer features with duplicate training rows, so that the
// neighbours chosen among equally distant rows decide the outputs.
func TestScoreNeighbors(t *testing.T) {
	dir := t.TempDir()
	for i, c := range neighborsFixtures(t) {
		inputs := []string{"csv"}
		if i%7 == 0 {
			inputs = append(inputs, "parquet")
		}
		for _, in := range inputs {
			t.Run(strings.TrimPrefix(c.Name, "neighbors/")+"/"+in, func(t *testing.T) {
				scoreFixtureCase(t, c, in, dir, "64", "2")
			})
		}
	}
}

// scoreFixtureCase scores one fixture case through the CLI and compares every
// golden output.
func scoreFixtureCase(t *testing.T, c fixtureCase, in, dir, batch, workers string) {
	t.Helper()
	proba := false
	for _, o := range c.Outputs {
		proba = proba || o.Method == "predict_proba"
	}
	input := filepath.Join(testdata, c.Input)
	if in == "parquet" {
		input = csvToParquet(t, input, dir)
	}
	out := filepath.Join(t.TempDir(), "preds.csv")
	args := []string{"score", "--model", filepath.Join(testdata, c.ModelDir), "--in", input,
		"--out", out, "--batch-size", batch, "--workers", workers}
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
}
