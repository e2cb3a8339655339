package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// flavorCase is one XGBoost or LightGBM fixture, normalised from the two
// generators' manifests.
type flavorCase struct {
	name, modelDir, input string
	proba                 bool
	outputs               []flavorOutput
}

type flavorOutput struct {
	golden  string
	columns []string
	tol     tolerance
}

func xgboostCases(t *testing.T) []flavorCase {
	root := filepath.Join(testdata, "xgboost")
	var m struct {
		Cases []fixtureCase `json:"cases"`
	}
	readJSON(t, filepath.Join(root, "cases.json"), &m)
	var out []flavorCase
	for _, c := range m.Cases {
		fc := flavorCase{name: "xgboost/" + c.Name, modelDir: filepath.Join(root, c.ModelDir), input: filepath.Join(root, c.Input)}
		for _, o := range c.Outputs {
			fc.proba = fc.proba || o.Method == "predict_proba"
			fc.outputs = append(fc.outputs, flavorOutput{filepath.Join(root, o.Golden), o.Columns, o.Tol})
		}
		out = append(out, fc)
	}
	return out
}

func lightgbmCases(t *testing.T) []flavorCase {
	root := filepath.Join(testdata, "lightgbm")
	var m struct {
		Cases []struct {
			Name      string    `json:"name"`
			ModelDir  string    `json:"model_dir"`
			Input     string    `json:"input"`
			Golden    string    `json:"golden"`
			Columns   []string  `json:"columns"`
			Tolerance tolerance `json:"tolerance"`
		} `json:"cases"`
	}
	readJSON(t, filepath.Join(root, "cases.json"), &m)
	var out []flavorCase
	for _, c := range m.Cases {
		fc := flavorCase{name: "lightgbm/" + c.Name, modelDir: filepath.Join(root, c.ModelDir), input: filepath.Join(root, c.Input),
			outputs: []flavorOutput{{filepath.Join(root, c.Golden), c.Columns, c.Tolerance}}}
		for _, col := range c.Columns {
			fc.proba = fc.proba || len(col) > 6 && col[:6] == "proba_"
		}
		out = append(out, fc)
	}
	return out
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestScoreFlavors scores every XGBoost and LightGBM fixture through the command
// line (CSV to Parquet, 2 workers) and compares with the native libraries' outputs
// (LightGBM: an independent reference, see testdata/lightgbm/README.md).
func TestScoreFlavors(t *testing.T) {
	cases := append(xgboostCases(t), lightgbmCases(t)...)
	if len(cases) < 40 {
		t.Fatalf("only %d flavor fixtures", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "preds.parquet")
			args := []string{"score", "--model", c.modelDir, "--in", c.input, "--out", out, "--workers", "2", "--batch-size", "100"}
			if c.proba {
				args = append(args, "--proba")
			}
			code, stderr := cli(t, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			got := readTable(t, out)
			for _, o := range c.outputs {
				compareColumns(t, got, readTable(t, o.golden), o.columns, o.tol)
			}
		})
	}
}
