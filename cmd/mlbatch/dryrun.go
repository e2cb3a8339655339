package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/batch"
	"github.com/mlbatch/mlbatch/dataset"
	"github.com/mlbatch/mlbatch/internal/mlerr"
	"github.com/mlbatch/mlbatch/model"
	"github.com/mlbatch/mlbatch/readers"
)

// score --dry-run
//
// A dry run takes every step a real run takes before the first batch is scored,
// with the same code: the flags are checked (validate), the model is resolved and
// loaded, the input is opened and bound to the model (openInput: the Parquet
// footer, or the CSV header and first batch from which the column types are
// inferred, re-read with the model's types as a real run does), and the output's
// folder is checked. It then prints the plan on stdout and stops. Nothing is
// written: not the output, not the rejects file and not --summary-json, whose
// absence a pipeline can take to mean "no run happened". A problem found on the
// way is returned as the same error, with the same exit code, as the real run
// would give (2 usage, 3 model, 4 schema, 5 a bad row inside the sample with
// --on-error=fail, 6 I/O).

// dryRunPlan is what score --dry-run found.
type dryRunPlan struct {
	Model     summaryModel
	Input     planInput
	Binding   []planBinding
	Outputs   []planOutput // the output file's columns: kept, then predictions
	Output    summaryFile
	Rejects   *summaryFile
	Workers   int
	BatchSize int
	OnError   string
	MaxReject string
	// SampleRejects counts the rows of the CSV sample --on-error=skip would
	// reject (-1 when not applicable).
	SampleRejects int
}

type planOutput struct {
	Name, Type string
	Prediction bool // from the model, not kept from the input
}

type planInput struct {
	Path    string
	Format  string
	Bytes   int64
	Rows    int64 // -1: not known before reading (CSV)
	Columns int
}

// planBinding is one model input and the input column that feeds it.
type planBinding struct {
	Input     string // model input name ("" when positional)
	InputType string // "any" when the model takes the column as it is
	Column    string // the input file's column ("" when absent)
	FileType  string // the column's type in the file (CSV: inferred from the sample)
	ReadAs    string // the type the reader delivers
	Cast      string // what happens between the file and the model
	Optional  bool
}

// runDryRun is score --dry-run. The plan is written to stdout.
func runDryRun(ctx context.Context, o *scoreOptions, stdout io.Writer) error {
	p, err := planScore(ctx, o)
	if p != nil {
		p.writeText(stdout)
	}
	return err
}

