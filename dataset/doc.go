// Package dataset finds, splits and writes the files of a dataset: the inputs of a
// run (a file, a folder of part files, a glob, or several of these) and the parts of
// a folder output.
//
// # File access
//
// Every file access of the package goes through FS, a small interface with two
// kinds of implementation: Local (the disk) and the object stores that register a
// URL scheme with Register (s3://, gs://, azblob://). FSFor picks the FS for a name:
// plain paths and file:// URLs are local, other schemes are looked up among the
// registered ones ("unsupported scheme" otherwise). An FS implementation:
//   - names files the way users do (OS paths, or full URLs) and returns names in the
//     same form, so an Entry's Name can be opened again;
//   - List is recursive and returns regular files only, in any order; the dataset
//     logic sorts and applies the hidden-file rules, so an FS never has to;
//   - Open returns a File that can stream (io.Reader) and read ranges (io.ReaderAt:
//     Parquet reads its footer and then only the row groups it needs);
//   - Create returns a Part: nothing is visible under the name until Commit. Local
//     parts are writers.AtomicFile (a temporary file beside the destination,
//     fsynced, renamed, directory fsynced); an object store commits by completing a
//     multipart upload. Abort discards the data.
//   - Remove of a missing name is not an error; MkdirAll is a no-op where folders
//     do not exist.
//
// Errors from an FS are mlerr.IO errors (a missing file wraps fs.ErrNotExist),
// except mlerr.Usage for a malformed name or pattern.
package dataset
