package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/mlbatch/mlbatch/batch"
	"github.com/mlbatch/mlbatch/dataset"
	"github.com/mlbatch/mlbatch/internal/mlerr"
	"github.com/mlbatch/mlbatch/readers"
	"github.com/mlbatch/mlbatch/writers"
)

// Datasets, shards and streams in `mlbatch score`
//
// --in takes one or more specs (repeat the flag or separate them with commas, as
// cobra string slices do): files, folders, globs, or "-" for stdin. They become a
// dataset.Dataset: files in a stable order with one schema. --shard i/n (or
// JOB_COMPLETION_INDEX with --shard-count) keeps the i-th share of it. --out is a
// file, a folder (dataset.IsDirOutput: parts and a success marker), or "-" for
// stdout.

// streamName is the --in/--out value for stdin/stdout.
const streamName = "-"

// inputSpecs are the --in specs as given.
func (o *scoreOptions) inputSpecs() []string {
	if len(o.Ins) > 0 {
		return o.Ins
	}
	if o.In != "" {
		return []string{o.In}
	}
	return nil
}

// singleFile reports whether the input is one plain local file (the case the
// per-file checks of validate and the summary's bytes apply to).
func (o *scoreOptions) singleFile() bool {
	specs := o.inputSpecs()
	if len(specs) != 1 || specs[0] == streamName || dataset.IsURL(specs[0]) || dataset.HasGlob(specs[0]) {
		return false
	}
	st, err := os.Stat(specs[0])
	return err != nil || !st.IsDir()
}

// outKind says what --out names.
type outKind int

const (
	outFile outKind = iota
	outDir
	outStream
)

func (o *scoreOptions) outKind() outKind {
	switch {
	case o.Out == streamName:
		return outStream
	case dataset.IsDirOutput(o.ctxOrBackground(), o.Out):
		return outDir
	}
	return outFile
}

func (o *scoreOptions) ctxOrBackground() context.Context {
	if o.ctx != nil {
		return o.ctx
	}
	return context.Background()
}

// resolveShard fills in the shard from --shard, or JOB_COMPLETION_INDEX with
// --shard-count.
func (o *scoreOptions) resolveShard() error {
	o.shardIndex, o.shardCount = 0, 1
	if o.Shard != "" {
		i, n, err := dataset.ParseShard(o.Shard)
		if err != nil {
			return err
		}
		if o.ShardCount > 0 && o.ShardCount != n {
			return mlerr.Errorf(mlerr.Usage, "--shard %s and --shard-count %d disagree", o.Shard, o.ShardCount)
		}
		o.shardIndex, o.shardCount = i, n
		return nil
	}
	if o.ShardCount < 0 {
		return mlerr.Errorf(mlerr.Usage, "--shard-count must be at least 1, got %d", o.ShardCount)
	}
	if o.ShardCount > 0 {
		i, ok, err := dataset.ShardFromEnv(o.ShardCount)
		if err != nil {
			return err
		}
		if !ok {
			return mlerr.Errorf(mlerr.Usage, "--shard-count %d needs JOB_COMPLETION_INDEX (a Kubernetes Indexed Job sets it) or --shard i/n", o.ShardCount)
		}
		o.shardIndex, o.shardCount = i, o.ShardCount
	}
	return nil
}

// validateDataset checks the dataset flags (called from validate).
func (o *scoreOptions) validateDataset() error {
	if err := o.resolveShard(); err != nil {
		return err
	}
	if o.MaxRowsPerFile < 0 {
		return mlerr.Errorf(mlerr.Usage, "--max-rows-per-file must not be negative, got %d", o.MaxRowsPerFile)
	}
	specs := o.inputSpecs()
	for _, s := range specs {
		if s == streamName && len(specs) > 1 {
			return mlerr.Errorf(mlerr.Usage, "--in - (stdin) cannot be mixed with other inputs")
		}
	}
	kind := o.outKind()
	if o.shardCount > 1 && kind != outDir {
		return mlerr.Errorf(mlerr.Usage, "--shard needs a folder --out (each shard writes its own parts into it)")
	}
	if o.MaxRowsPerFile > 0 && kind != outDir {
		return mlerr.Errorf(mlerr.Usage, "--max-rows-per-file goes with a folder --out")
	}
	if o.In == streamName && o.shardCount > 1 {
		return mlerr.Errorf(mlerr.Usage, "--in - (stdin) cannot be sharded")
	}
	return nil
}

