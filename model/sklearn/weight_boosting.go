package sklearn

import (
	"fmt"
	"math"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/model"
	"github.com/mlbatch/mlbatch/model/pickle"
)

// AdaBoostClassifier (SAMME and SAMME.R) and AdaBoostRegressor (weighted
// median), with the decision function and predict_proba of scikit-learn 1.2.

func init() {
	for _, m := range []string{"sklearn.ensemble._weight_boosting", "sklearn.ensemble.weight_boosting"} {
		register(m+".AdaBoostClassifier", buildAdaBoost)
		register(m+".AdaBoostRegressor", buildAdaBoost)
	}
}

type adaBoostCore struct {
	metaBase
	members []*member
	weights []float64 // estimator_weights_ of the fitted estimators
	wsum    float64   // estimator_weights_.sum() over the whole array
	cls     *classes  // nil for the regressor
	real    bool      // SAMME.R
	pos     [][]int   // SAMME: per member, class index -> classes_ index
}

// float64Eps is np.finfo(np.float64).eps, the floor _samme_proba clips to.
const float64Eps = 2.220446049250313e-16

func buildAdaBoost(obj *pickle.Object) (Estimator, error) {
	members, err := membersOf(obj, "estimators_", false)
	if err != nil {
		return nil, err
	}
	all, err := floatsAttr(obj, "estimator_weights_")
	if err != nil {
		return nil, err
	}
	if len(all) < len(members) {
		return nil, fmt.Errorf("%d estimator_weights_ for %d estimators", len(all), len(members))
	}
	// Boosting that stops early leaves zero weights at the end: zip() stops at
	// the estimators, the sum runs over the whole array.
	c := &adaBoostCore{members: members, weights: all[:len(members)], wsum: npSum(all)}
	if !isClassifierClass(obj.Name) {
		for _, m := range members {
			if !m.has(capRegress) {
				return nil, fmt.Errorf("%s is not a regressor", m.who)
			}
		}
		return newMetaEst(obj, c)
	}
	if c.cls, err = classesOf(obj, "classes_"); err != nil {
		return nil, err
	}
	if c.cls.len() < 2 {
		return nil, fmt.Errorf("AdaBoostClassifier with %d class is not supported", c.cls.len())
	}
	algo, err := strAttr(obj, "algorithm", "SAMME.R")
	if err != nil {
		return nil, err
	}
	switch algo {
	case "SAMME.R":
		c.real = true
	case "SAMME", "deprecated": // scikit-learn 1.6 deprecated the parameter: SAMME
	default:
		return nil, fmt.Errorf("algorithm %q is not supported", algo)
	}
	for _, m := range members {
		if !m.has(capLabels) {
			return nil, fmt.Errorf("%s is not a single-output classifier", m.who)
		}
		pos, err := labelPositions(m.labels(), c.cls, m.who)
		if err != nil {
			return nil, err
		}
		if c.real {
			if !m.has(capProba) {
				return nil, fmt.Errorf("algorithm SAMME.R needs predict_proba, which %s has not", m.who)
			}
			for k, p := range pos {
				if k != p || len(pos) != c.cls.len() {
					return nil, fmt.Errorf("%s has %d of the %d classes", m.who, len(pos), c.cls.len())
				}
			}
		}
		c.pos = append(c.pos, pos)
	}
	return newMetaEst(obj, c)
}

func (c *adaBoostCore) parts() []*member { return c.members }
func (c *adaBoostCore) labels() *classes { return c.cls }

func (c *adaBoostCore) can(k capability) bool {
	if c.cls == nil {
		return k == capRegress
	}
	return k == capLabels || k == capProba || k == capDecision
}

func (c *adaBoostCore) outputs(opts model.LoadOptions) []model.Column {
	if c.cls == nil {
		return regressorOutputsOf(c)
	}
	return classifierOutputsOf(c, opts)
}

func (c *adaBoostCore) predictIn(in *input, opts model.LoadOptions, mem memory.Allocator) ([]arrow.Array, error) {
	if c.cls == nil {
		return regressorPredictIn(c, in, mem)
	}
	return classifierPredictIn(c, in, opts, mem)
}

