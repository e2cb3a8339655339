package serve

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkInvocations measures the handler alone (decode, bind, predict, encode)
// for the demo model, without the network; bench/serve.sh measures the server
// end to end.
func BenchmarkInvocations(b *testing.B) {
	m, mm := loadModel(b, demoModel, false)
	names, rows := readCSV(b, demoInput)
	for _, n := range []int{1, 100} {
		for _, form := range []string{"json", "csv"} {
			b.Run(form+"/rows="+strconv.Itoa(n), func(b *testing.B) {
				s := New(Options{MaxBatchRows: 1})
				if err := s.SetModel(m, mm); err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				h := s.Handler()
				body := `{"dataframe_split": {"columns": ` + jsonNames(names) + `, "data": ` + jsonRows(rows[:n]) + `}}`
				ctype := "application/json"
				if form == "csv" {
					body, ctype = csvBody(names, rows[:n], false), "text/csv"
				}
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				for b.Loop() {
					req := httptest.NewRequest(http.MethodPost, "/invocations", strings.NewReader(body))
					req.Header.Set("Content-Type", ctype)
					w := httptest.NewRecorder()
					h.ServeHTTP(w, req)
					if w.Code != 200 {
						b.Fatalf("%d %s", w.Code, w.Body)
					}
				}
			})
		}
	}
}
