package writers

import (
	"bufio"
	"encoding/json"
	"io"
	"math"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Arrow IPC stream output: a schema message, one record batch message per batch
// written, and the end-of-stream marker on finish, through arrow-go's ipc.Writer.
// Batches are written as they come (no re-chunking), so a consumer reading a pipe
// sees them as soon as they are scored. When a run fails after some batches went
// out, discard writes the start of a message that never comes (a continuation
// marker and a length with no body): an Arrow reader then fails with a truncated
// stream error instead of taking the rows so far for the whole output.

type arrowEncoder struct {
	bw *bufio.Writer
	w  *ipc.Writer
}

func newArrowEncoder(w io.Writer, schema *arrow.Schema, mem memory.Allocator) *arrowEncoder {
	bw := bufio.NewWriterSize(w, 1<<16)
	return &arrowEncoder{bw: bw, w: ipc.NewWriter(bw, ipc.WithSchema(schema), ipc.WithAllocator(mem))}
}

func (e *arrowEncoder) write(rec arrow.RecordBatch) error {
	if err := e.w.Write(rec); err != nil {
		return err
	}
	return e.bw.Flush() // a pipe's reader gets every batch as it is done
}

func (e *arrowEncoder) finish() error {
	if err := e.w.Close(); err != nil {
		return err
	}
	return e.bw.Flush()
}

func (e *arrowEncoder) discard() {
	e.bw.Flush()
	// 0xFFFFFFFF then a metadata length of 8 bytes that never follow.
	e.bw.Write([]byte{0xff, 0xff, 0xff, 0xff, 8, 0, 0, 0})
	e.bw.Flush()
}

// JSON Lines output: one JSON object per row, keys in column order. Numbers are
// written in Go's shortest round-trip form; NaN and infinities, which JSON cannot
// hold, become null (as pandas' to_json writes them); nulls are null. Other
// types use arrow-go's JSON form of the value.

type jsonlEncoder struct {
	bw   *bufio.Writer
	keys [][]byte
	buf  []byte
}

func newJSONLEncoder(w io.Writer, schema *arrow.Schema) *jsonlEncoder {
	e := &jsonlEncoder{bw: bufio.NewWriterSize(w, 1<<16)}
	for i, f := range schema.Fields() {
		k, _ := json.Marshal(f.Name)
		sep := ","
		if i == 0 {
			sep = "{"
		}
		e.keys = append(e.keys, append(append([]byte(sep), k...), ':'))
	}
	return e
}

func (e *jsonlEncoder) write(rec arrow.RecordBatch) error {
	cols := rec.Columns()
	for i := range int(rec.NumRows()) {
		b := e.buf[:0]
		if len(cols) == 0 {
			b = append(b, '{')
		}
		for j, c := range cols {
			b = append(b, e.keys[j]...)
			b = appendJSONValue(b, c, i)
		}
		b = append(b, '}', '\n')
		e.buf = b
		if _, err := e.bw.Write(b); err != nil {
			return err
		}
	}
	return e.bw.Flush()
}

func appendJSONValue(b []byte, c arrow.Array, i int) []byte {
	if c.IsNull(i) {
		return append(b, "null"...)
	}
	switch a := c.(type) {
	case *array.Float64:
		return appendFloat(b, a.Value(i), 64)
	case *array.Float32:
		return appendFloat(b, float64(a.Value(i)), 32)
	case *array.Int64:
		return strconv.AppendInt(b, a.Value(i), 10)
	case *array.Int32:
		return strconv.AppendInt(b, int64(a.Value(i)), 10)
	case *array.Boolean:
		return strconv.AppendBool(b, a.Value(i))
	case *array.String:
		s, _ := json.Marshal(a.Value(i))
		return append(b, s...)
	}
	v, err := json.Marshal(c.GetOneForMarshal(i))
	if err != nil {
		return append(b, "null"...)
	}
	return append(b, v...)
}

func appendFloat(b []byte, v float64, bits int) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(b, "null"...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, bits)
}

func (e *jsonlEncoder) finish() error { return e.bw.Flush() }

func (e *jsonlEncoder) discard() { e.bw.Flush() }
