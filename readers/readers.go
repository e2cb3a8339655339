package readers

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/internal/mlerr"
)

// Reader streams one input file as Arrow record batches. See the package doc for the
// ownership and error contract.
type Reader interface {
	// Name is the file name used in error messages.
	Name() string
	// Schema is the file's full schema (before Project).
	Schema() *arrow.Schema
	// Project restricts decoding to the named columns, in the file's column order.
	// Must be called before the first Next. Unknown names are an error.
	Project(columns []string) error
	// Next returns the next batch (already projected) or io.EOF. The caller releases it.
	Next() (arrow.RecordBatch, error)
	// Close releases the file. It is safe to call more than once.
	Close() error
}

// RowCounter is implemented by readers that know the file's row count before
// reading any data (Parquet, from its footer).
type RowCounter interface {
	TotalRows() int64
}

// RowGroup describes one Parquet row group.
type RowGroup struct {
	Rows  int64
	Bytes int64 // compressed size of its column chunks
}

// RowGrouper is implemented by the Parquet reader: a dataset shard reads some of a
// file's row groups.
type RowGrouper interface {
	// RowGroups lists the file's row groups, from the footer.
	RowGroups() []RowGroup
	// ReadRowGroups restricts Next to the given row groups (ascending indices).
	// Must be called before the first Next.
	ReadRowGroups(groups []int) error
}

// Scanner is implemented by the CSV reader. RowsScanned counts the data rows
// consumed by the batches returned so far, rows left out (Options.OnBadRow)
// included: a batch whose RowNumbers is nil holds rows RowsScanned()-n+1 to
// RowsScanned().
type Scanner interface {
	RowsScanned() int64
}

// Options control how a file is read.
type Options struct {
	// Format is "csv" or "parquet"; empty means infer from the file extension.
	Format string
	// BatchSize is the number of rows per batch (default 65536).
	BatchSize int
	// Types forces the Arrow type of named columns (CSV only; from the model
	// signature). Other CSV columns are inferred from the first batch.
	Types map[string]arrow.DataType
	// Mem allocates the batches (default memory.DefaultAllocator).
	Mem memory.Allocator
	// Delimiter separates CSV fields. Zero means ',' (or '\t' for a .tsv file).
	// It cannot be '"', '\r' or '\n'.
	Delimiter byte
	// OnBadRow, when set, turns the CSV reader's per-row data errors (a cell that
	// does not parse as its column's type, invalid UTF-8, a row with the wrong
	// number of fields) into skipped rows: it is called with the error and the
	// row's raw fields, and the row is left out of the batch. A non-nil return
	// stops the reader with that error. Broken quoting still stops the reader:
	// after it, where the next row starts is unknowable.
	OnBadRow func(err *mlerr.RowError, fields []string) error
	// RowText makes the CSV reader attach the text of each batch's rows to it
	// (package csvtext), for a CSV writer that copies the input columns as they
	// were read. It costs one more copy of the input and keeps each batch's text
	// alive with the batch.
	RowText bool
}

// RowNumberer is implemented by readers that can leave rows out of a batch
// (Options.OnBadRow). RowNumbers returns the 1-based file row of every row of the
// batch Next returned last, or nil when those rows are contiguous, following the
// rows of the batches before (counting the rows left out).
type RowNumberer interface {
	RowNumbers() []int64
}

// Open opens path for reading in the format given by opts.Format, or else the one
// its extension implies, and reads as much as it needs to report the schema (the
// Parquet footer; the CSV header and first batch, from which CSV types are inferred).
//
// A missing file or a file that is not valid in its format is an mlerr.IO error that
// names the file; a bad format name is an mlerr.Usage error.
func Open(path string, opts Options) (Reader, error) {
	format := strings.ToLower(opts.Format)
	if format == "" {
		f, err := FormatOf(path)
		if err != nil {
			return nil, mlerr.Wrap(mlerr.Usage, err)
		}
		format = f
	}
	opts = opts.withDefaults(path)
	if err := opts.check(); err != nil {
		return nil, err
	}
	switch format {
	case "csv", "tsv":
		return openCSV(path, opts)
	case "parquet":
		return openParquet(path, opts)
	case "arrow", "jsonl":
		f, err := os.Open(path)
		if err != nil {
			return nil, mlerr.Wrap(mlerr.IO, err)
		}
		return OpenStream(path, f, f, opts)
	}
	return nil, mlerr.Errorf(mlerr.Usage, "unknown input format %q: use csv, parquet, arrow or jsonl", opts.Format)
}

