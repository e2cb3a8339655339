package serve

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/batch"
	"github.com/mlbatch/mlbatch/model"
	_ "github.com/mlbatch/mlbatch/model/sklearn" // registers the sklearn flavor
	"github.com/mlbatch/mlbatch/readers"
)

const (
	demoModel  = "../testdata/demo/mlruns/0/d050509c3eccff80e45131fc149d7535/artifacts/model"
	demoInput  = "../testdata/demo/diabetes.csv"
	demoGolden = "../testdata/demo/expected.csv"
	seedModel  = "testdata/seed13"
	seedInput  = "testdata/seed13/input.csv"
	seedGolden = "testdata/seed13/expected.csv"
	modelsDir  = "../testdata/models/"
)

func loadModel(t testing.TB, dir string, proba bool) (model.Model, *model.MLmodel) {
	t.Helper()
	m, mm, err := model.Load(dir, model.LoadOptions{Proba: proba})
	if err != nil {
		t.Fatalf("load %s: %v", dir, err)
	}
	return m, mm
}

// startServer serves m on an ephemeral 127.0.0.1 port with a checked allocator
// that must be back to zero when the test ends.
func startServer(t testing.TB, m model.Model, mm *model.MLmodel, opts Options) (*Server, string) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	opts.Mem = mem
	s := New(opts)
	if m != nil {
		if err := s.SetModel(m, mm); err != nil {
			t.Fatal(err)
		}
	}
	ts := httptest.NewServer(s.Handler()) // listens on 127.0.0.1:0
	t.Cleanup(func() {
		ts.Close()
		s.Close()
		mem.AssertSize(t, 0)
	})
	return s, ts.URL
}

var client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}

func post(t testing.TB, url, ctype, body string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/invocations", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

func readCSV(t testing.TB, path string) ([]string, [][]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs[0], recs[1:]
}

// scored is what `mlbatch score` computes for a CSV input: per row, the JSON text
// of that row's prediction as the server writes it.
func scored(t testing.TB, m model.Model, proba bool, path string) []string {
	t.Helper()
	src, b := openScored(t, m, path)
	defer src.Close()
	if err := b.CheckTypes(src.Schema(), m); err != nil {
		t.Fatal(err)
	}
	if err := src.Project(b.Needed); err != nil {
		t.Fatal(err)
	}
	sink := &collect{}
	if _, err := batch.Run(context.Background(), src, m, b, sink, batch.Options{Workers: 2}); err != nil {
		t.Fatal(err)
	}
	sh, err := planOutputs(m.Outputs(), proba)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, rec := range sink.recs {
		cols := rec.Columns()
		for i := range int(rec.NumRows()) {
			// One row's list, without its brackets: the row's element.
			s := string(sh.appendPredictions(nil, cols, i, 1))
			out = append(out, s[1:len(s)-1])
		}
		rec.Release()
	}
	return out
}

// openScored opens a CSV input as `mlbatch score` does: columns that feed a
// signature column (or a numeric model column but look like text) are parsed as
// the model's type.
func openScored(t testing.TB, m model.Model, path string) (readers.Reader, *batch.Binding) {
	t.Helper()
	src, err := readers.Open(path, readers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := batch.Bind(src.Schema(), m, []string{}, "")
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]arrow.DataType{}
	for i, c := range m.Inputs() {
		f, ok := b.FeatureField(src.Schema(), i)
		if !ok || c.Type == nil || arrow.TypeEqual(f.Type, c.Type) {
			continue
		}
		if c.Signature || (batch.IsNumeric(c.Type) && !batch.IsNumeric(f.Type)) {
			types[f.Name] = c.Type
		}
	}
	if len(types) > 0 {
		src.Close()
		if src, err = readers.Open(path, readers.Options{Types: types}); err != nil {
			t.Fatal(err)
		}
		if b, err = batch.Bind(src.Schema(), m, []string{}, ""); err != nil {
			t.Fatal(err)
		}
	}
	return src, b
}

// typedJSON reads a CSV input as score types it and writes its cells as JSON
// literals (what pandas' to_json would send): names, and rows of cells.
func typedJSON(t testing.TB, m model.Model, path string) ([]string, [][]string) {
	t.Helper()
	src, _ := openScored(t, m, path)
	defer src.Close()
	var names []string
	for _, f := range src.Schema().Fields() {
		names = append(names, f.Name)
	}
	var rows [][]string
	for {
		rec, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for i := range int(rec.NumRows()) {
			row := make([]string, rec.NumCols())
			for j, col := range rec.Columns() {
				row[j] = string(appendValue(nil, col, i))
			}
			rows = append(rows, row)
		}
		rec.Release()
	}
	return names, rows
}

type collect struct {
	mu   sync.Mutex
	recs []arrow.RecordBatch
}

func (c *collect) Write(rec arrow.RecordBatch) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	rec.Retain()
	c.recs = append(c.recs, rec)
	return nil
}

