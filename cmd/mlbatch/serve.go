package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/spf13/cobra"

	"github.com/mlbatch/mlbatch/internal/mlerr"
	"github.com/mlbatch/mlbatch/model"
	"github.com/mlbatch/mlbatch/serve"
)

// serveOptions holds the flags of `mlbatch serve`.
type serveOptions struct {
	Model          string
	TrackingURI    string
	ArtifactsRoot  string
	CacheDir       string
	Host           string
	Port           int
	Proba          bool
	ResponseFormat string
	BatchWait      time.Duration
	MaxBatchRows   int
	Workers        int
	MaxConcurrency int
	MaxBodySize    string
	ReadTimeout    time.Duration
	WriteTimeout   time.Duration
	IdleTimeout    time.Duration
	ShutdownWait   time.Duration
	AccessLog      bool
	Verbose        bool

	Mem    memory.Allocator
	Stderr io.Writer
	// Logger receives the server's logs and access log records.
	Logger *slog.Logger
	// Listening, when set, is called with the bound address (tests).
	Listening func(addr string)
}

const serveExamples = `  # Serve the committed demo model on 127.0.0.1:5000
  mlbatch serve --tracking-uri testdata/demo/mlruns \
      --model runs:/d050509c3eccff80e45131fc149d7535/model

  # Score one row, the way MLflow's server is called
  curl -s localhost:5000/invocations -H 'Content-Type: application/json' \
      -d '{"dataframe_split": {"columns": ["age","sex","bmi","bp","s1","s2","s3","s4","s5","s6"],
           "data": [[0.038,0.051,0.062,0.022,-0.044,-0.035,-0.043,-0.003,0.020,-0.018]]}}'

  # A positional model, called with MLflow 1.x's body (the seed article's curl)
  mlbatch serve --model serve/testdata/seed13 --port 5001
  curl -s localhost:5001/invocations -H 'Content-Type: application/json' \
      -d '{"data":[[0.09178,0.0,4.05,0.0,0.51,6.416,84.1,2.6463,5.0,296.0,16.6,395.5,9.04]]}'`

