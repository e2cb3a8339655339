// Package blobfs reads and writes objects in S3, Google Cloud Storage and Azure
// Blob Storage through gocloud.dev/blob, for model downloads and dataset files.
//
// # Names
//
// An object is named by a URL: s3://bucket/key, gs://bucket/key,
// azblob://container/key. Query parameters configure the bucket the way
// gocloud.dev's URL openers do (s3://b/k?region=eu-west-1&endpoint=http://host:9000&use_path_style=true);
// names returned by List and Glob carry the same query, so they can be opened
// again. Credentials come from each SDK's usual chain: for S3 the AWS variables,
// shared config and credentials files, SSO, web identity and instance roles; for
// GCS Application Default Credentials; for Azure AZURE_STORAGE_ACCOUNT with
// AZURE_STORAGE_KEY, AZURE_STORAGE_SAS_TOKEN, AZURE_STORAGE_CONNECTION_STRING or
// the default Azure credential.
//
// S3-compatible servers (MinIO, versitygw, Ceph): the endpoint comes from the
// endpoint query parameter, else AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL (read by
// the AWS SDK), else MLFLOW_S3_ENDPOINT_URL (MLflow's own setting). With a custom
// endpoint, requests are path-style (http://host/bucket/key) unless
// use_path_style=false, as boto3 does; without any region setting the region is
// AWS_DEFAULT_REGION, else us-east-1.
//
// # Reads, writes and errors
//
// Reader streams (Read) and reads ranges (ReadAt) through ranged GETs with a small
// block cache, so a Parquet footer and a run of small column chunks cost one
// request each rather than one per read. Writer uploads as it is written (S3
// multipart upload for large objects) and the object appears only when Commit
// completes the upload; Abort cancels it, and nothing appears.
//
// A missing object or prefix is an error wrapping fs.ErrNotExist. Buckets are
// opened once per process and URL configuration, and are safe for concurrent use.
package blobfs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"sort"
	"strings"
	"sync"

	"gocloud.dev/blob"
	_ "gocloud.dev/blob/azureblob" // azblob://
	_ "gocloud.dev/blob/gcsblob"   // gs://
	"gocloud.dev/gcerrors"
)

// Schemes are the URL schemes this package opens.
var Schemes = []string{"s3", "gs", "azblob"}

// IsURL reports whether name is an object-store URL this package opens.
func IsURL(name string) bool {
	i := strings.Index(name, "://")
	if i < 0 {
		return false
	}
	s := strings.ToLower(name[:i])
	for _, sc := range Schemes {
		if s == sc {
			return true
		}
	}
	return false
}

// Bucket is an opened bucket (an S3 or GCS bucket, an Azure container).
type Bucket struct {
	b      *blob.Bucket
	scheme string // s3, gs, azblob
	name   string // the bucket or container
	query  string // the configuring query, "" or "?..."
}

var (
	bucketsMu sync.Mutex
	buckets   = map[string]*Bucket{}
)

// envKeys are the variables that change how a bucket is reached.
var envKeys = []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "MLFLOW_S3_ENDPOINT_URL", "AWS_REGION",
	"AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AZURE_STORAGE_ACCOUNT", "STORAGE_EMULATOR_HOST"}

// Open returns the bucket a URL names and the object key (or key prefix) in it,
// without a leading slash. Keys keep a trailing slash when the URL has one.
func Open(ctx context.Context, rawURL string) (*Bucket, string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", rawURL, err)
	}
	return OpenURL(ctx, u)
}

// OpenURL is Open for a parsed URL.
func OpenURL(ctx context.Context, u *url.URL) (*Bucket, string, error) {
	scheme := strings.ToLower(u.Scheme)
	if !IsURL(scheme + "://") {
		return nil, "", fmt.Errorf("%s: not an object-store URL (s3://, gs://, azblob://)", Redact(u.String()))
	}
	if u.Host == "" {
		return nil, "", fmt.Errorf("%s: no bucket name (want %s://bucket/key)", Redact(u.String()), scheme)
	}
	key := strings.TrimPrefix(u.Path, "/")
	for _, seg := range strings.Split(key, "/") {
		if seg == ".." || seg == "." {
			return nil, "", fmt.Errorf("%s: . and .. are not allowed in object keys", Redact(u.String()))
		}
	}
	// The settings read from the environment are part of what the bucket is.
	id := scheme + "://" + u.Host + "?" + u.RawQuery
	for _, k := range envKeys {
		id += "\x00" + os.Getenv(k)
	}
	bucketsMu.Lock()
	defer bucketsMu.Unlock()
	if b := buckets[id]; b != nil {
		return b, key, nil
	}
	var bb *blob.Bucket
	var err error
	if scheme == "s3" {
		bb, err = openS3(ctx, u.Host, u.Query())
	} else {
		bb, err = blob.OpenBucket(ctx, (&url.URL{Scheme: scheme, Host: u.Host, RawQuery: u.RawQuery}).String())
	}
	if err != nil {
		return nil, "", fmt.Errorf("opening %s://%s: %w", scheme, u.Host, err)
	}
	b := &Bucket{b: bb, scheme: scheme, name: u.Host}
	if u.RawQuery != "" {
		b.query = "?" + u.RawQuery
	}
	buckets[id] = b
	return b, key, nil
}

// Redact drops user info from a URL for messages.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	u.User = nil
	return u.String()
}

