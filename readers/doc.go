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
//   - Readers never panic on hostile bytes: corrupt input is an error (mlerr.IO
//     naming the file for an unreadable Parquet file; a *RowError for bad CSV).
//   - After an error, Next keeps returning it. Batches before a malformed CSV record
//     are delivered first. After Close, Next returns an error.
//   - Project(nil or empty) keeps no columns: batches then carry only row counts.
//   - CSV typing and parsing rules are in csv.go and csvscan.go.
package readers
