package dataset

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlbatch/mlbatch/internal/mlerr"
)

func TestLocalFS(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	f, name, err := FSFor(ctx, "file://"+filepath.ToSlash(dir))
	if err != nil || f != Local || name != dir {
		t.Fatalf("FSFor(file://) = %v, %q, %v", f, name, err)
	}
	sub := filepath.Join(dir, "a", "b")
	if err := Local.MkdirAll(ctx, sub); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(sub, "x.txt")
	p, err := Local.Create(ctx, dst, false)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(p, "hello")
	if _, err := os.Stat(dst); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("visible before commit: %v", err)
	}
	if err := p.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := Local.Create(ctx, dst, false); mlerr.KindOf(err) != mlerr.IO || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("create over an existing file: %v", err)
	}
	p2, err := Local.Create(ctx, filepath.Join(dir, "y.txt"), false)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(p2, "gone")
	p2.Abort()

	ents, err := Local.List(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 || ents[0].Name != dst || ents[0].Size != 5 {
		t.Fatalf("List = %+v", ents)
	}
	if ents, _ := Local.List(ctx, dst); len(ents) != 1 || ents[0].Name != dst {
		t.Fatalf("List(file) = %+v", ents)
	}
	if _, err := Local.List(ctx, filepath.Join(dir, "nope")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("List(missing) = %v", err)
	}
	r, err := Local.Open(ctx, dst)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 3)
	if _, err := r.ReadAt(buf, 2); err != nil || string(buf) != "llo" || r.Size() != 5 {
		t.Fatalf("ReadAt = %q, %v, size %d", buf, err, r.Size())
	}
	r.Close()
	g, err := Local.Glob(ctx, filepath.Join(dir, "a", "*"))
	if err != nil || len(g) != 1 || !g[0].IsDir {
		t.Fatalf("Glob = %+v, %v", g, err)
	}
	if err := Local.Remove(ctx, dst); err != nil {
		t.Fatal(err)
	}
	if err := Local.Remove(ctx, dst); err != nil {
		t.Fatalf("Remove(missing) = %v", err)
	}
}

func TestFSForSchemes(t *testing.T) {
	ctx := context.Background()
	if _, _, err := FSFor(ctx, "nope://bucket/x"); mlerr.KindOf(err) != mlerr.Usage || !strings.Contains(err.Error(), "unsupported scheme") {
		t.Fatalf("unknown scheme: %v", err)
	}
	var got *url.URL
	Register("memtest", func(_ context.Context, u *url.URL) (FS, error) { got = u; return Local, nil })
	if _, name, err := FSFor(ctx, "memtest://b/k/x.parquet"); err != nil || name != "memtest://b/k/x.parquet" || got.Host != "b" {
		t.Fatalf("registered scheme: %q %v %v", name, got, err)
	}
	for _, c := range []struct {
		name string
		url  bool
	}{{"s3://b/k", true}, {"C:\\data", false}, {"data/x.csv", false}, {"-", false}, {"a://b", false}} {
		if IsURL(c.name) != c.url {
			t.Errorf("IsURL(%q) = %v", c.name, !c.url)
		}
	}
	if j := Join("s3://b/out/", "part-0.parquet"); j != "s3://b/out/part-0.parquet" {
		t.Errorf("Join = %q", j)
	}
	if j := Join("out", "x"); j != filepath.Join("out", "x") {
		t.Errorf("Join = %q", j)
	}
}
