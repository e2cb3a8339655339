package writers

import (
	"bytes"
	"math"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

type bufPart struct{ bytes.Buffer }

func (p *bufPart) Commit() error { return nil }
func (p *bufPart) Abort() error  { return nil }

func streamBatch(mem memory.Allocator) arrow.RecordBatch {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "z", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "a", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "ok", Type: arrow.FixedWidthTypes.Boolean},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).AppendValues([]string{"q\"\n", ""}, []bool{true, false})
	b.Field(1).(*array.Float64Builder).AppendValues([]float64{0.1, math.NaN()}, nil)
	b.Field(2).(*array.BooleanBuilder).AppendValues([]bool{true, false}, nil)
	return b.NewRecordBatch()
}

func TestJSONLOutput(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := streamBatch(mem)
	defer rec.Release()
	var p bufPart
	w, err := CreateOn(&p, "out.jsonl", rec.Schema(), Options{Mem: mem})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	want := "{\"z\":\"q\\\"\\n\",\"a\":0.1,\"ok\":true}\n{\"z\":null,\"a\":null,\"ok\":false}\n"
	if p.String() != want {
		t.Fatalf("got %q\nwant %q", p.String(), want)
	}
}

func TestArrowOutputAndDiscard(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := streamBatch(mem)
	defer rec.Release()
	for _, commit := range []bool{true, false} {
		var p bufPart
		w, err := CreateOn(&p, "stdout", rec.Schema(), Options{Format: "arrow", Mem: mem})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(rec)
		w.Write(rec)
		if commit {
			w.Commit()
		} else {
			w.Abort()
		}
		r, err := ipc.NewReader(bytes.NewReader(p.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for r.Next() {
			n += int(r.RecordBatch().NumRows())
		}
		if commit && (r.Err() != nil || n != 4) {
			t.Fatalf("committed stream: %d rows, %v", n, r.Err())
		}
		if !commit && r.Err() == nil {
			t.Fatalf("an aborted stream reads as whole (%d rows)", n)
		}
		r.Release()
	}
}
