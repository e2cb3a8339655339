// Package sketch holds small streaming summaries used for run summaries.
//
// KLL is a quantile sketch (Karnin, Lang and Liberty, "Optimal Quantile
// Approximation in Streams", 2016) in a few kilobytes whatever the stream's
// length. With the default K = 256, the rank of any quantile it returns is within
// ±1.5% of the stream length of the requested rank with probability at least 99%
// (Apache DataSketches measures 1.33% at 99% confidence for its KLL at k = 256;
// the test checks 1.5% over many seeds and data orders). A stream of at most K
// values is kept whole and its quantiles are exact.
//
// A sketch is not safe for concurrent use. Its randomness comes from a fixed seed,
// so the same stream always gives the same answers.
package sketch
