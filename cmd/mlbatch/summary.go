package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/mlbatch/mlbatch/batch"
	"github.com/mlbatch/mlbatch/batch/stats"
	"github.com/mlbatch/mlbatch/internal/mlerr"
)

// runSummary is what `mlbatch score` reports at the end of a run, on stderr for a
// person and as JSON with --summary-json for a pipeline. Its JSON field names are
// a stable interface: add fields, never rename them.
type runSummary struct {
	Status   string `json:"status"` // "ok" or "failed"
	Error    string `json:"error,omitempty"`
	ExitCode int    `json:"exit_code"`
	Version  string `json:"mlbatch_version"`

	Model   summaryModel   `json:"model"`
	Inputs  []summaryInput `json:"inputs"`
	Output  summaryFile    `json:"output"`
	Rejects *summaryFile   `json:"rejects,omitempty"`

	RowsRead     int64 `json:"rows_read"`
	RowsWritten  int64 `json:"rows_written"`
	RowsRejected int64 `json:"rows_rejected"`
	Batches      int64 `json:"batches"`

	StartedAt     time.Time `json:"started_at"`
	FinishedAt    time.Time `json:"finished_at"`
	WallSeconds   float64   `json:"wall_seconds"`
	RowsPerSecond float64   `json:"rows_per_second"`
	PeakRSSBytes  int64     `json:"peak_rss_bytes"`
	Workers       int       `json:"workers"`
	BatchSize     int       `json:"batch_size"`

	// QuantileRankError is the stated normalized rank error of p01, p50 and p99.
	QuantileRankError float64        `json:"quantile_rank_error"`
	Columns           []stats.Column `json:"columns"`

	inputIndex map[string]int // Inputs by path (account)
}

type summaryModel struct {
	URI       string `json:"uri"`
	Location  string `json:"location,omitempty"`
	Flavor    string `json:"flavor,omitempty"`
	Estimator string `json:"estimator,omitempty"`
	RunID     string `json:"run_id,omitempty"`
	ModelUUID string `json:"model_uuid,omitempty"`
	ModelID   string `json:"model_id,omitempty"`
}

type summaryInput struct {
	Path         string `json:"path"`
	Format       string `json:"format"`
	Bytes        int64  `json:"bytes"`
	RowsRead     int64  `json:"rows_read"`
	RowsWritten  int64  `json:"rows_written"`
	RowsRejected int64  `json:"rows_rejected"`
}

type summaryFile struct {
	Path   string `json:"path"`
	Format string `json:"format"`
}

// statsSink feeds each output batch to a stats.Collector before writing it. It
// runs on the pipeline's writer goroutine, in input order.
type statsSink struct {
	dst batch.Sink
	c   *stats.Collector
}

func (s statsSink) Write(rec arrow.RecordBatch) error {
	s.c.Observe(rec)
	return s.dst.Write(rec)
}

// outputColumns names the model's columns in the output schema: the last nout.
func outputColumns(out *arrow.Schema, nout int) []string {
	fields := out.Fields()
	var names []string
	for _, f := range fields[max(len(fields)-nout, 0):] {
		names = append(names, f.Name)
	}
	return names
}

// finish fills in the totals once the run is over.
func (s *runSummary) finish(st batch.Stats, err error) {
	s.FinishedAt = time.Now().UTC()
	s.RowsRead, s.RowsWritten, s.RowsRejected, s.Batches = st.RowsRead, st.RowsWritten, st.RowsRejected, st.Batches
	if len(s.Inputs) == 1 {
		s.Inputs[0].RowsRead, s.Inputs[0].RowsWritten, s.Inputs[0].RowsRejected = st.RowsRead, st.RowsWritten, st.RowsRejected
	}
	s.WallSeconds = s.FinishedAt.Sub(s.StartedAt).Seconds()
	if s.WallSeconds > 0 {
		s.RowsPerSecond = float64(st.RowsRead) / s.WallSeconds
	}
	s.PeakRSSBytes = peakRSS()
	s.setError(err)
}

func (s *runSummary) setError(err error) {
	s.Status, s.Error, s.ExitCode = "ok", "", 0
	if err != nil {
		s.Status, s.Error, s.ExitCode = "failed", err.Error(), mlerr.KindOf(err).ExitCode()
	}
}

