package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// textInput rewrites the diabetes tree input so that formatting its values again
// would change every cell: numbers in 17-digit E notation (the same float64s),
// a note column with quoted delimiters, quotes and line breaks, CRLF endings.
// nanRow, when >= 0, gets an NA in s1 (the forest refuses missing values). It
// returns the header and the data lines as written, without their line endings.
func textInput(t *testing.T, path string, delim string, nanRow int) (string, []string) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(testdata, "models", "diabetes_tree_input.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(strings.TrimSpace(string(src)), "\n")
	header := strings.ReplaceAll(rows[0], ",", delim) + delim + "note"
	var lines []string
	for i, row := range rows[1:] {
		cells := strings.Split(row, ",")
		for j, c := range cells {
			v, err := strconv.ParseFloat(c, 64)
			if err != nil {
				t.Fatal(err)
			}
			cells[j] = strconv.FormatFloat(v, 'E', 16, 64)
			if i == nanRow && j == 4 {
				cells[j] = "NA"
			}
		}
		note := "plain"
		switch i % 3 {
		case 1:
			note = `"row ""` + strconv.Itoa(i) + `"", a` + delim + "b\r\nsecond line\""
		case 2:
			note = ""
		}
		lines = append(lines, strings.Join(cells, delim)+delim+note)
	}
	body := header + "\r\n" + strings.Join(lines, "\r\n") + "\r\n"
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return header, lines
}

// outputText checks that out is header plus, for every line, the line itself
// followed by the output columns, and returns the text after each line.
func outputText(t *testing.T, out []byte, header string, lines []string) []string {
	t.Helper()
	if !bytes.HasPrefix(out, []byte(header+",")) {
		t.Fatalf("output starts %q, want the input header %q", out[:min(len(out), 200)], header)
	}
	pos := bytes.IndexByte(out, '\n') + 1
	var rest []string
	for i, line := range lines {
		if !bytes.HasPrefix(out[pos:], []byte(line+",")) {
			t.Fatalf("output row %d is %q, want it to start with the input's text %q", i+1, out[pos:min(len(out), pos+len(line)+40)], line)
		}
		pos += len(line) + 1
		nl := bytes.IndexByte(out[pos:], '\n')
		if nl < 0 {
			t.Fatalf("output row %d has no line end", i+1)
		}
		rest = append(rest, string(out[pos:pos+nl]))
		pos += nl + 1
	}
	if pos != len(out) {
		t.Fatalf("%d bytes after the last row: %q", len(out)-pos, out[pos:min(len(out), pos+200)])
	}
	return rest
}

// wantForest is sklearn's prediction for every input row but skip.
func wantForest(t *testing.T, skip int) []string {
	want := readTable(t, filepath.Join(testdata, "models", "rf_reg_diabetes", "expected.csv")).cols["prediction"]
	if skip >= 0 {
		want = slices.Delete(slices.Clone(want), skip, skip+1)
	}
	return want
}

func samePredictions(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d predictions, want %d", len(got), len(want))
	}
	for i := range want {
		g, err1 := strconv.ParseFloat(got[i], 64)
		w, err2 := strconv.ParseFloat(want[i], 64)
		if err1 != nil || err2 != nil || g != w {
			t.Fatalf("row %d: prediction %q, scikit-learn %q", i+1, got[i], want[i])
		}
	}
}

