package dataset

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/internal/mlerr"
	"github.com/mlbatch/mlbatch/readers"
)

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func names(d *Dataset, root string) []string {
	var out []string
	for _, f := range d.Files {
		rel, _ := filepath.Rel(root, f.Name)
		out = append(out, filepath.ToSlash(rel))
	}
	return out
}

func TestHidden(t *testing.T) {
	for rel, want := range map[string]bool{
		"a.parquet": false, "_SUCCESS": true, ".a.parquet.crc": true, "_temporary/0/a.parquet": true,
		"date=1/_col=2/a.parquet": false, "x/.hidden/a": true, "a.parquet._COPYING_": true, "date=1/a.csv": false,
	} {
		if Hidden(rel) != want {
			t.Errorf("Hidden(%q) = %v", rel, !want)
		}
	}
}

func TestFindSpecsOrderPartitions(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	for _, p := range []string{
		"d=2024-01-10/n=10/v=a/x.csv", "d=2024-01-02/n=2/v=1.5/b.csv", "d=2024-01-02/n=2/v=1.5/a.csv",
		"d=2024-01-02/n=-3/v=__HIVE_DEFAULT_PARTITION__/a.csv", "_SUCCESS", "d=2024-01-02/.a.csv.crc",
	} {
		writeFile(t, filepath.Join(root, p), "x\n1\n")
	}
	d, err := Find(ctx, []string{root}, FindOptions{PartitionColumns: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"d=2024-01-02/n=-3/v=__HIVE_DEFAULT_PARTITION__/a.csv", "d=2024-01-02/n=2/v=1.5/a.csv", "d=2024-01-02/n=2/v=1.5/b.csv", "d=2024-01-10/n=10/v=a/x.csv"}
	if got := names(d, root); !slices.Equal(got, want) {
		t.Fatalf("files %v, want %v", got, want)
	}
	if !slices.Equal(d.PartitionKeys, []string{"d", "n", "v"}) {
		t.Fatalf("keys %v", d.PartitionKeys)
	}
	var types []string
	for _, ty := range d.PartitionTypes {
		types = append(types, ty.String())
	}
	// d: dates; n: integers; v: "a" and 1.5 mixed (the null does not count).
	if strings.Join(types, ",") != "date32,int64,utf8" {
		t.Fatalf("types %v", types)
	}
	if err := d.Inspect(ctx, readers.Options{}); err != nil {
		t.Fatal(err)
	}
	r := d.Open(ctx, d.Split(0, 1), readers.Options{}, "x")
	defer r.Close()
	rec, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.Schema().String(); !strings.Contains(got, "d: type=date32") || rec.Column(3).IsValid(0) {
		t.Fatalf("first batch %v: want a date column and a null v", rec)
	}
	if f, off := r.Location(); f != d.Files[0].Name || off != 0 {
		t.Fatalf("Location %s %d", f, off)
	}
	rec.Release()

	// A glob (its matched folders read recursively), a file, and the same file
	// again: specs in order, each sorted, duplicates read once.
	d, err = Find(ctx, []string{filepath.Join(root, "d=2024-01-1*"), filepath.Join(root, "d=2024-01-02/n=2/v=1.5/b.csv"), filepath.Join(root, "d=2024-01-02")}, FindOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want = []string{"d=2024-01-10/n=10/v=a/x.csv", "d=2024-01-02/n=2/v=1.5/b.csv", "d=2024-01-02/n=-3/v=__HIVE_DEFAULT_PARTITION__/a.csv", "d=2024-01-02/n=2/v=1.5/a.csv"}
	if got := names(d, root); !slices.Equal(got, want) {
		t.Fatalf("files %v, want %v", got, want)
	}

	// Errors.
	if _, err := Find(ctx, []string{filepath.Join(root, "nope")}, FindOptions{}); mlerr.KindOf(err) != mlerr.IO || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing: %v", err)
	}
	if _, err := Find(ctx, []string{filepath.Join(root, "*.parquet")}, FindOptions{}); mlerr.KindOf(err) != mlerr.IO || !strings.Contains(err.Error(), "no file matches") {
		t.Errorf("empty glob: %v", err)
	}
	writeFile(t, filepath.Join(root, "d=2024-01-03/y.csv"), "x\n1\n")
	if _, err := Find(ctx, []string{root}, FindOptions{PartitionColumns: true}); mlerr.KindOf(err) != mlerr.Schema || !strings.Contains(err.Error(), "y.csv") {
		t.Errorf("keys that differ: %v", err)
	}
	writeFile(t, filepath.Join(root, "other", "z.parquet"), "x")
	if _, err := Find(ctx, []string{root}, FindOptions{}); mlerr.KindOf(err) != mlerr.Usage || !strings.Contains(err.Error(), "one format") {
		t.Errorf("mixed formats: %v", err)
	}
}

func TestInspectSchemaMismatch(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "a.csv"), "x,y\n1,2\n")
	writeFile(t, filepath.Join(root, "b.csv"), "x,y\n3,4\n")
	writeFile(t, filepath.Join(root, "c.csv"), "x,z\n5,6\n")
	d, err := Find(ctx, []string{root}, FindOptions{})
	if err != nil {
		t.Fatal(err)
	}
	err = d.Inspect(ctx, readers.Options{})
	if mlerr.KindOf(err) != mlerr.Schema || !strings.Contains(err.Error(), "c.csv") || !strings.Contains(err.Error(), `column 2 is "z", want "y"`) {
		t.Fatalf("got %v", err)
	}
}

