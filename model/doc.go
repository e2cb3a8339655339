// Package model loads MLflow models and describes what they take and produce.
//
// Contract:
//   - Resolve turns a model URI (a folder, file://, runs:/..., models:/...) into a
//     local model folder holding an MLmodel file, reading the tracking store the
//     options name: a file store, an MLflow SQLite database (read-only) or a
//     tracking server (downloads cached, never used half-written).
//   - Load reads the MLmodel file and hands the folder to the loader registered for
//     the first flavor it supports (flavor packages register themselves in init).
//   - A loaded Model is immutable and safe for concurrent use by many workers.
//     Predict never keeps references to its inputs; the arrays it returns belong to
//     the caller, who releases them.
//   - Errors from Predict about a value carry a *mlerr.RowError whose Row is the
//     1-based row within the batch; the pipeline adds the file and the row offset.
package model
