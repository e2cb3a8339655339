package dataset

import (
	"context"
	"errors"

	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mlbatch/mlbatch/internal/mlerr"
	"github.com/mlbatch/mlbatch/writers"
)

// FS is where a dataset lives: the local disk, or (registered by an object-store
// package) a bucket. Names are the strings users give: OS paths for the local disk,
// full URLs ("s3://bucket/key") for buckets; every Entry.Name an FS returns can be
// passed back to the same FS. Implementations must be safe for concurrent use.
type FS interface {
	// List returns every regular file under root, recursively, in any order
	// (callers sort). root may also name a single file: then that file is the
	// list. A root that does not exist is an error wrapping fs.ErrNotExist.
	// Hidden-file rules (Spark's _* and .*) are the caller's, not the FS's.
	List(ctx context.Context, root string) ([]Entry, error)
	// Stat describes one file or directory (on a bucket: an object, or a prefix
	// holding objects, reported with IsDir). Missing: an error wrapping
	// fs.ErrNotExist.
	Stat(ctx context.Context, name string) (Entry, error)
	// Open opens a file for streaming and ranged reads.
	Open(ctx context.Context, name string) (File, error)
	// Create starts writing a file that becomes visible under name only on
	// Part.Commit. Without overwrite an existing name is an mlerr.IO error
	// ("already exists (use --overwrite)"), checked at Create and again at Commit
	// where the store allows it.
	Create(ctx context.Context, name string, overwrite bool) (Part, error)
	// Remove deletes one file; a missing file is not an error.
	Remove(ctx context.Context, name string) error
	// MkdirAll makes a directory and its parents (a no-op on buckets).
	MkdirAll(ctx context.Context, dir string) error
	// Glob returns the entries whose names match pattern (path.Match syntax,
	// per path segment: *, ?, [...]); directories may be among them (IsDir) and
	// the caller lists them. No match is an empty result, not an error.
	Glob(ctx context.Context, pattern string) ([]Entry, error)
}

// Entry describes a file (or, from Stat and Glob, a directory).
type Entry struct {
	Name    string // as accepted by the FS's Open
	Size    int64
	ModTime time.Time
	IsDir   bool
}

// File is an open file: streaming reads, ranged reads (Parquet footers and row
// groups), and its size.
type File interface {
	io.Reader
	io.ReaderAt
	io.Closer
	Size() int64
}

// Part is a file being written: nothing is visible under its name until Commit.
// Exactly one of Commit and Abort must be called; Abort after Commit or Abort is a
// no-op. writers.CreateOn encodes record batches into a Part.
type Part interface {
	io.Writer
	Commit() error
	Abort() error
}

var _ writers.Part = Part(nil)

var (
	regMu   sync.RWMutex
	schemes = map[string]func(ctx context.Context, u *url.URL) (FS, error){}
)

// Register makes FSFor open names with the URL scheme (lowercase, e.g. "s3") with
// open, which gets the parsed URL of the name asked for. It panics when a scheme is
// registered twice (a programming error, at init time).
func Register(scheme string, open func(ctx context.Context, u *url.URL) (FS, error)) {
	regMu.Lock()
	defer regMu.Unlock()
	scheme = strings.ToLower(scheme)
	if _, dup := schemes[scheme]; dup || scheme == "file" || scheme == "" {
		panic("dataset: scheme registered twice: " + scheme)
	}
	schemes[scheme] = open
}

