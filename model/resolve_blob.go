package model

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mlbatch/mlbatch/internal/blobfs"
)

// Models in object stores: s3://, gs:// and azblob:// URIs, given directly as
// --model or recorded as a run's artifact_uri, a logged model's artifact
// location or a model version's source in any store. MLflow's Azure form
// wasbs://<container>@<account>.blob.core.windows.net/<path> is read as
// azblob://<container>/<path> of that account.
//
// A model folder is downloaded into the cache folder (the one used for tracking
// servers) under a name derived from its URL and its listing (keys, sizes,
// checksums, modification times): an unchanged model is found again with one
// listing request and no download, and a model overwritten in place gets a new
// folder. The files go to a temporary folder first, each checked against the
// listing (size, and MD5 where the store gives one), and the folder is renamed
// into place only once all arrived, so an interrupted download is never used.

// blobScheme reports whether a location is in an object store.
func blobScheme(uri string) bool {
	switch uriScheme(uri) {
	case "s3", "gs", "azblob", "wasbs", "wasb":
		return true
	}
	return false
}

// blobURL rewrites MLflow's Azure locations into gocloud's form.
func blobURL(uri string) (string, error) {
	switch uriScheme(uri) {
	case "wasbs", "wasb":
		u, err := url.Parse(uri)
		if err != nil {
			return "", err
		}
		container, host := "", u.Host
		if u.User != nil {
			container = u.User.Username()
		}
		account, domain, _ := strings.Cut(host, ".blob.")
		if container == "" || account == "" || domain == "" {
			return "", fmt.Errorf("%s: want wasbs://<container>@<account>.blob.core.windows.net/<path>", uri)
		}
		q := url.Values{"storage_account": {account}}
		if domain != "core.windows.net" {
			q.Set("domain", "blob."+domain)
		}
		return (&url.URL{Scheme: "azblob", Host: container, Path: u.Path, RawQuery: q.Encode()}).String(), nil
	}
	return uri, nil
}

// blobArtifacts reads model folders from object stores.
type blobArtifacts struct {
	opts ResolveOptions
}

func (o ResolveOptions) ctx() context.Context {
	if o.Context != nil {
		return o.Context
	}
	return context.Background()
}

// open returns the bucket and the key prefix (ending in "/", or "" for the
// whole bucket) of loc/sub.
func (a *blobArtifacts) open(loc artLoc, sub string) (*blobfs.Bucket, string, error) {
	raw, err := blobURL(loc.uri)
	if err != nil {
		return nil, "", err
	}
	b, key, err := blobfs.Open(a.opts.ctx(), raw)
	if err != nil {
		return nil, "", err
	}
	var parts []string
	for _, seg := range strings.Split(key+"/"+sub, "/") {
		switch seg {
		case "", ".":
		case "..":
			return nil, "", fmt.Errorf("artifact location %s: path may not contain ..", blobfs.Redact(loc.uri))
		default:
			parts = append(parts, seg)
		}
	}
	prefix := strings.Join(parts, "/")
	if prefix != "" {
		prefix += "/"
	}
	return b, prefix, nil
}

func (a *blobArtifacts) has(loc artLoc, sub string) (bool, error) {
	b, prefix, err := a.open(loc, sub)
	if err != nil {
		return false, err
	}
	return b.Exists(a.opts.ctx(), prefix+"MLmodel")
}

func (a *blobArtifacts) scan(loc artLoc, depth int) ([]string, error) {
	b, prefix, err := a.open(loc, "")
	if err != nil {
		return nil, err
	}
	objs, err := b.List(a.opts.ctx(), prefix)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, o := range objs {
		rel := strings.TrimPrefix(o.Key, prefix)
		if path.Base(rel) != "MLmodel" || rel == "MLmodel" {
			continue
		}
		dir := path.Dir(rel)
		if strings.Count(dir, "/") < depth {
			out = append(out, dir)
		}
	}
	return out, nil
}

func (a *blobArtifacts) describeLoc(loc artLoc) string { return blobfs.Redact(loc.uri) }

func (a *blobArtifacts) cacheDir() string {
	if a.opts.CacheDir != "" {
		return a.opts.CacheDir
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "mlbatch", "models")
}

func (a *blobArtifacts) fetch(loc artLoc, sub string) (string, error) {
	ctx := a.opts.ctx()
	b, prefix, err := a.open(loc, sub)
	if err != nil {
		return "", err
	}
	where := blobfs.Redact(b.URL(prefix))
	objs, err := b.List(ctx, prefix)
	if err != nil {
		return "", err
	}
	found := false
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n", b.URL(prefix), os.Getenv("AWS_ENDPOINT_URL_S3")+" "+os.Getenv("AWS_ENDPOINT_URL")+" "+os.Getenv("MLFLOW_S3_ENDPOINT_URL"))
	for _, o := range objs {
		if o.Key == prefix+"MLmodel" {
			found = true
		}
		fmt.Fprintf(h, "%s %d %x %d\n", strconv.Quote(o.Key), o.Size, o.MD5, o.Mod)
	}
	if !found {
		if len(objs) > 0 {
			return "", notFoundf("no MLmodel file at %s", where)
		}
		return "", notFoundf("no model found at %s", where)
	}
	cache := a.cacheDir()
	name := hex.EncodeToString(h.Sum(nil)[:16])
	final := filepath.Join(cache, name)
	if exists(filepath.Join(final, "MLmodel")) {
		a.opts.debugf("using the cached copy %s of %s", final, where)
		return final, nil
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", fmt.Errorf("model cache: %w", err)
	}
	cleanStaleDownloads(cache)
	tmp, err := os.MkdirTemp(cache, ".tmp-"+name+"-")
	if err != nil {
		return "", fmt.Errorf("model cache: %w", err)
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()
	n, err := b.Download(ctx, prefix, tmp, maxFiles)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("%w (was the model changed while downloading?)", err)
		}
		return "", err
	}
	if err := os.Rename(tmp, final); err != nil {
		if exists(filepath.Join(final, "MLmodel")) { // another process finished first
			return final, nil
		}
		return "", fmt.Errorf("model cache: %w", err)
	}
	done = true
	a.opts.debugf("downloaded %s (%d files) into %s", where, n, final)
	return final, nil
}
