package sklearn

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/model"
	"github.com/mlbatch/mlbatch/model/pickle"
)

// VotingClassifier and VotingRegressor, as scikit-learn 1.2 computes them.
// The classifier's members are fitted on le_.transform(y), so they predict
// the encoded classes 0..K-1.

func init() {
	for _, m := range []string{"sklearn.ensemble._voting", "sklearn.ensemble.voting", "sklearn.ensemble.voting_classifier"} {
		register(m+".VotingClassifier", buildVoting)
		register(m+".VotingRegressor", buildVoting)
	}
	for _, c := range []string{"sklearn.preprocessing._label.LabelEncoder", "sklearn.preprocessing.label.LabelEncoder",
		"sklearn.preprocessing._label.LabelBinarizer", "sklearn.preprocessing.label.LabelBinarizer"} {
		inert[c] = true
	}
}

type votingCore struct {
	metaBase
	members []*member
	weights []float64 // _weights_not_none; nil for equal weights
	cls     *classes  // nil for VotingRegressor
	soft    bool
	enc     [][]int // per member: class index -> encoded class
}

// readWeights reads _weights_not_none: the weights of the members that are
// not 'drop' (None in scikit-learn < 0.22).
func notDroppedWeights(obj *pickle.Object, n int) ([]float64, error) {
	wv, ok := obj.Attr("weights")
	if !ok || wv == nil {
		return nil, nil
	}
	ws, err := itemsOrArray(wv, "weights")
	if err != nil {
		return nil, err
	}
	ests, err := obj.Items("estimators")
	if err != nil {
		return nil, fmt.Errorf("estimators: %w", err)
	}
	if len(ests) != len(ws) {
		return nil, fmt.Errorf("%d weights for %d estimators", len(ws), len(ests))
	}
	var out []float64
	for i, it := range ests {
		pair, err := itemsOf(it, "an estimators entry")
		if err != nil || len(pair) != 2 {
			return nil, fmt.Errorf("estimators[%d] is not a (name, estimator) pair", i)
		}
		if pair[1] == nil || isDrop(pair[1]) {
			continue
		}
		out = append(out, ws[i])
	}
	if len(out) != n {
		return nil, fmt.Errorf("%d weights for %d fitted estimators", len(out), n)
	}
	return out, nil
}

// itemsOrArray reads a list, tuple or array of numbers.
func itemsOrArray(v any, what string) ([]float64, error) {
	if a, ok := v.(*pickle.NDArray); ok {
		f, err := a.Float64s()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		return f, nil
	}
	items, err := itemsOf(v, what)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(items))
	for i, it := range items {
		f, ok := floatVal(it)
		if !ok {
			return nil, fmt.Errorf("%s holds a %s, want numbers", what, pickle.TypeName(it))
		}
		out[i] = f
	}
	return out, nil
}

func buildVoting(obj *pickle.Object) (Estimator, error) {
	members, err := membersOf(obj, "estimators_", true)
	if err != nil {
		return nil, err
	}
	c := &votingCore{members: members}
	if c.weights, err = notDroppedWeights(obj, len(members)); err != nil {
		return nil, err
	}
	if !isClassifierClass(obj.Name) {
		for _, m := range members {
			if !m.has(capRegress) {
				return nil, fmt.Errorf("%s is not a regressor", m.who)
			}
		}
		return newMetaEst(obj, c)
	}
	voting, err := strAttr(obj, "voting", "hard")
	if err != nil {
		return nil, err
	}
	switch voting {
	case "soft":
		c.soft = true
	case "hard":
	default:
		return nil, fmt.Errorf("voting %q is not supported", voting)
	}
	// classes_ is le_.classes_ (older releases have only le_).
	if c.cls, err = classesOf(obj, "classes_"); err != nil {
		le, ok := obj.Attr("le_")
		leObj, isObj := le.(*pickle.Object)
		if !ok || !isObj {
			return nil, err
		}
		if c.cls, err = classesOf(leObj, "classes_"); err != nil {
			return nil, err
		}
	}
	K := c.cls.len()
	for _, m := range members {
		if !m.has(capLabels) {
			return nil, fmt.Errorf("%s is not a classifier", m.who)
		}
		if c.soft && !m.has(capProba) {
			return nil, fmt.Errorf("voting='soft' but %s has no predict_proba", m.who)
		}
		enc, err := encodedIndex(m.labels(), K, m.who)
		if err != nil {
			return nil, err
		}
		if c.soft {
			for k, e := range enc {
				if k != e || len(enc) != K {
					return nil, fmt.Errorf("%s predicts probabilities for %d classes, the ensemble has %d", m.who, len(enc), K)
				}
			}
		}
		c.enc = append(c.enc, enc)
	}
	return newMetaEst(obj, c)
}

