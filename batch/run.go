package batch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"golang.org/x/sync/errgroup"

	"github.com/mlbatch/mlbatch/internal/csvtext"
	"github.com/mlbatch/mlbatch/internal/mlerr"
	"github.com/mlbatch/mlbatch/model"
)

// Source is where batches come from (readers.Reader satisfies it).
type Source interface {
	Name() string
	Next() (arrow.RecordBatch, error)
}

// Located is implemented by sources that read several files in turn (a dataset).
// After each Next, Location names the file the batch came from and the data rows
// of that file before the batch (rows left out by the reader included), so errors
// and rejects name the file and its own row numbers. A batch never spans two
// files.
type Located interface {
	Location() (file string, offset int64)
}

// Sink is where result batches go (writers.Writer satisfies it).
type Sink interface {
	Write(rec arrow.RecordBatch) error
}

// Options tune the pipeline.
type Options struct {
	// Workers is the number of predicting goroutines (default runtime.NumCPU()).
	Workers int
	// Queue bounds the batches in flight (default 2 * Workers).
	Queue int
	// Mem allocates prediction arrays (default memory.DefaultAllocator).
	Mem memory.Allocator
	// Progress, when set, is called from the writing goroutine after each batch is
	// written, with the running totals.
	Progress func(Stats)

	// Skip turns rows the model refuses (a *mlerr.RowError from Predict) into
	// rejects instead of failing the run (--on-error=skip).
	Skip bool
	// Rejects receives every rejected row, in input order; required with Skip.
	Rejects RejectSink
	// RejectColumns names the input columns a Reject's Values are aligned to.
	RejectColumns []string
	// ReaderRejects, when set, is called on the reading goroutine after every
	// Next and returns the rows the reader left out since the last call.
	ReaderRejects func() []Reject
	// MaxRejects stops the run once more rows than its Count were rejected.
	MaxRejects MaxRejects
	// Account, when set, is called on the writing goroutine, in input order, for
	// every batch taken from the source: the file it came from (Located, else the
	// source's Name) and its rows read, written and rejected.
	Account func(file string, read, written, rejected int64)
}

// Stats counts what a run did.
type Stats struct {
	// RowsRead counts the data rows taken from the input, rejected ones included:
	// RowsRead = RowsWritten + RowsRejected when a run succeeds.
	RowsRead     int64
	RowsWritten  int64
	RowsRejected int64
	Batches      int64
}

type result struct {
	rec     arrow.RecordBatch // nil for a job that only carries rejects
	rejects []Reject
	err     error
	file    string // the job's file and rows read, for Options.Account
	read    int64
}

type job struct {
	rec     arrow.RecordBatch // nil: no rows, only the reader's rejects
	offset  int64             // data rows before this batch in the source
	file    string            // the file the batch came from
	rows    []int64           // file row of every row, or nil when contiguous
	rejects []Reject          // rows the reader left out while reading this batch
	fut     chan result
}

