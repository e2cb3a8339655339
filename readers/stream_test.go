package readers

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/internal/mlerr"
)

func readAllText(t *testing.T, r Reader) (rows [][]string, err error) {
	t.Helper()
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		for i := range int(rec.NumRows()) {
			var row []string
			for _, c := range rec.Columns() {
				if c.IsNull(i) {
					row = append(row, "null")
				} else {
					row = append(row, c.ValueStr(i))
				}
			}
			rows = append(rows, row)
		}
		rec.Release()
	}
}

func TestJSONLInference(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	in := `{"i": 1, "f": 1, "b": true, "s": "x", "n": null}

{"i": 2, "f": 2.5, "b": false, "s": 3, "o": {"k": [1]}}
{"f": -1e3, "s": "y\u00e9"}
`
	r, err := OpenStream("in.jsonl", strings.NewReader(in), nil, Options{Format: "jsonl", Mem: mem})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got := r.Schema().String(); !strings.Contains(got, "i: type=int64") || !strings.Contains(got, "f: type=float64") ||
		!strings.Contains(got, "b: type=bool") || !strings.Contains(got, "s: type=utf8") || !strings.Contains(got, "n: type=float64") ||
		!strings.Contains(got, "o: type=utf8") {
		t.Fatalf("schema %s", got)
	}
	rows, err := readAllText(t, r)
	if err != nil {
		t.Fatal(err)
	}
	want := `[[1 1 true x null null] [2 2.5 false 3 null {"k": [1]}] [null -1000 null yé null null]]`
	if got := fmtRows(rows); got != want {
		t.Fatalf("rows %s\nwant %s", got, want)
	}
}

func fmtRows(rows [][]string) string {
	var b strings.Builder
	b.WriteString("[")
	for i, r := range rows {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString("[" + strings.Join(r, " ") + "]")
	}
	b.WriteString("]")
	return b.String()
}

func TestJSONLErrorsAndSkip(t *testing.T) {
	in := "{\"a\": 1, \"b\": \"x\"}\n{\"a\": 2}\n{\"a\": \"two\"}\nnot json\n{\"a\": 5, \"c\": 1}\n{\"a\": 6}\n"
	// Batches of 2: the bad rows are in the second and third batches.
	r, _ := OpenStream("in.jsonl", strings.NewReader(in), nil, Options{Format: "jsonl", BatchSize: 2})
	_, err := readAllText(t, r)
	var re *mlerr.RowError
	if !errors.As(err, &re) || re.Row != 3 || re.Column != "a" || !strings.Contains(err.Error(), "inferred from the first 2 rows") {
		t.Fatalf("got %v", err)
	}
	r.Close()

	var bad []int64
	r, _ = OpenStream("in.jsonl", strings.NewReader(in), nil, Options{Format: "jsonl", BatchSize: 2,
		OnBadRow: func(e *mlerr.RowError, _ []string) error { bad = append(bad, e.Row); return nil }})
	defer r.Close()
	var kept []int64
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		nums := r.(RowNumberer).RowNumbers()
		if nums == nil {
			s := r.(Scanner).RowsScanned()
			for k := s - rec.NumRows() + 1; k <= s; k++ {
				nums = append(nums, k)
			}
		}
		kept = append(kept, nums...)
		rec.Release()
	}
	slices.Sort(bad) // reported as found: lines that do not parse before values that do not fit
	if got := fmt.Sprint(kept, bad); got != "[1 2 6] [3 4 5]" {
		t.Fatalf("kept and rejected rows %s", got)
	}
}

func TestJSONLAndCSVSetTypes(t *testing.T) {
	for _, c := range []struct{ format, in string }{
		{"jsonl", "{\"a\": 1, \"b\": 2}\n{\"a\": 3, \"b\": 4}\n"},
		{"csv", "a,b\n1,2\n3,4\n"},
	} {
		r, err := OpenStream("in", strings.NewReader(c.in), nil, Options{Format: c.format})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Project([]string{"b"}); err != nil {
			t.Fatal(err)
		}
		if err := r.(Retyper).SetTypes(map[string]arrow.DataType{"b": arrow.PrimitiveTypes.Float64}); err != nil {
			t.Fatal(err)
		}
		rec, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if f, ok := rec.Column(0).(*array.Float64); !ok || rec.NumCols() != 1 || f.Value(1) != 4 {
			t.Fatalf("%s: batch %v", c.format, rec)
		}
		rec.Release()
		if err := r.(Retyper).SetTypes(nil); err == nil {
			t.Errorf("%s: SetTypes after Next", c.format)
		}
		r.Close()
	}
}

func TestArrowStreamReader(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Int64}, {Name: "s", Type: arrow.BinaryTypes.String}}, nil)
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(schema))
	for k := range 3 {
		b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		b.Field(0).(*array.Int64Builder).AppendValues([]int64{int64(2 * k), int64(2*k + 1)}, nil)
		b.Field(1).(*array.StringBuilder).AppendValues([]string{"a", "b"}, nil)
		rec := b.NewRecordBatch()
		w.Write(rec)
		rec.Release()
		b.Release()
	}
	w.Close()
	data := buf.Bytes()
	r, err := OpenStream("in.arrows", bytes.NewReader(data), nil, Options{Format: "arrow", Mem: mem})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Project([]string{"x"}); err != nil {
		t.Fatal(err)
	}
	rows, err := readAllText(t, r)
	r.Close()
	if err != nil || fmtRows(rows) != "[[0] [1] [2] [3] [4] [5]]" {
		t.Fatalf("rows %v, %v", rows, err)
	}
	// Cut streams and garbage are I/O errors naming the input, never panics.
	for _, cut := range []int{0, 3, 20, len(data) / 2, len(data) - 9} {
		r, err := OpenStream("cut.arrows", bytes.NewReader(data[:cut]), nil, Options{Format: "arrow", Mem: mem})
		if err == nil {
			_, err = readAllText(t, r)
			r.Close()
		}
		if cut < len(data)-8 && (mlerr.KindOf(err) != mlerr.IO || !strings.Contains(err.Error(), "cut.arrows")) {
			t.Errorf("cut at %d: %v", cut, err)
		}
	}
}

// FuzzJSONLReader: any input gives an error or valid batches, never a panic.
func FuzzJSONLReader(f *testing.F) {
	for _, s := range []string{
		"{\"a\": 1}\n{\"a\": 2.5}\n", "{\"a\": \"x\", \"a\": 1}\n", "[1]\n", "{\"a\": 1}{\"b\": 2}\n",
		"{\"a\": 99999999999999999999}\n", "{\"a\":\"\xff\"}\n", "\n\n{}\n", "{\"a\": {\"b\": [1, {\"c\": null}]}}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		r, err := OpenStream("fuzz.jsonl", bytes.NewReader(data), nil, Options{Format: "jsonl", BatchSize: 3, Mem: mem})
		if err == nil {
			checkBatches(t, r)
			r.Close()
		}
		mem.AssertSize(t, 0)
	})
}

// FuzzArrowStreamReader: corrupt Arrow streams are errors, never panics.
func FuzzArrowStreamReader(f *testing.F) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Float64}}, nil)
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(schema))
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	b.Field(0).(*array.Float64Builder).AppendValues([]float64{1, 2, 3}, nil)
	rec := b.NewRecordBatch()
	w.Write(rec)
	w.Close()
	rec.Release()
	b.Release()
	f.Add(buf.Bytes())
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 8, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := OpenStream("fuzz.arrows", bytes.NewReader(data), nil, Options{Format: "arrow"})
		if err == nil {
			checkBatches(t, r)
			r.Close()
		}
	})
}
