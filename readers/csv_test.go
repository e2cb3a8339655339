package readers

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/internal/csvtext"
	"github.com/mlbatch/mlbatch/internal/mlerr"
)

// readAllCSV reads text as data.csv and returns its schema and every cell as a Go
// value (nil for null), row-major. err is the first error from Open or Next.
func readAllCSV(t *testing.T, text string, opts Options, project ...string) (*arrow.Schema, [][]any, error) {
	t.Helper()
	return readAllCSVFrom(t, strings.NewReader(text), opts, project...)
}

func readAllCSVFrom(t *testing.T, rd io.Reader, opts Options, project ...string) (*arrow.Schema, [][]any, error) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	opts.Mem = mem
	r, err := newCSVReader("data.csv", rd, nil, opts.withDefaults("data.csv"))
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	if project != nil {
		if err := r.Project(project); err != nil {
			return nil, nil, err
		}
	}
	rows, err := drain(t, r)
	return r.Schema(), rows, err
}

// drain reads every batch of r and converts the cells to Go values.
func drain(t *testing.T, r Reader) ([][]any, error) {
	t.Helper()
	var rows [][]any
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		if text, _, ok := csvtext.Of(rec); ok && text.Text.Len() != int(rec.NumRows()) {
			t.Fatalf("%d lines of text for %d rows", text.Text.Len(), rec.NumRows())
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			row := make([]any, rec.NumCols())
			for j, c := range rec.Columns() {
				row[j] = cellValue(c, i)
			}
			rows = append(rows, row)
		}
		rec.Release()
	}
}

func cellValue(c arrow.Array, i int) any {
	if c.IsNull(i) {
		return nil
	}
	switch c := c.(type) {
	case *array.Float64:
		return c.Value(i)
	case *array.Float32:
		return c.Value(i)
	case *array.Int64:
		return c.Value(i)
	case *array.Int32:
		return c.Value(i)
	case *array.Boolean:
		return c.Value(i)
	case *array.String:
		return c.Value(i)
	}
	return c.ValueStr(i)
}

func types(s *arrow.Schema) []string {
	var out []string
	for _, f := range s.Fields() {
		out = append(out, f.Name+":"+f.Type.String())
	}
	return out
}

func TestCSVInference(t *testing.T) {
	text := "i,f,b,s,e,n,sci,neg\n" +
		"1,1.5,True,a,,NA,1e5,-3.\n" +
		"-2,,false,,,,.5,-inf\n" +
		"+3,2,TRUE,c d,,null,NaN,Infinity\n" +
		" 4 ,nan,False,x,,,-1.5E-3,inf\n"
	sc, rows, err := readAllCSV(t, text, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"i:int64", "f:float64", "b:bool", "s:utf8", "e:float64", "n:float64", "sci:float64", "neg:float64"}
	if got := types(sc); !reflect.DeepEqual(got, want) {
		t.Fatalf("types = %v, want %v", got, want)
	}
	if rows[0][0] != int64(1) || rows[1][0] != int64(-2) || rows[2][0] != int64(3) || rows[3][0] != int64(4) {
		t.Errorf("ints: %v", rows)
	}
	if rows[0][1] != 1.5 || rows[1][1] != nil || rows[2][1] != 2.0 || rows[3][1] != nil {
		t.Errorf("floats: %v %v %v %v", rows[0][1], rows[1][1], rows[2][1], rows[3][1])
	}
	if rows[0][2] != true || rows[1][2] != false || rows[2][2] != true || rows[3][2] != false {
		t.Errorf("bools: %v", rows)
	}
	if rows[0][3] != "a" || rows[1][3] != nil || rows[2][3] != "c d" {
		t.Errorf("strings: %v", rows)
	}
	for i := range 4 {
		if rows[i][4] != nil || rows[i][5] != nil {
			t.Errorf("row %d: empty/NA columns not null: %v", i, rows[i])
		}
	}
	if rows[0][6] != 1e5 || rows[1][6] != 0.5 || rows[2][6] != nil || rows[3][6] != -1.5e-3 {
		t.Errorf("sci: %v", rows)
	}
	if rows[0][7] != -3.0 || rows[1][7] != math.Inf(-1) || rows[2][7] != math.Inf(1) || rows[3][7] != math.Inf(1) {
		t.Errorf("neg: %v", rows)
	}
}