// TestCSVCopiesInputText: a CSV-to-CSV run writes each input row's text as it
// was read, followed by the predictions, which equal scikit-learn's, whatever
// the batches, workers and rows taken out; a run that cannot copy the text (a
// different delimiter, a subset of the columns) formats the values instead.
func TestCSVCopiesInputText(t *testing.T) {
	model := filepath.Join(testdata, "models", "rf_reg_diabetes")
	dir := t.TempDir()
	in := filepath.Join(dir, "in.csv")
	header, lines := textInput(t, in, ",", -1)

	t.Run("file", func(t *testing.T) {
		out := filepath.Join(dir, "file.csv")
		if code, stderr := cli(t, "score", "--model", model, "--in", in, "--out", out, "--batch-size", "7", "--workers", "2", "-q"); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		samePredictions(t, outputText(t, data, header, lines), wantForest(t, -1))
	})

	t.Run("folder parts", func(t *testing.T) {
		out := filepath.Join(dir, "parts") + "/"
		if code, stderr := cli(t, "score", "--model", model, "--in", in, "--out", out, "--out-format", "csv",
			"--batch-size", "64", "--max-rows-per-file", "50", "-q"); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		parts, _ := filepath.Glob(filepath.Join(out, "part-*.csv"))
		slices.Sort(parts)
		if len(parts) != (len(lines)+49)/50 {
			t.Fatalf("%d parts for %d rows at 50 a file", len(parts), len(lines))
		}
		var preds []string
		for k, p := range parts {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			preds = append(preds, outputText(t, data, header, lines[50*k:min(len(lines), 50*(k+1))])...)
		}
		samePredictions(t, preds, wantForest(t, -1))
	})

	t.Run("folder of files", func(t *testing.T) {
		folder := filepath.Join(dir, "in")
		if err := os.MkdirAll(folder, 0o755); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"a.csv", "b.csv"} {
			if err := os.WriteFile(filepath.Join(folder, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		out := filepath.Join(dir, "folder.csv")
		if code, stderr := cli(t, "score", "--model", model, "--in", folder, "--out", out, "--batch-size", "100", "-q"); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		got, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		want := wantForest(t, -1)
		samePredictions(t, outputText(t, got, header, append(slices.Clone(lines), lines...)), append(slices.Clone(want), want...))
	})

	t.Run("row refused by the model", func(t *testing.T) {
		in := filepath.Join(dir, "nan.csv")
		const bad = 10 // in the middle of the second batch of 7
		header, lines := textInput(t, in, ",", bad)
		out := filepath.Join(dir, "nan-out.csv")
		code, stderr := cli(t, "score", "--model", model, "--in", in, "--out", out, "--batch-size", "7",
			"--on-error", "skip", "-q")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		rej := readTable(t, filepath.Join(dir, "nan-out.rejects.csv"))
		if rej.rows != 1 || rej.cols["row"][0] != strconv.Itoa(bad+1) {
			t.Fatalf("rejects %+v, want data row %d", rej, bad+1)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		kept := slices.Delete(slices.Clone(lines), bad, bad+1)
		samePredictions(t, outputText(t, data, header, kept), wantForest(t, bad))
	})

	formatted := func(t *testing.T, out string) {
		t.Helper()
		got := readTable(t, out)
		if got.rows != len(lines) {
			t.Fatalf("%d rows, want %d", got.rows, len(lines))
		}
		for i, line := range lines[:20] {
			want, _ := strconv.ParseFloat(strings.FieldsFunc(line, func(r rune) bool { return r == ',' || r == '\t' })[0], 64)
			if g := got.cols["age"][i]; g != strconv.FormatFloat(want, 'g', -1, 64) {
				t.Fatalf("row %d: age %q, want %v formatted as pandas writes it", i+1, g, want)
			}
		}
		samePredictions(t, got.cols["prediction"], wantForest(t, -1))
	}
	t.Run("columns subset", func(t *testing.T) {
		out := filepath.Join(dir, "keep.csv")
		if code, stderr := cli(t, "score", "--model", model, "--in", in, "--out", out, "--keep", "age,note", "-q"); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		formatted(t, out)
	})
	t.Run("other delimiter", func(t *testing.T) {
		tsv := filepath.Join(dir, "in.tsv")
		textInput(t, tsv, "\t", -1)
		out := filepath.Join(dir, "from-tsv.csv")
		if code, stderr := cli(t, "score", "--model", model, "--in", tsv, "--out", out, "-q"); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		formatted(t, out)
	})
}
