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

// CalibratedClassifierCV averages its calibrated_classifiers_, each an
// estimator whose decision_function (or, lacking one, predict_proba) feeds
// one calibrator per class: _SigmoidCalibration (expit(-(a_*f + b_))) or
// IsotonicRegression (linear interpolation between thresholds). Attribute
// names follow every release: estimator (1.2) or base_estimator, calibrators
// (0.24) or calibrators_, classes (0.24) or classes_.

func init() {
	register("sklearn.calibration.CalibratedClassifierCV", buildCalibrated)
	for _, c := range []string{
		"sklearn.calibration._CalibratedClassifier",
		"sklearn.calibration._SigmoidCalibration",
		"sklearn.isotonic.IsotonicRegression",
	} {
		inert[c] = true
	}
}

// calibrator maps one column of scores to probabilities.
type calibrator interface {
	predict(f float64) (float64, error)
}

// sigmoidCal is _SigmoidCalibration.predict: expit(-(a_ * T + b_)).
type sigmoidCal struct{ a, b float64 }

func (s sigmoidCal) predict(f float64) (float64, error) {
	return expit(-(float64(s.a*f) + s.b)), nil
}

// isotonicCal is IsotonicRegression.transform: clip to [X_min_, X_max_] when
// out_of_bounds is 'clip', then scipy's interp1d (numpy.interp for float64),
// NaN outside the thresholds for 'nan', an error for 'raise'.
type isotonicCal struct {
	x, y       []float64
	lo, hi     float64
	clip       bool
	raise      bool
	increasing bool
}

func (c *isotonicCal) predict(t float64) (float64, error) {
	if math.IsNaN(t) || math.IsInf(t, 0) {
		return 0, fmt.Errorf("IsotonicRegression cannot take %v (check_array refuses it), as in scikit-learn", t)
	}
	if c.clip {
		t = math.Min(math.Max(t, c.lo), c.hi)
	}
	if len(c.y) == 1 {
		return c.y[0], nil
	}
	x, y := c.x, c.y
	n := len(x)
	if t < x[0] || t > x[n-1] {
		if c.raise {
			return 0, fmt.Errorf("IsotonicRegression: %v is outside the interpolation range [%v, %v] (out_of_bounds='raise')", t, x[0], x[n-1])
		}
		return math.NaN(), nil
	}
	// numpy.interp: j with x[j] <= t < x[j+1]; the last threshold and exact
	// hits return y[j].
	j := sort.Search(n, func(i int) bool { return x[i] > t }) - 1
	if j >= n-1 {
		return y[n-1], nil
	}
	if x[j] == t {
		return y[j], nil
	}
	slope := (y[j+1] - y[j]) / (x[j+1] - x[j])
	v := float64(slope*(t-x[j])) + y[j]
	if math.IsNaN(v) {
		v = float64(slope*(t-x[j+1])) + y[j+1]
		if math.IsNaN(v) && y[j] == y[j+1] {
			v = y[j]
		}
	}
	return v, nil
}

func readCalibrator(v any) (calibrator, error) {
	obj, ok := v.(*pickle.Object)
	if !ok {
		return nil, fmt.Errorf("a calibrator is a %s", pickle.TypeName(v))
	}
	switch obj.Class() {
	case "sklearn.calibration._SigmoidCalibration":
		a, err := floatsAttr(obj, "a_")
		if err != nil {
			return nil, err
		}
		b, err := floatsAttr(obj, "b_")
		if err != nil {
			return nil, err
		}
		if len(a) != 1 || len(b) != 1 {
			return nil, fmt.Errorf("_SigmoidCalibration a_ and b_ are not numbers")
		}
		return sigmoidCal{a[0], b[0]}, nil
	case "sklearn.isotonic.IsotonicRegression":
		c := &isotonicCal{}
		var err error
		xa, _, _ := firstAttr(obj, "X_thresholds_", "_necessary_X_")
		ya, _, _ := firstAttr(obj, "y_thresholds_", "_necessary_y_")
		xo, ok1 := xa.(*pickle.NDArray)
		yo, ok2 := ya.(*pickle.NDArray)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("IsotonicRegression is not fitted: X_thresholds_ and y_thresholds_ are missing")
		}
		if c.x, err = xo.Float64s(); err != nil {
			return nil, fmt.Errorf("X_thresholds_: %w", err)
		}
		if c.y, err = yo.Float64s(); err != nil {
			return nil, fmt.Errorf("y_thresholds_: %w", err)
		}
		if len(c.x) != len(c.y) || len(c.x) == 0 {
			return nil, fmt.Errorf("IsotonicRegression has %d X and %d y thresholds", len(c.x), len(c.y))
		}
		for i := 1; i < len(c.x); i++ {
			if !(c.x[i] > c.x[i-1]) {
				return nil, fmt.Errorf("IsotonicRegression X_thresholds_ are not increasing")
			}
		}
		oob, err := strAttr(obj, "out_of_bounds", "nan")
		if err != nil {
			return nil, err
		}
		switch oob {
		case "clip":
			c.clip = true
			lo, err1 := floatsAttr(obj, "X_min_")
			hi, err2 := floatsAttr(obj, "X_max_")
			if err1 != nil || err2 != nil || len(lo) != 1 || len(hi) != 1 {
				return nil, fmt.Errorf("IsotonicRegression has no X_min_/X_max_ to clip to")
			}
			c.lo, c.hi = lo[0], hi[0]
		case "raise":
			c.raise = true
		case "nan":
		default:
			return nil, fmt.Errorf("IsotonicRegression out_of_bounds %q is not supported", oob)
		}
		return c, nil
	}
	return nil, fmt.Errorf("calibrator %s is not supported (_SigmoidCalibration and IsotonicRegression are)", obj.Name)
}

