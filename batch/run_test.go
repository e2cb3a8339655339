package batch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/internal/mlerr"
	"github.com/mlbatch/mlbatch/model"
)

// fakeSource yields n batches of rows int64 values 0,1,2,... counting how many
// batches are alive (read but not yet released by the pipeline).
type fakeSource struct {
	mem     memory.Allocator
	schema  *arrow.Schema
	n, rows int
	next    int
	alive   *atomic.Int64
	maxSeen *atomic.Int64
}

func newFakeSource(mem memory.Allocator, n, rows int) *fakeSource {
	return &fakeSource{mem: mem, n: n, rows: rows,
		schema:  arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Float64}}, nil),
		alive:   new(atomic.Int64),
		maxSeen: new(atomic.Int64)}
}

func (s *fakeSource) Name() string { return "fake.csv" }

func (s *fakeSource) Next() (arrow.RecordBatch, error) {
	if s.next == s.n {
		return nil, io.EOF
	}
	b := array.NewFloat64Builder(s.mem)
	defer b.Release()
	for i := range s.rows {
		b.Append(float64(s.next*s.rows + i))
	}
	s.next++
	col := b.NewArray()
	defer col.Release()
	a := s.alive.Add(1)
	for {
		m := s.maxSeen.Load()
		if a <= m || s.maxSeen.CompareAndSwap(m, a) {
			break
		}
	}
	return &countedRecord{RecordBatch: array.NewRecordBatch(s.schema, []arrow.Array{col}, int64(s.rows)), alive: s.alive}, nil
}

// countedRecord decrements the source's alive count when released for good.
type countedRecord struct {
	arrow.RecordBatch
	alive *atomic.Int64
	refs  atomic.Int64
}

func (r *countedRecord) Retain() { r.refs.Add(1); r.RecordBatch.Retain() }
func (r *countedRecord) Release() {
	if r.refs.Add(-1) < 0 {
		r.alive.Add(-1)
	}
	r.RecordBatch.Release()
}

// doubler predicts 2x; it fails on the value failAt with a row error, and sleeps
// longer on early batches so that later batches finish first.
type doubler struct {
	failAt float64
	slow   bool
}

func (d doubler) Info() model.Info { return model.Info{Flavor: "test", Estimator: "doubler"} }
func (d doubler) Inputs() []model.Column {
	return []model.Column{{Name: "x", Type: arrow.PrimitiveTypes.Float64, Required: true}}
}
func (d doubler) Outputs() []model.Column {
	return []model.Column{{Name: "prediction", Type: arrow.PrimitiveTypes.Float64}}
}
func (d doubler) Predict(ctx context.Context, in model.Features, mem memory.Allocator) ([]arrow.Array, error) {
	x := in.Cols[0].(*array.Float64).Float64Values()
	if d.slow && x[0] < 50 {
		time.Sleep(5 * time.Millisecond)
	}
	b := array.NewFloat64Builder(mem)
	defer b.Release()
	for i, v := range x {
		if v == d.failAt {
			return nil, &mlerr.RowError{Row: int64(i + 1), Column: "x", Value: fmt.Sprint(v), Err: errors.New("bad")}
		}
		b.Append(2 * v)
	}
	return []arrow.Array{b.NewArray()}, nil
}

// collect is a sink that checks order and counts rows.
type collect struct {
	mu   sync.Mutex
	vals []float64
}

func (c *collect) Write(rec arrow.RecordBatch) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.vals = append(c.vals, rec.Column(int(rec.NumCols())-1).(*array.Float64).Float64Values()...)
	return nil
}

func bind(t *testing.T, src *fakeSource, m model.Model) *Binding {
	b, err := Bind(src.schema, m, []string{}, "prediction")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRunOrderAndRelease(t *testing.T) {
	for _, workers := range []int{1, 2, 8} {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		src := newFakeSource(mem, 40, 10)
		m := doubler{failAt: -1, slow: true}
		sink := &collect{}
		stats, err := Run(context.Background(), src, m, bind(t, src, m), sink, Options{Workers: workers, Mem: mem})
		if err != nil {
			t.Fatal(err)
		}
		if stats.RowsRead != 400 || stats.RowsWritten != 400 || stats.Batches != 40 {
			t.Errorf("workers %d: stats %+v", workers, stats)
		}
		for i, v := range sink.vals {
			if v != float64(2*i) {
				t.Fatalf("workers %d: row %d = %v: out of order", workers, i, v)
			}
		}
		// The queue bounds the batches in flight: Queue (2*workers) futures plus
		// one being handed over, whatever the input size.
		if max := src.maxSeen.Load(); max > int64(2*workers+2) {
			t.Errorf("workers %d: %d batches alive at once, want at most %d", workers, max, 2*workers+2)
		}
		mem.AssertSize(t, 0)
	}
}

// TestRunFirstErrorInOrder: the reported error is the first failing batch in input
// order, with the file and the row number in the file, whatever the timing.
func TestRunFirstErrorInOrder(t *testing.T) {
	for _, workers := range []int{1, 2, 8} {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		src := newFakeSource(mem, 40, 10)
		m := doubler{failAt: 123, slow: true}
		_, err := Run(context.Background(), src, m, bind(t, src, m), &collect{}, Options{Workers: workers, Mem: mem})
		re, ok := mlerr.AsRowError(err)
		if !ok || re.Row != 124 || re.File != "fake.csv" {
			t.Errorf("workers %d: %v", workers, err)
		}
		if got := err.Error(); got != `fake.csv row 124: column "x": value "123": bad` {
			t.Errorf("workers %d: message %q", workers, got)
		}
		if a := src.alive.Load(); a != 0 {
			t.Errorf("workers %d: %d batches never released", workers, a)
		}
		mem.AssertSize(t, 0)
	}
}

// TestRunCancel: a cancelled context stops the run, reports Interrupted and
// releases every batch.
func TestRunCancel(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	src := newFakeSource(mem, 1000, 10)
	m := doubler{failAt: -1, slow: true}
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	_, err := Run(ctx, src, m, bind(t, src, m), &collect{}, Options{Workers: 4, Mem: mem,
		Progress: func(Stats) {
			if n++; n == 3 {
				cancel()
			}
		}})
	if mlerr.KindOf(err) != mlerr.Interrupted {
		t.Fatalf("got %v (kind %v), want interrupted", err, mlerr.KindOf(err))
	}
	if src.next == 1000 {
		t.Error("the reader went on to the end after cancellation")
	}
	if a := src.alive.Load(); a != 0 {
		t.Errorf("%d batches never released", a)
	}
	mem.AssertSize(t, 0)
}

// failingSink fails on its third write.
type failingSink struct{ n int }

func (f *failingSink) Write(arrow.RecordBatch) error {
	if f.n++; f.n == 3 {
		return mlerr.Errorf(mlerr.IO, "disk full")
	}
	return nil
}

func TestRunSinkError(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	src := newFakeSource(mem, 50, 10)
	m := doubler{failAt: -1}
	_, err := Run(context.Background(), src, m, bind(t, src, m), &failingSink{}, Options{Workers: 3, Mem: mem})
	if mlerr.KindOf(err) != mlerr.IO {
		t.Fatalf("got %v", err)
	}
	if a := src.alive.Load(); a != 0 {
		t.Errorf("%d batches never released", a)
	}
	mem.AssertSize(t, 0)
}
