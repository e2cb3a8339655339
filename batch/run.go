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

	"github.com/mlbatch/mlbatch/internal/mlerr"
	"github.com/mlbatch/mlbatch/model"
)

// Source is where batches come from (readers.Reader satisfies it).
type Source interface {
	Name() string
	Next() (arrow.RecordBatch, error)
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
}

// Stats counts what a run did.
type Stats struct {
	RowsRead    int64
	RowsWritten int64
	Batches     int64
}

type result struct {
	rec arrow.RecordBatch
	err error
}

type job struct {
	rec    arrow.RecordBatch
	offset int64 // data rows before this batch in the source
	fut    chan result
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
		for {
			if err := gctx.Err(); err != nil {
				return err
			}
			rec, err := src.Next()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			n := rec.NumRows()
			rowsRead.Add(n)
			fut := make(chan result, 1)
			select {
			case futures <- fut:
			case <-gctx.Done():
				rec.Release()
				return gctx.Err()
			}
			select {
			case jobs <- job{rec: rec, offset: offset, fut: fut}:
			case <-gctx.Done():
				rec.Release()
				fut <- result{err: gctx.Err()}
				return gctx.Err()
			}
			offset += n
		}
	})

	// Workers: never return an error themselves, so that the first failing batch in
	// input order (seen by the writer) decides the run's error, whatever the timing.
	for range workers {
		g.Go(func() error {
			for j := range jobs {
				if err := gctx.Err(); err != nil {
					j.rec.Release()
					j.fut <- result{err: err}
					continue
				}
				out, err := predict(gctx, j, src.Name(), m, b, mem)
				j.rec.Release()
				j.fut <- result{rec: out, err: err}
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
			err := dst.Write(r.rec)
			n := r.rec.NumRows()
			r.rec.Release()
			if err != nil {
				return err
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
// model's outputs.
func predict(ctx context.Context, j job, source string, m model.Model, b *Binding, mem memory.Allocator) (arrow.RecordBatch, error) {
	rows := int(j.rec.NumRows())
	feats := make([]arrow.Array, len(b.FeatureIdx))
	for i, idx := range b.FeatureIdx {
		if idx >= 0 {
			feats[i] = j.rec.Column(idx)
		}
	}
	outs, err := m.Predict(ctx, model.Features{Cols: feats, Rows: rows}, mem)
	if err != nil {
		if re, ok := mlerr.AsRowError(err); ok {
			re.File = source
			if re.Row > 0 {
				re.Row += j.offset
			}
		}
		return nil, err
	}
	defer func() {
		for _, a := range outs {
			a.Release()
		}
	}()
	if len(outs) != len(b.Out.Fields())-len(b.KeepIdx) {
		return nil, fmt.Errorf("model returned %d outputs, want %d", len(outs), len(b.Out.Fields())-len(b.KeepIdx))
	}
	cols := make([]arrow.Array, 0, len(b.Out.Fields()))
	for _, idx := range b.KeepIdx {
		cols = append(cols, j.rec.Column(idx))
	}
	for _, a := range outs {
		if a.Len() != rows {
			return nil, fmt.Errorf("model returned %d rows for a batch of %d", a.Len(), rows)
		}
		cols = append(cols, a)
	}
	return array.NewRecordBatch(b.Out, cols, int64(rows)), nil
}
