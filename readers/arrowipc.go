package readers

import (
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"

	"github.com/mlbatch/mlbatch/internal/mlerr"
)

// Arrow IPC stream reading
//
// The Arrow IPC streaming format (a schema message, then record batch messages,
// then an optional end-of-stream marker), as pyarrow's RecordBatchStreamWriter,
// DuckDB's Arrow export and Spark's mapInArrow write it. Batches are passed on as
// the producer cut them (Options.BatchSize does not re-chunk them); types are the
// stream's own (Options.Types is ignored: the model layer converts). The stream is
// read sequentially, so it can be a pipe. Dictionary-encoded columns are refused
// by the model binding like any other unsupported type. Every decoder failure,
// including a panic on hostile bytes, is an mlerr.IO error naming the input.

type arrowStreamReader struct {
	name   string
	rd     *ipc.Reader
	closer io.Closer
	schema *arrow.Schema
	proj   []int
	projSc *arrow.Schema
	err    error
	closed bool
}

func openArrowStream(name string, r io.Reader, closer io.Closer, opts Options) (rd Reader, err error) {
	defer func() {
		if p := recover(); p != nil {
			rd, err = nil, arrowCorrupt(name, fmt.Errorf("decoder panic: %v", p))
		}
	}()
	ir, err := ipc.NewReader(r, ipc.WithAllocator(opts.Mem))
	if err != nil {
		return nil, arrowCorrupt(name, err)
	}
	s := ir.Schema()
	return &arrowStreamReader{name: name, rd: ir, closer: closer, schema: s, projSc: s}, nil
}

func arrowCorrupt(name string, err error) error {
	return mlerr.Wrap(mlerr.IO, fmt.Errorf("%s: not a readable Arrow IPC stream: %w", name, err))
}

func (r *arrowStreamReader) Name() string          { return r.name }
func (r *arrowStreamReader) Schema() *arrow.Schema { return r.schema }

func (r *arrowStreamReader) Project(columns []string) error {
	idx, err := projectIndices(r.name, r.schema, columns)
	if err != nil {
		return err
	}
	r.proj = idx
	fields := make([]arrow.Field, len(idx))
	for i, j := range idx {
		fields[i] = r.schema.Field(j)
	}
	md := r.schema.Metadata()
	r.projSc = arrow.NewSchema(fields, &md)
	return nil
}

func (r *arrowStreamReader) Next() (rec arrow.RecordBatch, err error) {
	if r.err != nil {
		return nil, r.err
	}
	defer func() {
		if p := recover(); p != nil {
			rec, err = nil, arrowCorrupt(r.name, fmt.Errorf("decoder panic: %v", p))
		}
		if err != nil && !errors.Is(err, io.EOF) {
			r.err = err
		}
	}()
	if !r.rd.Next() {
		if err := r.rd.Err(); err != nil && !errors.Is(err, io.EOF) {
			return nil, arrowCorrupt(r.name, err)
		}
		return nil, io.EOF
	}
	in := r.rd.RecordBatch() // owned by the reader until its next call
	for i, c := range in.Columns() {
		if int64(c.Len()) != in.NumRows() {
			return nil, arrowCorrupt(r.name, fmt.Errorf("column %q: %d values in a batch of %d rows", in.ColumnName(i), c.Len(), in.NumRows()))
		}
	}
	if r.proj == nil {
		return array.NewRecordBatch(r.projSc, in.Columns(), in.NumRows()), nil
	}
	cols := make([]arrow.Array, len(r.proj))
	for i, j := range r.proj {
		cols[i] = in.Column(j)
	}
	return array.NewRecordBatch(r.projSc, cols, in.NumRows()), nil
}

func (r *arrowStreamReader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	r.rd.Release()
	if r.err == nil {
		r.err = mlerr.Errorf(mlerr.Internal, "%s: reader is closed", r.name)
	}
	if r.closer != nil {
		if err := r.closer.Close(); err != nil {
			return mlerr.Wrap(mlerr.IO, fmt.Errorf("%s: close: %w", r.name, err))
		}
	}
	return nil
}
