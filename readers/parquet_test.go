package readers

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/internal/mlerr"
	"github.com/mlbatch/mlbatch/writers"
)

var mixedSchema = arrow.NewSchema([]arrow.Field{
	{Name: "f64", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "f32", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
	{Name: "i64", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "i32", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	{Name: "b", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
}, nil)

// mixedRows makes n rows of mixedSchema values (nil for null) from a fixed seed.
func mixedRows(n int, seed uint64) [][]any {
	rng := rand.New(rand.NewPCG(seed, 7))
	rows := make([][]any, n)
	for i := range rows {
		row := []any{rng.NormFloat64(), float32(rng.Float64()), rng.Int64(), int32(rng.Int32()), rng.IntN(2) == 0, "s" + strconv.Itoa(rng.IntN(1000))}
		for j := range row {
			if rng.IntN(10) == 0 {
				row[j] = nil
			}
		}
		rows[i] = row
	}
	return rows
}

// buildBatch turns rows of Go values into a record batch of schema.
func buildBatch(mem memory.Allocator, schema *arrow.Schema, rows [][]any) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	for _, row := range rows {
		for j, v := range row {
			fb := b.Field(j)
			if v == nil {
				fb.AppendNull()
				continue
			}
			switch fb := fb.(type) {
			case *array.Float64Builder:
				fb.Append(v.(float64))
			case *array.Float32Builder:
				fb.Append(v.(float32))
			case *array.Int64Builder:
				fb.Append(v.(int64))
			case *array.Int32Builder:
				fb.Append(v.(int32))
			case *array.BooleanBuilder:
				fb.Append(v.(bool))
			case *array.StringBuilder:
				fb.Append(v.(string))
			}
		}
	}
	return b.NewRecordBatch()
}

// writeFile writes rows through writers.Create in batches of batchRows.
func writeFile(t testing.TB, path string, schema *arrow.Schema, rows [][]any, batchRows int, wopts writers.Options) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	wopts.Mem = mem
	w, err := writers.Create(path, schema, wopts)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	for lo := 0; lo < len(rows); lo += batchRows {
		rec := buildBatch(mem, schema, rows[lo:min(lo+batchRows, len(rows))])
		err := w.Write(rec)
		rec.Release()
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
}

func project(rows [][]any, cols ...int) [][]any {
	out := make([][]any, len(rows))
	for i, r := range rows {
		out[i] = make([]any, len(cols))
		for k, j := range cols {
			out[i][k] = r[j]
		}
	}
	return out
}

func TestParquetRoundTrip(t *testing.T) {
	dir := t.TempDir()
	rows := mixedRows(2500, 1)
	for _, comp := range []string{"snappy", "zstd", "gzip", "none"} {
		path := filepath.Join(dir, comp+".parquet")
		writeFile(t, path, mixedSchema, rows, 300, writers.Options{Compression: comp, RowGroupRows: 1000})

		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		r, err := Open(path, Options{BatchSize: 333, Mem: mem})
		if err != nil {
			t.Fatal(err)
		}
		if !r.Schema().Equal(mixedSchema) {
			t.Errorf("schema %v", r.Schema())
		}
		if err := r.Project([]string{"s", "f32", "f64"}); err != nil {
			t.Fatal(err)
		}
		var got [][]any
		sizes := []int64{}
		for {
			rec, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if rec.NumCols() != 3 || rec.Schema().Field(0).Name != "f64" {
				t.Fatalf("projected schema %v", rec.Schema())
			}
			sizes = append(sizes, rec.NumRows())
			for i := 0; i < int(rec.NumRows()); i++ {
				row := make([]any, rec.NumCols())
				for j, c := range rec.Columns() {
					row[j] = cellValue(c, i)
				}
				got = append(got, row)
			}
			rec.Release()
		}
		if want := project(rows, 0, 1, 5); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: values differ", comp)
		}
		for _, n := range sizes[:len(sizes)-1] {
			if n != 333 {
				t.Errorf("%s: batch sizes %v", comp, sizes)
				break
			}
		}
		r.Close()
		mem.AssertSize(t, 0)
	}

	// Three row groups of 1000, 1000 and 500 rows.
	f, _ := os.Open(filepath.Join(dir, "snappy.parquet"))
	defer f.Close()
	pr := openParquetForTest(t, filepath.Join(dir, "snappy.parquet"))
	if n := pr.pf.NumRowGroups(); n != 3 {
		t.Errorf("%d row groups, want 3", n)
	}
	pr.Close()
}

func openParquetForTest(t *testing.T, path string) *parquetReader {
	t.Helper()
	r, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r.(*parquetReader)
}

func TestParquetEdges(t *testing.T) {
	dir := t.TempDir()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)

	// No rows: a schema and io.EOF.
	empty := filepath.Join(dir, "empty.parquet")
	writeFile(t, empty, mixedSchema, nil, 1, writers.Options{})
	r, err := Open(empty, Options{Mem: mem})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Schema().Equal(mixedSchema) {
		t.Errorf("schema %v", r.Schema())
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("empty file: %v", err)
	}
	r.Close()

	// No columns projected: the row counts only.
	path := filepath.Join(dir, "rows.parquet")
	writeFile(t, path, mixedSchema, mixedRows(250, 2), 100, writers.Options{RowGroupRows: 100})
	r, err = Open(path, Options{Mem: mem, BatchSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Project([]string{}); err != nil {
		t.Fatal(err)
	}
	rows, err := drain(t, r)
	if err != nil || len(rows) != 250 {
		t.Errorf("%d rows, err %v", len(rows), err)
	}
	r.Close()

	r, _ = Open(path, Options{Mem: mem})
	if err := r.Project([]string{"nope"}); mlerr.KindOf(err) != mlerr.Schema {
		t.Errorf("unknown column: %v", err)
	}
	r.Close()
}

// corruptions of a valid file: truncations, a wrong magic, garbage, bit flips.
func corruptions(valid []byte) map[string][]byte {
	out := map[string][]byte{
		"empty":   {},
		"magic":   []byte("PAR1"),
		"garbage": bytes.Repeat([]byte("not parquet "), 100),
	}
	for _, n := range []int{1, 4, 8, 12, 100, len(valid) / 2, len(valid) - 9, len(valid) - 8, len(valid) - 4, len(valid) - 1} {
		if n > 0 && n < len(valid) {
			out["truncated-"+strconv.Itoa(n)] = valid[:n]
		}
	}
	wrong := bytes.Clone(valid)
	copy(wrong[len(wrong)-4:], "PAR2")
	out["wrong-end-magic"] = wrong
	huge := bytes.Clone(valid)
	copy(huge[len(huge)-8:], []byte{0xff, 0xff, 0xff, 0x7f})
	out["footer-length"] = huge
	// Random damage: changed bytes, huge little-endian lengths, deleted bytes.
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 300 {
		b := bytes.Clone(valid)
		for range 1 + rng.IntN(4) {
			switch rng.IntN(3) {
			case 0:
				b[rng.IntN(len(b))] ^= byte(1 + rng.IntN(255))
			case 1:
				copy(b[rng.IntN(len(b)-4):], []byte{0xff, 0xff, 0xff, byte(rng.IntN(256))})
			case 2:
				k := rng.IntN(len(b))
				b = append(b[:k:k], b[k+1:]...)
			}
		}
		out["flip-"+strconv.Itoa(i)] = b
	}
	return out
}

func TestParquetCorrupt(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.parquet")
	writeFile(t, good, mixedSchema, mixedRows(500, 3), 200, writers.Options{RowGroupRows: 200})
	valid, _ := os.ReadFile(good)
	for name, data := range corruptions(valid) {
		path := filepath.Join(dir, name+".parquet")
		os.WriteFile(path, data, 0o644)
		err := readParquetAll(path)
		if name == "empty" || name == "magic" || name == "garbage" || name == "wrong-end-magic" || name == "footer-length" || name[:4] == "trun" {
			if err == nil {
				t.Errorf("%s: no error", name)
				continue
			}
		}
		if err != nil {
			if mlerr.KindOf(err) != mlerr.IO || !bytes.Contains([]byte(err.Error()), []byte(path)) {
				t.Errorf("%s: %v (kind %v)", name, err, mlerr.KindOf(err))
			}
		}
	}
}

// readParquetAll reads every batch of a file and releases it; it fails the test
// never, returning the first error.
func readParquetAll(path string) error {
	mem := memory.NewGoAllocator()
	r, err := Open(path, Options{Mem: mem, BatchSize: 128})
	if err != nil {
		return err
	}
	defer r.Close()
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		rec.Release()
	}
}

// TestCSVWriterRoundTrip writes values with the CSV writer and reads them back with
// the CSV reader: floats must come back bit for bit.
func TestCSVWriterRoundTrip(t *testing.T) {
	rows := mixedRows(3000, 5)
	for _, r := range rows {
		if r[5] != nil {
			r[5] = r[5].(string) + ", \"quoted\"\nline"
		}
	}
	path := filepath.Join(t.TempDir(), "rt.csv")
	writeFile(t, path, mixedSchema, rows, 700, writers.Options{})
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	types := map[string]arrow.DataType{}
	for _, f := range mixedSchema.Fields() {
		types[f.Name] = f.Type
	}
	r, err := Open(path, Options{Mem: mem, BatchSize: 1000, Types: types})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := drain(t, r)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, rows) {
		for i := range rows {
			if !reflect.DeepEqual(got[i], rows[i]) {
				t.Fatalf("row %d: got %v, want %v", i+1, got[i], rows[i])
			}
		}
	}
}