// fakeParquet is a dataset of Parquet files with the given row group sizes,
// without any file behind it (Split reads only the footers' numbers).
func fakeParquet(groups ...[]int64) *Dataset {
	d := &Dataset{Format: "parquet"}
	for i, gs := range groups {
		f := Input{Name: string(rune('a' + i)), Format: "parquet"}
		for _, n := range gs {
			f.RowGroups = append(f.RowGroups, readers.RowGroup{Rows: n, Bytes: 10 * n})
		}
		d.Files = append(d.Files, f)
	}
	return d
}

func TestSplit(t *testing.T) {
	d := fakeParquet([]int64{100, 100, 50}, []int64{7}, []int64{}, []int64{300, 1, 1, 1}, []int64{40, 40})
	type piece struct{ file, group int }
	var all []piece
	for i, f := range d.Files {
		if len(f.RowGroups) == 0 {
			all = append(all, piece{i, -1})
		}
		for g := range f.RowGroups {
			all = append(all, piece{i, g})
		}
	}
	total := d.Split(0, 1).Rows()
	for n := 1; n <= 12; n++ {
		var got []piece
		var biggest int64
		for i := range n {
			s := d.Split(i, n)
			if !reflect.DeepEqual(s.Units, d.Split(i, n).Units) {
				t.Fatalf("n=%d: shard %d is not deterministic", n, i)
			}
			for _, u := range s.Units {
				gs := u.Groups
				if gs == nil {
					if len(d.Files[u.File].RowGroups) == 0 {
						got = append(got, piece{u.File, -1})
					}
					for g := range d.Files[u.File].RowGroups {
						got = append(got, piece{u.File, g})
					}
					continue
				}
				var first int64
				for g := range gs[0] {
					first += d.Files[u.File].RowGroups[g].Rows
				}
				if first != u.FirstRow {
					t.Fatalf("n=%d: unit %+v: first row %d, want %d", n, u, u.FirstRow, first)
				}
				for _, g := range gs {
					got = append(got, piece{u.File, g})
				}
			}
			biggest = max(biggest, s.Rows())
		}
		// The shards in order hold every piece once, in the dataset's order.
		if !slices.Equal(got, all) {
			t.Fatalf("n=%d: shards cover %v, want %v", n, got, all)
		}
		// Balance: no shard exceeds its share by more than the largest piece.
		if share := (total + int64(n) - 1) / int64(n); biggest > share+300 {
			t.Errorf("n=%d: a shard has %d rows, share %d", n, biggest, share)
		}
	}
	if s := d.Split(0, 1); len(s.Units) != len(d.Files) || s.Units[0].Groups != nil {
		t.Errorf("one shard: %+v", s.Units)
	}
}

func TestParseShardAndEnv(t *testing.T) {
	for _, bad := range []string{"4/4", "-1/2", "1", "a/b", "0/0"} {
		if _, _, err := ParseShard(bad); mlerr.KindOf(err) != mlerr.Usage {
			t.Errorf("ParseShard(%q) = %v", bad, err)
		}
	}
	if i, n, err := ParseShard("3/8"); i != 3 || n != 8 || err != nil {
		t.Errorf("ParseShard(3/8) = %d %d %v", i, n, err)
	}
	t.Setenv("JOB_COMPLETION_INDEX", "2")
	if i, ok, err := ShardFromEnv(4); i != 2 || !ok || err != nil {
		t.Errorf("ShardFromEnv = %d %v %v", i, ok, err)
	}
	if _, _, err := ShardFromEnv(2); mlerr.KindOf(err) != mlerr.Usage {
		t.Errorf("index beyond the count: %v", err)
	}
	if MarkerName(3, 4) != "_SUCCESS.shard-0003-of-0004" || MarkerName(0, 1) != "_SUCCESS" || PartName(3, 12, "parquet") != "part-00003-00012.parquet" {
		t.Error("names")
	}
}