// calibrated is one _CalibratedClassifier.
type calibrated struct {
	est  *member
	cals []calibrator
	pos  []int // per calibrator: its class column
	dec  bool  // decision_function, else predict_proba
}

type calibratedCore struct {
	metaBase
	cls  *classes
	list []*calibrated
}

// pyDecisionClasses are estimators whose Python class has decision_function
// (beyond the meta-estimators, which answer can(capDecision) themselves):
// calibration and one-vs-rest call it when it exists, so mlbatch refuses
// rather than silently using predict_proba when it cannot compute it.
var pyDecisionClasses = map[string]bool{
	"LogisticRegression": true, "LogisticRegressionCV": true, "SGDClassifier": true,
	"RidgeClassifier": true, "RidgeClassifierCV": true, "Perceptron": true,
	"PassiveAggressiveClassifier": true, "LinearSVC": true, "SVC": true, "NuSVC": true,
	"GradientBoostingClassifier": true, "HistGradientBoostingClassifier": true,
	"LinearDiscriminantAnalysis": true, "QuadraticDiscriminantAnalysis": true,
	"OneVsOneClassifier": true,
}

// decides reports whether Python would call decision_function on m, and
// refuses when mlbatch cannot compute it.
func decides(m *member) (bool, error) {
	if m.has(capDecision) {
		return true, nil
	}
	if _, ok := m.fin.(capable); !ok && pyDecisionClasses[shortName(m.fin.Class())] {
		return false, fmt.Errorf("%s has a decision_function in scikit-learn, which mlbatch does not compute", m.who)
	}
	return false, nil
}

func buildCalibrated(obj *pickle.Object) (Estimator, error) {
	items, err := obj.Items("calibrated_classifiers_")
	if err != nil {
		return nil, fmt.Errorf("not fitted: %w", err)
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("calibrated_classifiers_ is empty")
	}
	c := &calibratedCore{}
	if c.cls, err = classesOf(obj, "classes_"); err != nil {
		return nil, err
	}
	for i, it := range items {
		o, ok := it.(*pickle.Object)
		if !ok || o.Name != "_CalibratedClassifier" {
			return nil, fmt.Errorf("calibrated_classifiers_[%d] is a %s", i, pickle.TypeName(it))
		}
		cc, err := readCalibrated(o, c.cls)
		if err != nil {
			return nil, fmt.Errorf("calibrated_classifiers_[%d]: %w", i, err)
		}
		c.list = append(c.list, cc)
	}
	return newMetaEst(obj, c)
}