// checkInFormat validates --in-format, inferring it for a single file.
func (o *scoreOptions) checkInFormat() error {
	switch o.InFormat {
	case "csv", "parquet", "arrow", "jsonl":
	case "":
		if o.In == streamName {
			return mlerr.Errorf(mlerr.Usage, "--in - (stdin) needs --in-format arrow, jsonl or csv")
		}
		if o.singleFile() {
			f, err := readers.FormatOf(o.In)
			if err != nil {
				return mlerr.Wrap(mlerr.Usage, err)
			}
			o.InFormat = f
		}
		// A dataset's format comes from its files' extensions (dataset.Find).
	default:
		return mlerr.Errorf(mlerr.Usage, "--in-format %q: want csv, parquet, arrow or jsonl", o.InFormat)
	}
	if o.In == streamName && o.InFormat == "parquet" {
		return mlerr.Errorf(mlerr.Usage, "--in - (stdin): Parquet needs random access; use --in-format arrow, jsonl or csv")
	}
	return nil
}

// checkOutFormat validates --out-format: a folder defaults to Parquet, stdout
// needs a format.
func (o *scoreOptions) checkOutFormat() error {
	switch o.OutFormat {
	case "csv", "parquet", "arrow", "jsonl":
		if o.outKind() == outDir && (o.OutFormat == "arrow" || o.OutFormat == "jsonl") {
			return mlerr.Errorf(mlerr.Usage, "--out-format %s: a folder output is parquet or csv", o.OutFormat)
		}
		return nil
	case "":
		switch o.outKind() {
		case outDir:
			o.OutFormat = "parquet"
			return nil
		case outStream:
			return mlerr.Errorf(mlerr.Usage, "--out - (stdout) needs --out-format arrow, jsonl, csv or parquet")
		}
		f, err := writers.FormatOf(o.Out)
		if err != nil {
			return mlerr.Wrap(mlerr.Usage, err)
		}
		o.OutFormat = f
		return nil
	}
	return mlerr.Errorf(mlerr.Usage, "--out-format %q: want csv, parquet, arrow or jsonl", o.OutFormat)
}

// openDataset finds and inspects the input files and opens the shard's reader,
// bound to the model (see openInput).
func (o *scoreOptions) openDataset(ropts readers.Options, bind func(*arrow.Schema) (*batch.Binding, error), types func(*arrow.Schema, *batch.Binding) map[string]arrow.DataType) (readers.Reader, *batch.Binding, *arrow.Schema, error) {
	ctx := o.ctxOrBackground()
	format := o.InFormat
	ds, err := dataset.Find(ctx, o.inputSpecs(), dataset.FindOptions{Format: format, PartitionColumns: o.PartitionColumns})
	if err != nil {
		return nil, nil, nil, err
	}
	iopts := ropts
	iopts.OnBadRow = nil
	if err := ds.Inspect(ctx, iopts); err != nil {
		return nil, nil, nil, classify(mlerr.IO, err)
	}
	o.InFormat = ds.Format
	b, err := bind(ds.Schema())
	if err != nil {
		return nil, nil, nil, err
	}
	if ds.Format == "csv" || ds.Format == "jsonl" {
		if t := types(ds.Schema(), b); len(t) > 0 {
			ds.SetCSVTypes(t)
			if b, err = bind(ds.Schema()); err != nil {
				return nil, nil, nil, err
			}
		}
	}
	o.ds = ds
	o.shard = ds.Split(o.shardIndex, o.shardCount)
	return ds.Open(ctx, o.shard, ropts, o.In), b, ds.Schema(), nil
}

// datasetInputs lists the shard's files for the summary, in reading order.
func (o *scoreOptions) datasetInputs() []summaryInput {
	if o.ds == nil {
		return nil
	}
	var out []summaryInput
	last := -1
	for _, u := range o.shard.Units {
		f := o.ds.Files[u.File]
		if u.File == last {
			continue
		}
		last = u.File
		out = append(out, summaryInput{Path: f.Name, Format: f.Format, Bytes: f.Size})
	}
	return out
}

// openOutput creates the destination: a file (atomic), a folder of parts, or
// stdout.
func (o *scoreOptions) openOutput(schema *arrow.Schema, wopts writers.Options, stdout io.Writer) (writers.Writer, error) {
	switch o.outKind() {
	case outDir:
		return dataset.CreateDir(o.ctxOrBackground(), o.Out, schema, dataset.OutputOptions{
			Format: o.OutFormat, Shard: o.shardIndex, Shards: o.shardCount,
			MaxRowsPerFile: o.MaxRowsPerFile, Overwrite: o.Overwrite, Writer: wopts,
		})
	case outStream:
		if stdout == nil {
			stdout = os.Stdout
		}
		wopts.Format = o.OutFormat
		return createStream(stdout, schema, wopts)
	}
	// A bucket URL is one upload, completed (made visible) at Commit.
	return createFile(o.ctxOrBackground(), o.Out, schema, wopts)
}

