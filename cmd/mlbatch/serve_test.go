package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// syncBuffer is a bytes.Buffer safe for a writer and a polling reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// listenAddr finds the address in the server's "listening" log record.
func listenAddr(logs string) string {
	for _, line := range strings.Split(logs, "\n") {
		var rec struct{ Msg, Addr string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" {
			return rec.Addr
		}
	}
	return ""
}

// serveInProcess runs `mlbatch serve ... --port 0` in this process and waits
// until its model is loaded. stop cancels it (as SIGTERM does) and returns the
// exit code and the logs.
func serveInProcess(t *testing.T, args ...string) (url string, stop func() (int, string)) {
	t.Helper()
	mem := memory.NewCheckedAllocator(testPool())
	var stdout bytes.Buffer
	stderr := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- runEnv(ctx, append(append([]string{"serve"}, args...), "--host", "127.0.0.1", "--port", "0"),
			env{stdout: &stdout, stderr: stderr, mem: mem})
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if addr := listenAddr(stderr.String()); addr != "" {
			url = "http://" + addr
			if resp, err := http.Get(url + "/ping"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					break
				}
			}
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d before it was ready:\n%s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve not ready:\n%s", stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	return url, func() (int, string) {
		cancel()
		code := <-done
		mem.AssertSize(t, 0)
		return code, stderr.String()
	}
}

func predictions(t *testing.T, url, ctype, body string) []float64 {
	t.Helper()
	resp, err := http.Post(url+"/invocations", ctype, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%d: %s", resp.StatusCode, b)
	}
	var out struct{ Predictions []float64 }
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%.200s: %v", b, err)
	}
	return out.Predictions
}

func csvRecords(t *testing.T, path string) [][]string {
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
	return recs
}

// TestServeMatchesScore: `mlbatch serve` answers, bit for bit, the predictions
// `mlbatch score` writes for the same rows, for a model resolved by run id (the
// demo) and for the seed article's positional model called with its curl body.
func TestServeMatchesScore(t *testing.T) {
	demoRun := "runs:/d050509c3eccff80e45131fc149d7535/model"
	for _, c := range []struct {
		name  string
		model []string
		input string
		json  func(header []string, rows [][]string) string
	}{
		{"demo by run id", []string{"--tracking-uri", filepath.Join(testdata, "demo", "mlruns"), "--model", demoRun},
			filepath.Join(testdata, "demo", "diabetes.csv"),
			func(h []string, rows [][]string) string {
				names, _ := json.Marshal(h)
				return `{"dataframe_split": {"columns": ` + string(names) + `, "data": ` + jsonData(rows) + `}}`
			}},
		{"seed13 positional", []string{"--model", filepath.Join("..", "..", "serve", "testdata", "seed13")},
			filepath.Join("..", "..", "serve", "testdata", "seed13", "input.csv"),
			func(_ []string, rows [][]string) string { return `{"data":` + jsonData(rows) + `}` }},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "preds.csv")
			if code, stderr := cli(t, append(append([]string{"score"}, c.model...), "--in", c.input, "--out", out, "--keep=", "-q")...); code != 0 {
				t.Fatalf("score: %d %s", code, stderr)
			}
			scoredRecs := csvRecords(t, out)[1:]
			want := make([]float64, len(scoredRecs))
			for i, r := range scoredRecs {
				v, err := strconv.ParseFloat(r[0], 64)
				if err != nil {
					t.Fatal(err)
				}
				want[i] = v
			}
			in := csvRecords(t, c.input)
			body, err := os.ReadFile(c.input)
			if err != nil {
				t.Fatal(err)
			}

			url, stop := serveInProcess(t, c.model...)
			for _, form := range []struct{ ctype, body string }{
				{"text/csv", string(body)},
				{"application/json", c.json(in[0], in[1:])},
			} {
				got := predictions(t, url, form.ctype, form.body)
				if len(got) != len(want) {
					t.Fatalf("%s: %d predictions, score wrote %d", form.ctype, len(got), len(want))
				}
				for i := range want {
					if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
						t.Fatalf("%s row %d: serve %v, score %v", form.ctype, i+1, got[i], want[i])
					}
				}
			}
			// The seed's own request, verbatim.
			if strings.Contains(c.name, "seed") {
				got := predictions(t, url, "application/json", `{"data":[[0.09178,0.0,4.05,0.0,0.51,6.416,84.1,2.6463,5.0,296.0,16.6,395.5,9.04]]}`)
				if len(got) != 1 || got[0] != want[0] {
					t.Fatalf("seed curl: %v, score %v", got, want[0])
				}
			}
			code, logs := stop()
			if code != 0 {
				t.Fatalf("serve exited %d:\n%s", code, logs)
			}
			if !strings.Contains(logs, `"msg":"request"`) || !strings.Contains(logs, `"msg":"stopped"`) {
				t.Errorf("access log or shutdown record missing:\n%.2000s", logs)
			}
		})
	}
}

