package batch

import (
	"fmt"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/internal/mlerr"
)

// Reject is an input row that was not scored, with the reason and its values.
type Reject struct {
	// File is the input file the row came from.
	File string
	// Row is the 1-based data row in the input file.
	Row int64
	// Reason says what was wrong, e.g. `column "age": value "abc": not a number`.
	Reason string
	// Values holds the row's values as text, one per RejectSchema input column;
	// Null marks the ones that were missing.
	Values []string
	Null   []bool
}

// RejectSchema is the layout of a rejects file: the row number, the reason, then
// every input column as text (the values as the input held them).
func RejectSchema(input *arrow.Schema) *arrow.Schema {
	return rejectSchema(input, false)
}

// RejectSchemaFiles is RejectSchema with a first column, file, naming the input
// file of each row: the layout for a dataset of several files.
func RejectSchemaFiles(input *arrow.Schema) *arrow.Schema {
	return rejectSchema(input, true)
}

func rejectSchema(input *arrow.Schema, withFile bool) *arrow.Schema {
	fields := []arrow.Field{
		{Name: "row", Type: arrow.PrimitiveTypes.Int64},
		{Name: "reason", Type: arrow.BinaryTypes.String},
	}
	if withFile {
		fields = append([]arrow.Field{{Name: "file", Type: arrow.BinaryTypes.String}}, fields...)
	}
	for _, f := range input.Fields() {
		name := f.Name
		if name == "row" || name == "reason" || (withFile && name == "file") {
			name = "input_" + name
		}
		fields = append(fields, arrow.Field{Name: name, Type: arrow.BinaryTypes.String, Nullable: true})
	}
	return arrow.NewSchema(fields, nil)
}

// RejectReason is a row error's message without the file and row, which the
// rejects file has in its own columns.
func RejectReason(e *mlerr.RowError) string {
	c := *e
	c.File, c.Row = "", 0
	return c.Error()
}

// RejectFromFields builds a reject from a row's raw fields (CSV), which are in
// the input schema's column order. A ragged row keeps what fits and notes the rest.
func RejectFromFields(e *mlerr.RowError, fields []string, ncols int) Reject {
	r := Reject{File: e.File, Row: e.Row, Reason: RejectReason(e), Values: make([]string, ncols), Null: make([]bool, ncols)}
	for j := range ncols {
		if j < len(fields) {
			r.Values[j] = fields[j]
		} else {
			r.Null[j] = true
		}
	}
	if len(fields) > ncols && ncols > 0 {
		r.Values[ncols-1] = strings.Join(fields[ncols-1:], ",")
	}
	return r
}

// RejectSink receives rejected rows in input order.
type RejectSink interface {
	WriteRejects([]Reject) error
}

// RejectWriter writes rejects as record batches to a Sink with RejectSchema.
type RejectWriter struct {
	Dst    Sink
	Schema *arrow.Schema // RejectSchema(input)
	Mem    memory.Allocator
}

// WriteRejects implements RejectSink.
func (w *RejectWriter) WriteRejects(rs []Reject) error {
	if len(rs) == 0 {
		return nil
	}
	mem := w.Mem
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	b := array.NewRecordBuilder(mem, w.Schema)
	defer b.Release()
	first := 0
	if w.Schema.NumFields() > 0 && w.Schema.Field(0).Name == "file" {
		first = 1 // RejectSchemaFiles
	}
	ncols := len(w.Schema.Fields()) - 2 - first
	for _, r := range rs {
		if first == 1 {
			b.Field(0).(*array.StringBuilder).Append(r.File)
		}
		b.Field(first).(*array.Int64Builder).Append(r.Row)
		b.Field(first + 1).(*array.StringBuilder).Append(r.Reason)
		for j := range ncols {
			sb := b.Field(first + 2 + j).(*array.StringBuilder)
			if j >= len(r.Values) || (j < len(r.Null) && r.Null[j]) {
				sb.AppendNull()
			} else {
				sb.Append(r.Values[j])
			}
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	return w.Dst.Write(rec)
}

// MaxRejects is the --max-rejects policy: a count, or a fraction of rows read.
type MaxRejects struct {
	Count    int64   // -1: no count limit
	Fraction float64 // 0: no fraction limit
}

// ParseMaxRejects reads "100", "0.01" or "1%"; empty means no limit.
func ParseMaxRejects(s string) (MaxRejects, error) {
	m := MaxRejects{Count: -1}
	s = strings.TrimSpace(s)
	if s == "" {
		return m, nil
	}
	if p, ok := strings.CutSuffix(s, "%"); ok {
		var f float64
		if _, err := fmt.Sscanf(p, "%g", &f); err != nil || f < 0 || f > 100 {
			return m, fmt.Errorf("--max-rejects %q: want a count, a fraction below 1, or a percentage", s)
		}
		m.Fraction = f / 100
		if f == 0 {
			m.Count = 0
		}
		return m, nil
	}
	var n int64
	if _, err := fmt.Sscanf(s, "%d", &n); err == nil && fmt.Sprint(n) == s && n >= 0 {
		m.Count = n
		return m, nil
	}
	var f float64
	if _, err := fmt.Sscanf(s, "%g", &f); err == nil && f >= 0 && f < 1 {
		if f == 0 {
			m.Count = 0
		}
		m.Fraction = f
		return m, nil
	}
	return m, fmt.Errorf("--max-rejects %q: want a count, a fraction below 1, or a percentage", s)
}

// Check reports whether rejected rows out of read break the policy.
func (m MaxRejects) Check(rejected, read int64) error {
	if m.Count >= 0 && rejected > m.Count {
		return mlerr.Errorf(mlerr.Data, "%d rows rejected, more than --max-rejects %d", rejected, m.Count)
	}
	if m.Fraction > 0 && read > 0 && float64(rejected) > m.Fraction*float64(read) {
		return mlerr.Errorf(mlerr.Data, "%d of %d rows rejected (%.2f%%), more than --max-rejects %g%%",
			rejected, read, 100*float64(rejected)/float64(read), 100*m.Fraction)
	}
	return nil
}

func sortRejects(rs []Reject) {
	sort.SliceStable(rs, func(a, b int) bool { return rs[a].Row < rs[b].Row })
}
