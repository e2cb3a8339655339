package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/spf13/cobra"

	"github.com/mlbatch/mlbatch/batch"
	"github.com/mlbatch/mlbatch/batch/stats"
	"github.com/mlbatch/mlbatch/dataset"
	"github.com/mlbatch/mlbatch/internal/mlerr"
	"github.com/mlbatch/mlbatch/model"
	"github.com/mlbatch/mlbatch/readers"
	"github.com/mlbatch/mlbatch/writers"
)

// scoreOptions holds the flags of `mlbatch score`.
type scoreOptions struct {
	Model         string
	TrackingURI   string
	ArtifactsRoot string
	CacheDir      string
	In            string   // the --in specs joined by commas (for messages and the summary)
	Ins           []string // --in, one spec per element
	Out           string
	InFormat      string
	OutFormat     string
	BatchSize     int
	Workers       int
	Keep          []string
	KeepSet       bool
	PredictionCol string
	Overwrite     bool
	Compression   string
	Proba         bool
	OnError       string
	Rejects       string
	MaxRejects    string
	Quiet         bool
	Verbose       bool
	SummaryJSON   string
	Progress      string
	ProgressEvery time.Duration
	DryRun        bool
	MemoryLimit   string

	// Datasets, shards and streams (dataset.go).
	PartitionColumns bool
	MaxRowsPerFile   int64
	Shard            string
	ShardCount       int
	shardIndex       int
	shardCount       int
	ds               *dataset.Dataset
	shard            dataset.Shard
	ctx              context.Context
	stdin            io.Reader
	stdout           io.Writer

	// summary is filled in as the run goes (nil until the run starts).
	summary *runSummary

	// onBadRow collects rows the reader leaves out (--on-error=skip).
	onBadRow func(*mlerr.RowError, []string) error

	// Mem is the allocator for the whole run (tests pass a checked one).
	Mem    memory.Allocator
	Stderr io.Writer
	// Log is where warnings and debug notes go (--log-format, --log-level).
	Log func() *slog.Logger
}

const scoreExamples = `  # Score a model logged in the local ./mlruns store by run id
  MLFLOW_TRACKING_URI=./mlruns mlbatch score --model runs:/0b1c2d.../model \
      --in houses.parquet --out preds.parquet

  # The run logged one model: the artifact path can be left out
  mlbatch score --model runs:/0b1c2d... --in houses.csv --out preds.csv

  # The registry's champion, from an MLflow 3.7+ SQLite store
  MLFLOW_TRACKING_URI=sqlite:///mlflow.db mlbatch score --model models:/houses@champion \
      --in houses.parquet --out preds.parquet

  # Keep going past bad rows, but fail if more than 1% are bad
  mlbatch score --model ./model --in dirty.csv --out preds.csv \
      --on-error skip --rejects bad-rows.csv --max-rejects 1%

  # A model folder, keeping only the id column next to the prediction
  mlbatch score --model ./model --in data.csv --out preds.parquet --keep id

  # Check the model and the input's schema and print the plan, writing nothing
  mlbatch score --model testdata/pipelines/titanic_logreg \
      --in testdata/pipelines/titanic_input.csv --out /tmp/titanic.parquet --dry-run

  # The committed demo
  mlbatch score --tracking-uri testdata/demo/mlruns \
      --model runs:/d050509c3eccff80e45131fc149d7535/model \
      --in testdata/demo/diabetes.csv --out /tmp/preds.parquet --overwrite`