func jsonData(rows [][]string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, r := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("[" + strings.Join(r, ",") + "]")
	}
	b.WriteByte(']')
	return b.String()
}

func TestServeUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"serve"}, 2, "--model"},
		{[]string{"serve", "--model", "x", "--response-format", "v3"}, 2, "--response-format"},
		{[]string{"serve", "--model", "x", "--max-body-size", "lots"}, 2, "--max-body-size"},
		{[]string{"serve", "--model", "x", "--port", "70000"}, 2, "--port"},
		{[]string{"serve", "--model", "x", "--max-batch-rows", "0"}, 2, "--max-batch-rows"},
		{[]string{"serve", "--model", filepath.Join(testdata, "bad", "models", "no-mlmodel"), "--port", "0"}, 3, "MLmodel"},
	} {
		code, stderr := cli(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.msg) {
			t.Errorf("%v: exit %d, want %d; stderr:\n%s", c.args, code, c.code, stderr)
		}
	}
	for in, want := range map[string]int64{"1024": 1024, "64MiB": 64 << 20, "2 KB": 2000, "1GiB": 1 << 30, "10B": 10} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "1.5MB", "MiB", "9999999999999GiB"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) accepted", in)
		}
	}
}

// TestServeSIGTERM runs the binary under load, sends it SIGTERM, and checks that
// it exits 0 and that every request it accepted was answered: the clients got as
// many answers as the server logged requests, all of them 200.
func TestServeSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	seed := filepath.Join("..", "..", "serve", "testdata", "seed13")
	cmd := exec.Command(bin, "serve", "--model", seed, "--host", "127.0.0.1", "--port", "0", "--batch-wait", "1ms")
	stderr := &syncBuffer{}
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			stderr.Write(append(sc.Bytes(), '\n'))
		}
	}()
	defer cmd.Process.Kill()

	var url string
	deadline := time.Now().Add(30 * time.Second)
	for url == "" || !ready(url) {
		if addr := listenAddr(stderr.String()); addr != "" {
			url = "http://" + addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready:\n%s", stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}

	recs := csvRecords(t, filepath.Join(seed, "input.csv"))[1:]
	var answered, failed atomic.Int64
	var sent atomic.Bool
	var wg sync.WaitGroup
	stopAt := time.Now().Add(20 * time.Second)
	for k := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr := &http.Transport{}
			defer tr.CloseIdleConnections()
			c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
			for i := 0; time.Now().Before(stopAt); i++ {
				body := `{"data":` + jsonData(recs[(k+i)%len(recs):(k+i)%len(recs)+1]) + `}`
				resp, err := c.Post(url+"/invocations", "application/json", strings.NewReader(body))
				if err != nil {
					if !sent.Load() {
						t.Errorf("before SIGTERM: %v", err)
					}
					return // refused: the server has stopped accepting
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 || !bytes.HasPrefix(b, []byte(`{"predictions": [`)) {
					failed.Add(1)
					t.Errorf("accepted request not answered: %d %v %.100s", resp.StatusCode, err, b)
					return
				}
				answered.Add(1)
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	sent.Store(true)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	pw.Close()
	wg.Wait()
	if err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%.3000s", err, stderr.String())
	}
	logged := 0
	for _, line := range strings.Split(stderr.String(), "\n") {
		var rec struct {
			Msg, Path string
			Status    int
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "request" && rec.Path == "/invocations" {
			logged++
			if rec.Status != 200 {
				t.Errorf("logged status %d: %s", rec.Status, line)
			}
		}
	}
	t.Logf("%d requests answered, %d logged by the server", answered.Load(), logged)
	if int64(logged) != answered.Load() || answered.Load() == 0 || failed.Load() > 0 {
		t.Errorf("server logged %d requests, clients got %d answers (%d failed)", logged, answered.Load(), failed.Load())
	}
	if !strings.Contains(stderr.String(), "draining") {
		t.Errorf("no shutdown record:\n%s", stderr.String())
	}
}

func ready(url string) bool {
	resp, err := http.Get(url + "/ping")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == 200
}