// TestParquetCorruptArrowSchema overwrites each 4-byte word of the stored Arrow
// schema with a huge length. arrow-go trusts such lengths and used to allocate tens
// of gigabytes (an unrecoverable out-of-memory crash); checkArrowSchema must turn
// every one of them into an error or a harmless read.
func TestParquetCorruptArrowSchema(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.parquet")
	writeFile(t, good, mixedSchema, mixedRows(40, 9), 15, writers.Options{RowGroupRows: 15})
	valid, _ := os.ReadFile(good)
	key := bytes.Index(valid, []byte("ARROW:schema"))
	if key < 0 {
		t.Fatal("no ARROW:schema in the footer")
	}
	isB64 := func(c byte) bool {
		return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '='
	}
	start := key + len("ARROW:schema")
	for !isB64(valid[start]) || !isB64(valid[start+1]) || !isB64(valid[start+2]) || !isB64(valid[start+3]) {
		start++
	}
	end := start
	for isB64(valid[end]) {
		end++
	}
	raw, err := base64.StdEncoding.DecodeString(string(valid[start:end]))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "bad.parquet")
	rejected := 0
	for pos := 8; pos+4 <= len(raw); pos++ {
		b := bytes.Clone(raw)
		binary.LittleEndian.PutUint32(b[pos:], 0x10000000)
		enc := base64.StdEncoding.EncodeToString(b)
		data := append(append(bytes.Clone(valid[:start]), enc...), valid[end:]...)
		os.WriteFile(path, data, 0o644)
		if err := readParquetAll(path); err != nil {
			if mlerr.KindOf(err) != mlerr.IO {
				t.Errorf("word at %d: %v", pos, err)
			}
			rejected++
		}
	}
	if rejected == 0 {
		t.Error("no corruption detected")
	}
}
