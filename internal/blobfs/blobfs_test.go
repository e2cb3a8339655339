package blobfs

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/mlbatch/mlbatch/internal/s3test"
)

// server starts versitygw with one bucket and points the AWS SDK at it.
func server(t *testing.T, bucket string) *s3test.Server {
	s := s3test.Start(t)
	s.Env(t)
	s.CreateBucket(t, bucket)
	return s
}

func TestWriteCommitAbort(t *testing.T) {
	s := server(t, "out")
	ctx := context.Background()
	b, key, err := Open(ctx, "s3://out/dir/a.csv")
	if err != nil {
		t.Fatal(err)
	}
	if key != "dir/a.csv" || b.URL(key) != "s3://out/dir/a.csv" {
		t.Fatalf("key %q url %q", key, b.URL(key))
	}
	// Large enough for a multipart upload of three parts.
	data := make([]byte, 2*partSize+12345)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	w, err := b.Create(ctx, key, false)
	if err != nil {
		t.Fatal(err)
	}
	for off := 0; off < len(data); off += 1 << 20 {
		if _, err := w.Write(data[off:min(len(data), off+1<<20)]); err != nil {
			t.Fatal(err)
		}
	}
	if keys := s.Keys(t, "out", ""); len(keys) != 0 {
		t.Fatalf("visible before Commit: %v", keys)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if keys := s.Keys(t, "out", ""); !reflect.DeepEqual(keys, []string{"dir/a.csv"}) {
		t.Fatalf("after Commit: %v", keys)
	}
	var parts int
	for _, r := range s.Requests(t) {
		if r.Operation == "s3_UploadPart" && r.Status == 200 {
			parts++
		}
	}
	if parts != 3 {
		t.Errorf("%d parts uploaded, want 3 (a multipart upload)", parts)
	}
	r, err := b.OpenReader(ctx, key, -1)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes (%v), want the %d written", len(got), err, len(data))
	}

	// Without overwrite an existing object is refused.
	if _, err := b.Create(ctx, key, false); !errors.Is(err, fs.ErrExist) || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("Create over an existing object: %v", err)
	}
	// The conditional write catches an object that appears during the upload.
	w, err = b.Create(ctx, "dir/race.csv", false)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("mine"))
	s.Put(t, "out", "dir/race.csv", []byte("theirs"))
	if err := w.Commit(); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Commit over an object created meanwhile: %v", err)
	}

	// Abort, small and multipart: nothing appears, and no upload is left open.
	for _, size := range []int{100, len(data)} {
		w, err := b.Create(ctx, "dir/aborted.csv", true)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data[:size]); err != nil {
			t.Fatal(err)
		}
		if err := w.Abort(); err != nil {
			t.Fatal(err)
		}
		if err := w.Commit(); err == nil {
			t.Fatal("Commit after Abort succeeded")
		}
		if keys := s.Keys(t, "out", "dir/aborted"); len(keys) != 0 {
			t.Fatalf("aborted upload of %d bytes visible: %v", size, keys)
		}
	}
	ups, err := s.Client().ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("out")})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range ups.Uploads {
		t.Errorf("multipart upload left open: %s", aws.ToString(u.Key))
	}
}

func TestListGlobStat(t *testing.T) {
	s := server(t, "data")
	for _, k := range []string{"ds/date=1/part-0.csv", "ds/date=1/part-1.csv", "ds/date=2/part-0.csv", "ds/_SUCCESS", "dsx/other.csv", "top.csv"} {
		s.Put(t, "data", k, []byte(k))
	}
	ctx := context.Background()
	b, _, err := Open(ctx, "s3://data/")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := b.List(ctx, "ds/")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range objs {
		keys = append(keys, o.Key)
		if o.Size != int64(len(o.Key)) {
			t.Errorf("%s: size %d", o.Key, o.Size)
		}
	}
	want := []string{"ds/_SUCCESS", "ds/date=1/part-0.csv", "ds/date=1/part-1.csv", "ds/date=2/part-0.csv"}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("List = %v, want %v", keys, want)
	}
	g, err := b.Glob(ctx, "ds/date=*/part-0.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(g) != 2 || g[0].Key != "ds/date=1/part-0.csv" || g[1].Key != "ds/date=2/part-0.csv" {
		t.Errorf("Glob = %+v", g)
	}
	g, err = b.Glob(ctx, "ds/date=*")
	if err != nil || len(g) != 2 || !g[0].IsDir || g[0].Key != "ds/date=1/" {
		t.Errorf("Glob(dirs) = %+v, %v", g, err)
	}
	if ok, err := b.IsPrefix(ctx, "ds"); !ok || err != nil {
		t.Errorf("IsPrefix(ds) = %v, %v", ok, err)
	}
	if ok, err := b.IsPrefix(ctx, "d"); ok || err != nil {
		t.Errorf("IsPrefix(d) = %v, %v", ok, err)
	}
	if _, err := b.Stat(ctx, "nope.csv"); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "s3://data/nope.csv") {
		t.Errorf("Stat(missing) = %v", err)
	}
	if o, err := b.Stat(ctx, "top.csv"); err != nil || o.Size != 7 {
		t.Errorf("Stat = %+v, %v", o, err)
	}
	if err := b.Remove(ctx, "top.csv"); err != nil {
		t.Fatal(err)
	}
	if err := b.Remove(ctx, "top.csv"); err != nil {
		t.Errorf("Remove(missing) = %v", err)
	}
	if _, _, err := Open(ctx, "s3://data/a/../b"); err == nil {
		t.Error("Open accepted ..")
	}
	if _, _, err := Open(ctx, "s3:///key"); err == nil {
		t.Error("Open accepted a URL without a bucket")
	}
}

