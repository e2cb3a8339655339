package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/internal/bufpool"
	"github.com/mlbatch/mlbatch/internal/mlerr"
	"github.com/mlbatch/mlbatch/readers"
	"github.com/mlbatch/mlbatch/writers"
)

const testdata = "../../testdata"

type tolerance struct {
	Rel   float64 `json:"rel"`
	Abs   float64 `json:"abs"`
	Exact bool    `json:"exact"`
}

type fixtureCase struct {
	Name        string `json:"name"`
	ModelURI    string `json:"model_uri"`
	TrackingURI string `json:"tracking_uri"`
	ModelDir    string `json:"model_dir"`
	Input       string `json:"input"`
	Outputs     []struct {
		Method  string    `json:"method"`
		Golden  string    `json:"golden"`
		Columns []string  `json:"columns"`
		Type    string    `json:"type"`
		Tol     tolerance `json:"tolerance"`
	} `json:"outputs"`
	FeatureSource string `json:"feature_source"`
}

type fixtureError struct {
	Name     string   `json:"name"`
	Kind     string   `json:"kind"`
	ModelDir string   `json:"model_dir"`
	Input    string   `json:"input"`
	Row      int      `json:"row"`
	Column   string   `json:"column"`
	Value    string   `json:"value"`
	Missing  []string `json:"missing"`
}

type fixtures struct {
	Cases  []fixtureCase  `json:"cases"`
	Errors []fixtureError `json:"errors"`
}

