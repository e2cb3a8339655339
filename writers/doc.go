// Package writers writes Arrow record batches to CSV or Parquet files with an atomic
// commit.
//
// Contract:
//   - Create checks that the destination does not exist (unless Overwrite) and opens a
//     temporary file beside it. Nothing is ever written under the final name until
//     Commit.
//   - Write does not take ownership of the batch: the caller still releases it.
//   - Commit flushes, fsyncs and renames the temporary file onto the destination
//     (without Overwrite it hard-links instead, so a file that appeared meanwhile is
//     not clobbered), then fsyncs the directory. Abort removes the temporary file.
//     Exactly one of them must be called. Abort after Commit or Abort is a no-op, and
//     so is a second Commit; Commit after Abort is an error, as is Commit after a
//     failed Write (which also aborts). A failed Commit leaves no temporary file.
//   - The temporary file is named .<name>.mlbatch-tmp-<random> in the destination's
//     directory, which must exist. An existing destination without Overwrite is an
//     mlerr.IO error "out.csv: already exists (use --overwrite)".
//   - Formats: see csv.go (pandas to_csv style) and parquet.go (pqarrow, Arrow
//     schema stored, snappy by default).
//   - A Writer is not safe for concurrent use.
package writers