func newScoreCmd(e env) *cobra.Command {
	o := &scoreOptions{Stderr: e.stderr, Mem: e.mem, Log: e.logs.get, stdout: e.stdout}
	cmd := &cobra.Command{
		Use:   "score --model URI --in FILE --out FILE",
		Short: "Score a model over a CSV or Parquet file",
		Long: `Score an MLflow model over a CSV or Parquet file and write the predictions, in input
order, next to the input columns you keep.

Model URIs: a model folder, file:///path/to/model, runs:/<run_id>/<artifact_path>,
runs:/<run_id> when the run logged exactly one model, models:/<name>/<version>,
models:/<name>/latest, models:/<name>/<stage>, models:/<name>@<alias> and
models:/<model_id>. Store URIs are resolved in the tracking store named by
--tracking-uri, else MLFLOW_TRACKING_URI, else ./mlruns (or ./mlflow.db): a
file store folder or file: URI, sqlite:///path/mlflow.db, or an MLflow tracking
server http(s)://host:port (models are downloaded into --cache-dir).

Bad rows: with --on-error=fail (the default) the first bad row stops the run and
the message names the file, row, column and value. With --on-error=skip each bad
row goes to the --rejects file with its row number, the reason and its values,
and the run goes on; --max-rejects turns too many into a failure. Either way,
rows read = rows written + rows rejected.

The output (and the rejects file) is written to a temporary file beside the
destination, fsynced and renamed only when the whole run succeeded: a failed,
killed or interrupted run leaves nothing under the final name.

` + exitCodesHelp,
		Example: scoreExamples,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.KeepSet = cmd.Flags().Changed("keep")
			o.In = strings.Join(o.Ins, ",")
			if o.TrackingURI == "" {
				o.TrackingURI = os.Getenv("MLFLOW_TRACKING_URI")
			}
			if o.ArtifactsRoot == "" {
				o.ArtifactsRoot = os.Getenv("MLBATCH_ARTIFACTS_ROOT")
			}
			if o.CacheDir == "" {
				o.CacheDir = os.Getenv("MLBATCH_CACHE_DIR")
			}
			if o.DryRun {
				return runDryRun(cmd.Context(), o, e.stdout) // writes no file, --summary-json included
			}
			err := runScore(cmd.Context(), o)
			if o.SummaryJSON != "" && o.summary != nil {
				if o.summary.setError(err); err != nil {
					o.summary.writeJSON(o.SummaryJSON) // best effort: the run's error wins
				} else {
					err = o.summary.writeJSON(o.SummaryJSON)
				}
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Model, "model", "", "model URI: a folder, file://..., runs:/<run_id>[/<path>] (required)")
	f.StringVar(&o.TrackingURI, "tracking-uri", "", "tracking store for runs:/ and models:/ URIs: a folder, file:, sqlite:/// or http(s):// URI (default $MLFLOW_TRACKING_URI, else ./mlruns or ./mlflow.db)")
	f.StringVar(&o.ArtifactsRoot, "artifacts-root", "", "folder holding a tracking server's mlflow-artifacts:/ files copied to disk (default $MLBATCH_ARTIFACTS_ROOT, else mlartifacts/ beside the store)")
	f.StringVar(&o.CacheDir, "cache-dir", "", "where models downloaded from a tracking server are kept (default $MLBATCH_CACHE_DIR, else the user cache folder)")
	f.StringSliceVar(&o.Ins, "in", nil, "input (required): a file, a folder (read recursively, skipping _* and .* names), a glob, or - for stdin; repeat the flag or separate with commas for several")
	f.StringVar(&o.Out, "out", "", "output (required): a file, a folder (an existing directory, a name ending in / or without an extension: parts and a _SUCCESS marker), or - for stdout")
	f.StringVar(&o.InFormat, "in-format", "", "input format: csv, parquet, arrow (IPC stream) or jsonl (default: from the extension)")
	f.StringVar(&o.OutFormat, "out-format", "", "output format: csv, parquet, arrow (IPC stream) or jsonl (default: from the extension; parquet for a folder)")
	f.BoolVar(&o.PartitionColumns, "partition-columns", false, "turn Hive partition folders (key=value/) of the input into columns, typed like Spark's partition discovery (int64, float64, date32, else string)")
	f.Int64Var(&o.MaxRowsPerFile, "max-rows-per-file", 0, "folder output: start a new part after this many rows (0: one part per run)")
	f.StringVar(&o.Shard, "shard", "", "score only shard i of n of the input (i/n, 0 <= i < n), split by file and Parquet row group; needs a folder --out")
	f.IntVar(&o.ShardCount, "shard-count", 0, "the number of shards, the index coming from JOB_COMPLETION_INDEX (a Kubernetes Indexed Job)")
	f.IntVar(&o.BatchSize, "batch-size", readers.DefaultBatchSize, "rows per Arrow record batch")
	f.IntVar(&o.Workers, "workers", runtime.NumCPU(), "predicting goroutines")
	f.StringSliceVar(&o.Keep, "keep", nil, "input columns to pass through to the output (default all; --keep= for none)")
	f.StringVar(&o.PredictionCol, "prediction-col", "prediction", "name of the prediction column (prefix for multi-output models)")
	f.BoolVar(&o.Overwrite, "overwrite", false, "replace an existing output")
	f.StringVar(&o.Compression, "compression", "snappy", "Parquet compression: snappy, zstd, gzip or none")
	f.BoolVar(&o.Proba, "proba", false, "classifiers: add one probability column per class (proba_<label>)")
	f.StringVar(&o.OnError, "on-error", "fail", "a bad row: fail (stop at the first one) or skip (write it to --rejects and go on)")
	f.StringVar(&o.Rejects, "rejects", "", "with --on-error=skip: file for the rejected rows (default <out>.rejects.<ext>; format from its extension)")
	f.StringVar(&o.MaxRejects, "max-rejects", "", "with --on-error=skip: fail when more rows are rejected than a count (100), a fraction (0.01) or a percentage (1%)")
	f.BoolVarP(&o.Quiet, "quiet", "q", false, "print no summary")
	f.StringVar(&o.Progress, "progress", progressAuto, "progress on stderr: auto (a bar on a terminal, else JSON lines), bar, json or none")
	f.DurationVar(&o.ProgressEvery, "progress-interval", 10*time.Second, "time between two JSON progress lines")
	f.StringVar(&o.SummaryJSON, "summary-json", "", "also write the run summary (counts, timings, model, prediction statistics) as JSON to this file, atomically; written for failed runs too")
	f.BoolVar(&o.DryRun, "dry-run", false, "check the flags, the model and the input's schema (Parquet footer, CSV header and first batch), print the plan and stop: no output, rejects or --summary-json file is written; the exit code is the one the real run would fail with")
	f.StringVar(&o.MemoryLimit, "memory-limit", "auto", "soft limit on the Go heap, so peak memory stays bounded whatever the input's size: auto (the loaded model plus 256MiB; GOMEMLIMIT wins if set), off, or a size such as 512MiB")
	f.BoolVarP(&o.Verbose, "verbose", "v", false, "print debug notes (how the model URI was resolved)")
	return cmd
}

func (o *scoreOptions) validate() error {
	var missing []string
	if o.In == "" {
		o.In = strings.Join(o.inputSpecs(), ",")
	}
	for _, f := range []struct{ name, val string }{{"--model", o.Model}, {"--in", o.In}, {"--out", o.Out}} {
		if f.val == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return mlerr.Errorf(mlerr.Usage, "required flag(s) %s not set", strings.Join(missing, ", "))
	}
	if o.BatchSize < 1 {
		return mlerr.Errorf(mlerr.Usage, "--batch-size must be at least 1, got %d", o.BatchSize)
	}
	if o.Workers < 1 {
		return mlerr.Errorf(mlerr.Usage, "--workers must be at least 1, got %d", o.Workers)
	}
	if o.PredictionCol == "" {
		return mlerr.Errorf(mlerr.Usage, "--prediction-col must not be empty")
	}
	if _, _, err := parseMemoryLimit(o.MemoryLimit); err != nil {
		return err
	}
	if err := o.validateDataset(); err != nil {
		return err
	}
	if err := o.checkInFormat(); err != nil {
		return err
	}
	if err := o.checkOutFormat(); err != nil {
		return err
	}
	switch o.Compression {
	case "snappy", "zstd", "gzip", "none":
	default:
		return mlerr.Errorf(mlerr.Usage, "--compression %q: want snappy, zstd, gzip or none", o.Compression)
	}
	switch o.OnError {
	case "fail":
		if o.Rejects != "" || o.MaxRejects != "" {
			return mlerr.Errorf(mlerr.Usage, "--rejects and --max-rejects go with --on-error=skip")
		}
	case "skip":
		if o.Rejects == "" {
			switch o.outKind() {
			case outDir:
				o.Rejects = defaultDirRejects(o.Out, o.shardIndex, o.shardCount)
			case outStream:
				return mlerr.Errorf(mlerr.Usage, "--on-error=skip with --out -: name the rejects file with --rejects")
			default:
				o.Rejects = defaultRejects(o.Out)
			}
		}
		if _, err := checkFormat("--rejects", "", o.Rejects, writers.FormatOf); err != nil {
			return err
		}
		if _, err := batch.ParseMaxRejects(o.MaxRejects); err != nil {
			return mlerr.Wrap(mlerr.Usage, err)
		}
		if same(o.Rejects, o.Out) || same(o.Rejects, o.In) {
			return mlerr.Errorf(mlerr.Usage, "--rejects %s must differ from --in and --out", o.Rejects)
		}
		if !o.Overwrite {
			if _, err := os.Stat(o.Rejects); err == nil {
				return mlerr.Errorf(mlerr.IO, "%s already exists (use --overwrite to replace it)", o.Rejects)
			}
		}
	default:
		return mlerr.Errorf(mlerr.Usage, "--on-error %q: want fail or skip", o.OnError)
	}
	if err := checkProgressMode(o.Progress, o.ProgressEvery); err != nil {
		return err
	}
	if o.SummaryJSON != "" && (same(o.SummaryJSON, o.Out) || same(o.SummaryJSON, o.In)) {
		return mlerr.Errorf(mlerr.Usage, "--summary-json %s must differ from --in and --out", o.SummaryJSON)
	}
	if o.In != streamName && o.Out != streamName && same(o.In, o.Out) {
		return mlerr.Errorf(mlerr.Usage, "--out %s is the input file", o.Out)
	}
	if !o.Overwrite && o.outKind() == outFile {
		if _, err := os.Stat(o.Out); err == nil {
			return mlerr.Errorf(mlerr.IO, "%s already exists (use --overwrite to replace it)", o.Out)
		}
	}
	return nil
}

func checkFormat(flag, format, path string, infer func(string) (string, error)) (string, error) {
	switch format {
	case "csv", "parquet":
		return format, nil
	case "":
		f, err := infer(path)
		if err != nil {
			return "", mlerr.Wrap(mlerr.Usage, err)
		}
		return f, nil
	}
	return "", mlerr.Errorf(mlerr.Usage, "%s %q: want csv or parquet", flag, format)
}

func same(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	if err1 == nil && err2 == nil {
		return os.SameFile(sa, sb)
	}
	return filepath.Clean(a) == filepath.Clean(b)
}

func (o *scoreOptions) logger() *slog.Logger {
	if o.Log == nil {
		return (&logState{w: o.Stderr}).get()
	}
	return o.Log()
}

func (o *scoreOptions) warnf(format string, args ...any) {
	o.logger().Warn(fmt.Sprintf(format, args...))
}

func (o *scoreOptions) debugf(format string, args ...any) {
	o.logger().Debug(fmt.Sprintf(format, args...))
}

func runScore(ctx context.Context, o *scoreOptions) error {
	start := time.Now()
	o.ctx = ctx
	if err := o.validate(); err != nil {
		return err
	}
	sum := &runSummary{
		Version: versionString(), StartedAt: start.UTC(), Workers: o.Workers, BatchSize: o.BatchSize,
		Model:             summaryModel{URI: o.Model},
		Inputs:            []summaryInput{{Path: o.In, Format: o.InFormat}},
		Output:            summaryFile{Path: o.Out, Format: o.OutFormat},
		QuantileRankError: stats.RankError,
	}
	if fi, err := os.Stat(o.In); err == nil && !fi.IsDir() {
		sum.Inputs[0].Bytes = fi.Size()
	}
	o.summary = sum
	mem := o.Mem
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	ropts := model.ResolveOptions{TrackingURI: o.TrackingURI, ArtifactsRoot: o.ArtifactsRoot, CacheDir: o.CacheDir, Context: ctx}
	if o.logger().Enabled(ctx, slog.LevelDebug) {
		ropts.Debug = func(msg string) { o.debugf("%s", msg) }
	}
	dir, err := model.Resolve(o.Model, ropts)
	if err != nil {
		return err
	}
	o.debugf("model %s resolved to %s", o.Model, dir)
	sum.Model.Location = dir
	m, mm, err := model.Load(dir, model.LoadOptions{
		Proba: o.Proba,
		Warn:  func(msg string) { o.warnf("%s", msg) },
	})
	if err != nil {
		return withInspectHint(err, o.Model)
	}
	sum.Model.Flavor, sum.Model.Estimator = m.Info().Flavor, m.Info().Estimator
	limit, err := applyMemoryLimit(o.MemoryLimit)
	if err != nil {
		return err
	}
	o.debugf("Go memory limit: %s", formatLimit(limit))
	sum.Model.RunID, sum.Model.ModelUUID, sum.Model.ModelID = mm.RunID, mm.ModelUUID, mm.ModelID

	skip := o.OnError == "skip"
	var pending []batch.Reject // rows the reader left out, drained after each Next
	var ncols int
	if skip {
		o.onBadRow = func(e *mlerr.RowError, fields []string) error {
			pending = append(pending, batch.RejectFromFields(e, fields, ncols))
			return nil
		}
	}
	src, b, full, err := openInput(o, m, mem)
	if err != nil {
		return err
	}
	defer src.Close()
	ncols = len(full.Fields())
	if ins := o.datasetInputs(); ins != nil {
		sum.Inputs = ins
	} else if o.ds != nil {
		sum.Inputs = []summaryInput{} // an empty shard
	}
	for i := range sum.Inputs {
		sum.Inputs[i].Format = o.InFormat
	}
	sum.Output.Format = o.OutFormat

	dst, err := o.openOutput(b.Out, writers.Options{
		Format: o.OutFormat, Compression: o.Compression, Overwrite: o.Overwrite, Mem: mem,
		Metadata: o.datasetProvenance(provenance(sum)),
	}, o.stdout)
	if err != nil {
		return classify(mlerr.IO, err)
	}
	bopts := batch.Options{Workers: o.Workers, Mem: mem}
	var rej writers.Writer
	if skip {
		bopts.Skip = true
		bopts.MaxRejects, _ = batch.ParseMaxRejects(o.MaxRejects)
		rschema := batch.RejectSchema(full)
		if o.ds != nil && len(o.ds.Files) > 1 {
			rschema = batch.RejectSchemaFiles(full)
		}
		if rej, err = createFile(ctx, o.Rejects, rschema, writers.Options{
			Compression: o.Compression, Overwrite: o.Overwrite, Mem: mem,
		}); err != nil {
			dst.Abort()
			return classify(mlerr.IO, err)
		}
		bopts.Rejects = &batch.RejectWriter{Dst: rej, Schema: rschema, Mem: mem}
		for _, f := range full.Fields() {
			bopts.RejectColumns = append(bopts.RejectColumns, f.Name)
		}
		bopts.ReaderRejects = func() []batch.Reject {
			out := pending
			pending = nil
			return out
		}
	}
	abort := func() {
		if aerr := dst.Abort(); aerr != nil {
			o.warnf("removing the temporary output: %v", aerr)
		}
		if rej != nil {
			if aerr := rej.Abort(); aerr != nil {
				o.warnf("removing the temporary rejects file: %v", aerr)
			}
		}
	}
	if skip {
		sum.Rejects = &summaryFile{Path: o.Rejects, Format: formatOrEmpty(o.Rejects)}
	}
	collector := stats.New(b.Out, outputColumns(b.Out, len(m.Outputs())))
	var prog *progress
	if !o.Quiet {
		if prog = o.newProgress(); prog != nil {
			bopts.Progress = prog.update
		}
	}
	bopts.Account = sum.account
	st, err := batch.Run(ctx, src, m, b, statsSink{dst: dst, c: collector}, bopts)
	if prog != nil {
		prog.finish(st, err == nil)
	}
	sum.Columns = collector.Columns()
	sum.finish(st, nil)
	if err == nil && skip {
		err = bopts.MaxRejects.Check(st.RowsRejected, st.RowsRead)
	}
	if err == nil && st.RowsRead != st.RowsWritten+st.RowsRejected {
		err = mlerr.Errorf(mlerr.Internal, "row accounting: %d rows read, %d written, %d rejected", st.RowsRead, st.RowsWritten, st.RowsRejected)
	}
	if err != nil {
		abort()
		if ctx.Err() != nil {
			return mlerr.Wrap(mlerr.Interrupted, fmt.Errorf("interrupted; %s: %w", o.noOutput(), err))
		}
		if skip && mlerr.KindOf(err) == mlerr.Data {
			err = fmt.Errorf("%w (%d rows read, %d rejected so far; %s)", err, st.RowsRead, st.RowsRejected, o.noOutput())
		}
		return classify(mlerr.Internal, err)
	}
	// The rejects file first: an output under its final name means the run is whole.
	if rej != nil {
		if err := rej.Commit(); err != nil {
			dst.Abort()
			return classify(mlerr.IO, err)
		}
	}
	if err := dst.Commit(); err != nil {
		return classify(mlerr.IO, err)
	}
	sum.finish(st, nil)
	if !o.Quiet {
		sum.writeText(o.Stderr)
	}
	return nil
}

func formatOrEmpty(path string) string {
	f, _ := writers.FormatOf(path)
	return f
}

// defaultRejects names the rejects file beside the output: preds.parquet ->
// preds.rejects.parquet.
func defaultRejects(out string) string {
	ext := filepath.Ext(out)
	return strings.TrimSuffix(out, ext) + ".rejects" + ext
}

// classify gives err a kind unless it already has one.
func classify(kind mlerr.Kind, err error) error {
	if mlerr.Classified(err) {
		return err
	}
	return mlerr.Wrap(kind, err)
}

// openInput opens the input, binds it to the model and projects it onto the columns
// the model and --keep need. A CSV input's model columns are parsed straight to the
// types the model takes, so a bad cell is reported with its row and column.
func openInput(o *scoreOptions, m model.Model, mem memory.Allocator) (readers.Reader, *batch.Binding, *arrow.Schema, error) {
	var keep []string
	if o.KeepSet {
		keep = []string{}
		for _, k := range o.Keep {
			if k = strings.TrimSpace(k); k != "" {
				keep = append(keep, k)
			}
		}
	}
	ropts := readers.Options{Format: o.InFormat, BatchSize: o.BatchSize, Mem: mem, OnBadRow: o.onBadRow}
	// CSV to CSV keeping every input column: the writer copies the input text.
	ropts.RowText = (o.OutFormat == "csv" || o.OutFormat == "tsv") && keep == nil
	bind := func(sc *arrow.Schema) (*batch.Binding, error) { return batch.Bind(sc, m, keep, o.PredictionCol) }
	var src readers.Reader
	var err error
	switch {
	case o.In == streamName:
		in := o.stdin
		if in == nil {
			in = os.Stdin
		}
		src, err = readers.OpenStream("stdin", in, nil, ropts)
	case o.singleFile() && o.shardCount <= 1 && !o.PartitionColumns:
		src, err = readers.Open(o.In, ropts)
	default:
		src, b, full, err := o.openDataset(ropts, bind, func(sc *arrow.Schema, b *batch.Binding) map[string]arrow.DataType {
			return featureTypes(sc, m, b)
		})
		if err != nil {
			return nil, nil, nil, err
		}
		if err := b.CheckTypes(full, m); err != nil {
			src.Close()
			return nil, nil, nil, err
		}
		if err := src.Project(b.Needed); err != nil {
			src.Close()
			return nil, nil, nil, classify(mlerr.Schema, err)
		}
		return src, b, full, nil
	}
	if err != nil {
		return nil, nil, nil, classify(mlerr.IO, err)
	}
	b, err := bind(src.Schema())
	if err != nil {
		src.Close()
		return nil, nil, nil, err
	}
	if rt, ok := src.(readers.Retyper); ok {
		// CSV and JSON Lines cells have no type of their own: the first batch is
		// still text, so the model's types are applied to it in place, rather
		// than by reading the input again (a stream cannot be read twice, and a
		// file need not be).
		if types := featureTypes(src.Schema(), m, b); len(types) > 0 {
			if err := rt.SetTypes(types); err != nil {
				src.Close()
				return nil, nil, nil, err
			}
			if b, err = bind(src.Schema()); err != nil {
				src.Close()
				return nil, nil, nil, err
			}
		}
	}
	if err := b.CheckTypes(src.Schema(), m); err != nil {
		src.Close()
		return nil, nil, nil, err
	}
	full := src.Schema()
	if err := src.Project(b.Needed); err != nil {
		src.Close()
		return nil, nil, nil, classify(mlerr.Schema, err)
	}
	return src, b, full, nil
}

// featureTypes lists the CSV columns to parse as the model's type rather than the
// inferred one. A CSV cell has no type of its own, so a signature column is always
// parsed as the signature's type (a "1.5" in a long column is then a bad cell, as
// MLflow would refuse it). Other model columns are re-read only when inferred as
// text but fed to a model that takes numbers, so a bad cell is reported with its
// row and column rather than the whole column being refused.
func featureTypes(schema *arrow.Schema, m model.Model, b *batch.Binding) map[string]arrow.DataType {
	types := map[string]arrow.DataType{}
	for i, c := range m.Inputs() {
		f, ok := b.FeatureField(schema, i)
		if !ok || c.Type == nil || arrow.TypeEqual(f.Type, c.Type) {
			continue
		}
		if c.Signature || (batch.IsNumeric(c.Type) && !batch.IsNumeric(f.Type)) {
			types[f.Name] = c.Type
		}
	}
	return types
}
