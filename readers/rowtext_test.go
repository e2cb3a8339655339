package readers

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/internal/bufpool"
	"github.com/mlbatch/mlbatch/internal/csvtext"
	"github.com/mlbatch/mlbatch/internal/mlerr"
)

// rowTextInput has what a copied row must survive: quoted delimiters, quotes and
// line breaks, CRLF endings, a blank line, NA markers, numbers that formatting
// would change (1.50, 1e5, 007, 17 digits) and no newline at the end.
const rowTextInput = "x,s,k\r\n" +
	"1.50,plain,007\r\n" +
	"1e5,\"a,b\",1\n" +
	"\n" +
	"NA,\"say \"\"hi\"\"\",2\n" +
	"0.10000000000000000555,\"two\r\nlines\",3\n" +
	"-0.0,,4\n" +
	"2.5,\"\",5"

var rowTextWant = []string{
	"1.50,plain,007",
	"1e5,\"a,b\",1",
	"NA,\"say \"\"hi\"\"\",2",
	"0.10000000000000000555,\"two\r\nlines\",3",
	"-0.0,,4",
	"2.5,\"\",5",
}

// readRowText reads text with RowText and returns every batch's lines, checking
// that each batch carries text for all of its rows.
func readRowText(t *testing.T, text string, opts Options, bufSize int, project ...string) ([]string, int) {
	t.Helper()
	pool := bufpool.New()
	pool.Poison = true
	mem := memory.NewCheckedAllocator(pool)
	defer mem.AssertSize(t, 0)
	opts.Mem, opts.RowText = mem, true
	r, err := newCSVReaderSize("t.csv", strings.NewReader(text), nil, opts.withDefaults("t.csv"), bufSize)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if len(project) > 0 {
		if err := r.Project(project); err != nil {
			t.Fatal(err)
		}
	}
	var lines []string
	batches := 0
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		batches++
		rows, cols, ok := csvtext.Of(rec)
		if ok {
			if cols != int(rec.NumCols()) || rows.Text.Len() != int(rec.NumRows()) || rows.Delim != opts.withDefaults("t.csv").Delimiter {
				t.Fatalf("text of %d cols, %d rows, delimiter %q for a batch of %d cols, %d rows", cols, rows.Text.Len(), rows.Delim, rec.NumCols(), rec.NumRows())
			}
			for i := range rows.Text.Len() {
				lines = append(lines, string(rows.Text.Value(i)))
			}
		}
		rec.Release()
	}
	return lines, batches
}

func TestCSVRowText(t *testing.T) {
	for _, bufSize := range []int{1 << 20, 7} {
		for _, batch := range []int{1, 2, 4, 100} {
			lines, batches := readRowText(t, rowTextInput, Options{BatchSize: batch}, bufSize)
			if strings.Join(lines, "|") != strings.Join(rowTextWant, "|") {
				t.Errorf("buffer %d, batch %d: text\n%q\nwant\n%q", bufSize, batch, lines, rowTextWant)
			}
			if want := (len(rowTextWant) + batch - 1) / batch; batches != want {
				t.Errorf("buffer %d, batch %d: %d batches, want %d", bufSize, batch, batches, want)
			}
		}
	}
}

// TestCSVRowTextProjected: a batch that lacks some of the file's columns has no
// text to copy.
func TestCSVRowTextProjected(t *testing.T) {
	lines, batches := readRowText(t, rowTextInput, Options{BatchSize: 4}, 1<<20, "x", "k")
	if len(lines) != 0 || batches != 2 {
		t.Fatalf("projected read gave text %q in %d batches", lines, batches)
	}
}

// TestCSVRowTextSkip: rows left out by OnBadRow (a bad cell, found when the batch
// is converted, and a ragged row, found when it is scanned) leave the text of the
// other rows aligned with them.
func TestCSVRowTextSkip(t *testing.T) {
	in := "x,s\n1,a\nzz,\"b\nc\"\n3,c\n4\n5,\"e,\"\nbad,f\n7,g\n"
	skipped := 0
	opts := Options{BatchSize: 3, Types: map[string]arrow.DataType{"x": arrow.PrimitiveTypes.Float64},
		OnBadRow: func(*mlerr.RowError, []string) error { skipped++; return nil }}
	lines, _ := readRowText(t, in, opts, 1<<20)
	want := []string{"1,a", "3,c", "5,\"e,\"", "7,g"}
	if strings.Join(lines, "|") != strings.Join(want, "|") || skipped != 3 {
		t.Fatalf("text %q after %d skipped rows, want %q after 3", lines, skipped, want)
	}
}

// TestCSVRowTextValues: the text rides along with the same parsed values as a
// read without it.
func TestCSVRowTextValues(t *testing.T) {
	_, plain, err := readAllCSV(t, rowTextInput, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, withText, err := readAllCSV(t, rowTextInput, Options{RowText: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(plain) != len(withText) {
		t.Fatalf("%d rows with text, %d without", len(withText), len(plain))
	}
	for i := range plain {
		for j := range plain[i] {
			if a, b := plain[i][j], withText[i][j]; a != b && !(a != a && b != b) {
				t.Errorf("row %d col %d: %v with text, %v without", i, j, b, a)
			}
		}
	}
}
