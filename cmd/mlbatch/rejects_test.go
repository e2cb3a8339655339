package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// dirtyInput writes the diabetes fixture input with bad rows injected: a
// non-numeric cell (rows 10 and 200), a ragged row (300) and an empty cell, which
// LinearRegression refuses as NaN (400). It returns the path and the bad rows.
func dirtyInput(t *testing.T, dir string) (string, []int64) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testdata, "models", "diabetes_input.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	set := func(row, col int, v string) {
		f := strings.Split(lines[row], ",")
		f[col] = v
		lines[row] = strings.Join(f, ",")
	}
	set(10, 2, "abc")
	set(200, 0, "n/a?")
	lines[300] = strings.Join(strings.Split(lines[300], ",")[:7], ",")
	set(400, 5, "")
	path := filepath.Join(dir, "dirty.csv")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, []int64{10, 200, 300, 400}
}

// TestRowAccounting: under both policies, for CSV and Parquet output, every input
// row is either written (with scikit-learn's prediction) or rejected (with its row
// number, reason and values), and rows read = rows written + rows rejected.
func TestRowAccounting(t *testing.T) {
	dir := t.TempDir()
	in, bad := dirtyInput(t, dir)
	linreg := filepath.Join(testdata, "models", "linreg")
	golden := readTable(t, filepath.Join(testdata, "models", "linreg", "expected.csv"))

	// fail: the first bad row stops the run, naming file, row, column and value.
	code, stderr := cli(t, "score", "--model", linreg, "--in", in, "--out", filepath.Join(dir, "fail.csv"))
	if code != 5 || !strings.Contains(stderr, "dirty.csv row 10: column \"bmi\": value \"abc\"") {
		t.Errorf("fail policy: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "fail.csv")); err == nil {
		t.Error("a failed run left its output")
	}

	for _, format := range []string{"csv", "parquet"} {
		t.Run(format, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "preds."+format)
			code, stderr := cli(t, "score", "--model", linreg, "--in", in, "--out", out, "--on-error", "skip", "--workers", "3", "--batch-size", "64")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if !strings.Contains(stderr, "500 read, 496 written, 4 rejected") {
				t.Errorf("summary: %s", stderr)
			}
			got := readTable(t, out)
			rej := readTable(t, strings.TrimSuffix(out, "."+format)+".rejects."+format)
			if got.rows+rej.rows != 500 || rej.rows != len(bad) {
				t.Fatalf("%d written + %d rejected, want 496 + 4", got.rows, rej.rows)
			}
			for i, want := range bad {
				if rej.cols["row"][i] != strconv.FormatInt(want, 10) {
					t.Errorf("reject %d is row %s, want %d", i, rej.cols["row"][i], want)
				}
			}
			for _, want := range []string{`column "bmi": value "abc": not a number`, `column "age": value "n/a?"`, "fields, but the header has 10", `column "s2"`} {
				if !strings.Contains(strings.Join(rej.cols["reason"], "\n"), want) {
					t.Errorf("reasons %q lack %q", rej.cols["reason"], want)
				}
			}
			if rej.cols["bmi"][0] != "abc" {
				t.Errorf("reject values: bmi = %q, want the original text", rej.cols["bmi"][0])
			}
			// The written rows are the good ones, in order, with Python's numbers.
			var keep []int
			isBad := map[int]bool{}
			for _, b := range bad {
				isBad[int(b)-1] = true
			}
			for i := range 500 {
				if !isBad[i] {
					keep = append(keep, i)
				}
			}
			want := table{names: golden.names, cols: map[string][]string{}, rows: len(keep)}
			for _, i := range keep {
				want.cols["prediction"] = append(want.cols["prediction"], golden.cols["prediction"][i])
			}
			compareColumns(t, got, want, []string{"prediction"}, tolerance{Rel: 1e-9, Abs: 1e-12})
		})
	}
}

