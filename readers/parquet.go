package readers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/mlbatch/mlbatch/internal/bufpool"
	"github.com/mlbatch/mlbatch/internal/mlerr"
)

// Parquet reading
//
// Open reads only the footer. Next streams the projected columns through arrow-go's
// record reader, BatchSize rows at a time across row groups; column chunks are read
// through a bounded buffer (BufferedStreamEnabled), so memory follows the batch
// size and the page size, not the file or row group size. Types are the file's own
// (Options.Types is ignored: the model layer converts). Every failure of the decoder,
// including a panic on hostile bytes, is an mlerr.IO error naming the file.

// pagePool holds the Parquet readers' page and decompression buffers: a
// reader keeps about two per column in use, a few MiB, so the pool keeps
// less idle than the batches' pool.
var pagePool = bufpool.NewIdle(16 << 20)

// parquetStreamBuffer is the read buffer per projected column chunk.
const parquetStreamBuffer = 1 << 20

type parquetReader struct {
	name string
	opts Options
	f    File
	pf   *file.Reader
	fr   *pqarrow.FileReader

	schema     *arrow.Schema
	proj       []int // top-level field indices, nil means all
	projSchema *arrow.Schema

	groups  []int // row groups to read (ReadRowGroups); nil means all
	rr      pqarrow.RecordReader
	started bool
	rows    int64 // data rows returned so far
	total   int64 // rows in the file, from the footer
	err     error // sticky
	closed  bool
}

func openParquet(path string, opts Options) (Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, mlerr.Wrap(mlerr.IO, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, mlerr.Wrap(mlerr.IO, err)
	}
	r, err := openParquetFile(path, osFile{f, st.Size()}, opts)
	if err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

type osFile struct {
	*os.File
	size int64
}

func (f osFile) Size() int64 { return f.size }

// openParquetFile reads the footer of f; on failure the caller closes f.
func openParquetFile(path string, f File, opts Options) (Reader, error) {
	r := &parquetReader{name: path, opts: opts, f: f}
	if err := r.open(); err != nil {
		return nil, err
	}
	return r, nil
}

// corrupt reports a decoder failure as an I/O error about the file.
func (r *parquetReader) corrupt(err error) error {
	return mlerr.Wrap(mlerr.IO, fmt.Errorf("%s: not a readable Parquet file: %w", r.name, err))
}

// guard runs fn, turning a panic inside arrow-go into an error.
func (r *parquetReader) guard(fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = r.corrupt(fmt.Errorf("decoder panic: %v", p))
		}
	}()
	return fn()
}

func (r *parquetReader) open() error {
	return r.guard(func() error {
		size := r.f.Size()
		if size == 0 {
			return r.corrupt(errors.New("empty file"))
		}
		// A Parquet file starts and ends with the magic "PAR1"; arrow-go checks only
		// the end, so a file whose head is damaged would otherwise be read.
		var head [4]byte
		if _, err := r.f.ReadAt(head[:], 0); err != nil || string(head[:]) != "PAR1" {
			return r.corrupt(fmt.Errorf("it does not start with the Parquet magic PAR1 (got %q)", head[:]))
		}
		// Page and decompression buffers come from a pool shared by every
		// Parquet reader (arrow-go does not free all of them, so they are not
		// charged to Options.Mem, which allocates the batches handed to the
		// caller); reusing them spares the page faults of fresh memory.
		props := parquet.NewReaderProperties(pagePool)
		props.BufferedStreamEnabled = true
		props.BufferSize = parquetStreamBuffer
		pf, err := file.NewParquetReader(io.NewSectionReader(r.f, 0, size), file.WithReadProps(props))
		if err != nil {
			return r.corrupt(err)
		}
		r.pf = pf
		if err := checkFooter(pf, size); err != nil {
			return r.corrupt(err)
		}
		if kv := pf.MetaData().KeyValueMetadata(); kv != nil {
			if s := kv.FindValue("ARROW:schema"); s != nil {
				if err := checkArrowSchema(*s); err != nil {
					return r.corrupt(err)
				}
			}
		}
		fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: int64(r.opts.BatchSize)}, r.opts.Mem)
		if err != nil {
			return r.corrupt(err)
		}
		r.fr = fr
		sc, err := fr.Schema()
		if err != nil {
			return r.corrupt(err)
		}
		r.schema = cleanSchema(sc)
		r.projSchema = r.schema
		for i := 0; i < pf.NumRowGroups(); i++ {
			r.total += pf.MetaData().RowGroup(i).NumRows()
		}
		return nil
	})
}

