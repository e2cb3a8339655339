package writers

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/internal/mlerr"
)

// mixedBatch builds a small batch of every common type, with nulls.
func mixedBatch(mem memory.Allocator) arrow.RecordBatch {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "f", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "g", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
		{Name: "i", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "b", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	bld := array.NewRecordBuilder(mem, schema)
	defer bld.Release()
	bld.Field(0).(*array.Float64Builder).AppendValues([]float64{0.1, 100, 1e-5, 1.5e16, math.NaN(), math.Inf(-1), math.Copysign(0, -1), 123456.789}, nil)
	bld.Field(1).(*array.Float32Builder).AppendValues([]float32{0.1, 2, 3, 4, 5, 6, 7, 8}, []bool{true, true, true, true, true, true, true, false})
	bld.Field(2).(*array.Int64Builder).AppendValues([]int64{1, -2, 3, 4, 5, 6, 7, math.MaxInt64}, []bool{true, true, false, true, true, true, true, true})
	bld.Field(3).(*array.BooleanBuilder).AppendValues([]bool{true, false, true, true, true, true, true, true}, []bool{true, true, true, false, true, true, true, true})
	bld.Field(4).(*array.StringBuilder).AppendValues([]string{"plain", "a,b", `say "hi"`, "two\nlines", "", "cr\r", " sp ", "é"}, []bool{true, true, true, true, true, true, true, false})
	return bld.NewRecordBatch()
}

func TestCSVFormat(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := mixedBatch(mem)
	defer rec.Release()
	path := filepath.Join(t.TempDir(), "out.csv")
	w, err := Create(path, rec.Schema(), Options{Mem: mem})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	// What pandas.DataFrame.to_csv(index=False) writes for the same frame.
	want := "f,g,i,b,s\n" +
		"0.1,0.1,1,True,plain\n" +
		"100.0,2.0,-2,False,\"a,b\"\n" +
		"1e-05,3.0,,True,\"say \"\"hi\"\"\"\n" +
		"1.5e+16,4.0,4,,\"two\nlines\"\n" +
		",5.0,5,True,\n" +
		"-inf,6.0,6,True,\"cr\r\"\n" +
		"-0.0,7.0,7,True, sp \n" +
		"123456.789,,9223372036854775807,True,\n"
	if string(got) != want {
		t.Errorf("got:\n%q\nwant:\n%q", got, want)
	}
}

func TestPyFloat(t *testing.T) {
	cases := map[float64]string{
		0: "0.0", 1: "1.0", 0.0001: "0.0001", 0.00001: "1e-05", 1e15: "1000000000000000.0",
		1e16: "1e+16", 9999999999999998: "9999999999999998.0", 1.0 / 3: "0.3333333333333333",
		-2.5e-300: "-2.5e-300", 1.7976931348623157e308: "1.7976931348623157e+308", 5e-324: "5e-324",
		123456789012345678: "1.2345678901234568e+17", 0.00012: "0.00012",
	}
	for v, want := range cases {
		if got := string(appendPyFloat(nil, v, 64, false)); got != want {
			t.Errorf("%v: got %s, want %s", v, got, want)
		}
	}
}

func TestCSVSingleColumnEmpty(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{{Name: "p", Type: arrow.PrimitiveTypes.Float64, Nullable: true}}, nil)
	b := array.NewFloat64Builder(mem)
	b.AppendValues([]float64{1, 0, math.NaN()}, []bool{true, false, true})
	arr := b.NewArray()
	b.Release()
	rec := array.NewRecordBatch(schema, []arrow.Array{arr}, 3)
	arr.Release()
	defer rec.Release()
	path := filepath.Join(t.TempDir(), "p.csv")
	w, err := Create(path, schema, Options{Mem: mem})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(rec)
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if string(got) != "p\n1.0\n\"\"\n\"\"\n" {
		t.Errorf("got %q", got)
	}
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestAtomicity(t *testing.T) {
	for _, format := range []string{"csv", "parquet"} {
		t.Run(format, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			rec := mixedBatch(mem)
			defer rec.Release()
			dir := t.TempDir()
			path := filepath.Join(dir, "out."+format)

			// Abort leaves nothing behind; the temporary file sits beside the
			// destination meanwhile, and never under the final name.
			w, err := Create(path, rec.Schema(), Options{Mem: mem})
			if err != nil {
				t.Fatal(err)
			}
			w.Write(rec)
			names := listDir(t, dir)
			if len(names) != 1 || !strings.HasPrefix(names[0], ".out."+format+".mlbatch-tmp-") {
				t.Errorf("while writing: %v", names)
			}
			if err := w.Abort(); err != nil {
				t.Fatal(err)
			}
			if names := listDir(t, dir); len(names) != 0 {
				t.Errorf("after Abort: %v", names)
			}
			if err := w.Abort(); err != nil {
				t.Errorf("second Abort: %v", err)
			}
			if err := w.Commit(); err == nil {
				t.Error("Commit after Abort succeeded")
			}

			// Commit publishes; Abort after Commit is a no-op.
			w, err = Create(path, rec.Schema(), Options{Mem: mem})
			if err != nil {
				t.Fatal(err)
			}
			w.Write(rec)
			if err := w.Commit(); err != nil {
				t.Fatal(err)
			}
			if err := w.Abort(); err != nil {
				t.Errorf("Abort after Commit: %v", err)
			}
			if err := w.Commit(); err != nil {
				t.Errorf("second Commit: %v", err)
			}
			if names := listDir(t, dir); len(names) != 1 || names[0] != "out."+format {
				t.Errorf("after Commit: %v", names)
			}
			if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
				t.Errorf("mode %v", st.Mode())
			}
			first, _ := os.ReadFile(path)

			// An existing file needs Overwrite.
			_, err = Create(path, rec.Schema(), Options{Mem: mem})
			if mlerr.KindOf(err) != mlerr.IO || err.Error() != path+": already exists (use --overwrite)" {
				t.Errorf("existing file: %v", err)
			}
			// A file that appears while writing is not clobbered either.
			other := filepath.Join(dir, "late."+format)
			w, err = Create(other, rec.Schema(), Options{Mem: mem})
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(other, []byte("mine"), 0o600)
			w.Write(rec)
			if err := w.Commit(); err == nil || !strings.Contains(err.Error(), "already exists") {
				t.Errorf("late file: %v", err)
			}
			if b, _ := os.ReadFile(other); string(b) != "mine" {
				t.Errorf("late file clobbered")
			}
			os.Remove(other)

			// Overwrite replaces the file, keeping its permissions.
			os.Chmod(path, 0o600)
			w, err = Create(path, rec.Schema(), Options{Mem: mem, Overwrite: true})
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Commit(); err != nil { // header (or an empty table) only
				t.Fatal(err)
			}
			second, _ := os.ReadFile(path)
			if len(second) == 0 || len(second) >= len(first) {
				t.Errorf("not replaced: %d then %d bytes", len(first), len(second))
			}
			if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
				t.Errorf("mode after overwrite %v", st.Mode())
			}
			if names := listDir(t, dir); len(names) != 1 {
				t.Errorf("leftovers: %v", names)
			}
		})
	}
}