func (c *votingCore) parts() []*member { return c.members }
func (c *votingCore) labels() *classes { return c.cls }

func (c *votingCore) can(k capability) bool {
	switch k {
	case capRegress:
		return c.cls == nil
	case capLabels:
		return c.cls != nil
	case capProba:
		return c.cls != nil && c.soft
	}
	return false
}

func (c *votingCore) outputs(opts model.LoadOptions) []model.Column {
	if c.cls == nil {
		return regressorOutputsOf(c)
	}
	return classifierOutputsOf(c, opts)
}

func (c *votingCore) predictIn(in *input, opts model.LoadOptions, mem memory.Allocator) ([]arrow.Array, error) {
	if c.cls == nil {
		return regressorPredictIn(c, in, mem)
	}
	if c.soft {
		p, err := c.probaIn(in)
		if err != nil {
			return nil, err
		}
		return probaResult(c.cls, p, in.rows(), opts, mem), nil
	}
	return classifierPredictIn(c, in, opts, mem)
}

// regressIn is np.average(predictions, axis=1, weights): each member's
// prediction (times its weight) added in member order, then divided by the
// count (or the sum of the weights).
func (c *votingCore) regressIn(in *input) ([]float64, error) {
	rows := in.rows()
	acc := make([]float64, rows)
	for e, m := range c.members {
		p, err := m.regress(in)
		if err != nil {
			return nil, err
		}
		if len(p) != rows {
			return nil, fmt.Errorf("%s predicts %d values for %d rows (one target is supported)", m.who, len(p), rows)
		}
		for i, v := range p {
			if c.weights != nil {
				v *= c.weights[e]
			}
			if e == 0 {
				acc[i] = v
			} else {
				acc[i] += v
			}
		}
	}
	div := float64(len(c.members))
	if c.weights != nil {
		div = npSum(c.weights)
	}
	for i := range acc {
		acc[i] /= div
	}
	return acc, nil
}

// probaIn is np.average of the members' predict_proba over the members.
func (c *votingCore) probaIn(in *input) ([]float64, error) {
	if !c.soft {
		return nil, fmt.Errorf("predict_proba is not available when voting='hard'")
	}
	rows, K := in.rows(), c.cls.len()
	acc := make([]float64, rows*K)
	for e, m := range c.members {
		p, err := m.proba(in)
		if err != nil {
			return nil, err
		}
		for i, v := range p {
			if c.weights != nil {
				v *= c.weights[e]
			}
			if e == 0 {
				acc[i] = v
			} else {
				acc[i] += v
			}
		}
	}
	div := float64(len(c.members))
	if c.weights != nil {
		div = npSum(c.weights)
	}
	for i := range acc {
		acc[i] /= div
	}
	return acc, nil
}

// indexIn is predict: soft voting takes argmax of the average probability;
// hard voting argmax(bincount(member predictions, weights)), the first class
// on ties.
func (c *votingCore) indexIn(in *input) ([]int, error) {
	rows, K := in.rows(), c.cls.len()
	if c.soft {
		p, err := c.probaIn(in)
		if err != nil {
			return nil, err
		}
		return argmaxRows(p, rows, K), nil
	}
	votes := make([]float64, rows*K)
	for e, m := range c.members {
		idx, err := m.index(in)
		if err != nil {
			return nil, err
		}
		w := 1.0
		if c.weights != nil {
			w = c.weights[e]
		}
		for i, k := range idx {
			votes[i*K+c.enc[e][k]] += w
		}
	}
	return argmaxRows(votes, rows, K), nil
}