func TestCSVInferenceEdges(t *testing.T) {
	cases := []struct {
		cells []string
		want  string
	}{
		{[]string{"1", "2"}, "int64"},
		{[]string{"1", "2.0"}, "float64"},
		{[]string{"9223372036854775807", "-9223372036854775808"}, "int64"},
		{[]string{"9223372036854775808"}, "float64"}, // beyond int64
		{[]string{"1e400"}, "utf8"},                  // overflows: a string to pandas
		{[]string{"1e-400"}, "float64"},              // underflows to 0, as in pandas
		{[]string{"INF", "-Infinity", "+inf"}, "float64"},
		{[]string{"+NaN"}, "utf8"},
		{[]string{"NAN"}, "utf8"},
		{[]string{"0x10"}, "utf8"}, // Go hex syntax is not a number
		{[]string{"0x1p-2"}, "utf8"},
		{[]string{"1_000"}, "utf8"},
		{[]string{"1,5"}, "utf8"},
		{[]string{"True", "1"}, "utf8"},
		{[]string{"yes"}, "utf8"},
		{[]string{"", "NA", "N/A", "NULL", "None"}, "float64"},
		{[]string{"NaN", "3"}, "int64"},
		{[]string{"1.", "-.5"}, "float64"},
		{[]string{"."}, "utf8"},
		{[]string{"-"}, "utf8"},
		{[]string{"e5"}, "utf8"},
	}
	for _, c := range cases {
		var b strings.Builder
		b.WriteString("x,y\n")
		for _, v := range c.cells {
			b.WriteString(`"` + v + `",0` + "\n")
		}
		sc, _, err := readAllCSV(t, b.String(), Options{})
		if err != nil {
			t.Errorf("%q: %v", c.cells, err)
			continue
		}
		if got := sc.Field(0).Type.String(); got != c.want {
			t.Errorf("%q: inferred %s, want %s", c.cells, got, c.want)
		}
	}
}

func TestCSVDeclaredTypes(t *testing.T) {
	text := "a,b,c,d,e\n1,2,3,x,7\n,4.5,,5,8\n"
	opts := Options{Types: map[string]arrow.DataType{
		"a":  arrow.PrimitiveTypes.Float32,
		"b":  arrow.PrimitiveTypes.Float64,
		"c":  arrow.PrimitiveTypes.Int32,
		"d":  arrow.BinaryTypes.String,
		"zz": arrow.PrimitiveTypes.Int64, // not in the file: ignored
	}}
	sc, rows, err := readAllCSV(t, text, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a:float32", "b:float64", "c:int32", "d:utf8", "e:int64"}
	if got := types(sc); !reflect.DeepEqual(got, want) {
		t.Fatalf("types = %v, want %v", got, want)
	}
	if !reflect.DeepEqual(rows, [][]any{{float32(1), 2.0, int32(3), "x", int64(7)}, {nil, 4.5, nil, "5", int64(8)}}) {
		t.Errorf("rows = %v", rows)
	}

	_, _, err = readAllCSV(t, "a\n1\n3000000000\n", Options{Types: map[string]arrow.DataType{"a": arrow.PrimitiveTypes.Int32}})
	wantErr(t, err, `data.csv row 2: column "a": value "3000000000": integer out of range for int32`)

	_, _, err = readAllCSV(t, "a\nx\n", Options{Types: map[string]arrow.DataType{"a": arrow.PrimitiveTypes.Float64}})
	wantErr(t, err, `data.csv row 1: column "a": value "x": not a number`)

	_, _, err = readAllCSV(t, "a\nx\n", Options{Types: map[string]arrow.DataType{"a": arrow.FixedWidthTypes.Date32}})
	if mlerr.KindOf(err) != mlerr.Schema || !strings.Contains(err.Error(), `column "a": cannot read type date32`) {
		t.Errorf("unsupported type: %v", err)
	}
}

func wantErr(t *testing.T, err error, msg string) *mlerr.RowError {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %q", msg)
	}
	if err.Error() != msg {
		t.Errorf("error:\n got %q\nwant %q", err.Error(), msg)
	}
	re, ok := mlerr.AsRowError(err)
	if !ok {
		t.Errorf("%v is not a *mlerr.RowError", err)
	} else if mlerr.KindOf(err) != mlerr.Data {
		t.Errorf("%v: kind %v, want data", err, mlerr.KindOf(err))
	}
	return re
}

