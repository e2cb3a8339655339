// Package blobstore plugs object stores into package dataset: importing it
// registers s3://, gs:// and azblob:// with dataset.Register, so --in and --out
// take bucket URLs for files, folders and globs.
//
// Names are full URLs (s3://bucket/key); a folder is a key prefix, and a name is a
// folder when objects exist below it followed by "/". Stat of a name that is
// neither an object nor such a prefix is an fs.ErrNotExist error, while List of
// it is empty: buckets have no empty folders, so a new output folder exists as
// soon as MkdirAll (a no-op) returns. Reads stream and read
// ranges (Parquet footers and row groups) through internal/blobfs; a Part is an
// upload that becomes visible only when Commit completes it, and Abort cancels it,
// so a failed run leaves no object under the output name. Bucket settings come
// from the environment (AWS_ENDPOINT_URL, AWS_REGION, credentials: see
// internal/blobfs); URL query parameters are refused here, because names of
// files inside a folder are built by appending to the folder's name.
//
// Errors are mlerr.IO (a missing object wraps fs.ErrNotExist, an existing output
// fs.ErrExist), except mlerr.Usage for a malformed URL.
package blobstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/mlbatch/mlbatch/dataset"
	"github.com/mlbatch/mlbatch/internal/blobfs"
	"github.com/mlbatch/mlbatch/internal/mlerr"
)

func init() {
	for _, s := range blobfs.Schemes {
		dataset.Register(s, open)
	}
}

func open(ctx context.Context, u *url.URL) (dataset.FS, error) {
	if u.RawQuery != "" {
		return nil, mlerr.Errorf(mlerr.Usage, "%s: query parameters are not supported in data URLs; configure the store through the environment (AWS_ENDPOINT_URL, AWS_REGION, AWS_PROFILE, ...)", blobfs.Redact(u.String()))
	}
	if u.Host == "" {
		return nil, mlerr.Errorf(mlerr.Usage, "%s: no bucket name (want %s://bucket/key)", u.String(), u.Scheme)
	}
	return bucketFS{}, nil
}

// bucketFS is stateless: every name is a full URL, and blobfs keeps one opened
// bucket per URL configuration.
type bucketFS struct{}

func ioErr(err error) error {
	if err == nil {
		return nil
	}
	var me *mlerr.Error
	if errors.As(err, &me) {
		return err
	}
	return mlerr.Wrap(mlerr.IO, err)
}

func (bucketFS) bucket(ctx context.Context, name string) (*blobfs.Bucket, string, error) {
	u, err := url.Parse(name)
	if err != nil {
		return nil, "", mlerr.Errorf(mlerr.Usage, "%s: %v", name, err)
	}
	if u.RawQuery != "" {
		return nil, "", mlerr.Errorf(mlerr.Usage, "%s: query parameters are not supported in data URLs", blobfs.Redact(name))
	}
	b, key, err := blobfs.OpenURL(ctx, u)
	if err != nil {
		return nil, "", mlerr.Wrap(mlerr.Usage, err)
	}
	return b, key, nil
}

func entry(b *blobfs.Bucket, o blobfs.Object) dataset.Entry {
	e := dataset.Entry{Name: b.URL(o.Key), Size: o.Size}
	if o.Mod != 0 {
		e.ModTime = time.Unix(0, o.Mod)
	}
	return e
}

func (f bucketFS) List(ctx context.Context, root string) ([]dataset.Entry, error) {
	b, key, err := f.bucket(ctx, root)
	if err != nil {
		return nil, err
	}
	if key != "" && !strings.HasSuffix(key, "/") {
		o, err := b.Stat(ctx, key)
		if err == nil {
			return []dataset.Entry{entry(b, o)}, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, ioErr(err)
		}
		key += "/"
	}
	objs, err := b.List(ctx, key)
	if err != nil {
		return nil, ioErr(err)
	}
	// Buckets have no folders that could be missing: a prefix without objects
	// lists as an empty folder (a new output folder, after MkdirAll). Stat
	// tells a missing name.
	out := make([]dataset.Entry, len(objs))
	for i, o := range objs {
		out[i] = entry(b, o)
	}
	return out, nil
}

func (f bucketFS) Stat(ctx context.Context, name string) (dataset.Entry, error) {
	b, key, err := f.bucket(ctx, name)
	if err != nil {
		return dataset.Entry{}, err
	}
	if key != "" && !strings.HasSuffix(key, "/") {
		o, err := b.Stat(ctx, key)
		if err == nil {
			return entry(b, o), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return dataset.Entry{}, ioErr(err)
		}
	}
	ok, err := b.IsPrefix(ctx, key)
	if err != nil {
		return dataset.Entry{}, ioErr(err)
	}
	if !ok {
		return dataset.Entry{}, ioErr(fmt.Errorf("%s: no such object or folder: %w", name, fs.ErrNotExist))
	}
	return dataset.Entry{Name: name, IsDir: true}, nil
}

// file is an open object: streaming and ranged reads.
type file struct{ *blobfs.Reader }

func (f bucketFS) Open(ctx context.Context, name string) (dataset.File, error) {
	b, key, err := f.bucket(ctx, name)
	if err != nil {
		return nil, err
	}
	if key == "" || strings.HasSuffix(key, "/") {
		return nil, mlerr.Errorf(mlerr.IO, "%s: is a folder", name)
	}
	r, err := b.OpenReader(ctx, key, -1)
	if err != nil {
		return nil, ioErr(err)
	}
	return file{r}, nil
}

// part is an upload in progress.
type part struct{ w *blobfs.Writer }

func (p part) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	return n, ioErr(err)
}
func (p part) Commit() error { return ioErr(p.w.Commit()) }
func (p part) Abort() error  { return ioErr(p.w.Abort()) }

func (f bucketFS) Create(ctx context.Context, name string, overwrite bool) (dataset.Part, error) {
	b, key, err := f.bucket(ctx, name)
	if err != nil {
		return nil, err
	}
	if key == "" || strings.HasSuffix(key, "/") {
		return nil, mlerr.Errorf(mlerr.Usage, "%s: names a folder, not an object", name)
	}
	w, err := b.Create(ctx, key, overwrite)
	if err != nil {
		return nil, ioErr(err)
	}
	return part{w}, nil
}

func (f bucketFS) Remove(ctx context.Context, name string) error {
	b, key, err := f.bucket(ctx, name)
	if err != nil {
		return err
	}
	return ioErr(b.Remove(ctx, key))
}

// MkdirAll does nothing: buckets have no folders.
func (bucketFS) MkdirAll(context.Context, string) error { return nil }

func (f bucketFS) Glob(ctx context.Context, pattern string) ([]dataset.Entry, error) {
	b, key, err := f.bucket(ctx, pattern)
	if err != nil {
		return nil, err
	}
	if _, err := path.Match(key, ""); err != nil {
		return nil, mlerr.Errorf(mlerr.Usage, "glob %q: %v", pattern, err)
	}
	ents, err := b.Glob(ctx, key)
	if err != nil {
		return nil, ioErr(err)
	}
	out := make([]dataset.Entry, len(ents))
	for i, e := range ents {
		if e.IsDir {
			out[i] = dataset.Entry{Name: b.URL(strings.TrimSuffix(e.Key, "/")), IsDir: true}
		} else {
			out[i] = entry(b, e.Object)
		}
	}
	return out, nil
}
