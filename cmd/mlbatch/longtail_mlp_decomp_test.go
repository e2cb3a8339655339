package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mlbatch/mlbatch/internal/mlerr"
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
		formats := []string{"csv"}
		if !slices.Contains(seen, c.ModelDir) {
			seen = append(seen, c.ModelDir)
			formats = append(formats, "parquet")
		}
		for _, in := range formats {
			t.Run(c.Name+"/"+in, func(t *testing.T) {
				scoreFixture(t, c, in == "parquet", dir)
			})
		}
	}
}

// TestMLPDecompRefusals: a model fed through a DictVectorizer is refused at
// load (exit 3) with a message that says why: scikit-learn itself cannot
// transform the DataFrame MLflow's pyfunc passes (cases.json records the
// Python error), and a table holds no dict cells.
func TestMLPDecompRefusals(t *testing.T) {
	var f struct {
		Refusals []struct {
			Name     string   `json:"name"`
			ModelDir string   `json:"model_dir"`
			Input    string   `json:"input"`
			Want     []string `json:"want"`
			PyErr    string   `json:"python_error_on_dataframe"`
		} `json:"refusals"`
	}
	readJSON(t, filepath.Join(testdata, "longtail", "mlp_decomp", "cases.json"), &f)
	if len(f.Refusals) < 2 {
		t.Fatalf("only %d refusals", len(f.Refusals))
	}
	for _, r := range f.Refusals {
		t.Run(r.Name, func(t *testing.T) {
			if r.PyErr == "" {
				t.Fatal("the generator recorded no Python error: scikit-learn scored the DataFrame, so the refusal is wrong")
			}
			out := filepath.Join(t.TempDir(), "out.csv")
			code, stderr := cli(t, "score", "--model", filepath.Join(testdata, r.ModelDir), "--in", filepath.Join(testdata, r.Input), "--out", out)
			if code != mlerr.Model.ExitCode() {
				t.Fatalf("exit %d, want %d: %s", code, mlerr.Model.ExitCode(), stderr)
			}
			for _, w := range r.Want {
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
