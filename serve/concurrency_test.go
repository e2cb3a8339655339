package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/model"
)

// TestConcurrentClients: many clients send different rows at once, in different
// forms; each gets back exactly its own predictions, with and without
// micro-batching.
func TestConcurrentClients(t *testing.T) {
	m, mm := loadModel(t, demoModel, false)
	names, rows := readCSV(t, demoInput)
	sc := scored(t, m, false, demoInput)
	clients, perClient := 32, 40
	if testing.Short() {
		clients, perClient = 8, 10
	}
	for _, c := range []struct {
		name    string
		opts    Options
		batched bool
	}{
		{"no micro-batching", Options{MaxBatchRows: 1}, false},
		{"micro-batching, 2ms wait", Options{BatchWait: 2 * time.Millisecond, MaxBatchRows: 64, Workers: 2}, true},
		{"micro-batching, queued only", Options{BatchWait: 0, MaxBatchRows: 16, Workers: 1}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, url := startServer(t, m, mm, c.opts)
			var wg sync.WaitGroup
			errs := make(chan error, clients)
			for k := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := rand.New(rand.NewPCG(uint64(k), 7))
					for i := range perClient {
						sel := make([]int, 1+r.IntN(4))
						for j := range sel {
							sel[j] = r.IntN(len(rows))
						}
						sub := pick(rows, sel)
						var ctype, body string
						switch (k + i) % 3 {
						case 0:
							ctype, body = "application/json", `{"dataframe_split": {"columns": `+jsonNames(names)+`, "data": `+jsonRows(sub)+`}}`
						case 1:
							ctype, body = "application/json", `{"dataframe_records": `+jsonRecords(names, sub)+`}`
						default:
							ctype, body = "text/csv", csvBody(names, sub, false)
						}
						code, got, err := postErr(url, ctype, body)
						if err != nil {
							errs <- err
							return
						}
						if w := want(pickS(sc, sel)); code != 200 || got != w {
							errs <- fmt.Errorf("client %d request %d rows %v: %d\n got %s\nwant %s", k, i, sel, code, got, w)
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			batched := s.met.batchedRequests.Load()
			t.Logf("%d requests, %d Predict calls, %d requests micro-batched", clients*perClient, s.met.predictCalls.Load(), batched)
			if c.batched && batched == 0 && !testing.Short() {
				t.Errorf("no request was micro-batched")
			}
			if !c.batched && batched != 0 {
				t.Errorf("%d requests micro-batched with batching off", batched)
			}
		})
	}
}

func postErr(url, ctype, body string) (int, string, error) {
	resp, err := client.Post(url+"/invocations", ctype, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp.StatusCode, b.String(), nil
}

// gated wraps a model: its first Predict call blocks until the gate opens, and
// every call reports its row count.
type gated struct {
	model.Model
	gate  chan struct{}
	once  sync.Once
	calls chan int
	delay time.Duration
}

func (g *gated) Predict(ctx context.Context, in model.Features, mem memory.Allocator) ([]arrow.Array, error) {
	if g.calls != nil {
		g.calls <- in.Rows
	}
	if g.gate != nil {
		g.once.Do(func() { <-g.gate })
	}
	if g.delay > 0 {
		time.Sleep(g.delay)
	}
	return g.Model.Predict(ctx, in, mem)
}

// TestMicroBatching holds the only worker in a Predict call while requests
// queue behind it, then checks that the queued requests were scored in as few
// vectorised calls as --max-batch-rows allows, that each answer holds exactly its
// own rows, and that a request the model refuses fails alone.
func TestMicroBatching(t *testing.T) {
	base, mm := loadModel(t, modelsDir+"dtree_clf_iris", false)
	names, rows := readCSV(t, modelsDir+"iris_input.csv")
	sc := scored(t, base, false, modelsDir+"iris_input.csv")

	run := func(t *testing.T, maxRows int, sizes []int, bad int) ([]int, []string) {
		g := &gated{Model: base, gate: make(chan struct{}), calls: make(chan int, 64)}
		s, url := startServer(t, g, mm, Options{Workers: 1, MaxBatchRows: maxRows, BatchWait: 0})
		e := s.eng.Load()
		type answer struct {
			code int
			body string
		}
		answers := make([]answer, len(sizes)+1)
		sels := make([][]int, len(sizes)+1)
		var wg sync.WaitGroup
		send := func(k, n int) {
			defer wg.Done()
			sel := make([]int, n)
			for j := range sel {
				sel[j] = (k*17 + j*31) % len(rows)
			}
			sels[k] = sel
			sub := pick(rows, sel)
			if k == bad {
				sub = append([][]string{}, sub...)
				r := append([]string{}, sub[n-1]...)
				r[2] = "null"
				sub[n-1] = r
			}
			code, body, err := postErr(url, "application/json", `{"dataframe_split": {"columns": `+jsonNames(names)+`, "data": `+jsonRows(sub)+`}}`)
			if err != nil {
				t.Error(err)
			}
			answers[k] = answer{code, body}
		}
		wg.Add(1)
		go send(0, 1)
		if got := <-g.calls; got != 1 {
			t.Fatalf("first call: %d rows", got)
		}
		// The worker is now held in Predict: the others queue.
		for k, n := range sizes {
			wg.Add(1)
			go send(k+1, n)
		}
		deadline := time.Now().Add(10 * time.Second)
		for len(e.queue) < len(sizes) {
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d requests queued", len(e.queue), len(sizes))
			}
			time.Sleep(time.Millisecond)
		}
		close(g.gate)
		wg.Wait()
		close(g.calls)
		var calls []int
		for c := range g.calls {
			calls = append(calls, c)
		}
		var bodies []string
		for k, a := range answers {
			if k == bad {
				if a.code != 400 || !strings.Contains(a.body, fmt.Sprintf("row %d", len(sels[k]))) {
					t.Errorf("bad request %d: %d %s", k, a.code, a.body)
				}
				continue
			}
			if w := want(pickS(sc, sels[k])); a.code != 200 || a.body != w {
				t.Errorf("request %d: %d\n got %s\nwant %s", k, a.code, a.body, w)
			}
			bodies = append(bodies, a.body)
		}
		return calls, bodies
	}

	t.Run("one call for the queue", func(t *testing.T) {
		calls, _ := run(t, 64, []int{1, 2, 3, 4, 5, 6, 7}, -1)
		if fmt.Sprint(calls) != "[28]" {
			t.Errorf("Predict calls (rows): %v, want [28] after the held call", calls)
		}
	})
	t.Run("max batch rows", func(t *testing.T) {
		calls, _ := run(t, 5, []int{2, 2, 2, 2}, -1)
		if fmt.Sprint(calls) != "[4 4]" {
			t.Errorf("Predict calls (rows): %v, want [4 4] after the held call", calls)
		}
	})
	t.Run("a bad request fails alone", func(t *testing.T) {
		calls, _ := run(t, 64, []int{3, 3, 3, 3}, 2)
		// One call for the batch, which fails, then one per request.
		if fmt.Sprint(calls) != "[12 3 3 3 3]" {
			t.Errorf("Predict calls (rows): %v, want [12 3 3 3 3] after the held call", calls)
		}
	})
}

// TestOverload: past --max-concurrency requests get 503 with Retry-After at
// once; the admitted ones are answered.
func TestOverload(t *testing.T) {
	base, mm := loadModel(t, seedModel, false)
	g := &gated{Model: base, gate: make(chan struct{})}
	s, url := startServer(t, g, mm, Options{MaxConcurrency: 1, MaxBatchRows: 1})
	_, rows := readCSV(t, seedInput)
	body := `{"data": ` + jsonRows(rows[:1]) + `}`
	done := make(chan int)
	go func() {
		code, _, _ := postErr(url, "application/json", body)
		done <- code
	}()
	for s.met.inFlight.Load() < 1 {
		time.Sleep(time.Millisecond)
	}
	code, h, b := post(t, url, "application/json", body)
	checkError(t, code, h, b, 503, "TEMPORARILY_UNAVAILABLE", "--max-concurrency")
	if h.Get("Retry-After") != "1" {
		t.Errorf("Retry-After %q", h.Get("Retry-After"))
	}
	close(g.gate)
	if code := <-done; code != 200 {
		t.Errorf("admitted request: %d", code)
	}
	if code, _, b := post(t, url, "application/json", body); code != 200 {
		t.Errorf("after the load: %d %s", code, b)
	}
	if s.met.rejected.Load() != 1 {
		t.Errorf("rejected %d", s.met.rejected.Load())
	}
}

// TestGracefulShutdown cancels Serve's context while clients keep sending: the
// server stops accepting, answers every request it accepted, and returns nil.
func TestGracefulShutdown(t *testing.T) {
	base, mm := loadModel(t, demoModel, false)
	slow := &gated{Model: base, delay: 2 * time.Millisecond}
	names, rows := readCSV(t, demoInput)
	sc := scored(t, base, false, demoInput)

	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	s := New(Options{Mem: mem, BatchWait: time.Millisecond, Workers: 2})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- s.Serve(ctx, ln, func() (model.Model, *model.MLmodel, error) { return slow, mm, nil })
	}()
	for s.eng.Load() == nil {
		time.Sleep(time.Millisecond)
	}

	var ok, refused atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	stop := time.Now().Add(10 * time.Second)
	for k := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr := &http.Transport{}
			defer tr.CloseIdleConnections()
			c := &http.Client{Transport: tr}
			for i := 0; time.Now().Before(stop); i++ {
				sel := []int{(k*37 + i) % len(rows), (k*11 + 3*i) % len(rows)}
				resp, err := c.Post(url+"/invocations", "application/json",
					strings.NewReader(`{"dataframe_split": {"columns": `+jsonNames(names)+`, "data": `+jsonRows(pick(rows, sel))+`}}`))
				if err != nil {
					// Not accepted: the listener is closed, or the idle
					// connection was closed before the request was read.
					refused.Add(1)
					if ctx.Err() == nil {
						errs <- err
					}
					return
				}
				var b strings.Builder
				_, rerr := ioCopy(&b, resp)
				if rerr != nil {
					errs <- fmt.Errorf("accepted request lost: %v", rerr)
					return
				}
				if w := want(pickS(sc, sel)); resp.StatusCode != 200 || b.String() != w {
					errs <- fmt.Errorf("status %d: %.200s", resp.StatusCode, b.String())
					return
				}
				ok.Add(1)
			}
		}()
	}
	time.Sleep(150 * time.Millisecond)
	cancel()
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Every request the server accepted was answered: it counted as many
	// /invocations requests as the clients received answers.
	s.met.mu.Lock()
	var handled uint64
	for k, c := range s.met.requests {
		if k.route == "/invocations" {
			handled += c.Load()
		}
	}
	s.met.mu.Unlock()
	t.Logf("%d answered before and during the shutdown, %d clients refused after it", ok.Load(), refused.Load())
	if handled != uint64(ok.Load()) {
		t.Errorf("server handled %d requests, clients got %d answers", handled, ok.Load())
	}
	if ok.Load() == 0 {
		t.Errorf("no request was answered")
	}
	if _, err := http.Get(url + "/ping"); err == nil {
		t.Errorf("the server still accepts connections")
	}
	mem.AssertSize(t, 0)
}

func ioCopy(b *strings.Builder, resp *http.Response) (int64, error) {
	defer resp.Body.Close()
	buf := make([]byte, 4096)
	var n int64
	for {
		k, err := resp.Body.Read(buf)
		b.Write(buf[:k])
		n += int64(k)
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// TestLoadFailure: a model that fails to load stops Serve with its error.
func TestLoadFailure(t *testing.T) {
	s := New(Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err = s.Serve(context.Background(), ln, func() (model.Model, *model.MLmodel, error) { return nil, nil, boom })
	if !errors.Is(err, boom) {
		t.Fatalf("Serve: %v", err)
	}
}
