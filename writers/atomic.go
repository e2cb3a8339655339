package writers

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/mlbatch/mlbatch/internal/mlerr"
)

// AtomicFile is a temporary file beside the destination that becomes the
// destination on Commit: write, fsync, rename (or link when overwriting is not
// allowed, so a file that appeared meanwhile is never clobbered), fsync the
// directory. It is the local commit every mlbatch output goes through: the
// writers here and the dataset package's local file system. Exactly one of
// Commit and Abort must be called; Abort after either is a no-op.
type AtomicFile struct {
	dst, tmp  string
	f         *os.File
	overwrite bool
	mode      fs.FileMode
}

func ioErr(format string, args ...any) error { return mlerr.Errorf(mlerr.IO, format, args...) }

// CreateAtomic checks the destination and opens a temporary file
// .<name>.mlbatch-tmp-<random> beside it. The destination's directory must exist.
// An existing destination is an mlerr.IO error unless overwrite (then the file is
// replaced on Commit, keeping its permissions); every failure is an mlerr.IO error.
func CreateAtomic(dst string, overwrite bool) (*AtomicFile, error) {
	dir := filepath.Dir(dst)
	st, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, ioErr("%s: directory %s does not exist", dst, dir)
		}
		return nil, mlerr.Wrap(mlerr.IO, err)
	}
	if !st.IsDir() {
		return nil, ioErr("%s: %s is not a directory", dst, dir)
	}
	mode := fs.FileMode(0o644)
	if st, err := os.Stat(dst); err == nil {
		if !overwrite {
			return nil, ioErr("%s: already exists (use --overwrite)", dst)
		}
		if !st.Mode().IsRegular() {
			return nil, ioErr("%s: exists and is not a regular file", dst)
		}
		mode = st.Mode().Perm() // replacing a file keeps its permissions
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, mlerr.Wrap(mlerr.IO, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(dst)+".mlbatch-tmp-*")
	if err != nil {
		return nil, mlerr.Wrap(mlerr.IO, fmt.Errorf("%s: %w", dst, err))
	}
	return &AtomicFile{dst: dst, tmp: f.Name(), f: f, overwrite: overwrite, mode: mode}, nil
}

// Name is the destination.
func (a *AtomicFile) Name() string { return a.dst }

// Write writes to the temporary file.
func (a *AtomicFile) Write(p []byte) (int, error) {
	if a.f == nil {
		return 0, ioErr("%s: write after commit or abort", a.dst)
	}
	return a.f.Write(p)
}

// Commit makes the temporary file the destination. On failure the temporary file
// is removed. A second Commit is an error.
func (a *AtomicFile) Commit() (err error) {
	if a.f == nil {
		return ioErr("%s: commit after commit or abort", a.dst)
	}
	defer func() {
		if err != nil {
			a.Abort()
		}
	}()
	if err := a.f.Chmod(a.mode); err != nil {
		return ioErr("%s: %w", a.dst, err)
	}
	if err := a.f.Sync(); err != nil {
		return ioErr("%s: fsync: %w", a.dst, err)
	}
	err = a.f.Close()
	a.f = nil
	if err != nil {
		return ioErr("%s: close: %w", a.dst, err)
	}
	if a.overwrite {
		if err := os.Rename(a.tmp, a.dst); err != nil {
			return ioErr("%s: %w", a.dst, err)
		}
	} else {
		// Link fails if the destination exists; fall back to a checked rename on
		// file systems without hard links.
		err := os.Link(a.tmp, a.dst)
		switch {
		case err == nil:
			os.Remove(a.tmp)
		case errors.Is(err, fs.ErrExist):
			return ioErr("%s: already exists (use --overwrite)", a.dst)
		default:
			if _, serr := os.Lstat(a.dst); serr == nil {
				return ioErr("%s: already exists (use --overwrite)", a.dst)
			}
			if err := os.Rename(a.tmp, a.dst); err != nil {
				return ioErr("%s: %w", a.dst, err)
			}
		}
	}
	a.tmp = ""
	if err := syncDir(filepath.Dir(a.dst)); err != nil {
		return ioErr("%s: fsync directory: %w", a.dst, err)
	}
	return nil
}

// syncDir makes a rename in dir durable. File systems that cannot fsync a
// directory report EINVAL; that is not a failure of ours.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOTSUP) {
		return err
	}
	return nil
}

// Abort removes the temporary file; it is safe to call more than once and after
// Commit (then it does nothing).
func (a *AtomicFile) Abort() error {
	if a.f != nil {
		a.f.Close()
		a.f = nil
	}
	if a.tmp != "" {
		err := os.Remove(a.tmp)
		a.tmp = ""
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return mlerr.Wrap(mlerr.IO, err)
		}
	}
	return nil
}

// encoder turns record batches into one file format.
type encoder interface {
	write(rec arrow.RecordBatch) error
	// finish writes everything still buffered (and any footer) to the file.
	finish() error
	// discard frees the encoder's buffers without finishing the file.
	discard()
}

type writerState int

const (
	stateOpen writerState = iota
	stateCommitted
	stateAborted
)

type fileWriter struct {
	name   string
	schema *arrow.Schema
	af     Part
	enc    encoder
	state  writerState
	err    error // first write error; Commit refuses to publish after one
}

func (w *fileWriter) Write(rec arrow.RecordBatch) error {
	if w.state != stateOpen {
		return mlerr.Errorf(mlerr.Internal, "%s: write after commit or abort", w.name)
	}
	if w.err != nil {
		return w.err
	}
	if !sameFields(rec.Schema(), w.schema) {
		return mlerr.Errorf(mlerr.Internal, "%s: batch schema %s differs from the output schema %s", w.name, rec.Schema(), w.schema)
	}
	if err := w.enc.write(rec); err != nil {
		w.err = w.wrap(err)
		return w.err
	}
	return nil
}

func (w *fileWriter) wrap(err error) error {
	if _, ok := err.(*mlerr.Error); ok {
		return err
	}
	return mlerr.Wrap(mlerr.IO, fmt.Errorf("%s: write: %w", w.name, err))
}

// Commit publishes the file. After a failed Write it aborts and returns that error;
// after Abort it returns an error; after Commit it is a no-op.
func (w *fileWriter) Commit() error {
	switch w.state {
	case stateCommitted:
		return nil
	case stateAborted:
		return mlerr.Errorf(mlerr.Internal, "%s: commit after abort", w.name)
	}
	if w.err != nil {
		w.Abort()
		return w.err
	}
	if err := w.enc.finish(); err != nil {
		w.Abort()
		return w.wrap(err)
	}
	if err := w.af.Commit(); err != nil {
		w.state = stateAborted
		return err
	}
	w.state = stateCommitted
	return nil
}

// Abort discards the temporary file. It is a no-op after Commit or Abort.
func (w *fileWriter) Abort() error {
	if w.state != stateOpen {
		return nil
	}
	w.state = stateAborted
	w.enc.discard()
	return w.af.Abort()
}

func sameFields(a, b *arrow.Schema) bool {
	if a.NumFields() != b.NumFields() {
		return false
	}
	for i := range a.NumFields() {
		fa, fb := a.Field(i), b.Field(i)
		if fa.Name != fb.Name || !arrow.TypeEqual(fa.Type, fb.Type) {
			return false
		}
	}
	return true
}
