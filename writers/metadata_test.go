package writers

import (
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
)

// TestParquetMetadata writes key-value metadata and reads it back from the footer.
func TestParquetMetadata(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := mixedBatch(mem)
	defer rec.Release()
	path := filepath.Join(t.TempDir(), "out.parquet")
	w, err := Create(path, rec.Schema(), Options{Mem: mem, Metadata: map[string]string{
		"mlbatch.model_uri": "runs:/abc/model", "mlbatch.inputs": `["a.csv"]`,
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	r, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	kv := r.MetaData().KeyValueMetadata()
	for k, want := range map[string]string{"mlbatch.model_uri": "runs:/abc/model", "mlbatch.inputs": `["a.csv"]`} {
		if v := kv.FindValue(k); v == nil || *v != want {
			t.Errorf("%s = %v, want %q", k, v, want)
		}
	}
	if kv.FindValue("ARROW:schema") == nil {
		t.Error("the Arrow schema is no longer stored")
	}
}
