// Package writers writes Arrow record batches to CSV or Parquet files with an atomic
// commit.
//
// Contract:
//   - Create checks that the destination does not exist (unless Overwrite) and opens a
//     temporary file beside it. Nothing is ever written under the final name until
//     Commit.
//   - Write does not take ownership of the batch: the caller still releases it.
//   - Commit flushes, fsyncs and renames the temporary file onto the destination.
//     Abort removes the temporary file. Exactly one of them must be called; both are
//     safe to call after the other (the second is a no-op).
//   - A Writer is not safe for concurrent use.
package writers