func TestCSVRowErrors(t *testing.T) {
	// Types inferred from a first batch of 2 rows; row 3 does not fit.
	_, rows, err := readAllCSV(t, "id,x\n1,1.5\n2,2.5\n3,abc\n", Options{BatchSize: 2})
	re := wantErr(t, err, `data.csv row 3: column "x": value "abc": not a number (column type float64 was inferred from the first 2 rows; declare the type in the model signature)`)
	if re != nil && (re.File != "data.csv" || re.Row != 3 || re.Column != "x" || re.Value != "abc") {
		t.Errorf("fields: %+v", re)
	}
	if len(rows) != 2 {
		t.Errorf("rows before the error: %d, want 2", len(rows))
	}

	_, _, err = readAllCSV(t, "id,x\n1,2\n3,4\n5,6.5\n", Options{BatchSize: 2})
	wantErr(t, err, `data.csv row 3: column "x": value "6.5": not an integer (column type int64 was inferred from the first 2 rows; declare the type in the model signature)`)

	_, _, err = readAllCSV(t, "b\nTrue\nFalse\nmaybe\n", Options{BatchSize: 2})
	wantErr(t, err, `data.csv row 3: column "b": value "maybe": not a boolean (True or False) (column type bool was inferred from the first 2 rows; declare the type in the model signature)`)

	// The earliest bad row wins across columns.
	_, _, err = readAllCSV(t, "a,b\n1,1\n2,2\n3,x\ny,4\n", Options{BatchSize: 2})
	wantErr(t, err, `data.csv row 3: column "b": value "x": not an integer (column type int64 was inferred from the first 2 rows; declare the type in the model signature)`)

	// Ragged rows, short and long; blank lines are skipped but counted as lines.
	_, rows, err = readAllCSV(t, "a,b\n1,2\n\n3\n", Options{})
	wantErr(t, err, `data.csv row 2: line 4: 1 fields, but the header has 2`)
	if len(rows) != 1 {
		t.Errorf("rows before the ragged one: %d, want 1", len(rows))
	}
	_, _, err = readAllCSV(t, "a,b\n1,2,3\n", Options{})
	wantErr(t, err, `data.csv row 1: line 2: 3 fields, but the header has 2`)

	// Broken quotes.
	_, _, err = readAllCSV(t, "a,b\n1,2\n3,\"x\n4,5\n", Options{})
	wantErr(t, err, `data.csv row 2: line 3: unterminated quoted field in column "b"`)
	_, _, err = readAllCSV(t, "a,b\n1,\"x\"y\n", Options{})
	wantErr(t, err, `data.csv row 1: line 2: unexpected 'y' after the closing quote of a quoted field in column "b"`)

	// Invalid UTF-8 in a string column.
	_, _, err = readAllCSV(t, "s\nok\n\xff\xfe\n", Options{})
	wantErr(t, err, `data.csv row 2: column "s": value "\xff\xfe": invalid UTF-8`)

	// Errors are sticky.
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r, err := newCSVReader("data.csv", strings.NewReader("a\n1\nx\n"), nil, Options{BatchSize: 1, Mem: mem}.withDefaults(""))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	rec.Release()
	_, err1 := r.Next()
	_, err2 := r.Next()
	if err1 == nil || err1 != err2 {
		t.Errorf("errors not sticky: %v, %v", err1, err2)
	}
	r.Close()
}

func TestCSVHeader(t *testing.T) {
	_, _, err := readAllCSV(t, "", Options{})
	wantErr(t, err, "data.csv: empty file, no header")
	_, _, err = readAllCSV(t, "\xef\xbb\xbf", Options{})
	wantErr(t, err, "data.csv: empty file, no header")
	_, _, err = readAllCSV(t, "\n\n", Options{})
	wantErr(t, err, "data.csv: no header (only blank lines)")
	_, _, err = readAllCSV(t, "a,b,a\n1,2,3\n", Options{})
	wantErr(t, err, `data.csv: header: duplicate column name "a" (columns 1 and 3)`)
	_, _, err = readAllCSV(t, "a,,c\n", Options{})
	wantErr(t, err, `data.csv: header: column 2 has no name`)
	_, _, err = readAllCSV(t, "a,\"b\n", Options{})
	wantErr(t, err, `data.csv: header: line 1: unterminated quoted field`)

	// Header only: a schema, no batches. Undeclared columns are float64.
	sc, rows, err := readAllCSV(t, "a,b,\"c,d\"\r\n", Options{Types: map[string]arrow.DataType{"b": arrow.BinaryTypes.String}})
	if err != nil {
		t.Fatal(err)
	}
	if got := types(sc); !reflect.DeepEqual(got, []string{"a:float64", "b:utf8", "c,d:float64"}) {
		t.Errorf("types = %v", got)
	}
	if len(rows) != 0 {
		t.Errorf("rows = %v", rows)
	}
	// Header without a final newline.
	sc, _, err = readAllCSV(t, "x,y", Options{})
	if err != nil || sc.NumFields() != 2 {
		t.Errorf("schema %v, err %v", sc, err)
	}
}

