package writers

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/internal/mlerr"
)

// Writer writes record batches to one destination file with an atomic commit. See the
// package doc for the contract.
type Writer interface {
	Write(rec arrow.RecordBatch) error
	// Commit makes the output visible under its final name.
	Commit() error
	// Abort discards everything written.
	Abort() error
}

// Options control how a file is written.
type Options struct {
	// Format is "csv" or "parquet"; empty means infer from the file extension.
	Format string
	// Compression for Parquet: "snappy" (default), "zstd", "gzip" or "none".
	Compression string
	// Overwrite allows replacing an existing destination.
	Overwrite bool
	// Mem is the allocator used for encoding buffers (default memory.DefaultAllocator).
	Mem memory.Allocator
	// RowGroupRows caps the rows of a Parquet row group (default 1<<20; a row group
	// also ends once its encoded pages reach 128 MiB).
	RowGroupRows int
	// Delimiter separates CSV fields. Zero means ',' (or '\t' for a .tsv file).
	Delimiter byte
	// Metadata is written as key-value metadata in a Parquet file's footer
	// (provenance such as mlbatch.model_uri), in sorted key order. CSV ignores it.
	Metadata map[string]string
}

// Part is a destination that becomes visible only on Commit: an *AtomicFile on the
// local disk, or an object store upload (dataset.Part has the same methods).
type Part interface {
	io.Writer
	// Commit makes everything written visible under the final name.
	Commit() error
	// Abort discards everything written; it is a no-op after Commit or Abort.
	Abort() error
}

// Create checks the destination and opens a temporary file beside it; the format
// comes from opts.Format or else from the extension. The destination's directory must
// exist. An existing destination is an mlerr.IO error unless opts.Overwrite; a bad
// format or compression name is an mlerr.Usage error.
func Create(path string, schema *arrow.Schema, opts Options) (Writer, error) {
	enc, err := encoderFor(path, schema, &opts)
	if err != nil {
		return nil, err
	}
	af, err := CreateAtomic(path, opts.Overwrite)
	if err != nil {
		return nil, err
	}
	return newFileWriter(af, path, schema, enc)
}

// CreateOn writes to part, an already opened destination (opts.Overwrite is then
// the part's business); name is used for the format (when opts.Format is empty)
// and in error messages. The Writer's Commit commits the part, Abort aborts it;
// when CreateOn fails it aborts the part itself.
func CreateOn(part Part, name string, schema *arrow.Schema, opts Options) (Writer, error) {
	enc, err := encoderFor(name, schema, &opts)
	if err != nil {
		part.Abort()
		return nil, err
	}
	return newFileWriter(part, name, schema, enc)
}

func newFileWriter(part Part, name string, schema *arrow.Schema, newEnc func(io.Writer) (encoder, error)) (Writer, error) {
	enc, err := newEnc(part)
	if err != nil {
		part.Abort()
		return nil, mlerr.Wrap(mlerr.IO, fmt.Errorf("%s: %w", name, err))
	}
	return &fileWriter{name: name, schema: schema, af: part, enc: enc}, nil
}

// encoderFor checks the format and compression and returns the encoder's constructor.
func encoderFor(path string, schema *arrow.Schema, o *Options) (func(io.Writer) (encoder, error), error) {
	opts := *o
	format := strings.ToLower(opts.Format)
	if format == "" {
		f, err := FormatOf(path)
		if err != nil {
			return nil, mlerr.Wrap(mlerr.Usage, err)
		}
		format = f
	}
	if opts.Mem == nil {
		opts.Mem = memory.DefaultAllocator
	}
	if opts.Delimiter == 0 {
		opts.Delimiter = ','
		if strings.EqualFold(filepath.Ext(path), ".tsv") || format == "tsv" {
			opts.Delimiter = '\t'
		}
	}
	switch format {
	case "csv", "tsv":
		switch opts.Delimiter {
		case '"', '\r', '\n':
			return nil, mlerr.Errorf(mlerr.Usage, "invalid CSV delimiter %q", opts.Delimiter)
		}
		return func(w io.Writer) (encoder, error) { return newCSVEncoder(w, schema, opts.Delimiter), nil }, nil
	case "parquet":
		codec, err := parseCompression(opts.Compression)
		if err != nil {
			return nil, err
		}
		return func(w io.Writer) (encoder, error) { return newParquetEncoder(w, schema, codec, opts) }, nil
	case "arrow":
		return func(w io.Writer) (encoder, error) { return newArrowEncoder(w, schema, opts.Mem), nil }, nil
	case "jsonl":
		return func(w io.Writer) (encoder, error) { return newJSONLEncoder(w, schema), nil }, nil
	}
	return nil, mlerr.Errorf(mlerr.Usage, "unknown output format %q: use csv, parquet, arrow or jsonl", opts.Format)
}

// FormatOf infers a format name from a path's extension.
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
	return "", fmt.Errorf("cannot tell the format of %q from its extension: use --out-format csv|parquet", path)
}
