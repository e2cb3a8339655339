package main

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/mlbatch/mlbatch/internal/s3test"
)

// uploadDir copies a local folder into a bucket under prefix.
func uploadDir(t *testing.T, s *s3test.Server, bucket, prefix, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.IsDir() {
			uploadDir(t, s, bucket, prefix+e.Name()+"/", filepath.Join(dir, e.Name()))
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		s.Put(t, bucket, prefix+e.Name(), data)
	}
}

// fetch downloads an object into dir and returns the local path.
func fetch(t *testing.T, s *s3test.Server, bucket, key, dir string) string {
	t.Helper()
	p := filepath.Join(dir, filepath.Base(key))
	if err := os.WriteFile(p, s.Get(t, bucket, key), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestObjectStore scores a model downloaded from one bucket over data read from
// another, into a third: a single CSV, a single Parquet file (read with ranged
// GETs), and a folder of CSV parts into a folder of Parquet parts with _SUCCESS.
// The predictions are scikit-learn's (the linreg fixture's golden file). A run
// that fails on a bad row leaves nothing under its output name.
func TestObjectStore(t *testing.T) {
	s := s3test.Start(t)
	s.Env(t)
	for _, b := range []string{"models", "inputs", "outputs"} {
		s.CreateBucket(t, b)
	}
	modelDir := filepath.Join(testdata, "models", "linreg")
	input := filepath.Join(testdata, "models", "diabetes_input.csv")
	golden := readTable(t, filepath.Join(modelDir, "expected.csv"))
	uploadDir(t, s, "models", "team/linreg/", modelDir)
	csvData, err := os.ReadFile(input)
	if err != nil {
		t.Fatal(err)
	}
	s.Put(t, "inputs", "diabetes.csv", csvData)
	tmp := t.TempDir()
	pq := csvToParquet(t, input, tmp)
	pqData, err := os.ReadFile(pq)
	if err != nil {
		t.Fatal(err)
	}
	s.Put(t, "inputs", "pq/diabetes.parquet", pqData)
	// A Spark-style folder: three CSV parts, a marker and a hidden file.
	lines := strings.SplitAfter(strings.TrimSuffix(string(csvData), "\n"), "\n")
	header, rows := lines[0], lines[1:]
	for i, span := range [][2]int{{0, 200}, {200, 400}, {400, len(rows)}} {
		part := header + strings.Join(rows[span[0]:span[1]], "")
		if !strings.HasSuffix(part, "\n") {
			part += "\n"
		}
		s.Put(t, "inputs", "ds/date=2024-01-0"+string(rune('1'+i))+"/part-00000.csv", []byte(part))
	}
	s.Put(t, "inputs", "ds/_SUCCESS", nil)
	s.Put(t, "inputs", "ds/.part-00000.csv.crc", []byte("not data"))

	cache := t.TempDir()
	model := []string{"score", "--model", "s3://models/team/linreg", "--cache-dir", cache, "-q"}

	t.Run("csv file", func(t *testing.T) {
		code, stderr := cli(t, append(model, "--in", "s3://inputs/diabetes.csv", "--out", "s3://outputs/preds.csv", "--keep=")...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		compareColumns(t, readTable(t, fetch(t, s, "outputs", "preds.csv", t.TempDir())), golden, []string{"prediction"}, tolerance{Rel: 1e-9})
		// The same output again without --overwrite is refused, and kept.
		code, stderr = cli(t, append(model, "--in", "s3://inputs/diabetes.csv", "--out", "s3://outputs/preds.csv", "--keep=")...)
		if code != 6 || !strings.Contains(stderr, "already exists") {
			t.Errorf("second run: exit %d: %s", code, stderr)
		}
	})

	t.Run("parquet file", func(t *testing.T) {
		before := len(s.Requests(t))
		code, stderr := cli(t, append(model, "--in", "s3://inputs/pq/diabetes.parquet", "--out", "s3://outputs/pq.csv", "--keep=")...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		compareColumns(t, readTable(t, fetch(t, s, "outputs", "pq.csv", t.TempDir())), golden, []string{"prediction"}, tolerance{Rel: 1e-9})
		gets := 0
		for _, r := range s.Requests(t)[before:] {
			if r.Operation == "s3_GetObject" && r.Key == "pq/diabetes.parquet" {
				gets++
			}
		}
		// The file is smaller than one read block: its tail (footer and data)
		// comes in one ranged GET. Opening it twice (schema, then rows) may cost
		// one each.
		t.Logf("%d GETs of the %d-byte Parquet input", gets, len(pqData))
		if gets == 0 || gets > 2 {
			t.Errorf("%d GETs of a %d-byte Parquet file", gets, len(pqData))
		}
	})

	t.Run("folder", func(t *testing.T) {
		code, stderr := cli(t, append(model, "--in", "s3://inputs/ds/", "--out", "s3://outputs/scored/", "--keep=age,date", "--partition-columns")...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		keys := s.Keys(t, "outputs", "scored/")
		sort.Strings(keys)
		if want := []string{"scored/_SUCCESS", "scored/part-00000-00000.parquet"}; !reflect.DeepEqual(keys, want) {
			t.Fatalf("output keys %v, want %v", keys, want)
		}
		got := readTable(t, fetch(t, s, "outputs", "scored/part-00000-00000.parquet", t.TempDir()))
		compareColumns(t, got, golden, []string{"prediction"}, tolerance{Rel: 1e-9})
		in := readTable(t, input)
		compareColumns(t, got, in, []string{"age"}, tolerance{Exact: true})
		if d := got.cols["date"]; len(d) != 500 || d[0] != "2024-01-01" || d[499] != "2024-01-03" {
			t.Errorf("partition column: %d values (%v)", len(d), got.names)
		}
	})

	t.Run("failed runs leave nothing", func(t *testing.T) {
		bad := strings.Replace(string(csvData), "\n0.038075906433423026,", "\nnot-a-number,", 1)
		if bad == string(csvData) {
			t.Fatal("no row to spoil")
		}
		s.Put(t, "inputs", "bad/diabetes.csv", []byte(bad))
		for _, out := range []string{"s3://outputs/bad.csv", "s3://outputs/bad.parquet", "s3://outputs/baddir/"} {
			code, stderr := cli(t, append(model, "--in", "s3://inputs/bad/diabetes.csv", "--out", out)...)
			if code != 5 || !strings.Contains(stderr, "not-a-number") {
				t.Errorf("%s: exit %d: %s", out, code, stderr)
			}
			key := strings.TrimPrefix(out, "s3://outputs/")
			if keys := s.Keys(t, "outputs", key); len(keys) != 0 {
				t.Errorf("%s: a failed run left %v", out, keys)
			}
		}
		if ups := s.OpenUploads(t, "outputs"); len(ups) != 0 {
			t.Errorf("uploads left open: %v", ups)
		}
		// Skipped, the bad row goes to the rejects file beside the output.
		code, stderr := cli(t, append(model, "--in", "s3://inputs/bad/diabetes.csv", "--out", "s3://outputs/skip.csv", "--on-error=skip", "--keep=")...)
		if code != 0 {
			t.Fatalf("--on-error=skip: exit %d: %s", code, stderr)
		}
		rej := readTable(t, fetch(t, s, "outputs", "skip.rejects.csv", t.TempDir()))
		if rej.rows != 1 || !strings.Contains(strings.Join(rej.cols["reason"], ""), "not-a-number") {
			t.Errorf("rejects: %d rows %v", rej.rows, rej.cols)
		}
		if got := readTable(t, fetch(t, s, "outputs", "skip.csv", t.TempDir())); got.rows != 499 {
			t.Errorf("--on-error=skip wrote %d rows, want 499", got.rows)
		}
	})

	t.Run("errors", func(t *testing.T) {
		for _, c := range []struct {
			args []string
			code int
			want string
		}{
			{[]string{"--in", "s3://inputs/nope.csv", "--out", "s3://outputs/x.csv"}, 6, "s3://inputs/nope.csv"},
			{[]string{"--in", "s3://inputs/diabetes.csv?region=x", "--out", "s3://outputs/x.csv"}, 2, "query parameters"},
			{[]string{"--in", "s3://nobucket/x.csv", "--out", "s3://outputs/x.csv"}, 6, "nobucket"},
		} {
			code, stderr := cli(t, append(model, c.args...)...)
			if code != c.code || !strings.Contains(stderr, c.want) {
				t.Errorf("%v: exit %d, want %d with %q: %s", c.args, code, c.code, c.want, stderr)
			}
		}
	})
}
