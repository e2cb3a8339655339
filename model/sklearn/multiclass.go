package sklearn

import (
	"fmt"
	"math"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/model"
	"github.com/mlbatch/mlbatch/model/pickle"
)

// OneVsRestClassifier, MultiOutputRegressor and MultiOutputClassifier, as
// scikit-learn 1.2 computes them.

func init() {
	register("sklearn.multiclass.OneVsRestClassifier", buildOneVsRest)
	register("sklearn.multioutput.MultiOutputRegressor", buildMultiOutput)
	register("sklearn.multioutput.MultiOutputClassifier", buildMultiOutput)
	inert["sklearn.multiclass._ConstantPredictor"] = true
}

// ovrPart is one binary estimator of a OneVsRestClassifier, or the constant
// of a _ConstantPredictor (a label column that was all 0 or all 1).
type ovrPart struct {
	m        *member
	constant float64
	isConst  bool
	regress  bool // is_regressor: predict is the score
	dec      bool // decision_function, else predict_proba[:, 1]
	proba1   int  // the column of class 1 in predict_proba
}

type ovrCore struct {
	metaBase
	cls        *classes
	parts_     []*ovrPart
	multilabel bool
	thresh     float64
}

func buildOneVsRest(obj *pickle.Object) (Estimator, error) {
	c := &ovrCore{}
	var err error
	if c.cls, err = classesOf(obj, "classes_"); err != nil {
		return nil, err
	}
	yType := "multiclass"
	if lb, ok := obj.Attr("label_binarizer_"); ok {
		if o, ok := lb.(*pickle.Object); ok {
			if yType, err = strAttr(o, "y_type_", ""); err != nil {
				return nil, fmt.Errorf("label_binarizer_: %w", err)
			}
		}
	}
	items, err := obj.Items("estimators_")
	if err != nil {
		return nil, fmt.Errorf("not fitted: %w", err)
	}
	K := c.cls.len()
	switch yType {
	case "binary":
		if len(items) != 1 || K != 2 {
			return nil, fmt.Errorf("a binary OneVsRestClassifier has %d estimators for %d classes", len(items), K)
		}
	case "multiclass":
		if len(items) != K {
			return nil, fmt.Errorf("%d estimators for %d classes", len(items), K)
		}
	case "multilabel-indicator":
		if len(items) != K {
			return nil, fmt.Errorf("%d estimators for %d labels", len(items), K)
		}
		c.multilabel = true
	default:
		return nil, fmt.Errorf("label_binarizer_.y_type_ %q is not supported", yType)
	}
	for i, it := range items {
		p := &ovrPart{}
		if o, ok := it.(*pickle.Object); ok && o.Class() == "sklearn.multiclass._ConstantPredictor" {
			y, err := floatsAttr(o, "y_")
			if err != nil || len(y) != 1 {
				return nil, fmt.Errorf("estimators_[%d]: _ConstantPredictor y_ is not one value", i)
			}
			p.isConst, p.constant = true, y[0]
			c.parts_ = append(c.parts_, p)
			continue
		}
		if p.m, err = buildMember(it, fmt.Sprintf("estimators_[%d]", i)); err != nil {
			return nil, err
		}
		switch {
		case p.m.has(capRegress):
			p.regress = true
		case p.m.has(capLabels):
			if p.dec, err = decides(p.m); err != nil {
				return nil, err
			}
			if !p.dec {
				if !p.m.has(capProba) {
					return nil, fmt.Errorf("%s has neither decision_function nor predict_proba", p.m.who)
				}
				lab := p.m.labels()
				p.proba1 = -1
				for k := range lab.len() {
					if v, ok := labelInt(lab, k); ok && v == 1 {
						p.proba1 = k
					}
				}
				if lab.len() != 2 || p.proba1 != 1 {
					return nil, fmt.Errorf("%s is not a binary 0/1 classifier", p.m.who)
				}
			}
		default:
			return nil, fmt.Errorf("%s is neither a classifier nor a regressor", p.m.who)
		}
		c.parts_ = append(c.parts_, p)
	}
	// _threshold_for_binary_predict: 0 when the first estimator is a
	// classifier with decision_function, else 0.5 (a _ConstantPredictor is
	// not a classifier).
	c.thresh = 0.5
	if first := c.parts_[0]; !first.isConst && first.dec {
		c.thresh = 0
	}
	return newMetaEst(obj, c)
}

func (c *ovrCore) labels() *classes {
	if c.multilabel {
		return nil
	}
	return c.cls
}

