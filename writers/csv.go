package writers

import (
	"bytes"
	"io"
	"math"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/mlbatch/mlbatch/internal/csvtext"
)

// CSV output follows pandas.DataFrame.to_csv(index=False), so a file written here
// reads back (with pandas or with readers) to the same values:
//   - a header row with the column names, then one line per row, ending in \n;
//   - floats in Python's repr form, the shortest text that round-trips exactly:
//     0.1, 100.0, 1e-05, 1.5e+16 (scientific below 1e-4 and from 1e16 on); NaN and
//     nulls are empty cells; infinities are inf and -inf;
//   - integers in decimal; booleans as True and False (what pandas writes);
//   - strings quoted only when they hold the delimiter, a quote, \r or \n (RFC 4180,
//     quotes doubled), as Python's csv.QUOTE_MINIMAL does, except that pandas
//     leaves a lone \r unquoted (and then loses it when reading back); an empty
//     cell that is the only field of its row is written "" so the row is not a
//     blank line;
//   - other types use Arrow's text form of the value (ValueStr).
//
// A batch that carries the text of the CSV rows its leading columns were read from
// (package csvtext) has that text copied instead: see the package's doc.
//
// The encoder formats into one reused byte buffer and writes it in large chunks: no
// allocation per cell.

const csvFlushSize = 1 << 20

type csvEncoder struct {
	w      io.Writer
	comma  byte
	buf    []byte
	header bool
	schema *arrow.Schema
	cols   []csvCol
}

type csvKind uint8

const (
	csvFloat64 csvKind = iota
	csvFloat32
	csvInt
	csvUint
	csvBool
	csvString
	csvOther
)

// csvCol is one column of the batch being written, with its values at hand.
type csvCol struct {
	kind csvKind
	arr  arrow.Array
	f64  []float64
	f32  []float32
	i64  func(i int) int64
	u64  func(i int) uint64
	b    *array.Boolean
	str  interface{ Value(int) string }
}

func newCSVEncoder(w io.Writer, schema *arrow.Schema, comma byte) *csvEncoder {
	return &csvEncoder{w: w, comma: comma, schema: schema, buf: make([]byte, 0, csvFlushSize+64<<10)}
}

func (e *csvEncoder) flush() error {
	if len(e.buf) == 0 {
		return nil
	}
	_, err := e.w.Write(e.buf)
	e.buf = e.buf[:0]
	return err
}

func (e *csvEncoder) writeHeader() {
	e.header = true
	for i, f := range e.schema.Fields() {
		if i > 0 {
			e.buf = append(e.buf, e.comma)
		}
		e.buf = e.appendString(e.buf, f.Name, e.schema.NumFields() == 1)
	}
	e.buf = append(e.buf, '\n')
}

func intGetter[T int8 | int16 | int32 | int64](vals []T) func(int) int64 {
	return func(i int) int64 { return int64(vals[i]) }
}

func uintGetter[T uint8 | uint16 | uint32 | uint64](vals []T) func(int) uint64 {
	return func(i int) uint64 { return uint64(vals[i]) }
}

func (e *csvEncoder) bind(rec arrow.RecordBatch) {
	e.cols = e.cols[:0]
	for _, a := range rec.Columns() {
		c := csvCol{kind: csvOther, arr: a}
		switch a := a.(type) {
		case *array.Float64:
			c.kind, c.f64 = csvFloat64, a.Float64Values()
		case *array.Float32:
			c.kind, c.f32 = csvFloat32, a.Float32Values()
		case *array.Int64:
			c.kind, c.i64 = csvInt, intGetter(a.Int64Values())
		case *array.Int32:
			c.kind, c.i64 = csvInt, intGetter(a.Int32Values())
		case *array.Int16:
			c.kind, c.i64 = csvInt, intGetter(a.Int16Values())
		case *array.Int8:
			c.kind, c.i64 = csvInt, intGetter(a.Int8Values())
		case *array.Uint64:
			c.kind, c.u64 = csvUint, uintGetter(a.Uint64Values())
		case *array.Uint32:
			c.kind, c.u64 = csvUint, uintGetter(a.Uint32Values())
		case *array.Uint16:
			c.kind, c.u64 = csvUint, uintGetter(a.Uint16Values())
		case *array.Uint8:
			c.kind, c.u64 = csvUint, uintGetter(a.Uint8Values())
		case *array.Boolean:
			c.kind, c.b = csvBool, a
		case *array.String:
			c.kind, c.str = csvString, a
		case *array.LargeString:
			c.kind, c.str = csvString, a
		case *array.StringView:
			c.kind, c.str = csvString, a
		}
		e.cols = append(e.cols, c)
	}
}

