package model

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlbatch/mlbatch/internal/s3test"
)

// upload copies a local folder into a bucket under prefix.
func upload(t *testing.T, s *s3test.Server, bucket, prefix, dir string) {
	t.Helper()
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		s.Put(t, bucket, prefix+filepath.ToSlash(rel), data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func countGets(t *testing.T, s *s3test.Server) int {
	n := 0
	for _, r := range s.Requests(t) {
		if r.Operation == "s3_GetObject" {
			n++
		}
	}
	return n
}

// TestResolveS3Direct downloads a model folder named by an s3:// URI into the
// cache, finds it there again without downloading, and downloads it again once
// the model in the bucket is replaced.
func TestResolveS3Direct(t *testing.T) {
	s := s3test.Start(t)
	s.Env(t)
	s.CreateBucket(t, "models")
	src := filepath.Join(testdata, "models", "linreg")
	upload(t, s, "models", "team/linreg/", src)
	s.Put(t, "models", "team/linreg-other/MLmodel", []byte("not this one"))
	cache := t.TempDir()
	var notes []string
	opts := ResolveOptions{CacheDir: cache, Debug: func(m string) { notes = append(notes, m) }}

	dir, err := Resolve("s3://models/team/linreg", opts)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(dir) != cache {
		t.Errorf("downloaded into %s, not the cache %s", dir, cache)
	}
	sameFiles(t, dir, src)
	gets := countGets(t, s)
	for _, uri := range []string{"s3://models/team/linreg/", "s3://models/team/linreg"} {
		again, err := Resolve(uri, opts)
		if err != nil || again != dir {
			t.Errorf("%s: %s, %v; want the cached %s", uri, again, err, dir)
		}
	}
	if n := countGets(t, s); n != gets {
		t.Errorf("the cached model was downloaded again (%d GETs, then %d)", gets, n)
	}
	if !strings.Contains(strings.Join(notes, "\n"), "using the cached copy") {
		t.Errorf("debug notes: %q", notes)
	}
	entries, _ := os.ReadDir(cache)
	if len(entries) != 1 {
		t.Errorf("cache holds %d entries, want the one model folder", len(entries))
	}

	// Replaced in place: a new folder with the new bytes.
	s.Put(t, "models", "team/linreg/MLmodel", []byte("flavors: {}\n"))
	dir2, err := Resolve("s3://models/team/linreg", opts)
	if err != nil {
		t.Fatal(err)
	}
	if dir2 == dir {
		t.Fatal("a replaced model was served from the cache")
	}
	if b, _ := os.ReadFile(filepath.Join(dir2, "MLmodel")); string(b) != "flavors: {}\n" {
		t.Errorf("MLmodel = %q", b)
	}

	for uri, want := range map[string]string{
		"s3://models/team/none":   "no model found at s3://models/team/none/",
		"s3://models/team":        "no MLmodel file at s3://models/team/",
		"s3://nobucket/m":         "s3://nobucket/m",
		"s3:///m":                 "no bucket name",
		"wasbs://nocontainer/x/y": "want wasbs://<container>@<account>.blob.core.windows.net/<path>",
	} {
		_, err := Resolve(uri, opts)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error containing %q", uri, err, want)
		}
	}
}

// TestResolveS3FileStore resolves runs:/ URIs of a file store whose run records
// an s3:// artifact_uri (the store holds no copy of the artifacts).
func TestResolveS3FileStore(t *testing.T) {
	s := s3test.Start(t)
	s.Env(t)
	s.CreateBucket(t, "mlflow")
	const run = "d050509c3eccff80e45131fc149d7535"
	store := filepath.Join(t.TempDir(), "mlruns")
	copyTree(t, filepath.Join("..", "testdata", "demo", "mlruns"), store)
	art := filepath.Join(store, "0", run, "artifacts")
	upload(t, s, "mlflow", "0/"+run+"/artifacts/", art)
	if err := os.RemoveAll(art); err != nil {
		t.Fatal(err)
	}
	meta := filepath.Join(store, "0", run, "meta.yaml")
	b, err := os.ReadFile(meta)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "artifact_uri:") {
			lines[i] = "artifact_uri: s3://mlflow/0/" + run + "/artifacts"
		}
	}
	if err := os.WriteFile(meta, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := ResolveOptions{TrackingURI: store, CacheDir: t.TempDir()}
	want := filepath.Join("..", "testdata", "demo", "mlruns", "0", run, "artifacts", "model")
	for _, uri := range []string{"runs:/" + run + "/model", "runs:/" + run} {
		dir, err := Resolve(uri, opts)
		if err != nil {
			t.Fatalf("%s: %v", uri, err)
		}
		sameFiles(t, dir, want)
	}
	_, err = Resolve("runs:/"+run+"/nope", opts)
	if err == nil || !strings.Contains(err.Error(), "s3://mlflow/0/"+run+"/artifacts") {
		t.Errorf("missing artifact path: %v", err)
	}
}