// URL names a key of the bucket, with the bucket's query.
func (b *Bucket) URL(key string) string {
	return b.scheme + "://" + b.name + "/" + key + b.query
}

// Object describes one object.
type Object struct {
	Key  string
	Size int64
	MD5  []byte // nil when the store does not say
	Mod  int64  // modification time, Unix nanoseconds (0 when unknown)
}

// wrap turns a gocloud error into one naming the object, wrapping fs.ErrNotExist
// when the object is missing.
func (b *Bucket) wrap(op, key string, err error) error {
	if err == nil {
		return nil
	}
	name := Redact(b.URL(key))
	switch gcerrors.Code(err) {
	case gcerrors.NotFound:
		return fmt.Errorf("%s %s: %w", op, name, fs.ErrNotExist)
	case gcerrors.PermissionDenied:
		return fmt.Errorf("%s %s: permission denied (check the credentials): %w", op, name, err)
	}
	return fmt.Errorf("%s %s: %w", op, name, err)
}

// Stat describes one object.
func (b *Bucket) Stat(ctx context.Context, key string) (Object, error) {
	a, err := b.b.Attributes(ctx, key)
	if err != nil {
		return Object{}, b.wrap("stat", key, err)
	}
	return Object{Key: key, Size: a.Size, MD5: a.MD5, Mod: a.ModTime.UnixNano()}, nil
}

// Exists reports whether an object exists.
func (b *Bucket) Exists(ctx context.Context, key string) (bool, error) {
	ok, err := b.b.Exists(ctx, key)
	if err != nil {
		return false, b.wrap("stat", key, err)
	}
	return ok, nil
}

// IsPrefix reports whether any object's key starts with prefix + "/".
func (b *Bucket) IsPrefix(ctx context.Context, prefix string) (bool, error) {
	p := strings.TrimSuffix(prefix, "/") + "/"
	if p == "/" {
		p = ""
	}
	it := b.b.List(&blob.ListOptions{Prefix: p})
	_, err := it.Next(ctx)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, io.EOF) {
		return false, nil
	}
	return false, b.wrap("list", p, err)
}

// List returns every object under the prefix (recursively), sorted by key.
// Folder markers (keys ending in "/") are left out.
func (b *Bucket) List(ctx context.Context, prefix string) ([]Object, error) {
	var out []Object
	it := b.b.List(&blob.ListOptions{Prefix: prefix})
	for {
		o, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, b.wrap("list", prefix, err)
		}
		if o.IsDir || strings.HasSuffix(o.Key, "/") {
			continue
		}
		out = append(out, Object{Key: o.Key, Size: o.Size, MD5: o.MD5, Mod: o.ModTime.UnixNano()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// ListDir lists one level under prefix (which ends in "/" or is ""): objects, and
// sub-prefixes reported with IsDir and their key ending in "/".
func (b *Bucket) ListDir(ctx context.Context, prefix string) ([]DirEntry, error) {
	var out []DirEntry
	it := b.b.List(&blob.ListOptions{Prefix: prefix, Delimiter: "/"})
	for {
		o, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, b.wrap("list", prefix, err)
		}
		if !o.IsDir && strings.HasSuffix(o.Key, "/") {
			continue
		}
		out = append(out, DirEntry{Object: Object{Key: o.Key, Size: o.Size, MD5: o.MD5, Mod: o.ModTime.UnixNano()}, IsDir: o.IsDir})
	}
	return out, nil
}

// DirEntry is an object or a sub-prefix.
type DirEntry struct {
	Object
	IsDir bool
}

// Glob returns the objects and prefixes whose keys match pattern, path.Match
// syntax segment by segment ("data/2024-*/part-*.parquet"). Listing starts at the
// pattern's longest literal prefix of whole segments.
func (b *Bucket) Glob(ctx context.Context, pattern string) ([]DirEntry, error) {
	if _, err := path.Match(pattern, ""); err != nil {
		return nil, fmt.Errorf("pattern %s: %w", b.URL(pattern), err)
	}
	segs := strings.Split(pattern, "/")
	var walk func(prefix string, i int) ([]DirEntry, error)
	walk = func(prefix string, i int) ([]DirEntry, error) {
		// Literal segments extend the prefix without listing.
		for i < len(segs)-1 && !hasMeta(segs[i]) {
			prefix += segs[i] + "/"
			i++
		}
		ents, err := b.ListDir(ctx, prefix)
		if err != nil {
			return nil, err
		}
		var out []DirEntry
		last := i == len(segs)-1
		for _, e := range ents {
			name := strings.TrimSuffix(strings.TrimPrefix(e.Key, prefix), "/")
			if ok, _ := path.Match(segs[i], name); !ok {
				continue
			}
			if last {
				out = append(out, e)
				continue
			}
			if e.IsDir {
				sub, err := walk(e.Key, i+1)
				if err != nil {
					return nil, err
				}
				out = append(out, sub...)
			}
		}
		return out, nil
	}
	out, err := walk("", 0)
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

func hasMeta(s string) bool { return strings.ContainsAny(s, `*?[\`) }

// Remove deletes one object; a missing object is not an error.
func (b *Bucket) Remove(ctx context.Context, key string) error {
	err := b.b.Delete(ctx, key)
	if err != nil && gcerrors.Code(err) != gcerrors.NotFound {
		return b.wrap("delete", key, err)
	}
	return nil
}