// decideIn is decision_function: SAMME.R adds each estimator's
// (K-1) * (log p - mean log p); SAMME adds each estimator's weight to the
// class it predicts. Then divided by estimator_weights_.sum(); for two classes
// the score is column 1 minus column 0.
func (c *adaBoostCore) decideIn(in *input) ([]float64, int, error) {
	rows, K := in.rows(), c.cls.len()
	pred := make([]float64, rows*K)
	fk := float64(K)
	for e, m := range c.members {
		if c.real {
			p, err := m.proba(in)
			if err != nil {
				return nil, 0, err
			}
			logp := make([]float64, K)
			for i := range rows {
				for k := range K {
					logp[k] = math.Log(math.Max(p[i*K+k], float64Eps))
				}
				mean := float64(1/fk) * npSum(logp)
				for k := range K {
					pred[i*K+k] += float64(fk-1) * (logp[k] - mean)
				}
			}
			continue
		}
		idx, err := m.index(in)
		if err != nil {
			return nil, 0, err
		}
		w := c.weights[e]
		for i, j := range idx {
			// (predict == classes).T * w: w in the predicted column, 0 elsewhere.
			pred[i*K+c.pos[e][j]] += w
		}
	}
	for i := range pred {
		pred[i] /= c.wsum
	}
	if K == 2 {
		out := make([]float64, rows)
		for i := range out {
			out[i] = -pred[2*i] + pred[2*i+1]
		}
		return out, 1, nil
	}
	return pred, K, nil
}

func (c *adaBoostCore) indexIn(in *input) ([]int, error) {
	d, cols, err := c.decideIn(in)
	if err != nil {
		return nil, err
	}
	if cols == 1 {
		idx := make([]int, len(d))
		for i, v := range d {
			if v > 0 {
				idx[i] = 1
			}
		}
		return idx, nil
	}
	return argmaxRows(d, in.rows(), cols), nil
}

// probaIn is _compute_proba_from_decision: softmax of [-d, d] / 2 for two
// classes, else of d / (K - 1).
func (c *adaBoostCore) probaIn(in *input) ([]float64, error) {
	d, cols, err := c.decideIn(in)
	if err != nil {
		return nil, err
	}
	rows, K := in.rows(), c.cls.len()
	p := make([]float64, rows*K)
	if cols == 1 {
		for i, v := range d {
			p[2*i], p[2*i+1] = -v/2, v/2
		}
	} else {
		for i, v := range d {
			p[i] = v / float64(K-1)
		}
	}
	for i := range rows {
		npSoftmax(p[i*K : (i+1)*K])
	}
	return p, nil
}

// npSoftmax is sklearn.utils.extmath.softmax on one row: subtract the row
// maximum, exponentiate, divide by numpy's sum of the row.
func npSoftmax(row []float64) {
	m := row[0]
	for _, v := range row[1:] {
		m = math.Max(m, v)
	}
	for k, v := range row {
		row[k] = math.Exp(v - m)
	}
	s := npSum(row)
	for k := range row {
		row[k] /= s
	}
}

// regressIn is _get_median_predict: per row, sort the estimators'
// predictions, accumulate their weights in that order, and take the first
// prediction whose cumulative weight reaches half the total. (Ties between
// equal predictions cannot change the value taken, so the sort's order among
// them does not matter.)
func (c *adaBoostCore) regressIn(in *input) ([]float64, error) {
	rows, E := in.rows(), len(c.members)
	preds := make([][]float64, E)
	for e, m := range c.members {
		p, err := m.regress(in)
		if err != nil {
			return nil, err
		}
		preds[e] = p
	}
	out := make([]float64, rows)
	order := make([]int, E)
	cdf := make([]float64, E)
	for i := range rows {
		for e := range order {
			order[e] = e
		}
		sort.SliceStable(order, func(a, b int) bool { return preds[order[a]][i] < preds[order[b]][i] })
		s := 0.0
		for k, e := range order {
			s += c.weights[e]
			cdf[k] = s
		}
		half := 0.5 * cdf[E-1]
		pick := 0
		for k := range cdf {
			if cdf[k] >= half {
				pick = k
				break
			}
		}
		out[i] = preds[order[pick]][i]
	}
	return out, nil
}