func (e *csvEncoder) write(rec arrow.RecordBatch) error {
	if !e.header {
		e.writeHeader()
	}
	// A batch that carries the text of its leading columns, in this file's
	// delimiter, has that text copied instead of its values formatted (package
	// csvtext): the text of a row ends before a delimiter or the line's end in
	// either dialect, so the line stays well formed.
	text, textCols, hasText := csvtext.Of(rec)
	if !hasText || text.Delim != e.comma || textCols == 0 {
		text, textCols = nil, 0
	}
	e.bind(rec)
	defer func() { e.cols = e.cols[:0] }()
	single := len(e.cols) == 1
	n := int(rec.NumRows())
	for i := 0; i < n; i++ {
		first := 0
		if text != nil {
			e.buf = append(e.buf, text.Text.Value(i)...)
			first = textCols
		}
		for j := first; j < len(e.cols); j++ {
			if j > 0 {
				e.buf = append(e.buf, e.comma)
			}
			c := &e.cols[j]
			if c.arr.IsNull(i) {
				if single {
					e.buf = append(e.buf, '"', '"')
				}
				continue
			}
			switch c.kind {
			case csvFloat64:
				e.buf = appendPyFloat(e.buf, c.f64[i], 64, single)
			case csvFloat32:
				e.buf = appendPyFloat(e.buf, float64(c.f32[i]), 32, single)
			case csvInt:
				e.buf = strconv.AppendInt(e.buf, c.i64(i), 10)
			case csvUint:
				e.buf = strconv.AppendUint(e.buf, c.u64(i), 10)
			case csvBool:
				if c.b.Value(i) {
					e.buf = append(e.buf, "True"...)
				} else {
					e.buf = append(e.buf, "False"...)
				}
			case csvString:
				e.buf = e.appendString(e.buf, c.str.Value(i), single)
			default:
				e.buf = e.appendString(e.buf, c.arr.ValueStr(i), single)
			}
		}
		e.buf = append(e.buf, '\n')
		if len(e.buf) >= csvFlushSize {
			if err := e.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// appendPyFloat appends v as Python's repr (and so pandas' to_csv) writes it. The
// choice between fixed and scientific notation depends on the decimal exponent of
// the shortest digits; comparing |v| with 1e-4 and 1e16 gives the same answer, since
// the shortest digits of a float never round across a power of ten that is itself
// closer to another float.
func appendPyFloat(b []byte, v float64, bits int, single bool) []byte {
	switch {
	case math.IsNaN(v):
		if single {
			return append(b, '"', '"')
		}
		return b
	case math.IsInf(v, 1):
		return append(b, "inf"...)
	case math.IsInf(v, -1):
		return append(b, "-inf"...)
	}
	if a := math.Abs(v); a != 0 && (a < 1e-4 || a >= 1e16) {
		return strconv.AppendFloat(b, v, 'e', -1, bits)
	}
	start := len(b)
	b = strconv.AppendFloat(b, v, 'f', -1, bits)
	if bytes.IndexByte(b[start:], '.') < 0 {
		b = append(b, '.', '0')
	}
	return b
}

// appendString appends s, quoted if it must be.
func (e *csvEncoder) appendString(b []byte, s string, single bool) []byte {
	if s == "" {
		if single {
			return append(b, '"', '"')
		}
		return b
	}
	quote := false
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == e.comma || c == '"' || c == '\n' || c == '\r' {
			quote = true
			break
		}
	}
	if !quote {
		return append(b, s...)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}

func (e *csvEncoder) finish() error {
	if !e.header {
		e.writeHeader()
	}
	return e.flush()
}

func (e *csvEncoder) discard() { e.buf = nil }
