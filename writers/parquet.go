package writers

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/mlbatch/mlbatch/internal/mlerr"
)

// Parquet output: one file written through pqarrow with the Arrow schema stored in
// the metadata (so types such as float32 or int8 read back unchanged). Batches are
// buffered into row groups of up to parquetRowGroupRows rows, or fewer once a
// row group's encoded pages reach parquetRowGroupBytes, so readers get a few large
// row groups rather than one per batch, with memory bounded by the row group size.

const (
	parquetRowGroupRows  = 1 << 20
	parquetRowGroupBytes = 64 << 20
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
	bw *bufio.Writer
	fw *pqarrow.FileWriter
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
	return &parquetEncoder{bw: bw, fw: fw}, nil
}

func (e *parquetEncoder) write(rec arrow.RecordBatch) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("parquet writer: %v", p)
		}
	}()
	if err := e.fw.WriteBuffered(rec); err != nil {
		return err
	}
	if e.fw.RowGroupTotalCompressedBytes()+e.fw.RowGroupTotalBytesWritten() >= parquetRowGroupBytes {
		return e.fw.NewBufferedRowGroupChecked()
	}
	return nil
}

func (e *parquetEncoder) finish() (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("parquet writer: %v", p)
		}
	}()
	if err := e.fw.Close(); err != nil {
		return err
	}
	return e.bw.Flush()
}

func (e *parquetEncoder) discard() {
	defer func() { recover() }()
	// Closing releases the encoders' buffers; the bytes go to a file being removed.
	e.fw.Close()
}
