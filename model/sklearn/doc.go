// Package sklearn loads scikit-learn models logged with MLflow's sklearn flavor and
// predicts with them in Go, giving the numbers scikit-learn gives.
//
// The pickle is decoded by the safe reader in model/pickle, which builds only the
// classes this package allows; each one is turned into a Go estimator by the
// constructor registered for it (see registry.go). Any other class fails closed
// with an error that names it.
//
// Estimators are immutable after load and safe for concurrent use. Inputs arrive as
// Arrow arrays and are viewed as float64 columns (Dense); linear models work column
// by column on those buffers.
package sklearn
