package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestPredictFnProba: a model logged with pyfunc_predict_fn="predict_proba" is
// served as MLflow serves it, with probabilities, without --proba.
func TestPredictFnProba(t *testing.T) {
	dir := t.TempDir()
	src := modelsDir + "logreg_multinomial_iris"
	for _, name := range []string{"MLmodel", "model.pkl"} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "MLmodel" {
			b = bytes.Replace(b, []byte("predict_fn: predict\n"), []byte("predict_fn: predict_proba\n"), 1)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m, mm := loadModel(t, dir, true)
	if !PredictsProba(mm) {
		t.Fatal("predict_fn not seen")
	}
	_, url := startServer(t, m, mm, Options{})
	names, rows := readCSV(t, modelsDir+"iris_input.csv")
	code, _, body := post(t, url, "text/csv", csvBody(names, rows[:3], false))
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	checkGolden(t, body, src+"/expected_proba.csv", []int{0, 1, 2})
}

// TestZeroRows: a request without rows gets an empty list.
func TestZeroRows(t *testing.T) {
	m, mm := loadModel(t, demoModel, false)
	_, url := startServer(t, m, mm, Options{})
	names, _ := readCSV(t, demoInput)
	for _, c := range []struct{ ctype, body string }{
		{"application/json", `{"dataframe_split": {"columns": ` + jsonNames(names) + `, "data": []}}`},
		{"text/csv", strings.Join(names, ",") + "\n"},
	} {
		code, _, body := post(t, url, c.ctype, c.body)
		if code != 200 || string(body) != `{"predictions": []}` {
			t.Errorf("%s: %d %s", c.ctype, code, body)
		}
	}
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestAccessLog: one JSON record per request, with what an operator needs.
func TestAccessLog(t *testing.T) {
	m, mm := loadModel(t, seedModel, false)
	var logs syncBuf
	_, url := startServer(t, m, mm, Options{AccessLog: true, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	_, rows := readCSV(t, seedInput)
	post(t, url, "application/json", `{"data": `+jsonRows(rows[:3])+`}`)
	post(t, url, "application/json", `{"data": [[1]]}`)
	var recs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		recs = append(recs, rec)
	}
	if len(recs) != 2 {
		t.Fatalf("%d records:\n%s", len(recs), logs.String())
	}
	for _, k := range []string{"time", "level", "msg", "method", "path", "status", "bytes", "duration_ms", "remote", "rows"} {
		if _, ok := recs[0][k]; !ok {
			t.Errorf("no %q in %v", k, recs[0])
		}
	}
	if recs[0]["status"] != 200.0 || recs[0]["rows"] != 3.0 || recs[0]["path"] != "/invocations" {
		t.Errorf("first record: %v", recs[0])
	}
	if recs[1]["status"] != 400.0 || !strings.Contains(recs[1]["error"].(string), "13 features") {
		t.Errorf("second record: %v", recs[1])
	}
}

// TestTimeouts: a client that never finishes its headers, or its body, is cut
// off by the read timeouts.
func TestTimeouts(t *testing.T) {
	m, mm := loadModel(t, seedModel, false)
	s := New(Options{ReadHeaderTimeout: 200 * time.Millisecond, ReadTimeout: 300 * time.Millisecond})
	if err := s.SetModel(m, mm); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln, nil) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Error(err)
		}
	}()
	for _, partial := range []string{
		"POST /invocations HTTP/1.1\r\nHost: x\r\n",
		"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"data\": [[",
	} {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if _, err := io.WriteString(c, partial); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err = io.ReadAll(c) // until the server closes the connection
		c.Close()
		if err != nil {
			t.Errorf("%.30q: %v", partial, err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%.30q: the server waited %s", partial, d)
		}
	}
}
