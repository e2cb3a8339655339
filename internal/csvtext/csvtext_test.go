package csvtext

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func batch(mem memory.Allocator, vals ...float64) arrow.RecordBatch {
	b := array.NewFloat64Builder(mem)
	defer b.Release()
	b.AppendValues(vals, nil)
	a := b.NewArray()
	defer a.Release()
	schema := arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Float64}}, nil)
	return array.NewRecordBatch(schema, []arrow.Array{a}, int64(len(vals)))
}

func text(mem memory.Allocator, lines ...string) *Rows {
	b := array.NewBinaryBuilder(mem, arrow.BinaryTypes.Binary)
	defer b.Release()
	for _, l := range lines {
		b.AppendString(l)
	}
	return &Rows{Delim: ',', Text: b.NewBinaryArray()}
}

func lines(r *Rows) []string {
	var out []string
	for i := range r.Text.Len() {
		out = append(out, string(r.Text.Value(i)))
	}
	return out
}

// TestLifetime: the text lives as long as the last batch that carries it,
// through slices and retains, and is freed with it.
func TestLifetime(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rows := text(mem, "1.50", "1e5", "007")
	rec := Attach(batch(mem, 1.5, 1e5, 7), rows, 1)
	rows.Text.Release() // the batch holds its own reference

	slice := rec.NewSlice(1, 3)
	rec.Retain()
	rec.Release()
	rec.Release()
	got, cols, ok := Of(slice)
	if !ok || cols != 1 || len(lines(got)) != 2 || lines(got)[0] != "1e5" || lines(got)[1] != "007" {
		t.Fatalf("slice carries %v (%d cols, %v)", lines(got), cols, ok)
	}
	without := got.Without(0, mem)
	if l := lines(without); len(l) != 1 || l[0] != "007" {
		t.Fatalf("without line 0: %v", l)
	}
	without.Text.Release()
	slice.Release()
}

// TestAttachRefusesMismatch: text that does not fit the batch is not attached.
func TestAttachRefusesMismatch(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rows := text(mem, "1", "2")
	defer rows.Text.Release()
	for _, c := range []struct {
		rec  arrow.RecordBatch
		cols int
	}{
		{batch(mem, 1, 2, 3), 1}, // three rows, two lines
		{batch(mem, 1, 2), 2},    // more text columns than the batch has
		{batch(mem, 1, 2), -1},
	} {
		got := Attach(c.rec, rows, c.cols)
		if _, _, ok := Of(got); ok {
			t.Errorf("text of 2 lines attached to %d rows as %d columns", c.rec.NumRows(), c.cols)
		}
		got.Release()
	}
}
