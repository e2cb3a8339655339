// Package stats gathers prediction statistics over the output batches of a run:
// per column the count, nulls, NaNs, min, max, mean and quantiles (from a
// sketch.KLL, rank error about 1.5% at 99% confidence), and class counts for label
// columns (integers, booleans and strings).
//
// A Collector is fed with Observe from one goroutine (the pipeline's writer, in
// input order, so the result does not depend on the number of workers). It only
// reads the batch; ownership stays with the caller.
package stats