func TestDownload(t *testing.T) {
	s := server(t, "models")
	files := map[string]string{"MLmodel": "flavors: {}\n", "model.pkl": "pickle", "sub/deep/x.txt": "x"}
	for k, v := range files {
		s.Put(t, "models", "m/1/"+k, []byte(v))
	}
	s.Put(t, "models", "m/10/MLmodel", []byte("not this one"))
	ctx := context.Background()
	b, key, err := Open(ctx, "s3://models/m/1/")
	if err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	n, err := b.Download(ctx, key, dst, 100)
	if err != nil || n != 3 {
		t.Fatalf("Download = %d, %v", n, err)
	}
	for k, v := range files {
		got, err := os.ReadFile(filepath.Join(dst, filepath.FromSlash(k)))
		if err != nil || string(got) != v {
			t.Errorf("%s: %q, %v", k, got, err)
		}
	}
	if _, err := b.Download(ctx, key, t.TempDir(), 2); err == nil || !strings.Contains(err.Error(), "more than 2") {
		t.Errorf("Download over maxFiles: %v", err)
	}
}

// countingReaderAt counts the ReadAt calls the Parquet reader makes: without the
// block cache each would be one GET.
type countingReaderAt struct {
	r     *Reader
	calls atomic.Int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	c.calls.Add(1)
	return c.r.ReadAt(p, off)
}
func (c *countingReaderAt) Seek(off int64, whence int) (int64, error) {
	if whence == io.SeekEnd && off == 0 {
		return c.r.Size(), nil
	}
	return 0, errors.New("seek: only the size is known")
}
func (c *countingReaderAt) Read([]byte) (int, error) { return 0, errors.New("no read") }

// TestParquetRangedReads reads a Parquet file of 8 row groups x 12 columns from
// the server the way readers/parquet.go does (buffered column streams) and counts
// the GET requests the server saw.
func TestParquetRangedReads(t *testing.T) {
	s := server(t, "pqt")
	const rows, groups, cols = 80000, 8, 12
	var fields []arrow.Field
	for c := 0; c < cols; c++ {
		fields = append(fields, arrow.Field{Name: "c" + string(rune('a'+c)), Type: arrow.PrimitiveTypes.Float64})
	}
	schema := arrow.NewSchema(fields, nil)
	var buf bytes.Buffer
	w, err := pqarrow.NewFileWriter(schema, &buf,
		parquet.NewWriterProperties(parquet.WithMaxRowGroupLength(rows/groups), parquet.WithDictionaryDefault(false)),
		pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	bld := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	for g := 0; g < groups; g++ {
		for c := 0; c < cols; c++ {
			fb := bld.Field(c).(*array.Float64Builder)
			for i := 0; i < rows/groups; i++ {
				fb.Append(rng.Float64())
			}
		}
		rec := bld.NewRecordBatch()
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	s.Put(t, "pqt", "f.parquet", buf.Bytes())
	before := len(s.Requests(t))

	ctx := context.Background()
	b, key, err := Open(ctx, "s3://pqt/f.parquet")
	if err != nil {
		t.Fatal(err)
	}
	r, err := b.OpenReader(ctx, key, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cr := &countingReaderAt{r: r}
	props := parquet.NewReaderProperties(memory.DefaultAllocator)
	props.BufferedStreamEnabled = true
	props.BufferSize = 1 << 20
	pf, err := file.NewParquetReader(cr, file.WithReadProps(props))
	if err != nil {
		t.Fatal(err)
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 4096}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	rr, err := fr.GetRecordReader(ctx, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got int64
	var sum float64
	for rr.Next() {
		rec := rr.RecordBatch()
		got += rec.NumRows()
		sum += rec.Column(cols - 1).(*array.Float64).Value(0)
	}
	if err := rr.Err(); err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	rr.Release()
	if got != rows {
		t.Fatalf("read %d rows, want %d", got, rows)
	}
	var gets int64
	for _, q := range s.Requests(t)[before:] {
		if q.Operation == "s3_GetObject" {
			gets++
		}
	}
	reqs, fetched := r.Stats()
	t.Logf("Parquet %d bytes, %d row groups x %d columns: %d ReadAt calls, %d ranged GETs (the server logged %d GETs)",
		buf.Len(), groups, cols, cr.calls.Load(), reqs, gets)
	if gets != reqs {
		t.Errorf("server saw %d GETs, the reader counted %d", gets, reqs)
	}
	if fetched < int64(buf.Len())*9/10 || fetched > int64(buf.Len())*2 {
		t.Errorf("fetched %d bytes of a %d-byte file", fetched, buf.Len())
	}
	// The footer costs one request and whole column chunks are fetched in at
	// most a few ranges each: far fewer GETs than reads.
	if reqs >= cr.calls.Load() || reqs > int64(groups*cols*2+2) {
		t.Errorf("%d GETs for %d ReadAt calls", reqs, cr.calls.Load())
	}
}
