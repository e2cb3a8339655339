package writers

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/mlbatch/mlbatch/internal/mlerr"
)

// Parquet output: one file written through pqarrow with the Arrow schema stored in
// the metadata (so types such as float32 or int8 read back unchanged). Batches are
// gathered into row groups of up to parquetRowGroupRows rows, or fewer once the
// batches held reach parquetRowGroupBytes, so readers get a few large row groups
// rather than one per batch, with memory bounded by the row group size.
//
// The batches themselves are held, and written column by column straight to the
// file when the row group is complete (pqarrow's WriteTable). pqarrow's own
// buffered mode (WriteBuffered) encodes every batch into per-column page buffers
// that grow by doubling and are copied to the file at the end: measured on a
// 1M-row, 14-column run, that growing and copying was a third of the writer's
// time, and holding Arrow batches takes no more memory than holding their pages.
const (
	parquetRowGroupRows  = 1 << 20
	parquetRowGroupBytes = 32 << 20
	parquetPageSize      = 1 << 20
)

// Compressions lists the accepted values of Options.Compression.
var Compressions = []string{"snappy", "zstd", "gzip", "none"}

func parseCompression(name string) (compress.Compression, error) {
	switch strings.ToLower(name) {
	case "", "snappy":
		return compress.Codecs.Snappy, nil
	case "zstd":
		return compress.Codecs.Zstd, nil
	case "gzip":
		return compress.Codecs.Gzip, nil
	case "none", "uncompressed":
		return compress.Codecs.Uncompressed, nil
	}
	return 0, mlerr.Errorf(mlerr.Usage, "unknown Parquet compression %q: use %s", name, strings.Join(Compressions, ", "))
}

// plainWriter hides Close from pqarrow, which would otherwise close our file before
// the commit can fsync it.
type plainWriter struct{ w io.Writer }

func (p plainWriter) Write(b []byte) (int, error) { return p.w.Write(b) }

type parquetEncoder struct {
	bw      *bufio.Writer
	fw      *pqarrow.FileWriter
	schema  *arrow.Schema
	maxRows int64

	// The batches of the row group being gathered.
	pending      []arrow.RecordBatch
	pendingRows  int64
	pendingBytes int64
}

func newParquetEncoder(w io.Writer, schema *arrow.Schema, codec compress.Compression, opts Options) (enc encoder, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("parquet writer: %v", p)
		}
	}()
	mem := opts.Mem
	rows := int64(opts.RowGroupRows)
	if rows <= 0 {
		rows = parquetRowGroupRows
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	// Dictionary encoding pays off for strings (labels, categories) but not for
	// measured floats, where the writer would build a dictionary per column chunk
	// only to abandon it: it is on for string and binary columns only.
	wprops := []parquet.WriterProperty{
		parquet.WithDictionaryDefault(false),
		parquet.WithAllocator(mem),
		parquet.WithCompression(codec),
		parquet.WithMaxRowGroupLength(rows),
		parquet.WithDataPageSize(parquetPageSize),
		parquet.WithCreatedBy("mlbatch"),
	}
	for _, f := range schema.Fields() {
		switch f.Type.ID() {
		case arrow.STRING, arrow.LARGE_STRING, arrow.BINARY, arrow.LARGE_BINARY, arrow.DICTIONARY:
			wprops = append(wprops, parquet.WithDictionaryFor(f.Name, true))
		}
	}
	props := parquet.NewWriterProperties(wprops...)
	fw, err := pqarrow.NewFileWriter(schema, plainWriter{bw}, props,
		pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema(), pqarrow.WithAllocator(mem)))
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(opts.Metadata))
	for k := range opts.Metadata {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := fw.AppendKeyValueMetadata(k, opts.Metadata[k]); err != nil {
			return nil, err
		}
	}
	return &parquetEncoder{bw: bw, fw: fw, schema: schema, maxRows: rows}, nil
}

func (e *parquetEncoder) write(rec arrow.RecordBatch) (err error) {
	rec.Retain()
	e.pending = append(e.pending, rec)
	e.pendingRows += rec.NumRows()
	e.pendingBytes += recordBytes(rec)
	switch {
	case e.pendingRows >= e.maxRows:
		return e.flush(e.pendingRows / e.maxRows * e.maxRows)
	case e.pendingBytes >= parquetRowGroupBytes:
		return e.flush(e.pendingRows)
	}
	return nil
}

// flush writes the first rows of the gathered batches as row groups of maxRows
// rows (the last one possibly shorter) and keeps the rest for the next row
// group. The rest is always within the last batch: the ones before it held
// fewer than maxRows rows.
func (e *parquetEncoder) flush(rows int64) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("parquet writer: %v", p)
		}
	}()
	if len(e.pending) == 0 {
		return nil
	}
	head := e.pending
	var rest arrow.RecordBatch
	var restBytes int64
	if n := e.pendingRows - rows; n > 0 {
		last := e.pending[len(e.pending)-1]
		rest = last.NewSlice(last.NumRows()-n, last.NumRows())
		restBytes = recordBytes(last) * n / last.NumRows() // the slice shares last's buffers
		cut := last.NewSlice(0, last.NumRows()-n)
		defer cut.Release()
		head = append(slices.Clone(e.pending[:len(e.pending)-1]), cut)
	}
	tbl := array.NewTableFromRecords(e.schema, head)
	defer tbl.Release()
	e.release()
	if rest != nil {
		e.pending = append(e.pending, rest)
		e.pendingRows = rest.NumRows()
		e.pendingBytes = restBytes
	}
	return e.fw.WriteTable(tbl, e.maxRows)
}

func (e *parquetEncoder) release() {
	for _, r := range e.pending {
		r.Release()
	}
	clear(e.pending)
	e.pending = e.pending[:0]
	e.pendingRows, e.pendingBytes = 0, 0
}

// recordBytes is the size of a batch's buffers.
func recordBytes(rec arrow.RecordBatch) int64 {
	var n int64
	var add func(d arrow.ArrayData)
	add = func(d arrow.ArrayData) {
		for _, b := range d.Buffers() {
			if b != nil {
				n += int64(b.Len())
			}
		}
		for _, c := range d.Children() {
			add(c)
		}
	}
	for _, c := range rec.Columns() {
		add(c.Data())
	}
	return n
}

func (e *parquetEncoder) finish() (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("parquet writer: %v", p)
		}
	}()
	if err := e.flush(e.pendingRows); err != nil {
		return err
	}
	if err := e.fw.Close(); err != nil {
		return err
	}
	return e.bw.Flush()
}

func (e *parquetEncoder) discard() {
	e.release()
	defer func() { recover() }()
	// Closing releases the encoders' buffers; the bytes go to a file being removed.
	e.fw.Close()
}
