package sklearn

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/model"
	"github.com/mlbatch/mlbatch/model/pickle"
)

// StackingClassifier and StackingRegressor: the members' outputs (by
// stack_method_: predict_proba without its first column for two classes,
// decision_function, or predict), side by side, then X itself when
// passthrough, are the final estimator's input. The classifier's members and
// final estimator are fitted on the encoded classes 0..K-1.

func init() {
	// Stacking arrived in scikit-learn 0.22, already in _stacking.
	register("sklearn.ensemble._stacking.StackingClassifier", buildStacking)
	register("sklearn.ensemble._stacking.StackingRegressor", buildStacking)
}

type stackingCore struct {
	metaBase
	members     []*member
	methods     []string
	final       *member
	passthrough bool
	cls         *classes // nil for StackingRegressor
	finalEnc    []int    // final estimator's class index -> encoded class
}

func buildStacking(obj *pickle.Object) (Estimator, error) {
	items, err := obj.Items("estimators_")
	if err != nil {
		return nil, fmt.Errorf("not fitted: %w", err)
	}
	mv, err := obj.Items("stack_method_")
	if err != nil {
		return nil, fmt.Errorf("not fitted: %w", err)
	}
	if len(mv) != len(items) {
		return nil, fmt.Errorf("%d stack methods for %d estimators", len(mv), len(items))
	}
	c := &stackingCore{}
	if c.passthrough, err = boolAttr(obj, "passthrough", false); err != nil {
		return nil, err
	}
	if isClassifierClass(obj.Name) {
		if c.cls, err = classesOf(obj, "classes_"); err != nil {
			return nil, err
		}
	}
	for i, it := range items {
		if isDrop(it) {
			continue
		}
		m, err := buildMember(it, fmt.Sprintf("estimators_[%d]", i))
		if err != nil {
			return nil, err
		}
		meth, _ := mv[i].(string)
		switch meth {
		case "predict_proba":
			if !m.has(capProba) {
				return nil, fmt.Errorf("stack_method_ of %s is predict_proba, which it has not", m.who)
			}
		case "decision_function":
			if !m.has(capDecision) {
				return nil, fmt.Errorf("stack_method_ of %s is decision_function, which mlbatch does not compute for it", m.who)
			}
		case "predict":
			if !m.has(capRegress) && !m.has(capLabels) {
				return nil, fmt.Errorf("%s has no single-output predict", m.who)
			}
		default:
			return nil, fmt.Errorf("stack_method_ %v is not supported", mv[i])
		}
		c.members = append(c.members, m)
		c.methods = append(c.methods, meth)
	}
	if len(c.members) == 0 {
		return nil, fmt.Errorf("every estimator is 'drop'")
	}
	fv, ok := obj.Attr("final_estimator_")
	if !ok || fv == nil {
		return nil, fmt.Errorf("not fitted: final_estimator_ is missing")
	}
	if c.final, err = buildMember(fv, "final_estimator_"); err != nil {
		return nil, err
	}
	if c.cls == nil {
		if !c.final.has(capRegress) {
			return nil, fmt.Errorf("final_estimator_ %s is not a regressor", c.final.who)
		}
		if n, _ := c.final.fin.(regressor).targets(); n != 1 {
			return nil, fmt.Errorf("final_estimator_ predicts %d targets; one is supported", n)
		}
	} else {
		if !c.final.has(capLabels) {
			return nil, fmt.Errorf("final_estimator_ %s is not a single-output classifier", c.final.who)
		}
		if c.finalEnc, err = encodedIndex(c.final.labels(), c.cls.len(), c.final.who); err != nil {
			return nil, err
		}
	}
	return newMetaEst(obj, c)
}

func (c *stackingCore) parts() []*member { return c.members }
func (c *stackingCore) labels() *classes { return c.cls }

