package serve

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/internal/mlerr"
	"github.com/mlbatch/mlbatch/model"
)

// Options configure a Server. Zero values take the defaults below.
type Options struct {
	// Proba answers with classifier probabilities (the model must have been
	// loaded with model.LoadOptions.Proba).
	Proba bool
	// ResponseFormat is "" (MLflow 2+: {"predictions": [...]}) or "v1" (MLflow
	// 1.x: the bare list).
	ResponseFormat string
	// BatchWait is how long a micro-batch waits for requests still being read
	// (default 1ms). A lone request never waits.
	BatchWait time.Duration
	// MaxBatchRows bounds the rows of one micro-batch; larger requests are scored
	// alone (default 1024). 1 turns micro-batching off.
	MaxBatchRows int
	// Workers is the number of predicting goroutines (default GOMAXPROCS).
	Workers int
	// MaxConcurrency bounds the /invocations requests handled at once; past it
	// requests get 503 with Retry-After (default 64 per CPU).
	MaxConcurrency int
	// MaxBodyBytes bounds a request body (default 64 MiB); larger ones get 413.
	MaxBodyBytes int64
	// Timeouts of the HTTP server (defaults: read header 10s, read 60s, write
	// 60s, idle 120s) and of the graceful shutdown (30s).
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout, ShutdownTimeout time.Duration
	// Logger receives structured logs (nil: none). AccessLog adds one record per
	// request.
	Logger    *slog.Logger
	AccessLog bool
	// Version is what GET /version answers.
	Version string
	// Mem allocates the request and prediction arrays (default Go's allocator).
	Mem memory.Allocator
}

func (o Options) withDefaults() Options {
	if o.BatchWait < 0 {
		o.BatchWait = 0
	}
	if o.MaxBatchRows == 0 {
		o.MaxBatchRows = 1024
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.MaxConcurrency <= 0 {
		o.MaxConcurrency = 64 * runtime.NumCPU()
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 64 << 20
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&o.ReadHeaderTimeout, 10*time.Second)
	def(&o.ReadTimeout, 60*time.Second)
	def(&o.WriteTimeout, 60*time.Second)
	def(&o.IdleTimeout, 120*time.Second)
	def(&o.ShutdownTimeout, 30*time.Second)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Mem == nil {
		o.Mem = memory.DefaultAllocator
	}
	return o
}

// Server serves MLflow's scoring protocol for one model.
type Server struct {
	opts   Options
	log    *slog.Logger
	eng    atomic.Pointer[engine]
	sem    chan struct{}
	met    *metrics
	bufs   sync.Pool
	warned atomic.Bool
	mu     sync.Mutex // guards closed against SetModel
	closed bool
}

// New returns a server with no model yet: /ping answers 503 and /invocations
// 503 until SetModel.
func New(opts Options) *Server {
	opts = opts.withDefaults()
	s := &Server{opts: opts, log: opts.Logger, met: newMetrics(), sem: make(chan struct{}, opts.MaxConcurrency)}
	s.bufs.New = func() any { return new(bytes.Buffer) }
	return s
}

// SetModel makes the server score with m (mm is its MLmodel, for the signature's
// params; may be nil). It may be called once.
func (s *Server) SetModel(m model.Model, mm *model.MLmodel) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("serve: the server is closed")
	}
	e, err := newEngine(m, mm, s.opts, s.met)
	if err != nil {
		return err
	}
	if !s.eng.CompareAndSwap(nil, e) {
		e.close()
		return errors.New("serve: the model is already set")
	}
	info := m.Info()
	s.met.flavor.Store(info.Flavor)
	s.met.est.Store(info.Estimator)
	s.met.ready.Store(true)
	return nil
}

// Close stops the micro-batching workers. Call it after the HTTP server has
// stopped handling requests.
func (s *Server) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	if e := s.eng.Load(); e != nil {
		e.close()
	}
}

