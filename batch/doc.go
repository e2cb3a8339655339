// Package batch runs the scoring pipeline: it reads record batches from a reader,
// fans them out to a pool of workers that call the model, and hands the results to a
// writer in input order.
//
// Contract:
//   - Bind maps the input schema onto the model's inputs (by name, or by position
//     for positional models) and fixes the output schema: kept input columns, then
//     the model's outputs.
//   - Run reads on one goroutine, predicts on Options.Workers goroutines, and writes
//     on one goroutine. At most Options.Queue batches are in flight (read but not yet
//     written), so memory is bounded by the queue, not by the input size.
//   - The output is identical, byte for byte, for any number of workers.
//   - The first failing batch in input order decides the error; it cancels the run
//     and every batch still in flight is released. Run never commits or aborts the
//     writer: its caller does, depending on the error.
//   - Every blocking send or receive also watches ctx.Done().
package batch
