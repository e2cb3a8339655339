package serve

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/model"
)

// engine scores requests with one loaded model. Small requests are micro-batched:
// Workers goroutines take jobs from one queue, and a worker that takes a job also
// takes the jobs queued behind it (up to MaxBatchRows rows), concatenates their
// features, makes one vectorised Predict call and hands each job the slice of
// the outputs that holds its own rows. When other requests are still being
// decoded, the worker waits up to BatchWait for them; when none is, it predicts at
// once, so a lone request never waits.
type engine struct {
	m      model.Model
	mm     *model.MLmodel
	bind   *binder
	shape  shape
	mem    memory.Allocator
	single bool // the model takes exactly one input
	params *paramSchema

	maxRows int
	wait    time.Duration
	queue   chan *job
	kick    chan struct{}
	// pending counts admitted requests that may still join the queue (being
	// read and decoded). A worker waits for more jobs only while it is above 0.
	pending atomic.Int64
	wg      sync.WaitGroup
	ctx     context.Context // for Predict calls: batches mix requests
	cancel  context.CancelFunc
	met     *metrics
}

// job is one request's features waiting to be scored.
type job struct {
	feats []arrow.Array
	rows  int
	done  chan jobResult // buffered: the worker never blocks on it
}

type jobResult struct {
	outs []arrow.Array // this job's rows only; the receiver releases them
	err  error
}

func newEngine(m model.Model, mm *model.MLmodel, opts Options, met *metrics) (*engine, error) {
	sh, err := planOutputs(m.Outputs(), opts.Proba || PredictsProba(mm))
	if err != nil {
		return nil, err
	}
	ps, err := parseParamSchema(mm)
	if err != nil {
		return nil, err
	}
	e := &engine{
		m: m, mm: mm, bind: newBinder(m), shape: sh, mem: opts.Mem,
		single: len(m.Inputs()) == 1, params: ps,
		maxRows: opts.MaxBatchRows, wait: opts.BatchWait, met: met,
		kick: make(chan struct{}, 1),
	}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	if e.maxRows > 1 {
		e.queue = make(chan *job, 4*opts.MaxConcurrency)
		for range opts.Workers {
			e.wg.Add(1)
			go e.worker()
		}
	}
	return e, nil
}

// PredictsProba reports a model logged with pyfunc_predict_fn="predict_proba":
// MLflow's server answers its probabilities. Load it with LoadOptions.Proba.
func PredictsProba(mm *model.MLmodel) bool {
	return mm != nil && mm.FlavorString("python_function", "predict_fn") == "predict_proba"
}

// close stops the workers once every request has been answered.
func (e *engine) close() {
	if e.queue != nil {
		close(e.queue)
	}
	e.wg.Wait()
	e.cancel()
}

// arrived and settled bracket the time a request may still join the queue.
func (e *engine) arrived() { e.pending.Add(1) }

func (e *engine) settled() {
	if e.pending.Add(-1) == 0 {
		select {
		case e.kick <- struct{}{}:
		default:
		}
	}
}

// predict scores feats (rows long) and returns the model's outputs for exactly
// those rows. It takes ownership of feats. The caller releases the outputs.
func (e *engine) predict(feats []arrow.Array, rows int) ([]arrow.Array, error) {
	batchable := e.queue != nil && rows > 0 && rows < e.maxRows
	for _, a := range feats {
		if a == nil {
			batchable = false // an absent optional input cannot be concatenated
		}
	}
	if !batchable {
		e.settled()
		defer release(feats)
		return e.call(feats, rows)
	}
	j := &job{feats: feats, rows: rows, done: make(chan jobResult, 1)}
	e.settled()
	e.queue <- j
	r := <-j.done
	return r.outs, r.err
}

// call makes one Predict call.
func (e *engine) call(feats []arrow.Array, rows int) ([]arrow.Array, error) {
	e.met.predictCalls.Add(1)
	outs, err := e.m.Predict(e.ctx, model.Features{Cols: feats, Rows: rows}, e.mem)
	if err != nil {
		// MLflow answers whatever the model raises with 400 BAD_REQUEST.
		return nil, &modelInputError{err: err, model: true}
	}
	if len(outs) != len(e.m.Outputs()) {
		release(outs)
		return nil, fmt.Errorf("the model returned %d outputs, want %d", len(outs), len(e.m.Outputs()))
	}
	for _, a := range outs {
		if a.Len() != rows {
			release(outs)
			return nil, fmt.Errorf("the model returned %d rows for %d", a.Len(), rows)
		}
	}
	return outs, nil
}

func (e *engine) worker() {
	defer e.wg.Done()
	var carry *job // a job taken that did not fit the previous batch
	for {
		first := carry
		carry = nil
		if first == nil {
			var ok bool
			if first, ok = <-e.queue; !ok {
				return
			}
		}
		batch := []*job{first}
		rows := first.rows
		var timer *time.Timer
		var deadline <-chan time.Time
	gather:
		for rows < e.maxRows {
			// Take what is queued already.
			select {
			case j, ok := <-e.queue:
				if !ok {
					break gather
				}
				if rows+j.rows > e.maxRows {
					carry = j
					break gather
				}
				batch = append(batch, j)
				rows += j.rows
				continue
			default:
			}
			// Nothing queued: wait only while requests are still arriving.
			if e.wait <= 0 || e.pending.Load() <= 0 {
				break
			}
			if timer == nil {
				timer = time.NewTimer(e.wait)
				deadline = timer.C
			}
			select {
			case j, ok := <-e.queue:
				if !ok {
					break gather
				}
				if rows+j.rows > e.maxRows {
					carry = j
					break gather
				}
				batch = append(batch, j)
				rows += j.rows
			case <-e.kick:
			case <-deadline:
				break gather
			}
		}
		if timer != nil {
			timer.Stop()
		}
		e.run(batch, rows)
	}
}

// run scores a batch and answers each of its jobs.
func (e *engine) run(batch []*job, rows int) {
	if len(batch) == 1 {
		j := batch[0]
		outs, err := e.call(j.feats, j.rows)
		release(j.feats)
		j.done <- jobResult{outs: outs, err: err}
		return
	}
	e.met.batchedRequests.Add(uint64(len(batch)))
	feats, err := concat(batch, e.mem)
	var outs []arrow.Array
	if err == nil {
		outs, err = e.call(feats, rows)
		release(feats)
	}
	if err != nil {
		// One bad request must not fail the others: score each on its own, so
		// each gets its own answer (and its own row numbers in errors).
		for _, j := range batch {
			o, err := e.call(j.feats, j.rows)
			release(j.feats)
			j.done <- jobResult{outs: o, err: err}
		}
		return
	}
	off := 0
	for _, j := range batch {
		mine := make([]arrow.Array, len(outs))
		for i, a := range outs {
			mine[i] = array.NewSlice(a, int64(off), int64(off+j.rows))
		}
		off += j.rows
		release(j.feats)
		j.done <- jobResult{outs: mine}
	}
	release(outs)
}

// concat joins the jobs' features column by column.
func concat(batch []*job, mem memory.Allocator) ([]arrow.Array, error) {
	n := len(batch[0].feats)
	out := make([]arrow.Array, n)
	parts := make([]arrow.Array, len(batch))
	for i := range n {
		for k, j := range batch {
			parts[k] = j.feats[i]
		}
		a, err := array.Concatenate(parts, mem)
		if err != nil {
			release(out)
			return nil, err
		}
		out[i] = a
	}
	return out, nil
}
