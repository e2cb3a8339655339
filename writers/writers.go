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

// Create checks the destination and opens a temporary file beside it; the format
// comes from opts.Format or else from the extension. The destination's directory must
// exist. An existing destination is an mlerr.IO error unless opts.Overwrite; a bad
// format or compression name is an mlerr.Usage error.
func Create(path string, schema *arrow.Schema, opts Options) (Writer, error) {
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
	var newEnc func(io.Writer) (encoder, error)
	switch format {
	case "csv", "tsv":
		switch opts.Delimiter {
		case '"', '\r', '\n':
			return nil, mlerr.Errorf(mlerr.Usage, "invalid CSV delimiter %q", opts.Delimiter)
		}
		newEnc = func(w io.Writer) (encoder, error) { return newCSVEncoder(w, schema, opts.Delimiter), nil }
	case "parquet":
		codec, err := parseCompression(opts.Compression)
		if err != nil {
			return nil, err
		}
		newEnc = func(w io.Writer) (encoder, error) { return newParquetEncoder(w, schema, codec, opts) }
	default:
		return nil, mlerr.Errorf(mlerr.Usage, "unknown output format %q: use csv or parquet", opts.Format)
	}
	af, err := createAtomic(path, opts.Overwrite)
	if err != nil {
		return nil, err
	}
	enc, err := newEnc(af.f)
	if err != nil {
		af.abort()
		return nil, mlerr.Wrap(mlerr.IO, fmt.Errorf("%s: %w", path, err))
	}
	return &fileWriter{name: path, schema: schema, af: af, enc: enc}, nil
}

// FormatOf infers a format name from a path's extension.
func FormatOf(path string) (string, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv", ".tsv", ".txt":
		return "csv", nil
	case ".parquet", ".pq", ".parq":
		return "parquet", nil
	}
	return "", fmt.Errorf("cannot tell the format of %q from its extension: use --out-format csv|parquet", path)
}
