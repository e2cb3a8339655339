package lightgbm

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/model/labels"
)

// classifierResult turns transformed scores (k per row) into LGBMClassifier's
// outputs: predict's labels and, with proba, predict_proba's columns. A binary
// model has one score p per row and predict_proba returns [1-p, p]; the label is
// numpy's argmax over the probabilities (the first maximum wins a tie).
func classifierResult(c *labels.Classes, scores []float64, k, rows int, proba bool, mem memory.Allocator) []arrow.Array {
	probs := scores
	if k == 1 {
		probs = make([]float64, rows*2)
		for i, p := range scores {
			probs[2*i] = 1 - p
			probs[2*i+1] = p
		}
	}
	return c.Result(probs, rows, proba, mem)
}