func newServeCmd(e env) *cobra.Command {
	o := &serveOptions{Stderr: e.stderr, Mem: e.mem}
	cmd := &cobra.Command{
		Use:   "serve --model URI [--host 127.0.0.1] [--port 5000]",
		Short: "Serve a model over HTTP with MLflow's scoring protocol",
		Long: `Serve an MLflow model over HTTP, as a drop-in for ` + "`mlflow models serve`" + `: the same
routes, request bodies, responses and error codes, scored by mlbatch's engine.

  POST /invocations   JSON: {"dataframe_split": {...}}, {"dataframe_records": [...]},
                      {"instances": [...]}, {"inputs": ...}, each with optional
                      "params"; MLflow 1.x's {"columns": [...], "data": [[...]]},
                      {"data": [[...]]} and records list; or a text/csv body.
                      Answers {"predictions": [...]} (--response-format v1: the list).
  GET  /ping, /health 200 once the model is loaded (503 before)
  GET  /version       the mlbatch version
  GET  /metrics       Prometheus metrics: requests by route and status, latency
                      histogram, rows scored, micro-batches, rejections

Errors are MLflow's JSON body {"error_code": "BAD_REQUEST", "message": "..."}: 400 for
bad JSON or CSV, missing columns and values the signature or the model refuses (the
same signature rules as score), 415 for a content type other than application/json
or text/csv, 413 past --max-body-size, 503 with Retry-After past --max-concurrency.

Concurrent small requests are micro-batched: a worker that takes a request also
takes those queued behind it (up to --max-batch-rows rows), waiting up to
--batch-wait only while more requests are being read, and scores them in one
vectorised call; each answer holds exactly its own rows.

Logs go to stderr as JSON records, one a line (--log-format text for plain lines),
with one record per request (--access-log).

SIGTERM or SIGINT stops accepting connections, answers the requests in flight, and
exits 0.

Model URIs are resolved as by score (--tracking-uri, MLFLOW_TRACKING_URI, ...).

` + exitCodesHelp,
		Example: serveExamples,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.TrackingURI == "" {
				o.TrackingURI = os.Getenv("MLFLOW_TRACKING_URI")
			}
			if o.ArtifactsRoot == "" {
				o.ArtifactsRoot = os.Getenv("MLBATCH_ARTIFACTS_ROOT")
			}
			if o.CacheDir == "" {
				o.CacheDir = os.Getenv("MLBATCH_CACHE_DIR")
			}
			o.Logger = serveLogger(cmd, e)
			return runServe(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Model, "model", "", "model URI: a folder, file://..., runs:/<run_id>[/<path>], models:/... (required)")
	f.StringVar(&o.TrackingURI, "tracking-uri", "", "store for runs:/ and models:/ URIs (default $MLFLOW_TRACKING_URI, else ./mlruns)")
	f.StringVar(&o.ArtifactsRoot, "artifacts-root", "", "folder holding a tracking server's mlflow-artifacts:/ files copied to disk (default $MLBATCH_ARTIFACTS_ROOT)")
	f.StringVar(&o.CacheDir, "cache-dir", "", "where models downloaded from a tracking server are kept (default $MLBATCH_CACHE_DIR, else the user cache folder)")
	f.StringVar(&o.Host, "host", "127.0.0.1", "address to listen on (0.0.0.0 for every interface)")
	f.IntVarP(&o.Port, "port", "p", 5000, "port to listen on (0: any free port)")
	f.BoolVar(&o.Proba, "proba", false, "classifiers: answer predict_proba's probabilities (rows of one value per class) instead of labels")
	f.StringVar(&o.ResponseFormat, "response-format", "v2", "v2: {\"predictions\": [...]} (MLflow 2+); v1: the bare list (MLflow 1.x)")
	f.DurationVar(&o.BatchWait, "batch-wait", time.Millisecond, "longest a micro-batch waits for requests still being read (0: take only what is queued)")
	f.IntVar(&o.MaxBatchRows, "max-batch-rows", 1024, "most rows in one micro-batch; larger requests are scored alone (1: no micro-batching)")
	f.IntVar(&o.Workers, "workers", runtime.NumCPU(), "predicting goroutines")
	f.IntVar(&o.MaxConcurrency, "max-concurrency", 64*runtime.NumCPU(), "most scoring requests handled at once; past it: 503 with Retry-After")
	f.StringVar(&o.MaxBodySize, "max-body-size", "64MiB", "largest request body (bytes, or with a KB, MB, GB, KiB, MiB or GiB suffix); past it: 413")
	f.DurationVar(&o.ReadTimeout, "read-timeout", 60*time.Second, "longest time to read a request")
	f.DurationVar(&o.WriteTimeout, "write-timeout", 60*time.Second, "longest time from reading a request's headers to writing its answer")
	f.DurationVar(&o.IdleTimeout, "idle-timeout", 120*time.Second, "how long an idle keep-alive connection stays open")
	f.DurationVar(&o.ShutdownWait, "shutdown-timeout", 30*time.Second, "on SIGTERM, how long requests in flight may take to finish")
	f.BoolVar(&o.AccessLog, "access-log", true, "log one JSON record per request on stderr")
	f.BoolVarP(&o.Verbose, "verbose", "v", false, "debug logs (how the model URI was resolved)")
	return cmd
}

// serveLogger is the global logger, except that a server logs JSON records (one
// a line, for log collectors) unless --log-format was chosen explicitly.
func serveLogger(cmd *cobra.Command, e env) *slog.Logger {
	if e.logs == nil {
		return slog.New(slog.NewJSONHandler(e.stderr, nil))
	}
	if f := cmd.Flags().Lookup("log-format"); f != nil && f.Changed {
		return e.logs.get()
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(e.logs.Level)); err != nil {
		level = slog.LevelInfo
	}
	if f := cmd.Flags().Lookup("verbose"); f != nil && f.Value.String() == "true" {
		level = min(level, slog.LevelDebug)
	}
	return slog.New(slog.NewJSONHandler(e.stderr, &slog.HandlerOptions{Level: level}))
}

// parseSize reads a byte count with an optional decimal or binary unit.
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000}, {"B", 1}} {
		if strings.HasSuffix(strings.ToUpper(t), strings.ToUpper(u.suffix)) {
			t = strings.TrimSpace(t[:len(t)-len(u.suffix)])
			mult = u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a size", s)
	}
	return n * mult, nil
}