// want is the exact body the server must answer for the given rows.
func want(rows []string) string {
	return `{"predictions": [` + strings.Join(rows, ", ") + `]}`
}

// checkGolden compares a response's predictions with a golden CSV (Python's
// numbers) within the fixtures' tolerance: 1e-9 relative for floats, exact for
// labels. sel lists the golden rows the response holds.
func checkGolden(t testing.TB, body []byte, golden string, sel []int) {
	t.Helper()
	var resp struct {
		Predictions []any `json:"predictions"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatalf("response %.200s: %v", body, err)
	}
	_, rows := readCSV(t, golden)
	if len(resp.Predictions) != len(sel) {
		t.Fatalf("%d predictions for %d rows", len(resp.Predictions), len(sel))
	}
	for k, i := range sel {
		got := resp.Predictions[k]
		wantRow := rows[i]
		gotRow := []any{got}
		if l, ok := got.([]any); ok && len(wantRow) > 1 {
			gotRow = l
		}
		if len(gotRow) != len(wantRow) {
			t.Fatalf("row %d: got %v, want %v", i, got, wantRow)
		}
		for j, w := range wantRow {
			if err := sameValue(gotRow[j], w); err != nil {
				t.Fatalf("row %d col %d: %v", i, j, err)
			}
		}
	}
}

func sameValue(got any, want string) error {
	switch g := got.(type) {
	case float64:
		w, err := strconv.ParseFloat(want, 64)
		if err != nil {
			return errors.New("got number " + strconv.FormatFloat(g, 'g', -1, 64) + ", want " + want)
		}
		if math.Abs(g-w) > 1e-9*math.Abs(w)+1e-12 {
			return errors.New("got " + strconv.FormatFloat(g, 'g', -1, 64) + ", want " + want)
		}
	case string:
		if g != want {
			return errors.New("got " + g + ", want " + want)
		}
	case bool:
		if (g && want != "True") || (!g && want != "False") {
			return errors.New("got " + strconv.FormatBool(g) + ", want " + want)
		}
	default:
		return errors.New("unexpected value")
	}
	return nil
}

// jsonRows turns CSV rows into JSON rows (the CSV cells are Python reprs, which
// are valid JSON numbers).
func jsonRows(rows [][]string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, r := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("[" + strings.Join(r, ", ") + "]")
	}
	b.WriteByte(']')
	return b.String()
}

func jsonNames(names []string) string {
	b, _ := json.Marshal(names)
	return string(b)
}

func jsonRecords(names []string, rows [][]string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, r := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('{')
		for j, n := range names {
			if j > 0 {
				b.WriteString(", ")
			}
			nb, _ := json.Marshal(n)
			b.Write(nb)
			b.WriteString(": " + r[j])
		}
		b.WriteByte('}')
	}
	b.WriteByte(']')
	return b.String()
}

func jsonColumns(names []string, rows [][]string) string {
	var b strings.Builder
	b.WriteByte('{')
	for j, n := range names {
		if j > 0 {
			b.WriteString(", ")
		}
		nb, _ := json.Marshal(n)
		b.Write(nb)
		b.WriteString(": [")
		for i, r := range rows {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(r[j])
		}
		b.WriteByte(']')
	}
	b.WriteByte('}')
	return b.String()
}

func csvBody(names []string, rows [][]string, index bool) string {
	var b strings.Builder
	if index {
		b.WriteString(",")
	}
	b.WriteString(strings.Join(names, ",") + "\n")
	for i, r := range rows {
		if index {
			b.WriteString(strconv.Itoa(i) + ",")
		}
		b.WriteString(strings.Join(r, ",") + "\n")
	}
	return b.String()
}

func pick(rows [][]string, sel []int) [][]string {
	out := make([][]string, len(sel))
	for k, i := range sel {
		out[k] = rows[i]
	}
	return out
}

func pickS(rows []string, sel []int) []string {
	out := make([]string, len(sel))
	for k, i := range sel {
		out[k] = rows[i]
	}
	return out
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}