// Serve answers requests on ln until ctx is cancelled, then shuts down
// gracefully: it stops accepting connections, lets the requests in flight finish
// (up to ShutdownTimeout), and returns nil. When load is not nil it is called in
// the background; until it returns the server answers 503, and if it fails Serve
// stops and returns its error.
func (s *Server) Serve(ctx context.Context, ln net.Listener, load func() (model.Model, *model.MLmodel, error)) error {
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: s.opts.ReadHeaderTimeout,
		ReadTimeout:       s.opts.ReadTimeout,
		WriteTimeout:      s.opts.WriteTimeout,
		IdleTimeout:       s.opts.IdleTimeout,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()
	s.log.Info("listening", "addr", ln.Addr().String())

	loadErr := make(chan error, 1)
	if load != nil {
		go func() {
			start := time.Now()
			m, mm, err := load()
			if err == nil {
				err = s.SetModel(m, mm)
			}
			if err == nil {
				info := m.Info()
				s.log.Info("model loaded", "flavor", info.Flavor, "estimator", info.Estimator,
					"load_seconds", time.Since(start).Seconds())
			}
			loadErr <- err
		}()
	}

	var err error
	select {
	case <-ctx.Done():
		s.log.Info("shutting down: draining requests in flight")
	case err = <-serveErr:
		s.Close()
		return fmt.Errorf("serve: %w", err)
	case err = <-loadErr:
		if err == nil {
			select {
			case <-ctx.Done():
				s.log.Info("shutting down: draining requests in flight")
			case err = <-serveErr:
				s.Close()
				return fmt.Errorf("serve: %w", err)
			}
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownTimeout)
	defer cancel()
	if serr := hs.Shutdown(sctx); serr != nil {
		// Requests still running: leave the workers to them; the process ends.
		hs.Close()
		if err == nil {
			err = mlerr.Errorf(mlerr.Interrupted, "serve: requests still running after %s: %w", s.opts.ShutdownTimeout, serr)
		}
		return err
	}
	s.Close()
	if err == nil {
		s.log.Info("stopped")
	}
	return err
}

// Handler is the server's HTTP handler (for tests and embedding).
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// recorder captures what the access log and the metrics report.
type recorder struct {
	http.ResponseWriter
	code  int
	bytes int
	rows  int
	err   string
}

func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &recorder{ResponseWriter: w}
	route := routeLabel(r.URL.Path)
	switch route {
	case "/invocations":
		if r.Method != http.MethodPost {
			s.methodNotAllowed(rec, "POST")
			break
		}
		s.invocations(rec, r)
	case "/ping", "/health":
		if !getOrHead(rec, r) {
			break
		}
		if s.eng.Load() == nil {
			s.writeError(rec, http.StatusServiceUnavailable, "TEMPORARILY_UNAVAILABLE", "The model is still loading.")
			break
		}
		rec.Header().Set("Content-Type", "application/json")
		rec.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(rec, "\n")
	case "/version":
		if !getOrHead(rec, r) {
			break
		}
		rec.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(rec, s.opts.Version)
	case "/metrics":
		if !getOrHead(rec, r) {
			break
		}
		s.met.write(rec)
	default:
		s.writeError(rec, http.StatusNotFound, "ENDPOINT_NOT_FOUND",
			fmt.Sprintf("No route %s %s: the scoring server answers POST /invocations, GET /ping, /health, /version and /metrics.", r.Method, r.URL.Path))
	}
	if rec.code == 0 {
		rec.code = http.StatusOK
	}
	d := time.Since(start)
	s.met.observe(route, rec.code, d)
	if s.opts.AccessLog {
		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.code),
			slog.Int("bytes", rec.bytes),
			slog.Float64("duration_ms", float64(d.Microseconds())/1000),
			slog.String("remote", r.RemoteAddr),
		}
		if route == "/invocations" {
			attrs = append(attrs, slog.Int("rows", rec.rows))
		}
		if rec.err != "" {
			attrs = append(attrs, slog.String("error", rec.err))
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
	}
}

func getOrHead(w *recorder, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	w.err = "method not allowed"
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusMethodNotAllowed)
	_, _ = w.Write(errorBody("BAD_REQUEST", "The method "+r.Method+" is not allowed for "+r.URL.Path+"."))
	return false
}

func (s *Server) methodNotAllowed(w *recorder, allow string) {
	w.Header().Set("Allow", allow)
	s.writeError(w, http.StatusMethodNotAllowed, "BAD_REQUEST", "The method is not allowed for the requested URL: use "+allow+".")
}

// errorBody is MLflow's JSON error: {"error_code": ..., "message": ...}.
func errorBody(code, msg string) []byte {
	b := make([]byte, 0, len(msg)+64)
	b = append(b, `{"error_code": `...)
	b = appendPyString(b, code)
	b = append(b, `, "message": `...)
	b = appendPyString(b, msg)
	return append(b, '}')
}