// TestResolveS3SQLite resolves registry URIs of an SQLite store whose runs,
// logged models and versions live in a bucket.
func TestResolveS3SQLite(t *testing.T) {
	s := s3test.Start(t)
	s.Env(t)
	s.CreateBucket(t, "mlflow")
	const (
		run1 = "f133b19978fd36a9d2e2995ebb9dc9f5"
		lm   = "m-31305e1389e0732a9d828fa54fe115c2"
	)
	src := filepath.Join(registryData, "sqlite")
	upload(t, s, "mlflow", "1/"+run1+"/artifacts/", filepath.Join(src, "mlruns", "1", run1, "artifacts"))
	upload(t, s, "mlflow", "2/models/"+lm+"/artifacts/", filepath.Join(src, "mlruns", "2", "models", lm, "artifacts"))
	dbPath := filepath.Join(t.TempDir(), "mlflow.db")
	data, err := os.ReadFile(filepath.Join(src, "mlflow.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dbPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	runArt := "s3://mlflow/1/" + run1 + "/artifacts"
	lmArt := "s3://mlflow/2/models/" + lm + "/artifacts"
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`UPDATE runs SET artifact_uri = ? WHERE run_uuid = ?`, []any{runArt, run1}},
		{`UPDATE model_versions SET source = ?, storage_location = ? WHERE name = 'diabetes-ridge' AND version = 1`, []any{runArt + "/ridge challenger", runArt + "/ridge challenger"}},
		{`UPDATE logged_models SET artifact_location = ? WHERE model_id = ?`, []any{lmArt, lm}},
		{`UPDATE model_versions SET storage_location = ? WHERE name = 'diabetes-ridge' AND version = 2`, []any{lmArt}},
	} {
		if _, err := db.Exec(q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	opts := ResolveOptions{TrackingURI: "sqlite:///" + filepath.ToSlash(dbPath), CacheDir: t.TempDir()}
	challenger := filepath.Join(src, "mlruns", "1", run1, "artifacts", "ridge challenger")
	champion := filepath.Join(src, "mlruns", "2", "models", lm, "artifacts")
	for uri, want := range map[string]string{
		"models:/diabetes-ridge/1":            challenger,
		"models:/diabetes-ridge@challenger":   challenger,
		"runs:/" + run1 + "/ridge challenger": challenger,
		"models:/diabetes-ridge/latest":       challenger, // v4: runs:/<run1>/ridge challenger
		"models:/diabetes-ridge@champion":     champion,
		"models:/" + lm:                       champion,
	} {
		dir, err := Resolve(uri, opts)
		if err != nil {
			t.Errorf("%s: %v", uri, err)
			continue
		}
		sameFiles(t, dir, want)
	}
}

func TestBlobURL(t *testing.T) {
	for in, want := range map[string]string{
		"wasbs://models@acct.blob.core.windows.net/1/abc/artifacts": "azblob://models/1/abc/artifacts?storage_account=acct",
		"wasb://models@acct.blob.core.chinacloudapi.cn/m":           "azblob://models/m?domain=blob.core.chinacloudapi.cn&storage_account=acct",
		"s3://bucket/key": "s3://bucket/key",
		"gs://bucket/key": "gs://bucket/key",
	} {
		got, err := blobURL(in)
		if err != nil || got != want {
			t.Errorf("blobURL(%s) = %s, %v; want %s", in, got, err, want)
		}
	}
	if _, err := blobURL("wasbs://acct.blob.core.windows.net/x"); err == nil {
		t.Error("wasbs without a container accepted")
	}
}