// File is an open input file: streaming reads (CSV), ranged reads (the Parquet
// footer and row groups) and its size. dataset.File satisfies it.
type File interface {
	io.Reader
	io.ReaderAt
	io.Closer
	Size() int64
}

// OpenFile is Open for a file already opened (from the local disk or an object
// store); name is used for the format (when opts.Format is empty) and in error
// messages. The Reader closes f; when OpenFile fails it closes f itself.
func OpenFile(name string, f File, opts Options) (Reader, error) {
	format := strings.ToLower(opts.Format)
	if format == "" {
		ff, err := FormatOf(name)
		if err != nil {
			f.Close()
			return nil, mlerr.Wrap(mlerr.Usage, err)
		}
		format = ff
	}
	opts = opts.withDefaults(name)
	if err := opts.check(); err != nil {
		f.Close()
		return nil, err
	}
	var r Reader
	var err error
	switch format {
	case "csv", "tsv":
		r, err = newCSVReader(name, f, f, opts)
	case "parquet":
		r, err = openParquetFile(name, f, opts)
	case "arrow":
		r, err = openArrowStream(name, f, f, opts)
	case "jsonl":
		r, err = openJSONL(name, f, f, opts)
	default:
		err = mlerr.Errorf(mlerr.Usage, "unknown input format %q: use csv, parquet, arrow or jsonl", opts.Format)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

func (o Options) withDefaults(path string) Options {
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.Mem == nil {
		o.Mem = memory.DefaultAllocator
	}
	if o.Delimiter == 0 {
		o.Delimiter = ','
		if strings.EqualFold(filepath.Ext(path), ".tsv") || strings.EqualFold(o.Format, "tsv") {
			o.Delimiter = '\t'
		}
	}
	return o
}

func (o Options) check() error {
	switch o.Delimiter {
	case '"', '\r', '\n':
		return mlerr.Errorf(mlerr.Usage, "invalid CSV delimiter %q", o.Delimiter)
	}
	return nil
}

// DefaultBatchSize is the rows per batch when Options.BatchSize is zero.
const DefaultBatchSize = 65536

// OpenStream opens a sequential input (stdin, a pipe) in the "arrow" (IPC
// stream), "jsonl" or "csv" format; Parquet needs random access. closer, when not
// nil, is closed by the Reader's Close (and by OpenStream when it fails).
func OpenStream(name string, r io.Reader, closer io.Closer, opts Options) (Reader, error) {
	opts = opts.withDefaults(name)
	if err := opts.check(); err != nil {
		return nil, err
	}
	var rd Reader
	var err error
	switch strings.ToLower(opts.Format) {
	case "arrow":
		rd, err = openArrowStream(name, r, closer, opts)
	case "jsonl":
		rd, err = openJSONL(name, r, closer, opts)
	case "csv", "tsv":
		rd, err = newCSVReader(name, r, closer, opts)
	default:
		err = mlerr.Errorf(mlerr.Usage, "%s: input format %q cannot be streamed: use arrow, jsonl or csv", name, opts.Format)
	}
	if err != nil {
		if closer != nil {
			closer.Close()
		}
		return nil, err
	}
	return rd, nil
}

// FormatOf infers a format name from a path's extension ("csv", "parquet"). Looking
// through a trailing compression extension is not supported.
func FormatOf(path string) (string, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv", ".tsv", ".txt":
		return "csv", nil
	case ".parquet", ".pq", ".parq":
		return "parquet", nil
	case ".arrows", ".ipc":
		return "arrow", nil
	case ".jsonl", ".ndjson":
		return "jsonl", nil
	}
	return "", fmt.Errorf("cannot tell the format of %q from its extension: use --in-format csv|parquet|arrow|jsonl", path)
}
