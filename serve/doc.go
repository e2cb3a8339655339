// Package serve is `mlbatch serve`: MLflow's model scoring protocol (the REST API
// of `mlflow models serve`) over mlbatch's model engine.
//
// Routes: POST /invocations scores a JSON body (dataframe_split,
// dataframe_records, instances or inputs, with optional params; or MLflow 1.x's
// pandas split dictionary and records list) or a text/csv body, and answers
// {"predictions": [...]} (or the bare list with ResponseFormat "v1"). GET /ping
// and /health answer 200 once the model is loaded, GET /version the version, and
// GET /metrics Prometheus counters. Errors are MLflow's JSON error body
// {"error_code": ..., "message": ...} with MLflow's status codes.
//
// Contract:
//   - A request's columns are bound to the model's inputs with batch.Bind's rules
//     (by name, or by position for a positional model) and parsed straight to the
//     types the model takes, as `mlbatch score` parses a CSV input; see convert.go.
//   - Each answer holds exactly its own request's rows, in order, whatever the
//     micro-batching: a batch's outputs are sliced per request, and a batch that
//     fails is scored again request by request so one bad request fails alone.
//   - Response numbers are written as Python's json.dumps writes them (repr
//     floats: shortest round-trip text), so every float64 parses back exactly.
//   - Feature and prediction arrays are allocated from Options.Mem (float64
//     features from Go memory) and all released before a handler returns; a JSON
//     body is parsed into a pooled arena that is reused once the request is
//     answered. The model is shared by all requests (model.Model is safe for
//     concurrent use).
//   - A request with no rows is answered with an empty list, where
//     scikit-learn would refuse it.
//   - Where MLflow's pandas casts would silently change a value (1.5 into a long
//     column becomes 1, "1.5" or true into a double column is converted), the
//     request is refused with the column, row and value instead.
//   - At most Options.MaxConcurrency scoring requests are handled at once; the
//     rest get 503 with Retry-After at once, never a queue of unbounded size.
//   - Serve shuts down gracefully when its context is cancelled: it stops
//     accepting, answers every request it has read, then returns nil.
package serve
