package readers

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/internal/mlerr"
)

// TestCSVSkipBadRows: with OnBadRow, bad cells, invalid UTF-8 and ragged rows are
// reported with their file row and raw fields and left out; the good rows come
// through with their file row numbers, across batch boundaries.
func TestCSVSkipBadRows(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	path := filepath.Join(t.TempDir(), "in.csv")
	data := "x,s\n1,a\n2,b\nzz,c\n4\n5,e\n6,\xff\n7,g\n8,h,extra\n9,i\n"
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	type bad struct {
		row    int64
		col    string
		fields string
	}
	var bads []bad
	r, err := Open(path, Options{BatchSize: 3, Mem: mem, Types: map[string]arrow.DataType{"x": arrow.PrimitiveTypes.Float64},
		OnBadRow: func(e *mlerr.RowError, fields []string) error {
			if e.File != path {
				t.Errorf("file %q", e.File)
			}
			bads = append(bads, bad{e.Row, e.Column, strings.Join(fields, "|")})
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var xs []float64
	var rows []int64
	next := int64(1)
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		nums := r.(RowNumberer).RowNumbers()
		for i := range int(rec.NumRows()) {
			xs = append(xs, rec.Column(0).(*array.Float64).Value(i))
			if nums != nil {
				rows = append(rows, nums[i])
				next = nums[i] + 1
			} else {
				rows = append(rows, next)
				next++
			}
		}
		rec.Release()
	}
	wantX := []float64{1, 2, 5, 7, 9}
	wantRows := []int64{1, 2, 5, 7, 9}
	if len(xs) != len(wantX) {
		t.Fatalf("got x %v rows %v, want %v", xs, rows, wantX)
	}
	for i := range wantX {
		if xs[i] != wantX[i] || rows[i] != wantRows[i] {
			t.Errorf("row %d: x %v at file row %d, want %v at %d", i, xs[i], rows[i], wantX[i], wantRows[i])
		}
	}
	wantBad := []bad{{3, "x", "zz|c"}, {4, "", "4"}, {6, "s", "6|\xff"}, {8, "", "8|h|extra"}}
	if len(bads) != len(wantBad) {
		t.Fatalf("bad rows %+v, want %+v", bads, wantBad)
	}
	for i := range wantBad {
		if bads[i] != wantBad[i] {
			t.Errorf("bad %d: %+v, want %+v", i, bads[i], wantBad[i])
		}
	}
}

// TestCSVSkipStops: an error from OnBadRow stops the reader with that error.
func TestCSVSkipStops(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.csv")
	if err := os.WriteFile(path, []byte("x\n1\nzz\n3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stop := errors.New("too many")
	r, err := Open(path, Options{Types: map[string]arrow.DataType{"x": arrow.PrimitiveTypes.Int64},
		OnBadRow: func(*mlerr.RowError, []string) error { return stop }})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Next(); !errors.Is(err, stop) {
		t.Fatalf("got %v", err)
	}
}