func (s *Server) writeError(w *recorder, status int, code, msg string) {
	w.err = msg
	body := errorBody(code, msg)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// contentType checks the Content-Type as MLflow's server does: application/json
// or text/csv, charset utf-8 only, no other parameter, except MLflow 1.x's
// format=pandas-split|pandas-records. It returns the media type and the format.
func contentType(h string) (media, format string, msg string) {
	if strings.TrimSpace(h) == "" {
		return "", "", "This predictor only supports the following content types: Types: ['text/csv', 'application/json']. Got ''."
	}
	parts := strings.Split(h, ";")
	media = strings.ToLower(strings.TrimSpace(parts[0]))
	for _, p := range parts[1:] {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		k, v, _ := strings.Cut(p, "=")
		k = strings.ToLower(strings.TrimSpace(k))
		v = strings.Trim(strings.TrimSpace(v), `"`)
		switch {
		case k == "charset":
			if !strings.EqualFold(v, "utf-8") && !strings.EqualFold(v, "utf8") {
				return "", "", "The scoring server only supports UTF-8"
			}
		case k == "format" && (v == "pandas-split" || v == "pandas-records"):
			format = v
		default:
			return "", "", "Unrecognized content type parameters: " + k + "."
		}
	}
	if media != "application/json" && media != "text/csv" {
		return "", "", fmt.Sprintf("This predictor only supports the following content types: Types: ['text/csv', 'application/json']. Got '%s'.", h)
	}
	return media, format, ""
}

func (s *Server) invocations(w *recorder, r *http.Request) {
	e := s.eng.Load()
	if e == nil {
		w.Header().Set("Retry-After", "1")
		s.writeError(w, http.StatusServiceUnavailable, "TEMPORARILY_UNAVAILABLE", "The model is still loading.")
		return
	}
	select {
	case s.sem <- struct{}{}:
	default:
		s.met.rejected.Add(1)
		w.Header().Set("Retry-After", "1")
		s.writeError(w, http.StatusServiceUnavailable, "TEMPORARILY_UNAVAILABLE",
			fmt.Sprintf("The server is handling %d requests, its limit (--max-concurrency): retry later.", cap(s.sem)))
		return
	}
	s.met.inFlight.Add(1)
	e.arrived()
	settled := false
	defer func() {
		if !settled {
			e.settled()
		}
		s.met.inFlight.Add(-1)
		<-s.sem
	}()

	media, orient, msg := contentType(r.Header.Get("Content-Type"))
	if msg != "" {
		s.writeError(w, http.StatusUnsupportedMediaType, "BAD_REQUEST", msg)
		return
	}

	buf := s.bufs.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= 1<<20 {
			s.bufs.Put(buf)
		}
	}()
	if r.ContentLength > s.opts.MaxBodyBytes {
		s.writeError(w, http.StatusRequestEntityTooLarge, "BAD_REQUEST",
			fmt.Sprintf("The request body is larger than the limit of %d bytes (--max-body-size).", s.opts.MaxBodyBytes))
		return
	}
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength))
	}
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.writeError(w, http.StatusRequestEntityTooLarge, "BAD_REQUEST",
				fmt.Sprintf("The request body is larger than the limit of %d bytes (--max-body-size).", s.opts.MaxBodyBytes))
			return
		}
		s.writeError(w, http.StatusBadRequest, "BAD_REQUEST", "Failed to read the request body: "+err.Error())
		return
	}

	var f *frame
	var params *value
	var err error
	if media == "text/csv" {
		f, err = decodeCSV(buf.Bytes())
	} else {
		var req *request
		ar := getArena()
		defer ar.free() // after the answer: the frame lives in it
		req, err = decodeJSON(buf.Bytes(), orient, e.single, ar)
		if req != nil {
			f, params = req.frame, req.params
		}
	}
	if err == nil {
		var ignored []string
		ignored, err = e.params.check(params)
		if len(ignored) > 0 && s.warned.CompareAndSwap(false, true) {
			s.log.Warn("params are ignored: the model's signature declares no such inference parameters (logged once)", "params", ignored)
		}
	}
	var feats []arrow.Array
	if err == nil {
		feats, err = e.bind.features(f, s.opts.Mem)
	}
	if err != nil {
		s.requestError(w, err)
		return
	}
	settled = true
	outs, err := e.predict(feats, f.rows)
	if err != nil {
		s.requestError(w, err)
		return
	}
	defer release(outs)

	// The body is no longer needed: its buffer holds the answer.
	buf.Reset()
	b := buf.AvailableBuffer()
	if s.opts.ResponseFormat == "v1" {
		b = e.shape.appendPredictions(b, outs, 0, f.rows)
	} else {
		b = append(b, `{"predictions": `...)
		b = e.shape.appendPredictions(b, outs, 0, f.rows)
		b = append(b, '}')
	}
	w.rows = f.rows
	s.met.rowsScored.Add(uint64(f.rows))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// requestError answers a request that could not be scored, with MLflow's error
// codes: 400 BAD_REQUEST for an input that cannot be parsed or that the model
// fails on (MLflow answers every exception of predict so), 400
// INVALID_PARAMETER_VALUE for a schema violation or bad params, 500
// INTERNAL_ERROR for a failure of the server itself.
func (s *Server) requestError(w *recorder, err error) {
	var bi *badInput
	var se *schemaError
	var pe *paramError
	var mi *modelInputError
	switch {
	case errors.As(err, &bi):
		s.writeError(w, http.StatusBadRequest, "BAD_REQUEST", bi.msg)
	case errors.As(err, &se):
		s.writeError(w, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", se.msg)
	case errors.As(err, &pe):
		s.writeError(w, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", pe.msg)
	case errors.As(err, &mi):
		if k := mlerr.KindOf(mi.err); mi.model && k != mlerr.Data && k != mlerr.Schema {
			// Not a refused value (a NaN a tree takes none of, a missing
			// column): worth an operator's look, though MLflow's answer is
			// the same.
			s.log.Warn("the model failed on a request", "error", mi.err.Error())
		}
		s.writeError(w, http.StatusBadRequest, "BAD_REQUEST", mi.Error())
	default:
		s.log.Error("scoring failed", "error", err.Error())
		s.writeError(w, http.StatusInternalServerError, "INTERNAL_ERROR", "Encountered an unexpected error while scoring: "+err.Error())
	}
}
