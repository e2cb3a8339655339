package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlbatch/mlbatch/internal/mlerr"
)

// loadBoosterFixtures is testdata/longtail/boosters/cases.json (written by
// testdata/longtail/boosters/gen.py): XGBoost and LightGBM scikit-learn
// wrappers pickled inside scikit-learn objects, and IsolationForest.
type boosterFixtures struct {
	Cases    []fixtureCase `json:"cases"`
	Refusals []struct {
		Name     string `json:"name"`
		ModelDir string `json:"model_dir"`
		Want     string `json:"want"`
	} `json:"refusals"`
}

func loadBoosterFixtures(t *testing.T) boosterFixtures {
	t.Helper()
	var f boosterFixtures
	readJSON(t, filepath.Join(testdata, "longtail", "boosters", "cases.json"), &f)
	if len(f.Cases) < 10 || len(f.Refusals) < 5 {
		t.Fatalf("only %d cases and %d refusals", len(f.Cases), len(f.Refusals))
	}
	return f
}

// TestScoreLongtailBoosters scores every case through the command line (CSV in
// batches of 64 with 2 workers; every third case also from Parquet) and
// compares with what xgboost 1.7.4, scikit-learn 1.2.1 and the LightGBM
// reference evaluator predicted.
func TestScoreLongtailBoosters(t *testing.T) {
	dir := t.TempDir()
	for i, c := range loadBoosterFixtures(t).Cases {
		inputs := []string{"csv"}
		if i%3 == 0 {
			inputs = append(inputs, "parquet")
		}
		for _, in := range inputs {
			t.Run(strings.TrimPrefix(c.Name, "longtail/boosters/")+"/"+in, func(t *testing.T) {
				scoreFixture(t, c, in == "parquet", dir)
			})
		}
	}
}

// TestScoreLongtailBoosterRefusals: malformed or unsupported boosters inside
// scikit-learn pickles fail to load with exit code 3, a message naming the
// model file and what is wrong, and no output file.
func TestScoreLongtailBoosterRefusals(t *testing.T) {
	f := loadBoosterFixtures(t)
	input := filepath.Join(testdata, f.Cases[0].Input)
	for _, r := range f.Refusals {
		t.Run(strings.TrimPrefix(r.Name, "longtail/boosters/"), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.csv")
			code, stderr := cli(t, "score", "--model", filepath.Join(testdata, r.ModelDir), "--in", input, "--out", out)
			if code != mlerr.Model.ExitCode() {
				t.Errorf("exit %d, want %d; stderr: %s", code, mlerr.Model.ExitCode(), stderr)
			}
			for _, w := range []string{"model.pkl", r.Want} {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q should contain %q", stderr, w)
				}
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("an output file was written")
			}
		})
	}
}
