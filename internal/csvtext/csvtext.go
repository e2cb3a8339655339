// Package csvtext carries the text of CSV input rows along with the record batch
// read from them, so that a CSV-to-CSV run writes the input columns it keeps as
// the very bytes it read instead of parsing and formatting every number again.
//
// Formatting floats back to text was the largest cost of a CSV-to-CSV run (about
// a third of its CPU time on 13 float64 columns), and copying the text is also
// the more faithful output: "1.50", "1e5", "007" and "NA" come out as they went
// in, and a 17-digit decimal is never re-rounded.
//
// The reader attaches the text (readers.Options.RowText); batch.Run keeps it on
// the output batch when the output starts with every input column in file order;
// the CSV writer uses it when its delimiter is the input's. Any other batch is
// formatted as usual, so the text is an optimisation that never changes which
// values are written.
package csvtext

import (
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Rows is the text of a batch's rows: Text.Value(i) is row i without its line
// ending (a quoted field may still hold line breaks), in the CSV dialect of Delim.
type Rows struct {
	Delim byte
	Text  *array.Binary
}

// Record is a record batch whose first Cols columns were read from Rows: row i
// of those columns is exactly Rows.Text.Value(i). It holds a reference to the
// text until its own last reference is released.
type Record struct {
	arrow.RecordBatch
	Rows *Rows
	Cols int
	refs atomic.Int64
}

// Attach returns rec carrying the text of its first cols columns. It takes over
// rec's reference and retains rows.Text; rec is returned unchanged when the text
// does not fit it.
func Attach(rec arrow.RecordBatch, rows *Rows, cols int) arrow.RecordBatch {
	if rows == nil || rows.Text == nil || rows.Text.Len() != int(rec.NumRows()) || cols < 0 || cols > int(rec.NumCols()) {
		return rec
	}
	rows.Text.Retain()
	r := &Record{RecordBatch: rec, Rows: rows, Cols: cols}
	r.refs.Store(1)
	return r
}

// Of returns the text carried by rec, if any. It stays valid while rec is.
func Of(rec arrow.RecordBatch) (*Rows, int, bool) {
	r, ok := rec.(*Record)
	if !ok {
		return nil, 0, false
	}
	return r.Rows, r.Cols, true
}

func (r *Record) Retain() {
	r.refs.Add(1)
	r.RecordBatch.Retain()
}

func (r *Record) Release() {
	r.RecordBatch.Release()
	if r.refs.Add(-1) == 0 {
		r.Rows.Text.Release()
	}
}

// NewSlice slices the text with the batch, so writers that split batches keep it.
func (r *Record) NewSlice(i, j int64) arrow.RecordBatch {
	text := array.NewSlice(r.Rows.Text, i, j).(*array.Binary)
	defer text.Release()
	return Attach(r.RecordBatch.NewSlice(i, j), &Rows{Delim: r.Rows.Delim, Text: text}, r.Cols)
}

// Without returns a copy of the text with line i removed (a row taken out of the
// batch). The caller releases its Text.
func (r *Rows) Without(i int, mem memory.Allocator) *Rows {
	b := array.NewBinaryBuilder(mem, arrow.BinaryTypes.Binary)
	defer b.Release()
	n := r.Text.Len()
	b.Reserve(n - 1)
	for k := range n {
		if k != i {
			b.Append(r.Text.Value(k))
		}
	}
	return &Rows{Delim: r.Delim, Text: b.NewBinaryArray()}
}