func loadFixtures(t testing.TB) fixtures {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testdata, "gen", "fixtures.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f fixtures
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

// testPool is the allocator the binary uses (run), with freed buffers poisoned:
// a batch read after it was released then shows up as wrong predictions.
func testPool() memory.Allocator {
	p := bufpool.New()
	p.Poison = true
	return p
}

// cli runs mlbatch with a checked allocator and returns the exit code and stderr.
// It fails the test if any Arrow memory is left allocated afterwards.
func cli(t testing.TB, args ...string) (int, string) {
	t.Helper()
	mem := memory.NewCheckedAllocator(testPool())
	var stdout, stderr bytes.Buffer
	code := runEnv(context.Background(), args, env{stdout: &stdout, stderr: &stderr, mem: mem})
	mem.AssertSize(t, 0)
	return code, stderr.String()
}

// regressionCases are the fixture cases whose outputs are plain predict columns.
func regressionCases(t *testing.T) []fixtureCase {
	var out []fixtureCase
	for _, c := range loadFixtures(t).Cases {
		if len(c.Outputs) == 1 && c.Outputs[0].Method == "predict" && c.Outputs[0].Type == "float64" {
			out = append(out, c)
		}
	}
	if len(out) < 10 {
		t.Fatalf("only %d regression fixtures", len(out))
	}
	return out
}

func modelArgs(c fixtureCase) []string {
	if c.ModelURI != "" && c.TrackingURI != "" && strings.HasPrefix(c.ModelURI, "runs:/") {
		return []string{"--model", c.ModelURI, "--tracking-uri", filepath.Join(testdata, c.TrackingURI)}
	}
	return []string{"--model", filepath.Join(testdata, c.ModelDir)}
}

// TestScoreGolden scores every fixture through the real command line, for CSV and
// Parquet in and out and 1 and 8 workers, and compares with scikit-learn's own
// predict (and predict_proba, with --proba) outputs.
func TestScoreGolden(t *testing.T) {
	dir := t.TempDir()
	for _, c := range loadFixtures(t).Cases {
		proba := false
		for _, o := range c.Outputs {
			proba = proba || o.Method == "predict_proba"
		}
		// Every format pair, and 1 and 8 workers on the pairs that matter most;
		// TestWorkersIdenticalBytes checks that worker counts never change a byte.
		for _, run := range []struct{ in, out, workers string }{
			{"csv", "csv", "1"}, {"csv", "csv", "8"}, {"csv", "parquet", "2"}, {"parquet", "csv", "2"}, {"parquet", "parquet", "8"},
		} {
			io, workers := run, run.workers
			t.Run(c.Name+"/"+io.in+"-"+io.out+"/w"+workers, func(t *testing.T) {
				in := filepath.Join(testdata, c.Input)
				if io.in == "parquet" {
					in = csvToParquet(t, in, dir)
				}
				out := filepath.Join(t.TempDir(), "preds."+io.out)
				args := append([]string{"score", "--in", in, "--out", out, "--batch-size", "64", "--workers", workers}, modelArgs(c)...)
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
				// Every input column is kept by default, unchanged.
				input := readTable(t, filepath.Join(testdata, c.Input))
				for name := range input.cols {
					compareColumns(t, got, input, []string{name}, tolerance{Exact: true})
				}
			})
		}
	}
}

// TestWorkersIdenticalBytes checks that 1, 2 and 8 workers write identical files.
func TestWorkersIdenticalBytes(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000") // the Parquet provenance's creation time
	c := regressionCases(t)[0]
	dir := t.TempDir()
	for _, format := range []string{"csv", "parquet"} {
		var first []byte
		for _, w := range []string{"1", "2", "8"} {
			out := filepath.Join(dir, "w"+w+"."+format)
			code, stderr := cli(t, append([]string{"score", "--in", filepath.Join(testdata, c.Input), "--out", out,
				"--batch-size", "7", "--workers", w}, modelArgs(c)...)...)
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

func TestKeepAndPredictionCol(t *testing.T) {
	c := regressionCases(t)[0]
	out := filepath.Join(t.TempDir(), "p.csv")
	code, stderr := cli(t, append([]string{"score", "--in", filepath.Join(testdata, c.Input), "--out", out,
		"--keep", "bmi,age", "--prediction-col", "y_hat"}, modelArgs(c)...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got := readTable(t, out)
	if strings.Join(got.names, ",") != "bmi,age,y_hat" {
		t.Errorf("columns %v, want the kept columns in --keep order, then y_hat", got.names)
	}
	out2 := filepath.Join(t.TempDir(), "p.csv")
	code, stderr = cli(t, append([]string{"score", "--in", filepath.Join(testdata, c.Input), "--out", out2, "--keep="}, modelArgs(c)...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got := readTable(t, out2); strings.Join(got.names, ",") != "prediction" {
		t.Errorf("--keep= columns %v", got.names)
	}
}

// TestBadInputs runs every failure the fixtures describe, plus the command-line
// ones, and checks the exit code, a one-line message and that no output exists.
func TestBadInputs(t *testing.T) {
	kinds := map[string]mlerr.Kind{"model_load": mlerr.Model, "schema": mlerr.Schema, "input_data": mlerr.Data}
	type badCase struct {
		name  string
		args  []string
		code  int
		wants []string
	}
	var cases []badCase
	for _, e := range loadFixtures(t).Errors {
		k, ok := kinds[e.Kind]
		if !ok {
			t.Fatalf("%s: unknown kind %s", e.Name, e.Kind)
		}
		bc := badCase{name: e.Name, code: k.ExitCode(),
			args: []string{"--model", filepath.Join(testdata, e.ModelDir), "--in", filepath.Join(testdata, e.Input)}}
		if e.Column != "" {
			bc.wants = append(bc.wants, filepath.Base(e.Input), "row "+strconv.Itoa(e.Row), strconv.Quote(e.Column), strconv.Quote(e.Value))
		}
		for _, m := range e.Missing {
			bc.wants = append(bc.wants, strconv.Quote(m))
		}
		switch e.Name {
		case "gpr":
			bc.wants = append(bc.wants, "unsupported class sklearn.gaussian_process._gpr.GaussianProcessRegressor")
		case "evil-os-system":
			bc.wants = append(bc.wants, "os.system")
		case "evil-builtins-exec":
			bc.wants = append(bc.wants, "builtins.exec")
		case "no-mlmodel":
			bc.wants = append(bc.wants, "no MLmodel")
		case "pyfunc-python-model", "pyfunc-custom-loader":
			bc.wants = append(bc.wants, "unsupported flavor")
		}
		cases = append(cases, bc)
	}
	linreg := filepath.Join(testdata, "models", "linreg")
	input := filepath.Join(testdata, "models", "diabetes_input.csv")
	store := filepath.Join(testdata, "mlruns")
	cases = append(cases,
		badCase{"unknown scheme", []string{"--model", "hdfs://namenode/model", "--in", input}, 3, []string{`scheme "hdfs"`}},
		badCase{"no such run", []string{"--model", "runs:/0123456789abcdef0123456789abcdef/model", "--tracking-uri", store, "--in", input}, 3,
			[]string{"run 0123456789abcdef0123456789abcdef not found"}},
		badCase{"missing flag", []string{"--in", input}, 2, []string{"--model"}},
		badCase{"unknown flag", []string{"--model", linreg, "--in", input, "--bogus"}, 2, []string{"bogus"}},
		badCase{"bad format", []string{"--model", linreg, "--in", input, "--out-format", "xlsx"}, 2, []string{"xlsx"}},
		badCase{"bad compression", []string{"--model", linreg, "--in", input, "--compression", "lz77"}, 2, []string{"lz77"}},
		badCase{"missing input", []string{"--model", linreg, "--in", filepath.Join(t.TempDir(), "nope.csv")}, 6, []string{"nope.csv"}},
		badCase{"keep unknown", []string{"--model", linreg, "--in", input, "--keep", "zip"}, 2, []string{`"zip"`}},
		badCase{"prediction collides", []string{"--model", linreg, "--in", input, "--prediction-col", "age"}, 2, []string{`"age"`}},
	)
	for _, bc := range cases {
		t.Run(bc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.csv")
			args := append([]string{"score", "--out", out}, bc.args...)
			code, stderr := cli(t, args...)
			if code != bc.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, bc.code, stderr)
			}
			if strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.HasPrefix(stderr, "mlbatch: ") {
				t.Errorf("want one line starting with 'mlbatch: ', got %q", stderr)
			}
			for _, w := range bc.wants {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q should contain %q", stderr, w)
				}
			}
			entries, _ := os.ReadDir(filepath.Dir(out))
			if len(entries) != 0 {
				t.Errorf("left files behind: %v", entries)
			}
		})
	}
}

func TestExistingOutput(t *testing.T) {
	c := regressionCases(t)[0]
	out := filepath.Join(t.TempDir(), "p.csv")
	if err := os.WriteFile(out, []byte("precious\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"score", "--in", filepath.Join(testdata, c.Input), "--out", out}, modelArgs(c)...)
	code, stderr := cli(t, args...)
	if code != mlerr.IO.ExitCode() || !strings.Contains(stderr, "already exists") {
		t.Errorf("exit %d: %s", code, stderr)
	}
	if data, _ := os.ReadFile(out); string(data) != "precious\n" {
		t.Errorf("existing output was changed: %q", data)
	}
	if code, stderr := cli(t, append(args, "--overwrite")...); code != 0 {
		t.Fatalf("--overwrite: exit %d: %s", code, stderr)
	}
	input := readTable(t, filepath.Join(testdata, c.Input))
	if got := readTable(t, out); len(got.names) != len(input.names)+1 || got.rows != input.rows {
		t.Errorf("overwritten output has %d columns, %d rows", len(got.names), got.rows)
	}
}

// TestEmptyInput: a header-only CSV is not an error; the output is valid and empty.
func TestEmptyInput(t *testing.T) {
	var c fixtureCase
	for _, fc := range loadFixtures(t).Cases {
		if fc.Name == "csv-header-only" {
			c = fc
		}
	}
	if c.Name == "" {
		t.Fatal("no csv-header-only fixture")
	}
	for _, format := range []string{"csv", "parquet"} {
		out := filepath.Join(t.TempDir(), "empty."+format)
		code, stderr := cli(t, append([]string{"score", "--in", filepath.Join(testdata, c.Input), "--out", out, "--keep="}, modelArgs(c)...)...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", format, code, stderr)
		}
		got := readTable(t, out)
		want := readTable(t, filepath.Join(testdata, c.Outputs[0].Golden))
		if got.rows != 0 || strings.Join(got.names, ",") != strings.Join(want.names, ",") {
			t.Errorf("%s: %d rows, columns %v; want 0 rows, columns %v", format, got.rows, got.names, want.names)
		}
	}
}

func TestVersion(t *testing.T) {
	var stdout bytes.Buffer
	code := runEnv(context.Background(), []string{"version"}, env{stdout: &stdout, stderr: io.Discard, mem: memory.DefaultAllocator})
	if code != 0 || !strings.HasPrefix(stdout.String(), "mlbatch ") {
		t.Errorf("exit %d, %q", code, stdout.String())
	}
}

// table is a whole small file read into named columns of text (CSV) or Arrow
// values rendered as text.
type table struct {
	names []string
	cols  map[string][]string
	rows  int
}

// readTable reads a CSV or Parquet file (by extension) with the project's readers.
func readTable(t *testing.T, path string) table {
	t.Helper()
	if strings.HasSuffix(path, ".csv") {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		recs, err := csv.NewReader(f).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		tb := table{names: recs[0], cols: map[string][]string{}, rows: len(recs) - 1}
		for j, n := range recs[0] {
			tb.cols[n] = []string{}
			for _, r := range recs[1:] {
				tb.cols[n] = append(tb.cols[n], r[j])
			}
		}
		return tb
	}
	r, err := readers.Open(path, readers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	tb := table{cols: map[string][]string{}}
	for _, f := range r.Schema().Fields() {
		tb.names = append(tb.names, f.Name)
		tb.cols[f.Name] = []string{}
	}
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for j, name := range tb.names {
			col := rec.Column(j)
			for i := 0; i < col.Len(); i++ {
				tb.cols[name] = append(tb.cols[name], cellText(col, i))
			}
		}
		tb.rows += int(rec.NumRows())
		rec.Release()
	}
	return tb
}

func cellText(a arrow.Array, i int) string {
	if a.IsNull(i) {
		return ""
	}
	switch c := a.(type) {
	case *array.Float64:
		return strconv.FormatFloat(c.Value(i), 'g', -1, 64)
	case *array.Int64:
		return strconv.FormatInt(c.Value(i), 10)
	case *array.String:
		return c.Value(i)
	}
	return a.ValueStr(i)
}

// compareColumns checks the named columns of got against want, numerically with
// |g-w| <= abs + rel*|w|, or exactly.
func compareColumns(t *testing.T, got, want table, names []string, tol tolerance) {
	t.Helper()
	if got.rows != want.rows {
		t.Fatalf("%d rows, want %d", got.rows, want.rows)
	}
	for _, name := range names {
		g, ok := got.cols[name]
		if !ok {
			t.Fatalf("output has no column %q (has %v)", name, got.names)
		}
		w := want.cols[name]
		bad := 0
		for i := range w {
			if g[i] == w[i] {
				continue
			}
			gv, err1 := strconv.ParseFloat(g[i], 64)
			wv, err2 := strconv.ParseFloat(w[i], 64)
			ok := err1 == nil && err2 == nil && (gv == wv || (math.IsNaN(gv) && math.IsNaN(wv)))
			if err1 != nil && err2 != nil && strings.EqualFold(g[i], w[i]) {
				ok = true // booleans: True/true
			}
			if !ok && !tol.Exact && err1 == nil && err2 == nil {
				ok = math.Abs(gv-wv) <= tol.Abs+tol.Rel*math.Abs(wv)
			}
			if !ok {
				if bad < 5 {
					t.Errorf("column %q row %d: got %s, want %s", name, i+1, g[i], w[i])
				}
				bad++
			}
		}
		if bad > 0 {
			t.Errorf("column %q: %d of %d rows differ", name, bad, len(w))
		}
	}
}

// csvToParquet converts a CSV fixture to Parquet with the project's own reader and
// writer (Debian has no pyarrow), caching by name in dir.
func csvToParquet(t *testing.T, path, dir string) string {
	t.Helper()
	out := filepath.Join(dir, strings.ReplaceAll(strings.TrimPrefix(path, testdata+"/"), "/", "_")+".parquet")
	if _, err := os.Stat(out); err == nil {
		return out
	}
	r, err := readers.Open(path, readers.Options{BatchSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	w, err := writers.Create(out, r.Schema(), writers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			w.Abort()
			t.Fatal(err)
		}
		err = w.Write(rec)
		rec.Release()
		if err != nil {
			w.Abort()
			t.Fatal(fmt.Errorf("write %s: %w", out, err))
		}
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	return out
}

// scoreFixture scores fixture c through the command line in batches of 64 rows
// with 2 workers (and --proba when a golden holds predict_proba), from a
// Parquet copy of its input (made in dir) when parquet is set, and compares
// every output column with the library's golden file.
func scoreFixture(t *testing.T, c fixtureCase, parquet bool, dir string) {
	t.Helper()
	input := filepath.Join(testdata, c.Input)
	if parquet {
		input = csvToParquet(t, input, dir)
	}
	out := filepath.Join(t.TempDir(), "preds.csv")
	args := []string{"score", "--model", filepath.Join(testdata, c.ModelDir), "--in", input,
		"--out", out, "--batch-size", "64", "--workers", "2"}
	for _, o := range c.Outputs {
		if o.Method == "predict_proba" {
			args = append(args, "--proba")
			break
		}
	}
	code, stderr := cli(t, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got := readTable(t, out)
	for _, o := range c.Outputs {
		compareColumns(t, got, readTable(t, filepath.Join(testdata, o.Golden)), o.Columns, o.Tol)
	}
}
