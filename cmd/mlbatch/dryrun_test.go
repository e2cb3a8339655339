package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDryRunExitCodes runs each bad setup twice, with --dry-run and for real, and
// expects the same exit code from both; the dry run must write no file at all,
// --summary-json included.
func TestDryRunExitCodes(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "existing.csv")
	if err := os.WriteFile(existing, []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Integers where the demo signature wants doubles: MLflow refuses int64 -> double.
	ints := filepath.Join(dir, "ints.csv")
	if err := os.WriteFile(ints, []byte("age,sex,bmi,bp,s1,s2,s3,s4,s5,s6\n1,2,3,4,5,6,7,8,9,10\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	intsParquet := csvToParquet(t, ints, dir)
	demo := []string{"--tracking-uri", demoTracking, "--model", demoURI}
	tree := filepath.Join(testdata, "models", "dtree_reg_diabetes")
	cases := []struct {
		name string
		want int
		args []string
		msg  string // in the dry run's stderr
	}{
		{"ok", 0, append(demo, "--in", demoInput), ""},
		{"ok parquet", 0, []string{"--model", tree, "--in", csvToParquet(t, demoInput, dir)}, ""},
		{"bad flag value", 2, append(demo, "--in", demoInput, "--batch-size", "0"), "--batch-size"},
		{"keep unknown column", 2, append(demo, "--in", demoInput, "--keep", "nosuch"), `no column "nosuch"`},
		{"model not found", 3, []string{"--model", filepath.Join(dir, "nomodel"), "--in", demoInput}, "nomodel"},
		{"unsupported class", 3, []string{"--model", filepath.Join(testdata, "bad", "models", "evil-os-system"), "--in", demoInput}, "mlbatch inspect"},
		{"missing column", 4, []string{"--model", tree, "--in", filepath.Join(testdata, "bad", "csv", "missing-column.csv")}, "9 columns"},
		{"parquet int64 for a double signature", 4, append(demo, "--in", intsParquet), `column "age"`},
		{"bad cell in the sample", 5, []string{"--model", tree, "--in", filepath.Join(testdata, "bad", "csv", "nonnumeric.csv")}, "row 137"},
		{"bad cell past --max-rejects", 5, []string{"--model", tree, "--in", filepath.Join(testdata, "bad", "csv", "nonnumeric.csv"), "--on-error", "skip", "--max-rejects", "0"}, "more than --max-rejects 0"},
		{"missing input", 6, append(demo, "--in", filepath.Join(dir, "nosuch.csv")), "nosuch.csv"},
		{"output folder missing", 6, append(demo, "--in", demoInput, "--out", filepath.Join(dir, "nodir", "p.csv")), "nodir"},
		{"output exists", 6, append(demo, "--in", demoInput, "--out", existing), "already exists"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sub := t.TempDir()
			args := append([]string{"score"}, c.args...)
			if !strings.Contains(strings.Join(args, " "), "--out ") {
				args = append(args, "--out", filepath.Join(sub, "preds.parquet"))
			}
			args = append(args, "--summary-json", filepath.Join(sub, "summary.json"), "-q")
			code, stdout, stderr := cliOut(t, append(args, "--dry-run")...)
			if code != c.want || !strings.Contains(stderr, c.msg) {
				t.Errorf("dry run: exit %d, want %d; stderr %q should hold %q", code, c.want, stderr, c.msg)
			}
			if ents, _ := os.ReadDir(sub); len(ents) != 0 {
				t.Errorf("the dry run wrote %s", ents[0].Name())
			}
			if code == 0 && !strings.Contains(stdout, "binding (") {
				t.Errorf("no plan:\n%s", stdout)
			}
			realCode, realErr := cli(t, args...)
			if realCode != code {
				t.Errorf("real run: exit %d, dry run %d (%s)", realCode, code, realErr)
			}
		})
	}
}

// TestDryRunPlan checks what the plan says about a Parquet input (rows from the
// footer), a CSV column re-read with the signature's type, and the outputs.
func TestDryRunPlan(t *testing.T) {
	dir := t.TempDir()
	tree := filepath.Join(testdata, "models", "dtree_reg_diabetes")
	pq := csvToParquet(t, demoInput, dir)
	code, out, stderr := cliOut(t, "score", "--dry-run", "--model", tree, "--in", pq, "--out", filepath.Join(dir, "p.csv"), "--keep", "age", "--workers", "3", "--batch-size", "100")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"estimator   sklearn.tree._classes.DecisionTreeRegressor",
		"(parquet, ", ", 442 rows, 10 columns)",
		"workers     3", "batch size  100",
		"  1   (position 1)   float64  <- age     float64    none",
		"output columns (2):", "  age         float64  kept from the input", "  prediction  float64  prediction",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}

	// A signature column inferred as int64 in a CSV is parsed as the signature's double.
	csvIn := filepath.Join(dir, "ints.csv")
	if err := os.WriteFile(csvIn, []byte("age,sex,bmi,bp,s1,s2,s3,s4,s5,s6\n1,2,3,4,5,6,7,8,9,10\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, stderr = cliOut(t, "score", "--dry-run", "--tracking-uri", demoTracking, "--model", demoURI, "--in", csvIn, "--out", filepath.Join(dir, "p.parquet"), "--on-error", "skip")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"1   age          float64  <- age     int64      CSV text parsed as float64 (the signature's type; inferred int64)",
		"run id      d050509c3eccff80e45131fc149d7535",
		"rejects     " + filepath.Join(dir, "p.rejects.parquet") + " (parquet)",
		"on error    skip (rows of the sample it would reject: 0)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
}