// TestMaxRejects: too many rejects fail the run with the data exit code and leave
// neither the output nor the rejects file.
func TestMaxRejects(t *testing.T) {
	dir := t.TempDir()
	in, _ := dirtyInput(t, dir)
	linreg := filepath.Join(testdata, "models", "linreg")
	for _, limit := range []string{"3", "0.5%"} {
		out := filepath.Join(dir, "p.csv")
		code, stderr := cli(t, "score", "--model", linreg, "--in", in, "--out", out, "--on-error", "skip", "--max-rejects", limit)
		if code != 5 || !strings.Contains(stderr, "--max-rejects") {
			t.Errorf("%s: exit %d: %s", limit, code, stderr)
		}
		for _, p := range []string{out, filepath.Join(dir, "p.rejects.csv")} {
			if _, err := os.Stat(p); err == nil {
				t.Errorf("%s: %s exists after a failed run", limit, p)
			}
		}
	}
	out := filepath.Join(dir, "ok.csv")
	if code, stderr := cli(t, "score", "--model", linreg, "--in", in, "--out", out, "--on-error", "skip", "--max-rejects", "4"); code != 0 {
		t.Errorf("4 rejects within --max-rejects 4: exit %d: %s", code, stderr)
	}
	for _, bad := range [][]string{{"--on-error", "ignore"}, {"--rejects", "r.csv"}, {"--on-error", "skip", "--max-rejects", "lots"}} {
		code, _ := cli(t, append([]string{"score", "--model", linreg, "--in", in, "--out", filepath.Join(dir, "u.csv")}, bad...)...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2", bad, code)
		}
	}
}

// TestRowAccountingParquet: a Parquet input whose nulls a model refuses (a 1.2
// decision tree takes no NaN): each such row is rejected, the others scored.
func TestRowAccountingParquet(t *testing.T) {
	csvIn := filepath.Join(testdata, "models", "iris_nan_input.csv")
	input := readTable(t, csvIn)
	var nullRows []int
	for i := range input.rows {
		for _, name := range input.names {
			if input.cols[name][i] == "" {
				nullRows = append(nullRows, i+1)
				break
			}
		}
	}
	if len(nullRows) == 0 {
		t.Fatal("fixture has no missing values")
	}
	in := csvToParquet(t, csvIn, t.TempDir())
	out := filepath.Join(t.TempDir(), "p.parquet")
	code, stderr := cli(t, "score", "--model", filepath.Join(testdata, "models", "dtree_clf_iris"), "--in", in, "--out", out,
		"--on-error", "skip", "--batch-size", "50", "--workers", "8")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got := readTable(t, out)
	rej := readTable(t, filepath.Join(filepath.Dir(out), "p.rejects.parquet"))
	if got.rows+rej.rows != input.rows || rej.rows != len(nullRows) {
		t.Fatalf("%d written + %d rejected, want %d + %d", got.rows, rej.rows, input.rows-len(nullRows), len(nullRows))
	}
	for i, r := range nullRows {
		if rej.cols["row"][i] != strconv.Itoa(r) || !strings.Contains(rej.cols["reason"][i], "NaN") {
			t.Errorf("reject %d: row %s (%s), want row %d", i, rej.cols["row"][i], rej.cols["reason"][i], r)
		}
	}
}

// TestProbaOnRegressorWarns: --proba means nothing for a regressor: a warning on
// stderr, and the output is the plain prediction.
func TestProbaOnRegressorWarns(t *testing.T) {
	out := filepath.Join(t.TempDir(), "p.csv")
	code, stderr := cli(t, "score", "--model", filepath.Join(testdata, "models", "rf_reg_diabetes"),
		"--in", filepath.Join(testdata, "models", "diabetes_tree_input.csv"), "--out", out, "--proba", "--keep=")
	if code != 0 || !strings.Contains(stderr, "warning: --proba is ignored: RandomForestRegressor is a regressor") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got := readTable(t, out); strings.Join(got.names, ",") != "prediction" {
		t.Errorf("columns %v", got.names)
	}
}

// TestProbaOnClassifierQuiet: a decision-tree classifier takes --proba without a
// warning (trees answer to the regressor interface too).
func TestProbaOnClassifierQuiet(t *testing.T) {
	out := filepath.Join(t.TempDir(), "p.csv")
	code, stderr := cli(t, "score", "--model", filepath.Join(testdata, "models", "dtree_clf_iris"),
		"--in", filepath.Join(testdata, "models", "iris_input.csv"), "--out", out, "--proba", "--keep=")
	if code != 0 || strings.Contains(stderr, "warning") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got := readTable(t, out); strings.Join(got.names, ",") != "prediction,proba_0,proba_1,proba_2" {
		t.Errorf("columns %v", got.names)
	}
}
