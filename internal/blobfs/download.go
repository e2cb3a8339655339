package blobfs

import (
	"bytes"
	"context"
	"crypto/md5"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Download copies every object under prefix (a key ending in "/", or "" for the
// whole bucket) into the folder dst, keeping the key's path below the prefix.
// Each file is checked against the listing: its size, and its MD5 where the store
// gives one (S3 single-part ETags, GCS, Azure). Keys that would escape dst (.., a
// leading /) are refused. maxFiles bounds how many objects are copied.
func (b *Bucket) Download(ctx context.Context, prefix, dst string, maxFiles int) (int, error) {
	objs, err := b.List(ctx, prefix)
	if err != nil {
		return 0, err
	}
	if len(objs) > maxFiles {
		return 0, fmt.Errorf("%s holds more than %d objects", Redact(b.URL(prefix)), maxFiles)
	}
	for _, o := range objs {
		rel := strings.TrimPrefix(o.Key, prefix)
		if !safeRel(rel) {
			return 0, fmt.Errorf("%s: unsafe object name under %s", Redact(b.URL(o.Key)), Redact(b.URL(prefix)))
		}
		if err := b.downloadFile(ctx, o, filepath.Join(dst, filepath.FromSlash(rel))); err != nil {
			return 0, err
		}
	}
	return len(objs), nil
}

func safeRel(rel string) bool {
	if rel == "" || strings.HasPrefix(rel, "/") || strings.ContainsAny(rel, "\\\x00") {
		return false
	}
	for _, seg := range strings.Split(rel, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

func (b *Bucket) downloadFile(ctx context.Context, o Object, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	r, err := b.b.NewReader(ctx, o.Key, nil)
	if err != nil {
		return b.wrap("download", o.Key, err)
	}
	defer r.Close()
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	h := md5.New()
	n, err := io.Copy(io.MultiWriter(f, h), r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return b.wrap("download", o.Key, err)
	}
	if n != o.Size {
		return fmt.Errorf("download %s: got %d bytes, the listing says %d", Redact(b.URL(o.Key)), n, o.Size)
	}
	if len(o.MD5) == md5.Size && !bytes.Equal(h.Sum(nil), o.MD5) {
		return fmt.Errorf("download %s: MD5 %x differs from the store's %x", Redact(b.URL(o.Key)), h.Sum(nil), o.MD5)
	}
	return nil
}