func (o *serveOptions) validate() (int64, error) {
	if o.Model == "" {
		return 0, mlerr.Errorf(mlerr.Usage, "required flag(s) --model not set")
	}
	if o.Port < 0 || o.Port > 65535 {
		return 0, mlerr.Errorf(mlerr.Usage, "--port %d: want 0 to 65535", o.Port)
	}
	switch o.ResponseFormat {
	case "v1", "v2":
	default:
		return 0, mlerr.Errorf(mlerr.Usage, "--response-format %q: want v1 or v2", o.ResponseFormat)
	}
	if o.BatchWait < 0 {
		return 0, mlerr.Errorf(mlerr.Usage, "--batch-wait must not be negative")
	}
	if o.MaxBatchRows < 1 {
		return 0, mlerr.Errorf(mlerr.Usage, "--max-batch-rows must be at least 1, got %d", o.MaxBatchRows)
	}
	if o.Workers < 1 {
		return 0, mlerr.Errorf(mlerr.Usage, "--workers must be at least 1, got %d", o.Workers)
	}
	if o.MaxConcurrency < 1 {
		return 0, mlerr.Errorf(mlerr.Usage, "--max-concurrency must be at least 1, got %d", o.MaxConcurrency)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"--read-timeout", o.ReadTimeout}, {"--write-timeout", o.WriteTimeout}, {"--idle-timeout", o.IdleTimeout}, {"--shutdown-timeout", o.ShutdownWait}} {
		if d.v <= 0 {
			return 0, mlerr.Errorf(mlerr.Usage, "%s must be positive, got %s", d.name, d.v)
		}
	}
	size, err := parseSize(o.MaxBodySize)
	if err != nil {
		return 0, mlerr.Errorf(mlerr.Usage, "--max-body-size: %v", err)
	}
	return size, nil
}

func runServe(ctx context.Context, o *serveOptions) error {
	maxBody, err := o.validate()
	if err != nil {
		return err
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.NewJSONHandler(o.Stderr, nil))
	}

	if os.Getenv("GOGC") == "" {
		// A server's live heap is the model and the requests in flight, a few
		// MB, while every request allocates its parsed body and arrays: at the
		// default GOGC the collector runs every few dozen 100-row requests and
		// takes more CPU than scoring them. 400 halves the CPU per request.
		defer debug.SetGCPercent(debug.SetGCPercent(400))
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(o.Host, strconv.Itoa(o.Port)))
	if err != nil {
		return mlerr.Errorf(mlerr.IO, "serve: %w", err)
	}
	if o.Listening != nil {
		o.Listening(ln.Addr().String())
	}
	respFormat := ""
	if o.ResponseFormat == "v1" {
		respFormat = "v1"
	}
	srv := serve.New(serve.Options{
		Proba:           o.Proba,
		ResponseFormat:  respFormat,
		BatchWait:       o.BatchWait,
		MaxBatchRows:    o.MaxBatchRows,
		Workers:         o.Workers,
		MaxConcurrency:  o.MaxConcurrency,
		MaxBodyBytes:    maxBody,
		ReadTimeout:     o.ReadTimeout,
		WriteTimeout:    o.WriteTimeout,
		IdleTimeout:     o.IdleTimeout,
		ShutdownTimeout: o.ShutdownWait,
		Logger:          logger,
		AccessLog:       o.AccessLog,
		Version:         strings.Fields(versionString())[1], // as MLflow's: the bare version
		Mem:             o.Mem,
	})
	load := func() (model.Model, *model.MLmodel, error) {
		ropts := model.ResolveOptions{TrackingURI: o.TrackingURI, ArtifactsRoot: o.ArtifactsRoot, CacheDir: o.CacheDir}
		ropts.Debug = func(msg string) { logger.Debug(msg) }
		dir, err := model.Resolve(o.Model, ropts)
		if err != nil {
			return nil, nil, err
		}
		logger.Debug("model resolved", "uri", o.Model, "dir", dir)
		proba := o.Proba
		if mm, err := model.ReadMLmodel(dir); err == nil && serve.PredictsProba(mm) {
			// MLflow serves predict_proba when the model was logged with
			// pyfunc_predict_fn="predict_proba".
			proba = true
		}
		return model.Load(dir, model.LoadOptions{
			Proba: proba,
			Warn:  func(msg string) { logger.Warn(msg) },
		})
	}
	err = srv.Serve(ctx, ln, load)
	if err != nil && !mlerr.Classified(err) {
		err = mlerr.Wrap(mlerr.Internal, err)
	}
	return err
}
