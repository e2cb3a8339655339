package lightgbm

import (
	"encoding/csv"
	"math"
	"os"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// readCSV reads a CSV file with a header.
func readCSV(t testing.TB, path string) ([]string, [][]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(recs) == 0 {
		t.Fatalf("%s: empty", path)
	}
	return recs[0], recs[1:]
}

// floatColumns turns CSV cells into one float64 Arrow array per column; empty
// cells are nulls. The caller releases the arrays.
func floatColumns(t testing.TB, mem memory.Allocator, header []string, rows [][]string) []arrow.Array {
	t.Helper()
	out := make([]arrow.Array, len(header))
	for j := range header {
		b := array.NewFloat64Builder(mem)
		for i, r := range rows {
			if r[j] == "" {
				b.AppendNull()
				continue
			}
			v, err := strconv.ParseFloat(r[j], 64)
			if err != nil {
				t.Fatalf("row %d column %s: %v", i+1, header[j], err)
			}
			b.Append(v)
		}
		out[j] = b.NewArray()
		b.Release()
	}
	return out
}

func parseCell(t testing.TB, s string) float64 {
	t.Helper()
	if s == "" {
		return math.NaN()
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("golden value %q: %v", s, err)
	}
	return v
}

// close reports whether got is within 1e-9 of want, relative (NaN equals NaN).
func closeTo(got, want float64) bool {
	if got == want || (math.IsNaN(got) && math.IsNaN(want)) {
		return true
	}
	return math.Abs(got-want) <= 1e-9*math.Abs(want)
}

func releaseAll(as []arrow.Array) {
	for _, a := range as {
		if a != nil {
			a.Release()
		}
	}
}