func (c *ovrCore) parts() []*member {
	var out []*member
	for _, p := range c.parts_ {
		if p.m != nil {
			out = append(out, p.m)
		}
	}
	return out
}

func (c *ovrCore) can(k capability) bool {
	switch k {
	case capLabels:
		return !c.multilabel
	case capProba:
		if c.multilabel {
			return false
		}
		return c.hasProba()
	case capDecision:
		first := c.parts_[0]
		return !c.multilabel && (first.isConst || first.dec)
	}
	return false
}

func (c *ovrCore) hasProba() bool {
	for _, p := range c.parts_ {
		if !p.isConst && !p.m.has(capProba) {
			return false
		}
	}
	return true
}

// score is _predict_binary of part p: predict for a regressor, else the
// decision function, else the probability of class 1.
func (c *ovrCore) score(p *ovrPart, in *input) ([]float64, error) {
	rows := in.rows()
	switch {
	case p.isConst:
		s := make([]float64, rows)
		for i := range s {
			s[i] = p.constant
		}
		return s, nil
	case p.regress:
		return p.m.regress(in)
	case p.dec:
		d, cols, err := p.m.decide(in)
		if err != nil {
			return nil, err
		}
		if cols != 1 {
			return nil, fmt.Errorf("%s gives %d decision columns for a binary problem", p.m.who, cols)
		}
		return d, nil
	}
	return c.positive(p, in)
}

// positive is predict_proba(X)[:, 1] of part p.
func (c *ovrCore) positive(p *ovrPart, in *input) ([]float64, error) {
	rows := in.rows()
	if p.isConst {
		s := make([]float64, rows)
		for i := range s {
			s[i] = p.constant
		}
		return s, nil
	}
	pr, err := p.m.proba(in)
	if err != nil {
		return nil, err
	}
	s := make([]float64, rows)
	for i := range s {
		s[i] = pr[2*i+1]
	}
	return s, nil
}

func (c *ovrCore) outputs(opts model.LoadOptions) []model.Column {
	if !c.multilabel {
		return classifierOutputsOf(c, opts)
	}
	var cols []model.Column
	for k := range c.cls.len() {
		cols = append(cols, model.Column{Name: "prediction_" + strconv.Itoa(k), Type: arrow.PrimitiveTypes.Int64})
	}
	if opts.Proba && c.hasProba() {
		for _, n := range c.cls.Names {
			cols = append(cols, model.Column{Name: "proba_" + n, Type: arrow.PrimitiveTypes.Float64})
		}
	}
	return cols
}

func (c *ovrCore) predictIn(in *input, opts model.LoadOptions, mem memory.Allocator) ([]arrow.Array, error) {
	if !c.multilabel {
		return classifierPredictIn(c, in, opts, mem)
	}
	rows, K := in.rows(), c.cls.len()
	var out []arrow.Array
	release := func() {
		for _, a := range out {
			a.Release()
		}
	}
	for _, p := range c.parts_ {
		s, err := c.score(p, in)
		if err != nil {
			release()
			return nil, err
		}
		b := array.NewInt64Builder(mem)
		for _, v := range s[:rows] {
			if v > c.thresh {
				b.Append(1)
			} else {
				b.Append(0)
			}
		}
		out = append(out, b.NewArray())
		b.Release()
	}
	if opts.Proba && c.hasProba() {
		p, err := c.probaAll(in)
		if err != nil {
			release()
			return nil, err
		}
		out = append(out, columnsOf(p, rows, K, mem)...)
	}
	return out, nil
}

// indexIn is predict: for two classes, score > threshold; else the estimator
// with the highest score, the last one on ties (argmaxima[maxima == pred] = i).
func (c *ovrCore) indexIn(in *input) ([]int, error) {
	rows := in.rows()
	idx := make([]int, rows)
	if len(c.parts_) == 1 {
		s, err := c.score(c.parts_[0], in)
		if err != nil {
			return nil, err
		}
		for i, v := range s[:rows] {
			if v > c.thresh {
				idx[i] = 1
			}
		}
		return idx, nil
	}
	maxima := make([]float64, rows)
	for i := range maxima {
		maxima[i] = math.Inf(-1)
	}
	for k, p := range c.parts_ {
		s, err := c.score(p, in)
		if err != nil {
			return nil, err
		}
		for i, v := range s[:rows] {
			// np.maximum propagates NaN.
			if v > maxima[i] || math.IsNaN(v) {
				maxima[i] = v
			}
			if maxima[i] == v {
				idx[i] = k
			}
		}
	}
	return idx, nil
}

