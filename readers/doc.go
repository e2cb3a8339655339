// Package readers turns input files (CSV, Parquet) into a stream of Arrow record
// batches.
//
// Contract:
//   - Open inspects the file and reports its full schema without reading the data.
//     Project may then narrow the columns that Next decodes; it must be called before
//     the first Next.
//   - Next returns the next batch, or io.EOF after the last one. The caller owns the
//     returned batch and must Release it exactly once.
//   - Errors in the data name the file, the 1-based data row and the column, as a
//     *RowError, so callers can report "data.csv row 12: column \"age\": ...".
//   - A Reader is not safe for concurrent use; the pipeline reads from one goroutine.
//   - Readers never panic on hostile bytes: corrupt input is an error.
package readers