func TestIsDirOutput(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for name, want := range map[string]bool{
		"preds.parquet": false, "out/": true, "out": true, filepath.Join(dir, "x.y"): false, dir: true,
		"s3://bucket/preds/": true, "s3://bucket/preds.csv": false, "s3://bucket/preds": true,
	} {
		if IsDirOutput(ctx, name) != want {
			t.Errorf("IsDirOutput(%q) = %v", name, !want)
		}
	}
}

func ints(t *testing.T, mem memory.Allocator, lo, hi int64) arrow.RecordBatch {
	b := array.NewInt64Builder(mem)
	defer b.Release()
	for i := lo; i < hi; i++ {
		b.Append(i)
	}
	a := b.NewArray()
	defer a.Release()
	return array.NewRecordBatch(arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Int64}}, nil), []arrow.Array{a}, hi-lo)
}

func listDir(t *testing.T, dir string) []string {
	ents, _ := os.ReadDir(dir)
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

// TestDirWriterRetries: parts roll at MaxRowsPerFile; a re-run replaces only its
// own shard's parts and removes the ones it did not rewrite; layouts that do not
// fit are refused.
func TestDirWriterRetries(t *testing.T) {
	ctx := context.Background()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dir := filepath.Join(t.TempDir(), "out")
	run := func(shard, shards int, rows, perFile int64, overwrite bool) error {
		rec := ints(t, mem, 0, rows)
		defer rec.Release()
		w, err := CreateDir(ctx, dir+"/", rec.Schema(), OutputOptions{Format: "csv", Shard: shard, Shards: shards, MaxRowsPerFile: perFile, Overwrite: overwrite})
		if err != nil {
			return err
		}
		if err := w.Write(rec); err != nil {
			w.Abort()
			return err
		}
		return w.Commit()
	}
	if err := run(1, 2, 25, 10, false); err != nil {
		t.Fatal(err)
	}
	if err := run(0, 2, 5, 10, false); err != nil {
		t.Fatal(err)
	}
	want := []string{"_SUCCESS.shard-0000-of-0002", "_SUCCESS.shard-0001-of-0002", "part-00000-00000.csv", "part-00001-00000.csv", "part-00001-00001.csv", "part-00001-00002.csv"}
	if got := listDir(t, dir); !slices.Equal(got, want) {
		t.Fatalf("folder %v, want %v", got, want)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "_SUCCESS.shard-0001-of-0002"))
	var m struct {
		Rows  int64
		Parts []string
	}
	if err := json.Unmarshal(data, &m); err != nil || m.Rows != 25 || len(m.Parts) != 3 {
		t.Fatalf("marker %s: %v", data, err)
	}
	if err := run(1, 2, 25, 10, false); mlerr.KindOf(err) != mlerr.IO || !strings.Contains(err.Error(), "--overwrite") {
		t.Fatalf("re-run without overwrite: %v", err)
	}
	// The re-run writes fewer parts: the old third one goes, shard 0 stays.
	if err := run(1, 2, 12, 10, true); err != nil {
		t.Fatal(err)
	}
	want = []string{"_SUCCESS.shard-0000-of-0002", "_SUCCESS.shard-0001-of-0002", "part-00000-00000.csv", "part-00001-00000.csv", "part-00001-00001.csv"}
	if got := listDir(t, dir); !slices.Equal(got, want) {
		t.Fatalf("after the re-run %v, want %v", got, want)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "part-00001-00001.csv")); string(b) != "x\n10\n11\n" {
		t.Fatalf("second part %q", b)
	}
	if err := run(0, 3, 5, 0, true); mlerr.KindOf(err) != mlerr.Usage || !strings.Contains(err.Error(), "2-shard") {
		t.Fatalf("another shard count: %v", err)
	}
	// An unsharded run owns the folder: with overwrite it replaces everything.
	if err := run(0, 1, 3, 0, true); err != nil {
		t.Fatal(err)
	}
	if got := listDir(t, dir); !slices.Equal(got, []string{"_SUCCESS", "part-00000-00000.csv"}) {
		t.Fatalf("after the unsharded run %v", got)
	}
	if err := run(0, 2, 3, 0, true); mlerr.KindOf(err) != mlerr.Usage || !strings.Contains(err.Error(), "unsharded") {
		t.Fatalf("shards over an unsharded output: %v", err)
	}
	// No rows: one empty part still carries the schema.
	empty := filepath.Join(t.TempDir(), "empty")
	dir = empty
	if err := run(0, 1, 0, 0, false); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(empty, "part-00000-00000.csv")); string(b) != "x\n" {
		t.Fatalf("empty part %q", b)
	}
}