// checkFooter rejects footers whose row counts or column chunk ranges cannot be
// right for a file of this size, before any decoder trusts them.
func checkFooter(pf *file.Reader, size int64) error {
	md := pf.MetaData()
	ncols := md.NumColumns()
	for i := 0; i < md.NumRowGroups(); i++ {
		rg := md.RowGroup(i)
		if rg.NumRows() < 0 {
			return fmt.Errorf("row group %d: negative row count %d", i, rg.NumRows())
		}
		if rg.NumColumns() != ncols {
			return fmt.Errorf("row group %d: %d column chunks, schema has %d columns", i, rg.NumColumns(), ncols)
		}
		for c := 0; c < ncols; c++ {
			cc, err := rg.ColumnChunk(c)
			if err != nil {
				return fmt.Errorf("row group %d column %d: %w", i, c, err)
			}
			if cc.FilePath() != "" {
				return fmt.Errorf("row group %d column %d: data in another file (%q) is not supported", i, c, cc.FilePath())
			}
			start := cc.DataPageOffset()
			if cc.HasDictionaryPage() && cc.DictionaryPageOffset() > 0 && cc.DictionaryPageOffset() < start {
				start = cc.DictionaryPageOffset()
			}
			n := cc.TotalCompressedSize()
			if start < 0 || n < 0 || start > size || n > size-start {
				return fmt.Errorf("row group %d column %d: chunk at %d+%d lies outside the file (%d bytes)", i, c, start, n, size)
			}
		}
	}
	return nil
}

// RowGroups implements RowGrouper.
func (r *parquetReader) RowGroups() []RowGroup {
	md := r.pf.MetaData()
	out := make([]RowGroup, md.NumRowGroups())
	for i := range out {
		rg := md.RowGroup(i)
		out[i] = RowGroup{Rows: rg.NumRows(), Bytes: rg.TotalCompressedSize()}
		if out[i].Bytes <= 0 {
			out[i].Bytes = rg.TotalByteSize()
		}
	}
	return out
}

// ReadRowGroups implements RowGrouper.
func (r *parquetReader) ReadRowGroups(groups []int) error {
	if r.started {
		return mlerr.Errorf(mlerr.Internal, "%s: ReadRowGroups called after Next", r.name)
	}
	md := r.pf.MetaData()
	var total int64
	for k, g := range groups {
		if g < 0 || g >= md.NumRowGroups() || (k > 0 && g <= groups[k-1]) {
			return mlerr.Errorf(mlerr.Internal, "%s: row groups %v: want ascending indices below %d", r.name, groups, md.NumRowGroups())
		}
		total += md.RowGroup(g).NumRows()
	}
	r.groups = append([]int{}, groups...)
	r.total = total
	return nil
}

func (r *parquetReader) Name() string          { return r.name }
func (r *parquetReader) Schema() *arrow.Schema { return r.schema }

// TotalRows is the row count the footer promises (RowCounter).
func (r *parquetReader) TotalRows() int64 { return r.total }

func (r *parquetReader) Project(columns []string) error {
	if r.started {
		return mlerr.Errorf(mlerr.Internal, "%s: Project called after Next", r.name)
	}
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
	r.projSchema = arrow.NewSchema(fields, &md)
	return nil
}