// writeText prints the human summary.
func (s *runSummary) writeText(w io.Writer) {
	var b strings.Builder
	fmt.Fprintf(&b, "mlbatch: scored %s -> %s in %s\n", inputNames(s.Inputs), s.Output.Path, fmtDuration(s.WallSeconds))
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  model\t%s\n", s.Model.URI)
	if s.Model.Location != "" && s.Model.Location != s.Model.URI {
		fmt.Fprintf(tw, "  location\t%s\n", s.Model.Location)
	}
	fmt.Fprintf(tw, "  estimator\t%s (flavor %s)\n", s.Model.Estimator, s.Model.Flavor)
	fmt.Fprintf(tw, "  rows\t%d read, %d written, %d rejected (%d %s)\n", s.RowsRead, s.RowsWritten, s.RowsRejected, s.Batches, plural(s.Batches, "batch", "batches"))
	for i, in := range s.Inputs {
		if i == maxTextInputs && len(s.Inputs) > maxTextInputs+1 {
			fmt.Fprintf(tw, "  input\t... and %d more files (--summary-json lists them)\n", len(s.Inputs)-i)
			break
		}
		fmt.Fprintf(tw, "  input\t%s (%s, %s): %d read, %d written, %d rejected\n",
			in.Path, in.Format, fmtBytes(in.Bytes), in.RowsRead, in.RowsWritten, in.RowsRejected)
	}
	if s.Rejects != nil {
		fmt.Fprintf(tw, "  rejects\t%s\n", s.Rejects.Path)
	}
	mem := "unknown"
	if s.PeakRSSBytes > 0 {
		mem = fmtBytes(s.PeakRSSBytes)
	}
	fmt.Fprintf(tw, "  speed\t%.0f rows/s with %d workers, peak memory %s\n", s.RowsPerSecond, s.Workers, mem)
	tw.Flush()
	if len(s.Columns) > 0 {
		fmt.Fprintf(&b, "  predictions (quantiles within ±%.1f%% in rank):\n", 100*s.QuantileRankError)
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
		width := len("column")
		for _, c := range s.Columns {
			width = max(width, len(c.Name))
		}
		fmt.Fprintf(tw, "    %-*s\tcount\tnulls\tNaNs\tmin\tp01\tp50\tmean\tp99\tmax\t\n", width, "column")
		for _, c := range s.Columns {
			fmt.Fprintf(tw, "    %-*s\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t\n", width, c.Name, c.Count, c.Nulls, c.NaNs,
				fmtNum(c.Min), fmtNum(c.P01), fmtNum(c.P50), fmtNum(c.Mean), fmtNum(c.P99), fmtNum(c.Max))
		}
		tw.Flush()
		for _, c := range s.Columns {
			if len(c.Classes) == 0 {
				continue
			}
			var parts []string
			for i, cc := range c.Classes {
				if i == 10 {
					parts = append(parts, fmt.Sprintf("and %d more", len(c.Classes)-10))
					break
				}
				parts = append(parts, fmt.Sprintf("%s: %d (%.1f%%)", cc.Label, cc.Count, 100*float64(cc.Count)/float64(max(c.Count, 1))))
			}
			more := ""
			if c.ClassesTruncated {
				more = fmt.Sprintf(" (counting stopped at %d labels)", stats.MaxClasses)
			}
			fmt.Fprintf(&b, "  classes of %s: %s%s\n", c.Name, strings.Join(parts, ", "), more)
		}
	}
	io.WriteString(w, b.String())
}

func inputNames(ins []summaryInput) string {
	var names []string
	for _, in := range ins {
		names = append(names, in.Path)
	}
	if len(names) > 3 {
		return fmt.Sprintf("%s, ... %s (%d files)", names[0], names[len(names)-1], len(names))
	}
	return strings.Join(names, ", ")
}

// maxTextInputs bounds the input lines of the text summary (a dataset may have
// thousands of files; --summary-json lists them all).
const maxTextInputs = 10

func fmtNum(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.6g", *v)
}

func fmtDuration(sec float64) string {
	d := time.Duration(sec * float64(time.Second))
	switch {
	case d < time.Second:
		return d.Round(time.Microsecond * 100).String()
	case d < time.Minute:
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

func fmtBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// writeFileAtomic writes data to a temporary file beside path, fsyncs it and
// renames it over path, so a reader never sees a partial file.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// writeJSON writes the summary to path atomically.
func (s *runSummary) writeJSON(path string) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return mlerr.Wrap(mlerr.Internal, fmt.Errorf("summary: %w", err))
	}
	if err := writeFileAtomic(path, append(data, '\n')); err != nil {
		return mlerr.Wrap(mlerr.IO, fmt.Errorf("--summary-json: %w", err))
	}
	return nil
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