// defaultDirRejects names the rejects file of a folder output: inside it, hidden
// from readers of the folder by its leading underscore, one per shard.
func defaultDirRejects(out string, shard, shards int) string {
	name := "_rejects.parquet"
	if shards > 1 {
		name = fmt.Sprintf("_rejects.shard-%04d-of-%04d.parquet", shard, shards)
	}
	return dataset.Join(strings.TrimRight(out, "/"), name)
}

// datasetProvenance replaces the input list of the provenance by the specs when
// the run read more than one file, so a part's footer stays small.
func (o *scoreOptions) datasetProvenance(md map[string]string) map[string]string {
	if o.ds == nil || len(o.ds.Files) <= 1 {
		return md
	}
	specs, _ := json.Marshal(o.inputSpecs())
	md[provInputs] = string(specs)
	if o.shardCount > 1 {
		md["mlbatch.shard"] = fmt.Sprintf("%d/%d", o.shardIndex, o.shardCount)
	}
	return md
}

// stdoutPart is stdout as a writers.Part: nothing can be taken back, so Commit
// and Abort only mark the end (the encoder's discard makes an Arrow stream
// visibly truncated). The run's exit code is the only sign of failure a
// consumer of --out - gets.
type stdoutPart struct{ w io.Writer }

func (p stdoutPart) Write(b []byte) (int, error) { return p.w.Write(b) }
func (p stdoutPart) Commit() error               { return nil }
func (p stdoutPart) Abort() error                { return nil }

func createStream(w io.Writer, schema *arrow.Schema, wopts writers.Options) (writers.Writer, error) {
	return writers.CreateOn(stdoutPart{w}, "stdout", schema, wopts)
}

// createFile creates one output file: through the dataset FS for a URL (an
// object store), else writers.Create.
func createFile(ctx context.Context, name string, schema *arrow.Schema, wopts writers.Options) (writers.Writer, error) {
	if !dataset.IsURL(name) {
		return writers.Create(name, schema, wopts)
	}
	fsys, n, err := dataset.FSFor(ctx, name)
	if err != nil {
		return nil, err
	}
	if wopts.Format == "" {
		f, err := writers.FormatOf(n)
		if err != nil {
			return nil, mlerr.Wrap(mlerr.Usage, err)
		}
		wopts.Format = f
	}
	p, err := fsys.Create(ctx, n, wopts.Overwrite)
	if err != nil {
		return nil, err
	}
	return writers.CreateOn(p, name, schema, wopts)
}

// account adds a batch's counts to its input file (batch.Options.Account).
func (s *runSummary) account(file string, read, written, rejected int64) {
	if len(s.Inputs) <= 1 {
		return // finish fills in the only input from the totals
	}
	if s.inputIndex == nil {
		s.inputIndex = map[string]int{}
		for i, in := range s.Inputs {
			s.inputIndex[in.Path] = i
		}
	}
	i, ok := s.inputIndex[file]
	if !ok {
		return
	}
	in := &s.Inputs[i]
	in.RowsRead += read
	in.RowsWritten += written
	in.RowsRejected += rejected
}

// newProgress starts the progress reporter for the run's input: a file, a
// dataset shard (its bytes and, for Parquet, rows), or stdin (rows only).
func (o *scoreOptions) newProgress() *progress {
	switch {
	case o.In == streamName:
		return startProgress(o.Progress, o.ProgressEvery, o.Stderr, "", 0, 0, -1)
	case o.ds != nil:
		rows := o.shard.Rows()
		if rows < 0 {
			rows = 0
		}
		return startProgress(o.Progress, o.ProgressEvery, o.Stderr, o.In, o.shard.Bytes(), rows, -1)
	}
	return newProgress(o.Progress, o.ProgressEvery, o.Stderr, o.In, o.InFormat)
}

// noOutput says what a failed run leaves behind.
func (o *scoreOptions) noOutput() string {
	switch o.outKind() {
	case outDir:
		return "no success marker written; the parts committed so far are replaced by a re-run with --overwrite"
	case outStream:
		return "the output on stdout is incomplete"
	}
	return "no output written"
}
