package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlbatch/mlbatch/internal/mlerr"
)

// metaFixtures is testdata/longtail/meta/cases.json (written by
// testdata/longtail/meta/gen.py): meta-estimators fitted by scikit-learn 1.2.1
// with their golden outputs, and models that must be refused.
type metaFixtures struct {
	Cases    []fixtureCase `json:"cases"`
	Refusals []struct {
		Name     string   `json:"name"`
		ModelDir string   `json:"model_dir"`
		Want     []string `json:"want"`
	} `json:"refusals"`
}

func loadMetaFixtures(t *testing.T) metaFixtures {
	t.Helper()
	var f metaFixtures
	readJSON(t, filepath.Join(testdata, "longtail", "meta", "cases.json"), &f)
	if len(f.Cases) < 20 || len(f.Refusals) < 2 {
		t.Fatalf("only %d meta cases and %d refusals", len(f.Cases), len(f.Refusals))
	}
	return f
}

// TestScoreMetaEstimators scores every meta-estimator fixture through the
// command line (CSV, 2 workers, batches of 64 rows) and compares with
// scikit-learn; every fourth case is also read from Parquet.
func TestScoreMetaEstimators(t *testing.T) {
	dir := t.TempDir()
	for i, c := range loadMetaFixtures(t).Cases {
		formats := []string{"csv"}
		if i%4 == 0 {
			formats = append(formats, "parquet")
		}
		for _, in := range formats {
			t.Run(c.Name+"/"+in, func(t *testing.T) {
				scoreFixture(t, c, in == "parquet", dir)
			})
		}
	}
}

// TestScoreMetaRefusals: models mlbatch cannot score as scikit-learn would (a
// search fitted with refit=False, an inverse_func outside the allow-list) fail
// at load with exit code 3 and a message that says why.
func TestScoreMetaRefusals(t *testing.T) {
	in := filepath.Join(testdata, "longtail", "meta", "diabetes_input.csv")
	for _, r := range loadMetaFixtures(t).Refusals {
		t.Run(r.Name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.csv")
			code, stderr := cli(t, "score", "--model", filepath.Join(testdata, r.ModelDir), "--in", in, "--out", out)
			if code != mlerr.Model.ExitCode() {
				t.Errorf("exit %d, want %d; stderr: %s", code, mlerr.Model.ExitCode(), stderr)
			}
			for _, w := range r.Want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q should contain %q", stderr, w)
				}
			}
		})
	}
}