func (c *stackingCore) can(k capability) bool {
	if c.cls == nil {
		return k == capRegress
	}
	switch k {
	case capLabels:
		return true
	case capProba:
		return c.final.has(capProba)
	case capDecision:
		return c.final.has(capDecision)
	}
	return false
}

func (c *stackingCore) outputs(opts model.LoadOptions) []model.Column {
	if c.cls == nil {
		return regressorOutputsOf(c)
	}
	return classifierOutputsOf(c, opts)
}

func (c *stackingCore) predictIn(in *input, opts model.LoadOptions, mem memory.Allocator) ([]arrow.Array, error) {
	if c.cls == nil {
		return regressorPredictIn(c, in, mem)
	}
	return classifierPredictIn(c, in, opts, mem)
}

// transform is StackingClassifier/Regressor.transform: the final estimator's input.
func (c *stackingCore) transform(in *input) (*input, error) {
	rows := in.rows()
	var cols [][]float64
	var names []string
	for e, m := range c.members {
		var vals []float64
		var k int
		switch c.methods[e] {
		case "predict_proba":
			p, err := m.proba(in)
			if err != nil {
				return nil, err
			}
			vals, k = p, m.labels().len()
		case "decision_function":
			d, n, err := m.decide(in)
			if err != nil {
				return nil, err
			}
			vals, k = d, n
		default:
			if m.has(capRegress) {
				p, err := m.regress(in)
				if err != nil {
					return nil, err
				}
				vals = p
				k, _ = m.fin.(regressor).targets()
			} else {
				// A classifier's predict: its label, here the encoded class.
				idx, err := m.index(in)
				if err != nil {
					return nil, err
				}
				lab := m.labels()
				vals, k = make([]float64, rows), 1
				for i, j := range idx {
					v, ok := labelInt(lab, j)
					if !ok {
						return nil, fmt.Errorf("%s predicts %s, not an encoded class", m.who, lab.Names[j])
					}
					vals[i] = float64(v)
				}
			}
		}
		first := 0
		if c.methods[e] == "predict_proba" && c.cls != nil && c.cls.len() == 2 {
			first = 1 // the first column is 1 - the second
		}
		for j := first; j < k; j++ {
			col := make([]float64, rows)
			for i := range rows {
				col[i] = vals[i*k+j]
			}
			cols = append(cols, col)
			names = append(names, "")
		}
	}
	out := &Dense{Cols: cols, Rows: rows, Names: names}
	if c.passthrough {
		X, err := in.dense("Stacking" + map[bool]string{true: "Classifier", false: "Regressor"}[c.cls != nil])
		if err != nil {
			return nil, err
		}
		out.Cols = append(out.Cols, X.Cols...)
		for j := range X.Cols {
			out.Names = append(out.Names, X.colName(j))
		}
	}
	if n := c.final.est.NumFeatures(); n >= 0 && n != len(out.Cols) {
		return nil, fmt.Errorf("final_estimator_ was fitted on %d features but the estimators give %d", n, len(out.Cols))
	}
	return &input{d: out}, nil
}

func (c *stackingCore) regressIn(in *input) ([]float64, error) {
	x, err := c.transform(in)
	if err != nil {
		return nil, err
	}
	return c.final.regress(x)
}

func (c *stackingCore) probaIn(in *input) ([]float64, error) {
	x, err := c.transform(in)
	if err != nil {
		return nil, err
	}
	return c.final.proba(x)
}

func (c *stackingCore) decideIn(in *input) ([]float64, int, error) {
	x, err := c.transform(in)
	if err != nil {
		return nil, 0, err
	}
	return c.final.decide(x)
}

func (c *stackingCore) indexIn(in *input) ([]int, error) {
	x, err := c.transform(in)
	if err != nil {
		return nil, err
	}
	idx, err := c.final.index(x)
	if err != nil {
		return nil, err
	}
	for i, k := range idx {
		idx[i] = c.finalEnc[k]
	}
	return idx, nil
}