// probaAll is the unnormalised Y of predict_proba: one column per estimator.
func (c *ovrCore) probaAll(in *input) ([]float64, error) {
	rows, n := in.rows(), len(c.parts_)
	Y := make([]float64, rows*n)
	for k, p := range c.parts_ {
		s, err := c.positive(p, in)
		if err != nil {
			return nil, err
		}
		for i := range rows {
			Y[i*n+k] = s[i]
		}
	}
	return Y, nil
}

func (c *ovrCore) probaIn(in *input) ([]float64, error) {
	Y, err := c.probaAll(in)
	if err != nil {
		return nil, err
	}
	rows := in.rows()
	if len(c.parts_) == 1 {
		two := make([]float64, 2*rows)
		for i, v := range Y {
			two[2*i], two[2*i+1] = 1-v, v
		}
		Y = two
	}
	K := c.cls.len()
	for i := range rows {
		row := Y[i*K : (i+1)*K]
		s := npSum(row)
		for k := range row {
			row[k] /= s
		}
	}
	return Y, nil
}

func (c *ovrCore) decideIn(in *input) ([]float64, int, error) {
	if len(c.parts_) == 1 {
		s, err := c.score(c.parts_[0], in)
		return s, 1, err
	}
	rows, n := in.rows(), len(c.parts_)
	out := make([]float64, rows*n)
	for k, p := range c.parts_ {
		if !p.isConst && !p.dec {
			return nil, 0, fmt.Errorf("%s has no decision_function", p.m.who)
		}
		s, err := c.score(p, in)
		if err != nil {
			return nil, 0, err
		}
		for i := range rows {
			out[i*n+k] = s[i]
		}
	}
	return out, n, nil
}

// multiOutputCore is MultiOutputRegressor / MultiOutputClassifier: one
// estimator per target.
type multiOutputCore struct {
	metaBase
	members []*member
	cls     []*classes // nil for the regressor
}

func buildMultiOutput(obj *pickle.Object) (Estimator, error) {
	members, err := membersOf(obj, "estimators_", false)
	if err != nil {
		return nil, err
	}
	c := &multiOutputCore{members: members}
	clf := isClassifierClass(obj.Name)
	for _, m := range members {
		if clf {
			if !m.has(capLabels) {
				return nil, fmt.Errorf("%s is not a single-output classifier", m.who)
			}
			c.cls = append(c.cls, m.labels())
			continue
		}
		if !m.has(capRegress) {
			return nil, fmt.Errorf("%s is not a regressor", m.who)
		}
		if n, _ := m.fin.(regressor).targets(); n != 1 {
			return nil, fmt.Errorf("%s predicts %d targets, want one", m.who, n)
		}
	}
	return newMetaEst(obj, c)
}

func (c *multiOutputCore) parts() []*member      { return c.members }
func (c *multiOutputCore) can(k capability) bool { return k == capRegress && c.cls == nil }
func (c *multiOutputCore) targets() (int, bool)  { return len(c.members), true }

func (c *multiOutputCore) hasProba() bool {
	for _, m := range c.members {
		if !m.has(capProba) {
			return false
		}
	}
	return true
}

func (c *multiOutputCore) outputs(opts model.LoadOptions) []model.Column {
	if c.cls == nil {
		return regressorOutputsOf(c)
	}
	if !c.hasProba() {
		opts.Proba = false
	}
	return multiClassifierOutputs(c.cls, opts)
}

func (c *multiOutputCore) regressIn(in *input) ([]float64, error) {
	rows, n := in.rows(), len(c.members)
	out := make([]float64, rows*n)
	for k, m := range c.members {
		p, err := m.regress(in)
		if err != nil {
			return nil, err
		}
		for i := range rows {
			out[i*n+k] = p[i]
		}
	}
	return out, nil
}

func (c *multiOutputCore) predictIn(in *input, opts model.LoadOptions, mem memory.Allocator) ([]arrow.Array, error) {
	if c.cls == nil {
		return regressorPredictIn(c, in, mem)
	}
	var out []arrow.Array
	release := func() {
		for _, a := range out {
			a.Release()
		}
	}
	for k, m := range c.members {
		idx, err := m.index(in)
		if err != nil {
			release()
			return nil, err
		}
		out = append(out, c.cls[k].labels(idx, mem))
	}
	if opts.Proba && c.hasProba() {
		for k, m := range c.members {
			p, err := m.proba(in)
			if err != nil {
				release()
				return nil, err
			}
			out = append(out, columnsOf(p, in.rows(), c.cls[k].len(), mem)...)
		}
	}
	return out, nil
}
