package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCorruptInputs: each damaged input gives one line that names the file, a
// documented exit code, and no output.
func TestCorruptInputs(t *testing.T) {
	dir := t.TempDir()
	linreg := filepath.Join(testdata, "models", "linreg")
	good := csvToParquet(t, filepath.Join(testdata, "models", "diabetes_input.csv"), dir)
	pq, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	header := "age,sex,bmi,bp,s1,s2,s3,s4,s5,s6\n"
	row := "0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.0\n"
	files := map[string][]byte{
		"truncated.parquet":   pq[:len(pq)/2],
		"wrong-magic.parquet": append([]byte("PAR2"), pq[4:]...),
		"garbage.parquet":     []byte(strings.Repeat("not parquet at all ", 50)),
		"empty.parquet":       {},
		"broken-quote.csv":    []byte(header + row + "0.1,\"0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.0\n" + row),
		"bad-utf8.csv":        []byte(header + row + "0.1,0.2,\xff\xfe,0.4,0.5,0.6,0.7,0.8,0.9,1.0\n"),
		"ragged.csv":          []byte(header + row + "0.1,0.2,0.3\n" + row),
		"empty.csv":           {},
	}
	want := map[string]struct {
		code int
		text string
	}{
		"truncated.parquet":   {6, "truncated.parquet"},
		"wrong-magic.parquet": {6, "wrong-magic.parquet"},
		"garbage.parquet":     {6, "garbage.parquet"},
		"empty.parquet":       {6, "empty.parquet"},
		"broken-quote.csv":    {5, "broken-quote.csv row 2"},
		"bad-utf8.csv":        {5, "bad-utf8.csv row 2"},
		"ragged.csv":          {5, "ragged.csv row 2: line 3: 3 fields, but the header has 10"},
		"empty.csv":           {5, "empty.csv: empty file"},
	}
	for name, data := range files {
		t.Run(name, func(t *testing.T) {
			in := filepath.Join(dir, name)
			if err := os.WriteFile(in, data, 0o644); err != nil {
				t.Fatal(err)
			}
			outDir := t.TempDir()
			code, stderr := cli(t, "score", "--model", linreg, "--in", in, "--out", filepath.Join(outDir, "p.csv"))
			w := want[name]
			if code != w.code || !strings.Contains(stderr, w.text) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, w.code, w.text)
			}
			if strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Errorf("want one line, got %q", stderr)
			}
			if entries, _ := os.ReadDir(outDir); len(entries) != 0 {
				t.Errorf("left %v behind", entries)
			}
		})
	}
}