func readCalibrated(o *pickle.Object, outer *classes) (*calibrated, error) {
	ev, name, ok := firstAttr(o, "estimator", "base_estimator")
	if !ok {
		return nil, fmt.Errorf("no estimator")
	}
	m, err := buildMember(ev, name)
	if err != nil {
		return nil, err
	}
	if !m.has(capLabels) || m.labels() == nil {
		return nil, fmt.Errorf("%s is not a single-output classifier", m.who)
	}
	cc := &calibrated{est: m}
	if cc.dec, err = decides(m); err != nil {
		return nil, err
	}
	if !cc.dec && !m.has(capProba) {
		return nil, fmt.Errorf("%s has neither decision_function nor predict_proba", m.who)
	}
	cv, _, ok := firstAttr(o, "calibrators", "calibrators_")
	if !ok {
		return nil, fmt.Errorf("no calibrators")
	}
	cals, err := itemsOf(cv, "calibrators")
	if err != nil {
		return nil, err
	}
	for _, v := range cals {
		cal, err := readCalibrator(v)
		if err != nil {
			return nil, err
		}
		cc.cals = append(cc.cals, cal)
	}
	// The calibrated classifier's own classes (those of the whole fit) must
	// be the ensemble's; the estimator's are found among them.
	inner := outer
	if cv, _, ok := firstAttr(o, "classes", "classes_"); ok {
		if inner, err = readClasses(cv); err != nil {
			return nil, fmt.Errorf("classes: %w", err)
		}
	}
	if inner.len() != outer.len() {
		return nil, fmt.Errorf("it has %d classes, the CalibratedClassifierCV %d", inner.len(), outer.len())
	}
	if cc.pos, err = labelPositions(m.labels(), inner, m.who); err != nil {
		return nil, err
	}
	return cc, nil
}

func (c *calibratedCore) labels() *classes { return c.cls }
func (c *calibratedCore) can(k capability) bool {
	return k == capProba || k == capLabels
}

func (c *calibratedCore) parts() []*member {
	out := make([]*member, len(c.list))
	for i, cc := range c.list {
		out[i] = cc.est
	}
	return out
}

func (c *calibratedCore) outputs(opts model.LoadOptions) []model.Column {
	return classifierOutputs(c.cls, opts)
}

func (c *calibratedCore) predictIn(in *input, opts model.LoadOptions, mem memory.Allocator) ([]arrow.Array, error) {
	p, err := c.probaIn(in)
	if err != nil {
		return nil, err
	}
	return probaResult(c.cls, p, in.rows(), opts, mem), nil
}

func (c *calibratedCore) indexIn(in *input) ([]int, error) {
	p, err := c.probaIn(in)
	if err != nil {
		return nil, err
	}
	return argmaxRows(p, in.rows(), c.cls.len()), nil
}

// probaIn is the mean of the calibrated classifiers' probabilities (added in
// order, then divided by their count).
func (c *calibratedCore) probaIn(in *input) ([]float64, error) {
	rows, K := in.rows(), c.cls.len()
	mean := make([]float64, rows*K)
	for _, cc := range c.list {
		p, err := cc.proba(in, K)
		if err != nil {
			return nil, err
		}
		for i, v := range p {
			mean[i] += v
		}
	}
	n := float64(len(c.list))
	for i := range mean {
		mean[i] /= n
	}
	return mean, nil
}

// proba is _CalibratedClassifier.predict_proba in scikit-learn 1.2.
func (cc *calibrated) proba(in *input, K int) ([]float64, error) {
	rows := in.rows()
	var pred []float64
	var cols int
	if cc.dec {
		d, c, err := cc.est.decide(in)
		if err != nil {
			return nil, err
		}
		pred, cols = d, c
	} else {
		p, err := cc.est.proba(in)
		if err != nil {
			return nil, err
		}
		pred, cols = p, cc.est.labels().len()
		if K == 2 {
			// predictions[:, 1:]
			sub := make([]float64, rows*(cols-1))
			for i := range rows {
				copy(sub[i*(cols-1):(i+1)*(cols-1)], p[i*cols+1:(i+1)*cols])
			}
			pred, cols = sub, cols-1
		}
	}
	proba := make([]float64, rows*K)
	// zip(pos_class_indices, predictions.T, calibrators) stops at the shortest.
	n := min(len(cc.pos), cols, len(cc.cals))
	for k := range n {
		idx := cc.pos[k]
		if K == 2 {
			idx++
		}
		if idx >= K {
			return nil, fmt.Errorf("calibrator %d is for class %d of %d", k, idx, K)
		}
		for i := range rows {
			v, err := cc.cals[k].predict(pred[i*cols+k])
			if err != nil {
				return nil, err
			}
			proba[i*K+idx] = v
		}
	}
	if K == 2 {
		for i := range rows {
			proba[2*i] = 1 - proba[2*i+1]
		}
	} else {
		for i := range rows {
			row := proba[i*K : (i+1)*K]
			s := npSum(row)
			for k := range row {
				if s != 0 {
					row[k] /= s
				} else {
					row[k] = 1 / float64(K)
				}
			}
		}
	}
	for i, v := range proba {
		if v > 1 && v <= 1+1e-5 {
			proba[i] = 1
		}
	}
	return proba, nil
}