// planScore goes through a run's checks and returns the plan. On an error it also
// returns the part of the plan found so far (nil when the flags were refused).
func planScore(ctx context.Context, o *scoreOptions) (*dryRunPlan, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	p := &dryRunPlan{
		Model:   summaryModel{URI: o.Model},
		Input:   planInput{Path: o.In, Format: o.InFormat, Rows: -1},
		Output:  summaryFile{Path: o.Out, Format: o.OutFormat},
		Workers: o.Workers, BatchSize: o.BatchSize, OnError: o.OnError, MaxReject: o.MaxRejects,
		SampleRejects: -1,
	}
	if o.OnError == "skip" {
		p.Rejects = &summaryFile{Path: o.Rejects, Format: formatOrEmpty(o.Rejects)}
	}
	if fi, err := os.Stat(o.In); err == nil {
		p.Input.Bytes = fi.Size()
	}
	ropts := model.ResolveOptions{TrackingURI: o.TrackingURI, ArtifactsRoot: o.ArtifactsRoot, CacheDir: o.CacheDir}
	if o.logger().Enabled(ctx, slog.LevelDebug) {
		ropts.Debug = func(msg string) { o.debugf("%s", msg) }
	}
	dir, err := model.Resolve(o.Model, ropts)
	if err != nil {
		return p, err
	}
	p.Model.Location = dir
	m, mm, err := model.Load(dir, model.LoadOptions{Proba: o.Proba, Warn: func(msg string) { o.warnf("%s", msg) }})
	if err != nil {
		return p, withInspectHint(err, o.Model)
	}
	p.Model.Flavor, p.Model.Estimator = m.Info().Flavor, m.Info().Estimator
	p.Model.RunID, p.Model.ModelUUID, p.Model.ModelID = mm.RunID, mm.ModelUUID, mm.ModelID

	mem := o.Mem
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	if o.InFormat == "csv" {
		// The types the CSV reader infers on its own, to show which columns a
		// real run re-reads with the model's types.
		src, err := readers.Open(o.In, readers.Options{Format: o.InFormat, BatchSize: o.BatchSize, Mem: mem,
			OnBadRow: func(*mlerr.RowError, []string) error { return nil }})
		if err == nil {
			p.Input.Columns = len(src.Schema().Fields())
			p.bindInferred(src.Schema())
			src.Close()
		}
	}
	if o.OnError == "skip" {
		p.SampleRejects = 0
		o.onBadRow = func(*mlerr.RowError, []string) error { p.SampleRejects++; return nil }
		defer func() { o.onBadRow = nil }()
	}
	src, b, full, err := openInput(o, m, mem)
	if err != nil {
		return p, err
	}
	defer src.Close()
	if rc, ok := src.(readers.RowCounter); ok {
		p.Input.Rows = rc.TotalRows()
	}
	p.Input.Columns = len(full.Fields())
	p.bind(full, m, b)
	if o.InFormat == "csv" {
		// The reader has scanned the first batch to infer the types; converting
		// it finds the bad cells a real run would meet there first.
		rec, err := src.Next()
		if rec != nil {
			rec.Release()
		}
		if err != nil && err != io.EOF {
			return p, err
		}
		if p.SampleRejects > 0 {
			// Past a --max-rejects count the real run fails whatever follows.
			if mr, _ := batch.ParseMaxRejects(o.MaxRejects); mr.Count >= 0 && int64(p.SampleRejects) > mr.Count {
				return p, mr.Check(int64(p.SampleRejects), int64(p.SampleRejects))
			}
		}
	}
	p.Input.Format = o.InFormat
	if o.ds != nil { // a dataset: the shard's share (dataset.go)
		p.Input.Bytes, p.Input.Rows = o.shard.Bytes(), o.shard.Rows()
	}
	if o.outKind() == outFile && !dataset.IsURL(o.Out) { // a folder is made by the run; stdout needs nothing
		if err := checkOutputDir(o.Out); err != nil {
			return p, err
		}
	}
	if p.Rejects != nil {
		if err := checkOutputDir(o.Rejects); err != nil {
			return p, err
		}
	}
	return p, nil
}

// bindInferred remembers the CSV's inferred column types (before the model's
// types are applied) in FileType; bind fills in the rest.
func (p *dryRunPlan) bindInferred(schema *arrow.Schema) {
	p.Binding = nil
	for _, f := range schema.Fields() {
		p.Binding = append(p.Binding, planBinding{Column: f.Name, FileType: f.Type.String()})
	}
}

func (p *dryRunPlan) bind(full *arrow.Schema, m model.Model, b *batch.Binding) {
	inferred := map[string]string{}
	for _, pb := range p.Binding {
		inferred[pb.Column] = pb.FileType
	}
	p.Binding = nil
	for i, c := range m.Inputs() {
		pb := planBinding{Input: c.Name, InputType: typeName(c), Optional: !c.Required}
		f, ok := b.FeatureField(full, i)
		if !ok {
			pb.Cast = "absent: read as missing"
			p.Binding = append(p.Binding, pb)
			continue
		}
		pb.Column, pb.ReadAs, pb.FileType = f.Name, f.Type.String(), f.Type.String()
		if t, ok := inferred[f.Name]; ok {
			pb.FileType = t
		}
		pb.Cast = castNote(p.Input.Format, pb.FileType, f.Type, c)
		p.Binding = append(p.Binding, pb)
	}
	nkept := len(b.KeepIdx)
	for i, f := range b.Out.Fields() {
		p.Outputs = append(p.Outputs, planOutput{Name: f.Name, Type: f.Type.String(), Prediction: i >= nkept})
	}
}