// leaves lists the Parquet leaf columns under the projected top-level fields.
func (r *parquetReader) leaves() []int {
	var out []int
	var walk func(f *pqarrow.SchemaField)
	walk = func(f *pqarrow.SchemaField) {
		if f.IsLeaf() {
			out = append(out, f.ColIndex)
			return
		}
		for i := range f.Children {
			walk(&f.Children[i])
		}
	}
	fields := r.fr.Manifest.Fields
	if r.proj == nil {
		for i := range fields {
			walk(&fields[i])
		}
		return out
	}
	for _, i := range r.proj {
		walk(&fields[i])
	}
	return out
}

func (r *parquetReader) Next() (arrow.RecordBatch, error) {
	if r.err != nil {
		return nil, r.err
	}
	var rec arrow.RecordBatch
	err := r.guard(func() error {
		var err error
		rec, err = r.next()
		return err
	})
	if err != nil {
		r.err = err
		return nil, err
	}
	r.rows += rec.NumRows()
	return rec, nil
}

func (r *parquetReader) next() (arrow.RecordBatch, error) {
	if !r.started {
		r.started = true
		if r.projSchema.NumFields() > 0 && r.total > 0 {
			rr, err := r.fr.GetRecordReader(context.Background(), r.leaves(), r.groups)
			if err != nil {
				return nil, r.corrupt(err)
			}
			r.rr = rr
		}
	}
	if r.rr == nil {
		// No columns (only the row count is wanted) or no rows.
		n := min(r.total-r.rows, int64(r.opts.BatchSize))
		if n <= 0 {
			return nil, io.EOF
		}
		return array.NewRecordBatch(r.projSchema, nil, n), nil
	}
	if !r.rr.Next() {
		if err := r.rr.Err(); err != nil {
			return nil, r.corrupt(err)
		}
		if r.rows != r.total {
			return nil, r.corrupt(fmt.Errorf("footer promises %d rows, the data holds %d", r.total, r.rows))
		}
		return nil, io.EOF
	}
	rec := r.rr.RecordBatch()
	if rec.NumRows() == 0 || r.rows+rec.NumRows() > r.total {
		return nil, r.corrupt(fmt.Errorf("column data disagrees with the footer's row count (%d)", r.total))
	}
	for i, c := range rec.Columns() {
		if int64(c.Len()) != rec.NumRows() {
			return nil, r.corrupt(fmt.Errorf("column %q: %d values in a batch of %d rows", rec.ColumnName(i), c.Len(), rec.NumRows()))
		}
	}
	// The record reader owns rec and releases it on its next call; the new batch
	// holds its own references to the columns, under the schema Project promised.
	return array.NewRecordBatch(r.projSchema, rec.Columns(), rec.NumRows()), nil
}

// cleanSchema drops the "PARQUET:field_id": "-1" that pqarrow puts on every field of
// a file without field ids, so the schema reads as the writer's.
func cleanSchema(sc *arrow.Schema) *arrow.Schema {
	fields := sc.Fields()
	for i, f := range fields {
		md := f.Metadata
		if v, ok := md.GetValue("PARQUET:field_id"); ok && v == "-1" {
			keys, vals := []string{}, []string{}
			for k, key := range md.Keys() {
				if key != "PARQUET:field_id" {
					keys = append(keys, key)
					vals = append(vals, md.Values()[k])
				}
			}
			fields[i].Metadata = arrow.NewMetadata(keys, vals)
		}
	}
	md := sc.Metadata()
	return arrow.NewSchema(fields, &md)
}

func (r *parquetReader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	if r.rr != nil {
		r.guard(func() error { r.rr.Release(); return nil })
		r.rr = nil
	}
	if r.err == nil {
		r.err = mlerr.Errorf(mlerr.Internal, "%s: reader is closed", r.name)
	}
	if err := r.f.Close(); err != nil {
		return mlerr.Wrap(mlerr.IO, fmt.Errorf("%s: close: %w", r.name, err))
	}
	return nil
}
