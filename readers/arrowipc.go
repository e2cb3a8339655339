package readers

import (
	"encoding/binary"
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

// Limits on one IPC message: a record batch's body (its buffers) and its
// flatbuffer metadata. A larger batch is refused with an error saying so;
// producers cut batches far smaller (pyarrow, DuckDB and Spark use thousands to
// a million rows).
const (
	arrowMaxMetadata = 64 << 20
	arrowMaxBody     = 1 << 30
)

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
	// ipc.NewReader does not pass its size limits on to its message reader, so a
	// corrupt length would make it allocate up to 2 GiB before reading (found by
	// FuzzArrowStreamReader): build the message reader with the limits ourselves.
	mr := ipc.NewMessageReader(&ipcGuard{r: r}, ipc.WithAllocator(opts.Mem),
		ipc.WithMetadataSizeLimit(arrowMaxMetadata), ipc.WithBodySizeLimit(arrowMaxBody))
	ir, err := ipc.NewReaderFromMessageReader(mr, ipc.WithAllocator(opts.Mem))
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

// ipcGuard sits between the input and arrow-go's IPC reader. arrow-go sizes
// allocations from lengths inside a message's flatbuffer metadata (the schema's
// field vectors, a batch's node and buffer vectors) without checking them
// against the message (found by FuzzArrowStreamReader: a 300-byte stream asked
// for 29 GiB). The guard reads each message's framing and metadata itself,
// walks the flatbuffer with fbVerifier (every table, vector and string inside
// the metadata, the body length within arrowMaxBody), and only then hands the
// bytes on; a message that fails is an error instead.
type ipcGuard struct {
	r       io.Reader
	pending []byte // checked bytes not yet handed on
	body    int64  // body bytes of the current message still to pass through
	eos     bool   // after the end-of-stream marker: pass everything through
	err     error
}

func (g *ipcGuard) Read(p []byte) (int, error) {
	for {
		switch {
		case len(g.pending) > 0:
			n := copy(p, g.pending)
			g.pending = g.pending[n:]
			return n, nil
		case g.body > 0:
			if int64(len(p)) > g.body {
				p = p[:g.body]
			}
			n, err := g.r.Read(p)
			g.body -= int64(n)
			if err == io.EOF && g.body > 0 {
				err = io.ErrUnexpectedEOF
			}
			return n, err
		case g.err != nil:
			return 0, g.err
		case g.eos:
			return g.r.Read(p)
		}
		g.next()
	}
}

// next reads and checks the next message's framing and metadata.
func (g *ipcGuard) next() {
	var hdr [8]byte
	n, err := io.ReadFull(g.r, hdr[:4])
	if err != nil {
		g.pending, g.err = append([]byte(nil), hdr[:n]...), err
		if err == io.ErrUnexpectedEOF || n == 0 {
			g.err = err
		}
		return
	}
	prefix := hdr[:4]
	size := binary.LittleEndian.Uint32(hdr[:4])
	if size == 0xFFFFFFFF {
		if n, err := io.ReadFull(g.r, hdr[4:8]); err != nil {
			g.pending, g.err = append([]byte(nil), hdr[:4+n]...), io.ErrUnexpectedEOF
			return
		}
		prefix = hdr[:8]
		size = binary.LittleEndian.Uint32(hdr[4:8])
	}
	g.pending = append([]byte(nil), prefix...)
	if size == 0 {
		g.eos = true
		return
	}
	if size < 8 || size > arrowMaxMetadata {
		g.err = fmt.Errorf("message metadata of %d bytes: corrupt, or larger than %d", int32(size), arrowMaxMetadata)
		return
	}
	meta := make([]byte, size)
	if n, err := io.ReadFull(g.r, meta); err != nil {
		g.pending = append(g.pending, meta[:n]...)
		g.err = io.ErrUnexpectedEOF
		return
	}
	v := fbVerifier{buf: meta, budget: 1 << 16, bodyLeft: arrowMaxBody}
	body, ok := v.ipcMessage()
	if !ok {
		g.err = errors.New("corrupt message metadata")
		return
	}
	g.pending = append(g.pending, meta...)
	g.body = int64(body)
}
