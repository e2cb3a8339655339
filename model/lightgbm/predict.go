package lightgbm

import (
	"context"
	"fmt"
)

// blockBytes is the target size of the row-major buffer one block of rows is
// transposed into: small enough to stay in L2 while every tree walks the block.
const blockBytes = 128 << 10

// blockRows is the number of rows scored together for nf features.
func blockRows(nf int) int {
	r := blockBytes / 8 / max(nf, 1)
	return min(max(r, 8), 1024)
}

// Predict scores rows given one float64 column per feature (NaN for missing
// values) and writes NumClass transformed scores per row, row-major, into out
// (len rows*NumClass): what Booster.predict returns. cols are not modified.
func (b *Booster) Predict(ctx context.Context, cols [][]float64, rows int, out []float64) error {
	if err := b.PredictRaw(ctx, cols, rows, out); err != nil {
		return err
	}
	b.transform(out, b.numIter)
	return nil
}

// Transform turns raw scores (rows*NumClass, row-major) into predictions in
// place: the average over iterations for average_output models, then the
// objective's ConvertOutput.
func (b *Booster) Transform(out []float64) { b.transform(out, b.numIter) }

// transform is Transform for a prediction that used the first iters iterations.
func (b *Booster) transform(out []float64, iters int) {
	k := b.NumClass
	for r := 0; r+k <= len(out); r += k {
		s := out[r : r+k]
		if b.AverageOutput {
			for j := range s {
				s[j] /= float64(iters)
			}
		}
		b.Objective.convert(s)
	}
}

// PredictRaw writes the raw scores (the sum of the trees per class, before
// averaging and the objective's transform) into out.
func (b *Booster) PredictRaw(ctx context.Context, cols [][]float64, rows int, out []float64) error {
	return b.predictRaw(ctx, cols, rows, b.numIter, out)
}

// predictRaw sums the first iters iterations' trees.
func (b *Booster) predictRaw(ctx context.Context, cols [][]float64, rows, iters int, out []float64) error {
	nf := len(b.FeatureNames)
	k := b.NumClass
	if len(cols) != nf {
		return fmt.Errorf("lightgbm: %d feature columns, the model has %d features", len(cols), nf)
	}
	for j, c := range cols {
		if len(c) < rows {
			return fmt.Errorf("lightgbm: feature %d has %d values for %d rows", j, len(c), rows)
		}
	}
	if len(out) != rows*k {
		return fmt.Errorf("lightgbm: output holds %d values, want %d", len(out), rows*k)
	}
	clear(out)
	trees := b.trees[:iters*b.TreesPerIteration]
	br := blockRows(nf)
	buf := make([]float64, br*max(nf, 1))
	for r0 := 0; r0 < rows; r0 += br {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(br, rows-r0)
		// Transpose the block into row-major order. LightGBM's dense-row reader
		// drops values with |x| <= kZeroThreshold, so the model sees them as 0.
		for j, c := range cols {
			c = c[r0 : r0+n]
			for i, x := range c {
				if x >= -kZeroThreshold && x <= kZeroThreshold {
					x = 0
				}
				buf[i*nf+j] = x
			}
		}
		scores := out[r0*k : (r0+n)*k]
		// Tree by tree over the block, so that a tree's nodes stay in cache; each
		// row still adds its trees in model order, as LightGBM does.
		for ti := range trees {
			t := &trees[ti]
			c := ti % k
			if len(t.nodes) == 0 && t.lin == nil {
				v := t.leaves[0]
				for i := range n {
					scores[i*k+c] += v
				}
				continue
			}
			var leaves [walkGroup]int32
			i := 0
			for ; i+walkGroup <= n; i += walkGroup {
				t.leavesOf(buf, nf, i, &leaves)
				for g, l := range leaves {
					scores[(i+g)*k+c] += t.output(l, buf[(i+g)*nf:(i+g+1)*nf])
				}
			}
			for ; i < n; i++ {
				row := buf[i*nf : (i+1)*nf]
				scores[i*k+c] += t.output(t.leaf(row), row)
			}
		}
	}
	return nil
}