// Run scores every batch of src with m and writes the results to dst in input order.
func Run(ctx context.Context, src Source, m model.Model, b *Binding, dst Sink, opts Options) (Stats, error) {
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	queue := opts.Queue
	if queue <= 0 {
		queue = 2 * workers
	}
	mem := opts.Mem
	if mem == nil {
		mem = memory.DefaultAllocator
	}

	var stats Stats           // written by the writer goroutine
	var rowsRead atomic.Int64 // written by the reader goroutine
	g, gctx := errgroup.WithContext(ctx)
	jobs := make(chan job)
	futures := make(chan chan result, queue)

	// Reader: one goroutine, in order.
	g.Go(func() error {
		defer close(jobs)
		defer close(futures)
		var offset int64
		numberer, _ := src.(interface{ RowNumbers() []int64 })
		located, _ := src.(Located)
		file := src.Name()
		for {
			if err := gctx.Err(); err != nil {
				return err
			}
			rec, err := src.Next()
			eof := errors.Is(err, io.EOF)
			if err != nil && !eof {
				return err
			}
			if located != nil {
				file, offset = located.Location()
			}
			j := job{rec: rec, offset: offset, file: file}
			if opts.ReaderRejects != nil {
				j.rejects = opts.ReaderRejects()
				for k := range j.rejects {
					if j.rejects[k].File == "" {
						j.rejects[k].File = file
					}
				}
			}
			if eof {
				rec = nil
				j.rec = nil
				if len(j.rejects) == 0 {
					return nil
				}
			}
			var n int64
			if rec != nil {
				n = rec.NumRows()
				if numberer != nil {
					j.rows = numberer.RowNumbers()
				}
			}
			rowsRead.Add(n + int64(len(j.rejects)))
			j.fut = make(chan result, 1)
			select {
			case futures <- j.fut:
			case <-gctx.Done():
				if rec != nil {
					rec.Release()
				}
				return gctx.Err()
			}
			select {
			case jobs <- j:
			case <-gctx.Done():
				if rec != nil {
					rec.Release()
				}
				j.fut <- result{err: gctx.Err()}
				return gctx.Err()
			}
			if eof {
				return nil
			}
			// The next batch starts after this one's last row, skipped ones included.
			if len(j.rows) > 0 {
				offset = j.rows[len(j.rows)-1]
			} else {
				offset += n
			}
			for _, r := range j.rejects {
				offset = max(offset, r.Row)
			}
		}
	})

	// Workers: never return an error themselves, so that the first failing batch in
	// input order (seen by the writer) decides the run's error, whatever the timing.
	for range workers {
		g.Go(func() error {
			for j := range jobs {
				if err := gctx.Err(); err != nil {
					if j.rec != nil {
						j.rec.Release()
					}
					j.fut <- result{err: err}
					continue
				}
				if j.rec == nil {
					j.fut <- result{rejects: j.rejects, file: j.file}
					continue
				}
				read := j.rec.NumRows() + int64(len(j.rejects))
				out, rejects, err := predict(gctx, j, j.file, m, b, mem, &opts)
				j.fut <- result{rec: out, rejects: append(j.rejects, rejects...), err: err, file: j.file, read: read}
			}
			return nil
		})
	}

	// Writer: in input order. held is the future it is waiting on when the run is
	// cancelled; its result is released below.
	var held chan result
	g.Go(func() error {
		for fut := range futures {
			var r result
			select {
			case r = <-fut:
			case <-gctx.Done():
				held = fut
				return gctx.Err()
			}
			if r.err != nil {
				return r.err
			}
			if len(r.rejects) > 0 {
				if opts.Rejects == nil {
					if r.rec != nil {
						r.rec.Release()
					}
					return mlerr.Errorf(mlerr.Internal, "rows were rejected but there is no rejects file")
				}
				sortRejects(r.rejects)
				if err := opts.Rejects.WriteRejects(r.rejects); err != nil {
					if r.rec != nil {
						r.rec.Release()
					}
					return err
				}
				stats.RowsRejected += int64(len(r.rejects))
				if err := opts.MaxRejects.Check(stats.RowsRejected, 0); err != nil {
					if r.rec != nil {
						r.rec.Release()
					}
					return err
				}
			}
			if r.rec == nil {
				if opts.Account != nil {
					opts.Account(r.file, int64(len(r.rejects)), 0, int64(len(r.rejects)))
				}
				continue
			}
			err := dst.Write(r.rec)
			n := r.rec.NumRows()
			r.rec.Release()
			if err != nil {
				return err
			}
			if opts.Account != nil {
				opts.Account(r.file, r.read, n, int64(len(r.rejects)))
			}
			stats.RowsWritten += n
			stats.Batches++
			if opts.Progress != nil {
				snap := stats
				snap.RowsRead = rowsRead.Load()
				opts.Progress(snap)
			}
		}
		return nil
	})

	err := g.Wait()
	// Release results that were computed but never written. Every worker has
	// returned, so a future either holds its result already or never will.
	release := func(fut chan result) {
		select {
		case r := <-fut:
			if r.rec != nil {
				r.rec.Release()
			}
		default:
		}
	}
	if held != nil {
		release(held)
	}
	for fut := range futures {
		release(fut)
	}
	stats.RowsRead = rowsRead.Load()
	if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		err = mlerr.Wrap(mlerr.Interrupted, fmt.Errorf("interrupted: %w", err))
	}
	return stats, err
}

