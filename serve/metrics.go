package serve

import (
	"bytes"
	"math"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Metrics in the Prometheus text exposition format (version 0.0.4), written by
// hand: a few counters, gauges and one histogram need no client library.

// latencyBuckets are the request duration histogram's upper bounds, in seconds.
var latencyBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// routes are the labelled routes; anything else is counted as "other".
var routes = []string{"/invocations", "/ping", "/health", "/version", "/metrics", "other"}

type histogram struct {
	counts []atomic.Uint64 // per bucket (not cumulative), then +Inf
	sumNs  atomic.Uint64
}

func newHistogram() *histogram {
	return &histogram{counts: make([]atomic.Uint64, len(latencyBuckets)+1)}
}

func (h *histogram) observe(d time.Duration) {
	s := d.Seconds()
	i := sort.SearchFloat64s(latencyBuckets, s) // first bound >= s
	h.counts[i].Add(1)
	h.sumNs.Add(uint64(d.Nanoseconds()))
}

type codeKey struct {
	route string
	code  int
}

type metrics struct {
	mu       sync.Mutex
	requests map[codeKey]*atomic.Uint64
	latency  map[string]*histogram

	rowsScored      atomic.Uint64
	predictCalls    atomic.Uint64
	batchedRequests atomic.Uint64
	rejected        atomic.Uint64
	inFlight        atomic.Int64
	ready           atomic.Bool
	flavor, est     atomic.Value // string
}

func newMetrics() *metrics {
	m := &metrics{requests: map[codeKey]*atomic.Uint64{}, latency: map[string]*histogram{}}
	for _, r := range routes {
		m.latency[r] = newHistogram()
	}
	return m
}

func routeLabel(path string) string {
	for _, r := range routes[:len(routes)-1] {
		if path == r {
			return r
		}
	}
	return "other"
}

func (m *metrics) observe(route string, code int, d time.Duration) {
	k := codeKey{route, code}
	m.mu.Lock()
	c := m.requests[k]
	if c == nil {
		c = new(atomic.Uint64)
		m.requests[k] = c
	}
	m.mu.Unlock()
	c.Add(1)
	m.latency[route].observe(d)
}

func (m *metrics) write(w http.ResponseWriter) {
	var b bytes.Buffer
	help := func(name, typ, text string) {
		b.WriteString("# HELP " + name + " " + text + "\n# TYPE " + name + " " + typ + "\n")
	}
	num := func(v float64) string {
		if math.IsInf(v, 1) {
			return "+Inf"
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	}

	help("mlbatch_serve_requests_total", "counter", "HTTP requests answered, by route and status code.")
	m.mu.Lock()
	keys := make([]codeKey, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	m.mu.Unlock()
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].route != keys[j].route {
			return keys[i].route < keys[j].route
		}
		return keys[i].code < keys[j].code
	})
	for _, k := range keys {
		m.mu.Lock()
		v := m.requests[k].Load()
		m.mu.Unlock()
		b.WriteString("mlbatch_serve_requests_total{route=\"" + k.route + "\",code=\"" + strconv.Itoa(k.code) + "\"} " + strconv.FormatUint(v, 10) + "\n")
	}

	help("mlbatch_serve_request_duration_seconds", "histogram", "Time from reading a request's headers to writing its response, by route.")
	for _, r := range routes {
		h := m.latency[r]
		var cum uint64
		for i := range h.counts {
			cum += h.counts[i].Load()
			bound := math.Inf(1)
			if i < len(latencyBuckets) {
				bound = latencyBuckets[i]
			}
			b.WriteString("mlbatch_serve_request_duration_seconds_bucket{route=\"" + r + "\",le=\"" + num(bound) + "\"} " + strconv.FormatUint(cum, 10) + "\n")
		}
		b.WriteString("mlbatch_serve_request_duration_seconds_sum{route=\"" + r + "\"} " + num(float64(h.sumNs.Load())/1e9) + "\n")
		b.WriteString("mlbatch_serve_request_duration_seconds_count{route=\"" + r + "\"} " + strconv.FormatUint(cum, 10) + "\n")
	}

	counter := func(name, text string, v uint64) {
		help(name, "counter", text)
		b.WriteString(name + " " + strconv.FormatUint(v, 10) + "\n")
	}
	counter("mlbatch_serve_rows_scored_total", "Rows scored and answered.", m.rowsScored.Load())
	counter("mlbatch_serve_predict_calls_total", "Vectorised Predict calls made (a micro-batch is one call).", m.predictCalls.Load())
	counter("mlbatch_serve_batched_requests_total", "Requests scored together with others in a micro-batch.", m.batchedRequests.Load())
	counter("mlbatch_serve_rejected_total", "Requests refused with 503 because --max-concurrency requests were in flight.", m.rejected.Load())

	help("mlbatch_serve_in_flight_requests", "gauge", "Scoring requests being handled.")
	b.WriteString("mlbatch_serve_in_flight_requests " + strconv.FormatInt(m.inFlight.Load(), 10) + "\n")
	help("mlbatch_serve_model_ready", "gauge", "1 once the model is loaded and requests are scored.")
	ready := 0
	if m.ready.Load() {
		ready = 1
	}
	b.WriteString("mlbatch_serve_model_ready " + strconv.Itoa(ready) + "\n")
	if f, ok := m.flavor.Load().(string); ok {
		est, _ := m.est.Load().(string)
		help("mlbatch_serve_model_info", "gauge", "The model being served.")
		b.WriteString("mlbatch_serve_model_info{flavor=\"" + labelEscape(f) + "\",estimator=\"" + labelEscape(est) + "\"} 1\n")
	}

	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	_, _ = w.Write(b.Bytes())
}

func labelEscape(s string) string {
	var b bytes.Buffer
	for _, r := range s {
		switch r {
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