func TestCreateErrors(t *testing.T) {
	dir := t.TempDir()
	schema := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.PrimitiveTypes.Int64}}, nil)
	_, err := Create(filepath.Join(dir, "nodir", "out.csv"), schema, Options{})
	if mlerr.KindOf(err) != mlerr.IO || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing dir: %v", err)
	}
	_, err = Create(filepath.Join(dir, "out.parquet"), schema, Options{Compression: "lz5"})
	if mlerr.KindOf(err) != mlerr.Usage || err.Error() != `unknown Parquet compression "lz5": use snappy, zstd, gzip, none` {
		t.Errorf("compression: %v", err)
	}
	_, err = Create(filepath.Join(dir, "out.xlsx"), schema, Options{})
	if mlerr.KindOf(err) != mlerr.Usage {
		t.Errorf("format: %v", err)
	}
	os.Mkdir(filepath.Join(dir, "d.csv"), 0o755)
	_, err = Create(filepath.Join(dir, "d.csv"), schema, Options{Overwrite: true})
	if mlerr.KindOf(err) != mlerr.IO {
		t.Errorf("directory destination: %v", err)
	}
	if names := listDir(t, dir); len(names) != 1 {
		t.Errorf("leftovers: %v", names)
	}

	// A batch with another schema is refused.
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := mixedBatch(mem)
	defer rec.Release()
	w, err := Create(filepath.Join(dir, "x.csv"), schema, Options{Mem: mem})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err == nil {
		t.Error("schema mismatch accepted")
	}
	w.Abort()
}