// predict scores one batch and assembles the output batch: kept columns, then the
// model's outputs. It takes ownership of j.rec. With opts.Skip, rows the model
// refuses are taken out of the batch and returned as rejects, and the rest is
// scored again.
func predict(ctx context.Context, j job, source string, m model.Model, b *Binding, mem memory.Allocator, opts *Options) (arrow.RecordBatch, []Reject, error) {
	rec := j.rec
	defer func() { rec.Release() }()
	rows := j.rows
	fileRow := func(i int) int64 {
		if rows != nil {
			return rows[i]
		}
		return j.offset + int64(i) + 1
	}
	// The input's text (CSV to CSV), kept on the output batch. It is retained
	// here since rec may be replaced below.
	text, textCols, hasText := csvtext.Of(rec)
	if hasText {
		text.Text.Retain()
		defer func() { text.Text.Release() }()
	}
	var rejects []Reject
	for {
		n := int(rec.NumRows())
		feats := make([]arrow.Array, len(b.FeatureIdx))
		for i, idx := range b.FeatureIdx {
			if idx >= 0 {
				feats[i] = rec.Column(idx)
			}
		}
		var outs []arrow.Array
		var err error
		if n > 0 {
			outs, err = m.Predict(ctx, model.Features{Cols: feats, Rows: n}, mem)
		} else {
			outs = emptyOutputs(b, mem)
		}
		if err != nil {
			re, ok := mlerr.AsRowError(err)
			if !ok {
				return nil, nil, err
			}
			if re.File == "" {
				re.File = source
			}
			if re.Row < 1 || re.Row > int64(n) {
				return nil, nil, err
			}
			i := int(re.Row - 1)
			re.File = source
			re.Row = fileRow(i)
			if !opts.Skip {
				return nil, nil, err
			}
			rejects = append(rejects, rowReject(rec, i, re, opts.RejectColumns))
			next, err := dropRow(rec, i, mem)
			if err != nil {
				return nil, nil, err
			}
			rec.Release()
			rec = next
			if hasText {
				without := text.Without(i, mem)
				text.Text.Release()
				text = without
			}
			if rows == nil {
				rows = make([]int64, n)
				for k := range rows {
					rows[k] = j.offset + int64(k) + 1
				}
			} else {
				rows = append([]int64(nil), rows...)
			}
			rows = append(rows[:i], rows[i+1:]...)
			continue
		}
		out, err := assemble(rec, outs, b)
		for _, a := range outs {
			a.Release()
		}
		if err == nil && hasText && keepsPrefix(b.KeepIdx, textCols) {
			out = csvtext.Attach(out, text, textCols)
		}
		return out, rejects, err
	}
}

// keepsPrefix reports whether the kept columns are exactly the batch's first n
// columns in order, so the output's first n columns are the input's text.
func keepsPrefix(keep []int, n int) bool {
	if len(keep) != n {
		return false
	}
	for i, idx := range keep {
		if idx != i {
			return false
		}
	}
	return true
}

// assemble builds the output batch: the kept input columns, then the outputs.
func assemble(rec arrow.RecordBatch, outs []arrow.Array, b *Binding) (arrow.RecordBatch, error) {
	rows := int(rec.NumRows())
	if len(outs) != len(b.Out.Fields())-len(b.KeepIdx) {
		return nil, fmt.Errorf("model returned %d outputs, want %d", len(outs), len(b.Out.Fields())-len(b.KeepIdx))
	}
	cols := make([]arrow.Array, 0, len(b.Out.Fields()))
	for _, idx := range b.KeepIdx {
		cols = append(cols, rec.Column(idx))
	}
	for _, a := range outs {
		if a.Len() != rows {
			return nil, fmt.Errorf("model returned %d rows for a batch of %d", a.Len(), rows)
		}
		cols = append(cols, a)
	}
	return array.NewRecordBatch(b.Out, cols, int64(rows)), nil
}

// emptyOutputs makes zero-length output arrays for a batch that lost every row.
func emptyOutputs(b *Binding, mem memory.Allocator) []arrow.Array {
	fields := b.Out.Fields()[len(b.KeepIdx):]
	outs := make([]arrow.Array, len(fields))
	for i, f := range fields {
		bld := array.NewBuilder(mem, f.Type)
		outs[i] = bld.NewArray()
		bld.Release()
	}
	return outs
}

// rowReject records row i of rec as rejected, with its values as text aligned to
// the reject columns.
func rowReject(rec arrow.RecordBatch, i int, re *mlerr.RowError, columns []string) Reject {
	r := Reject{File: re.File, Row: re.Row, Reason: RejectReason(re), Values: make([]string, len(columns)), Null: make([]bool, len(columns))}
	for k := range r.Null {
		r.Null[k] = true
	}
	for c := range int(rec.NumCols()) {
		name := rec.ColumnName(c)
		for k, col := range columns {
			if col != name {
				continue
			}
			a := rec.Column(c)
			if !a.IsNull(i) {
				r.Values[k], r.Null[k] = a.ValueStr(i), false
			}
		}
	}
	return r
}

// dropRow returns rec without row i.
func dropRow(rec arrow.RecordBatch, i int, mem memory.Allocator) (arrow.RecordBatch, error) {
	n := rec.NumRows()
	cols := make([]arrow.Array, rec.NumCols())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for c := range cols {
		a := rec.Column(c)
		head := array.NewSlice(a, 0, int64(i))
		tail := array.NewSlice(a, int64(i)+1, n)
		joined, err := array.Concatenate([]arrow.Array{head, tail}, mem)
		head.Release()
		tail.Release()
		if err != nil {
			return nil, err
		}
		cols[c] = joined
	}
	return array.NewRecordBatch(rec.Schema(), cols, n-1), nil
}