func TestCSVQuotingAndLineEnds(t *testing.T) {
	text := "\xef\xbb\xbfname,note,v\r\n" +
		"\"Smith, J\",\"said \"\"hi\"\"\",1\r\n" +
		"\"multi\r\nline\",\"a\nb\",2\r\n" +
		"5'11\",plain \"quote\",3\r\n" +
		"\"\",\"x\",4\r\n" +
		"\r\n" +
		"last,\"\",5"
	sc, rows, err := readAllCSV(t, text, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := types(sc); !reflect.DeepEqual(got, []string{"name:utf8", "note:utf8", "v:int64"}) {
		t.Fatalf("types = %v", got)
	}
	want := [][]any{
		{"Smith, J", `said "hi"`, int64(1)},
		{"multi\r\nline", "a\nb", int64(2)},
		{`5'11"`, `plain "quote"`, int64(3)},
		{nil, "x", int64(4)},
		{"last", nil, int64(5)},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("rows:\n got %q\nwant %q", rows, want)
	}
}

func TestCSVTrailingDelimiter(t *testing.T) {
	_, rows, err := readAllCSV(t, "a,b\n1,\n\"2\",", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rows, [][]any{{int64(1), nil}, {int64(2), nil}}) {
		t.Errorf("rows = %v", rows)
	}
}

func TestCSVTab(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.tsv")
	if err := os.WriteFile(path, []byte("a\tb\n1\t\"x\ty\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rows, err := drain(t, r)
	if err != nil || !reflect.DeepEqual(rows, [][]any{{int64(1), "x\ty"}}) {
		t.Errorf("rows %v err %v", rows, err)
	}
}

func TestCSVProjection(t *testing.T) {
	text := "a,b,c\n1,x,2.5\n2,y,3.5\n"
	sc, rows, err := readAllCSV(t, text, Options{}, "c", "a")
	if err != nil {
		t.Fatal(err)
	}
	if sc.NumFields() != 3 {
		t.Errorf("Schema() must stay the full schema")
	}
	if !reflect.DeepEqual(rows, [][]any{{int64(1), 2.5}, {int64(2), 3.5}}) {
		t.Errorf("rows = %v", rows)
	}
	// A bad value in a column that is not projected is never decoded.
	_, rows, err = readAllCSV(t, "a,b\n1,2\n2,x\n", Options{BatchSize: 1}, "a")
	if err != nil || len(rows) != 2 {
		t.Errorf("rows %v err %v", rows, err)
	}
	// No columns: only the row count.
	_, rows, err = readAllCSV(t, text, Options{}, []string{}...)
	if err != nil || len(rows) != 2 || len(rows[0]) != 0 {
		t.Errorf("rows %v err %v", rows, err)
	}
	_, _, err = readAllCSV(t, text, Options{}, "nope")
	if mlerr.KindOf(err) != mlerr.Schema || err.Error() != `data.csv: no column "nope"` {
		t.Errorf("unknown column: %v", err)
	}
}

func TestCSVBatches(t *testing.T) {
	var b strings.Builder
	b.WriteString("n,s\n")
	for i := range 100 {
		b.WriteString(strings.Repeat("1", 1+i%5))
		b.WriteString(",\"q\n\"\"\"\n")
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r, err := newCSVReader("data.csv", strings.NewReader(b.String()), nil, Options{BatchSize: 7, Mem: mem}.withDefaults(""))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	total, batches := 0, 0
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if rec.NumRows() > 7 {
			t.Errorf("batch of %d rows", rec.NumRows())
		}
		total += int(rec.NumRows())
		batches++
		rec.Release()
	}
	if total != 100 || batches != 15 {
		t.Errorf("%d rows in %d batches", total, batches)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("after EOF: %v", err)
	}
}

// TestCSVChunking reads inputs one byte at a time, so that every record crosses a
// refill of the scanner's buffer, and compares with reading them whole.
func TestCSVChunking(t *testing.T) {
	inputs := []string{
		"a,b\n1,2\n3,4",
		"a,b\r\n\"x\"\"y\",\"1\r\n2\"\r\n\"z\",\"\"\r\n",
		"\xef\xbb\xbfa,b\n\"q\",\n,\"\"\n\n\n7,\"8\"",
		"a\n\"\"\n1\n\"x\"",
		"a,b\n1,\"x\"\r",
	}
	for _, in := range inputs {
		_, whole, err1 := readAllCSV(t, in, Options{})
		_, bytewise, err2 := readAllCSVFrom(t, iotest.OneByteReader(strings.NewReader(in)), Options{})
		if !reflect.DeepEqual(whole, bytewise) || (err1 == nil) != (err2 == nil) {
			t.Errorf("%q:\nwhole    %q %v\nbytewise %q %v", in, whole, err1, bytewise, err2)
		}
	}
}

// TestCSVAgainstEncodingCSV compares the parser with the standard library on random
// records full of delimiters, quotes and line breaks.
func TestCSVAgainstEncodingCSV(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("ab ,\"\n\r\txé")
	for iter := range 200 {
		ncols := 2 + rng.IntN(3)
		nrows := rng.IntN(30)
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		w.UseCRLF = iter%2 == 0
		header := make([]string, ncols)
		for j := range header {
			header[j] = string(rune('A' + j))
		}
		w.Write(header)
		var want [][]any
		for range nrows {
			rec := make([]string, ncols)
			row := make([]any, ncols)
			for j := range rec {
				var f []byte
				for range rng.IntN(6) {
					f = append(f, alphabet[rng.IntN(len(alphabet))])
				}
				s := strings.ToValidUTF8(string(f), "?")
				if w.UseCRLF {
					// encoding/csv turns a lone \n in a field into \r\n with UseCRLF.
					s = strings.ReplaceAll(strings.ReplaceAll(s, "\r", ""), "\n", "\r\n")
				}
				rec[j] = s
				if s == "" {
					row[j] = nil
				} else {
					row[j] = s
				}
			}
			w.Write(rec)
			want = append(want, row)
		}
		w.Flush()
		opts := Options{BatchSize: 1 + rng.IntN(8), Types: map[string]arrow.DataType{}}
		for _, h := range header {
			opts.Types[h] = arrow.BinaryTypes.String
		}
		_, got, err := readAllCSV(t, buf.String(), opts)
		if err != nil {
			t.Fatalf("%q: %v", buf.String(), err)
		}
		if len(got) != len(want) || (len(want) > 0 && !reflect.DeepEqual(got, want)) {
			t.Fatalf("%q:\n got %q\nwant %q", buf.String(), got, want)
		}
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	_, err := Open(filepath.Join(dir, "missing.csv"), Options{})
	if mlerr.KindOf(err) != mlerr.IO || !strings.Contains(err.Error(), "missing.csv") {
		t.Errorf("missing file: %v", err)
	}
	_, err = Open(filepath.Join(dir, "x.json"), Options{})
	if mlerr.KindOf(err) != mlerr.Usage {
		t.Errorf("unknown extension: %v", err)
	}
	_, err = Open(filepath.Join(dir, "x.csv"), Options{Format: "xlsx"})
	if mlerr.KindOf(err) != mlerr.Usage {
		t.Errorf("unknown format: %v", err)
	}
	path := filepath.Join(dir, "data.txt")
	os.WriteFile(path, []byte("a\n1\n"), 0o644)
	r, err := Open(path, Options{Format: "CSV"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Name() != path {
		t.Errorf("name %q", r.Name())
	}
	if err := r.Close(); err != nil {
		t.Error(err)
	}
	if err := r.Close(); err != nil {
		t.Error("second close:", err)
	}
	if _, err := r.Next(); err == nil || errors.Is(err, io.EOF) {
		t.Errorf("Next after Close: %v", err)
	}
}
