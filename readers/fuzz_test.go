package readers

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/internal/bufpool"
	"github.com/mlbatch/mlbatch/internal/mlerr"
	"github.com/mlbatch/mlbatch/writers"
)

// checkBatches reads r to the end and checks that every batch is well formed: the
// projected schema, columns as long as the batch. It returns the first error.
func checkBatches(t *testing.T, r Reader) error {
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if rec == nil {
			t.Fatal("nil batch without error")
		}
		for i, c := range rec.Columns() {
			if int64(c.Len()) != rec.NumRows() {
				t.Fatalf("column %d: %d values in a batch of %d rows", i, c.Len(), rec.NumRows())
			}
			if v, ok := c.(interface{ ValidateFull() error }); ok {
				if err := v.ValidateFull(); err != nil {
					t.Fatalf("column %d invalid: %v", i, err)
				}
			}
			if s, ok := c.(interface{ Value(int) string }); ok && c.Len() > 0 {
				_ = s.Value(c.Len() - 1) // offsets in range
			}
		}
		rec.Release()
	}
}

// FuzzCSVReader: any input gives an error or valid batches, never a panic, and no
// memory is leaked.
func FuzzCSVReader(f *testing.F) {
	for _, s := range []string{
		"a,b\n1,2\n3,4\n",
		"a,b,c\r\n\"x,\"\"y\",1.5,True\r\n\"m\nl\",,false\r\n",
		"\xef\xbb\xbfa\n\"\"\n1\n",
		"a,b\n1,\"x\n",
		"a,b\n1,\"x\"y\n",
		"a,a\n",
		"x\n1e5\n.5\n-3.\nnan\ninf\n-Infinity\nNA\n",
		"s\n\xff\n",
		"",
	} {
		f.Add([]byte(s), uint8(2))
	}
	f.Fuzz(func(t *testing.T, data []byte, batch uint8) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		opts := Options{BatchSize: 1 + int(batch%16), Mem: mem}
		if batch&0x80 != 0 {
			opts.Types = map[string]arrow.DataType{"a": arrow.PrimitiveTypes.Int32, "b": arrow.PrimitiveTypes.Float32}
		}
		// A tiny read buffer makes records cross refills and buffer growth.
		r, err := newCSVReaderSize("fuzz.csv", bytes.NewReader(data), nil, opts.withDefaults(""), 1+int(batch%32))
		if err != nil {
			if _, ok := mlerr.AsRowError(err); !ok && mlerr.KindOf(err) != mlerr.Schema {
				t.Fatalf("open error is neither a RowError nor a schema error: %v", err)
			}
			return
		}
		defer r.Close()
		if err := checkBatches(t, r); err != nil {
			if _, ok := mlerr.AsRowError(err); !ok {
				t.Fatalf("data error is not a RowError: %v", err)
			}
		}

		// The read buffer size must not change the result.
		rows1, err1 := readFuzzCSV(t, data, opts, 1+int(batch%32))
		rows2, err2 := readFuzzCSV(t, data, opts, 4096)
		if !reflect.DeepEqual(rows1, rows2) || fmt.Sprint(err1) != fmt.Sprint(err2) {
			t.Fatalf("buffer size changes the result:\n%v %v\n%v %v", rows1, err1, rows2, err2)
		}

		// Keeping the rows' text (CSV to CSV), with rows left out or not,
		// changes no value, and every batch carries one line per row.
		topts := opts
		topts.RowText = true
		if batch&0x40 != 0 {
			opts.OnBadRow = func(*mlerr.RowError, []string) error { return nil }
			topts.OnBadRow = opts.OnBadRow
		}
		pool := bufpool.New()
		pool.Poison = true
		tmem := memory.NewCheckedAllocator(pool)
		topts.Mem = tmem
		rows3, err3 := readFuzzCSV(t, data, opts, 1+int(batch%32))
		rows4, err4 := readFuzzCSV(t, data, topts, 1+int(batch%32))
		tmem.AssertSize(t, 0)
		if !reflect.DeepEqual(rows3, rows4) || fmt.Sprint(err3) != fmt.Sprint(err4) {
			t.Fatalf("keeping the text changes the result:\n%v %v\n%v %v", rows3, err3, rows4, err4)
		}
	})
}

// FuzzParquetReader: any file gives an mlerr.IO error or valid batches, never a
// panic. Seeds are small valid files and corruptions of them.
func FuzzParquetReader(f *testing.F) {
	dir := f.TempDir()
	good := filepath.Join(dir, "seed.parquet")
	writeFile(f, good, mixedSchema, mixedRows(40, 9), 15, writers.Options{RowGroupRows: 15})
	valid, err := os.ReadFile(good)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	for _, name := range []string{"empty", "magic", "garbage", "truncated-100", "flip-0", "flip-1"} {
		if b, ok := corruptions(valid)[name]; ok {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "fuzz.parquet")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		r, err := Open(path, Options{Mem: mem, BatchSize: 16})
		if err != nil {
			if mlerr.KindOf(err) != mlerr.IO {
				t.Fatalf("open: %v is not an IO error", err)
			}
			return
		}
		err = checkBatches(t, r)
		r.Close()
		if err != nil && mlerr.KindOf(err) != mlerr.IO {
			t.Fatalf("read: %v is not an IO error", err)
		}
		if err == nil {
			mem.AssertSize(t, 0)
		}
	})
}

func readFuzzCSV(t *testing.T, data []byte, opts Options, bufSize int) ([][]any, error) {
	r, err := newCSVReaderSize("fuzz.csv", bytes.NewReader(data), nil, opts.withDefaults(""), bufSize)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return drain(t, r)
}