// castNote says what happens to an input column on its way to the model.
func castNote(format, fileType string, readAs arrow.DataType, c model.Column) string {
	var steps []string
	if format == "csv" && fileType != readAs.String() {
		src := "the model's type"
		if c.Signature {
			src = "the signature's type"
		}
		steps = append(steps, fmt.Sprintf("CSV text parsed as %s (%s; inferred %s)", readAs, src, fileType))
	}
	switch {
	case c.Type == nil:
		steps = append(steps, "passed as is")
	case arrow.TypeEqual(readAs, c.Type):
		if len(steps) == 0 {
			steps = append(steps, "none")
		}
	case c.Signature:
		steps = append(steps, fmt.Sprintf("widened %s -> %s (MLflow's signature rules)", readAs, c.Type))
	default:
		steps = append(steps, fmt.Sprintf("converted %s -> %s", readAs, c.Type))
	}
	return strings.Join(steps, "; ")
}

// checkOutputDir fails, as creating the file would, when the folder a file is
// to be written into does not exist.
func checkOutputDir(path string) error {
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	if err != nil {
		return mlerr.Wrap(mlerr.IO, fmt.Errorf("%s: cannot write there: %w", path, err))
	}
	if !fi.IsDir() {
		return mlerr.Errorf(mlerr.IO, "%s: cannot write there: %s is not a folder", path, dir)
	}
	return nil
}

func (p *dryRunPlan) writeText(w io.Writer) {
	var b strings.Builder
	b.WriteString("dry run: nothing is scored and nothing is written\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s\t%s\n", k, v)
		}
	}
	row("model", p.Model.URI)
	row("location", p.Model.Location)
	row("flavor", p.Model.Flavor)
	row("estimator", p.Model.Estimator)
	row("run id", p.Model.RunID)
	in := fmt.Sprintf("%s (%s, %d bytes", p.Input.Path, p.Input.Format, p.Input.Bytes)
	switch {
	case p.Input.Rows >= 0:
		in += fmt.Sprintf(", %d rows", p.Input.Rows)
	case p.Input.Format == "csv":
		in += fmt.Sprintf(", rows counted when read; types from the header and the first %d rows", p.BatchSize)
	}
	if p.Input.Columns > 0 {
		in += fmt.Sprintf(", %d columns", p.Input.Columns)
	}
	row("input", in+")")
	row("output", fmt.Sprintf("%s (%s)", p.Output.Path, p.Output.Format))
	if p.Rejects != nil {
		row("rejects", fmt.Sprintf("%s (%s)", p.Rejects.Path, p.Rejects.Format))
	}
	onErr := p.OnError
	if p.MaxReject != "" {
		onErr += ", --max-rejects " + p.MaxReject
	}
	if p.SampleRejects >= 0 {
		onErr += fmt.Sprintf(" (rows of the sample it would reject: %d)", p.SampleRejects)
	}
	row("on error", onErr)
	row("workers", fmt.Sprint(p.Workers))
	row("batch size", fmt.Sprint(p.BatchSize))
	tw.Flush()
	if p.Model.Flavor != "" && p.Outputs != nil {
		fmt.Fprintf(&b, "binding (%d model inputs):\n", len(p.Binding))
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "  #\tmodel input\ttype\t<- column\tfile type\tconversion\n")
		for i, pb := range p.Binding {
			name := pb.Input
			if name == "" {
				name = fmt.Sprintf("(position %d)", i+1)
			}
			if pb.Optional {
				name += " (optional)"
			}
			col, ft := pb.Column, pb.FileType
			if col == "" {
				col, ft = "-", "-"
			}
			fmt.Fprintf(tw, "  %d\t%s\t%s\t<- %s\t%s\t%s\n", i+1, name, pb.InputType, col, ft, pb.Cast)
		}
		tw.Flush()
		fmt.Fprintf(&b, "output columns (%d):\n", len(p.Outputs))
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		for _, c := range p.Outputs {
			from := "kept from the input"
			if c.Prediction {
				from = "prediction"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", c.Name, c.Type, from)
		}
		tw.Flush()
	}
	io.WriteString(w, b.String())
}