// IsURL reports whether name has a URL scheme of two or more letters (so that a
// Windows drive letter "C:\x" stays a path).
func IsURL(name string) bool {
	i := strings.Index(name, "://")
	if i < 2 {
		return false
	}
	for _, c := range name[:i] {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// FSFor returns the FS for a path or URL and the name to use with it: the local
// disk for plain paths and file:// URLs (the name is then the OS path), the
// registered FS for other schemes. An unknown scheme is an mlerr.Usage error.
func FSFor(ctx context.Context, name string) (FS, string, error) {
	if !IsURL(name) {
		return Local, name, nil
	}
	u, err := url.Parse(name)
	if err != nil {
		return nil, "", mlerr.Errorf(mlerr.Usage, "%s: %v", name, err)
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme == "file" {
		if u.Host != "" && u.Host != "localhost" {
			return nil, "", mlerr.Errorf(mlerr.Usage, "%s: file URLs name a local path (file:///path)", name)
		}
		return Local, filepath.FromSlash(u.Path), nil
	}
	regMu.RLock()
	open := schemes[scheme]
	regMu.RUnlock()
	if open == nil {
		return nil, "", mlerr.Errorf(mlerr.Usage, "%s: unsupported scheme %q (supported: a local path, file://%s)", name, u.Scheme, registered())
	}
	f, err := open(ctx, u)
	if err != nil {
		return nil, "", err
	}
	return f, name, nil
}

func registered() string {
	regMu.RLock()
	defer regMu.RUnlock()
	var names []string
	for s := range schemes {
		names = append(names, ", "+s+"://")
	}
	sort.Strings(names)
	return strings.Join(names, "")
}

// Join appends slash-separated elements to a directory name: with '/' for URLs,
// with filepath.Join for local paths.
func Join(dir string, elem ...string) string {
	if !IsURL(dir) {
		return filepath.Join(append([]string{dir}, elem...)...)
	}
	out := strings.TrimRight(dir, "/")
	for _, e := range elem {
		out += "/" + strings.Trim(e, "/")
	}
	return out
}

// Local is the local disk.
var Local FS = localFS{}

type localFS struct{}

func ioErr(err error) error { return mlerr.Wrap(mlerr.IO, err) }

func (localFS) List(ctx context.Context, root string) ([]Entry, error) {
	st, err := os.Stat(root)
	if err != nil {
		return nil, ioErr(err)
	}
	if !st.IsDir() {
		return []Entry{{Name: root, Size: st.Size(), ModTime: st.ModTime()}}, nil
	}
	var out []Entry
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			// Follow a symlink to a regular file; skip anything else (sockets, ...).
			st, err := os.Stat(p)
			if err != nil || !st.Mode().IsRegular() {
				return nil
			}
			info = st
		}
		out = append(out, Entry{Name: p, Size: info.Size(), ModTime: info.ModTime()})
		return nil
	})
	if err != nil {
		return nil, ioErr(err)
	}
	return out, nil
}

func (localFS) Stat(_ context.Context, name string) (Entry, error) {
	st, err := os.Stat(name)
	if err != nil {
		return Entry{}, ioErr(err)
	}
	return Entry{Name: name, Size: st.Size(), ModTime: st.ModTime(), IsDir: st.IsDir()}, nil
}

type localFile struct {
	*os.File
	size int64
}

func (f localFile) Size() int64 { return f.size }

func (localFS) Open(_ context.Context, name string) (File, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, ioErr(err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, ioErr(err)
	}
	if st.IsDir() {
		f.Close()
		return nil, mlerr.Errorf(mlerr.IO, "%s: is a directory", name)
	}
	return localFile{File: f, size: st.Size()}, nil
}

// Create writes through writers.AtomicFile: a temporary file beside name, fsynced
// and renamed (or hard-linked without overwrite) on Commit.
func (localFS) Create(_ context.Context, name string, overwrite bool) (Part, error) {
	return writers.CreateAtomic(name, overwrite)
}

func (localFS) Remove(_ context.Context, name string) error {
	if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return ioErr(err)
	}
	return nil
}

func (localFS) MkdirAll(_ context.Context, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return ioErr(err)
	}
	return nil
}

func (localFS) Glob(_ context.Context, pattern string) ([]Entry, error) {
	names, err := filepath.Glob(pattern)
	if err != nil {
		return nil, mlerr.Errorf(mlerr.Usage, "glob %q: %v", pattern, err)
	}
	var out []Entry
	for _, n := range names {
		st, err := os.Stat(n)
		if err != nil {
			continue // a dangling symlink
		}
		out = append(out, Entry{Name: n, Size: st.Size(), ModTime: st.ModTime(), IsDir: st.IsDir()})
	}
	return out, nil
}

// HasGlob reports whether a name holds glob metacharacters (*, ?, [).
func HasGlob(name string) bool { return strings.ContainsAny(name, "*?[") }
