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

// MLPClassifier and MLPRegressor (sklearn.neural_network), as
// BaseMultilayerPerceptron._forward_pass_fast computes them: for each layer
// activation = activation @ coefs_[i] + intercepts_[i], the hidden activation
// on every layer but the last, out_activation_ on the last. The attributes
// (coefs_, intercepts_, n_layers_, n_outputs_, out_activation_,
// _label_binarizer) have kept their names from 0.18 to 1.x.

func init() {
	for _, mod := range []string{
		"sklearn.neural_network._multilayer_perceptron",
		"sklearn.neural_network.multilayer_perceptron", // before 0.22
	} {
		register(mod+".MLPClassifier", buildMLPClassifier)
		register(mod+".MLPRegressor", buildMLPRegressor)
	}
	for _, c := range []string{
		// The fitted optimizer state and the label binarizer (read, never run).
		"sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
		"sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
		"sklearn.neural_network.stochastic_optimizers.AdamOptimizer",
		"sklearn.neural_network.stochastic_optimizers.SGDOptimizer",
		"sklearn.preprocessing._label.LabelBinarizer",
		"sklearn.preprocessing.label.LabelBinarizer",
	} {
		inert[c] = true
	}
}

// mlpNet is the fitted network.
type mlpNet struct {
	meta
	w      [][]float64 // layer i: rows x cols row-major (coefs_[i])
	wShape [][2]int
	b      [][]float64 // intercepts_[i]
	hidden func([]float64)
	out    func(m []float64, cols int)
	nOut   int
}

// activations are scikit-learn's ACTIVATIONS (neural_network/_base.py), in
// place on a row-major matrix of width cols.
var mlpActivations = map[string]func(m []float64, cols int){
	"identity": func([]float64, int) {},
	"logistic": func(m []float64, _ int) {
		for i, v := range m {
			m[i] = expit(v)
		}
	},
	"tanh": func(m []float64, _ int) {
		for i, v := range m {
			m[i] = math.Tanh(v)
		}
	},
	"relu": func(m []float64, _ int) {
		for i, v := range m {
			// np.maximum(X, 0): NaN propagates, -0.0 stays -0.0 (not
			// below 0), as numpy keeps the first argument on equality.
			if v < 0 {
				m[i] = 0
			}
		}
	},
	"softmax": func(m []float64, cols int) {
		for i := 0; i+cols <= len(m); i += cols {
			softmax(m[i : i+cols])
		}
	},
	// out_activation_ of MLPRegressor(loss="poisson") in later releases.
	"exp": func(m []float64, _ int) {
		for i, v := range m {
			m[i] = math.Exp(v)
		}
	},
}

func readMLP(obj *pickle.Object) (*mlpNet, error) {
	n := &mlpNet{meta: meta{class: obj.Class()}}
	coefs, err := obj.Items("coefs_")
	if err != nil {
		return nil, fmt.Errorf("not fitted: %w", err)
	}
	icpts, err := obj.Items("intercepts_")
	if err != nil {
		return nil, fmt.Errorf("not fitted: %w", err)
	}
	if len(coefs) == 0 || len(coefs) != len(icpts) {
		return nil, fmt.Errorf("coefs_ has %d layers and intercepts_ %d", len(coefs), len(icpts))
	}
	if nl, ok := intAttr(obj, "n_layers_"); ok && nl != len(coefs)+1 {
		return nil, fmt.Errorf("n_layers_ is %d but coefs_ has %d layers", nl, len(coefs))
	}
	prev := -1
	for i, c := range coefs {
		a, ok := c.(*pickle.NDArray)
		if !ok || len(a.Shape) != 2 {
			return nil, fmt.Errorf("coefs_[%d] is not a 2-D array", i)
		}
		r, k := a.Shape[0], a.Shape[1]
		if r < 1 || k < 1 || prev >= 0 && r != prev {
			return nil, fmt.Errorf("coefs_[%d] has shape %v after a layer of %d units", i, a.Shape, prev)
		}
		w, err := a.Float64s()
		if err != nil {
			return nil, fmt.Errorf("coefs_[%d]: %w", i, err)
		}
		ia, ok := icpts[i].(*pickle.NDArray)
		if !ok {
			return nil, fmt.Errorf("intercepts_[%d] is a %s, want an array", i, pickle.TypeName(icpts[i]))
		}
		b, err := ia.Float64s()
		if err != nil {
			return nil, fmt.Errorf("intercepts_[%d]: %w", i, err)
		}
		if len(b) != k {
			return nil, fmt.Errorf("intercepts_[%d] has %d values for %d units", i, len(b), k)
		}
		n.w = append(n.w, w)
		n.wShape = append(n.wShape, [2]int{r, k})
		n.b = append(n.b, b)
		prev = k
	}
	n.nOut = prev
	if no, ok := intAttr(obj, "n_outputs_"); ok && no != n.nOut {
		return nil, fmt.Errorf("n_outputs_ is %d but the last layer has %d units", no, n.nOut)
	}
	act, err := strAttr(obj, "activation", "relu")
	if err != nil {
		return nil, err
	}
	h := mlpActivations[act]
	if h == nil || act == "softmax" || act == "exp" {
		return nil, fmt.Errorf("activation %q is not one of identity, logistic, tanh, relu", act)
	}
	n.hidden = func(m []float64) { h(m, 0) }
	outAct, err := strAttr(obj, "out_activation_", "")
	if err != nil {
		return nil, err
	}
	if n.out = mlpActivations[outAct]; n.out == nil {
		return nil, fmt.Errorf("out_activation_ %q is not supported", outAct)
	}
	if err := n.meta.read(obj, n.wShape[0][0]); err != nil {
		return nil, err
	}
	return n, nil
}

// forward is _forward_pass_fast: rows x nOut, row-major.
func (n *mlpNet) forward(X *Dense) ([]float64, error) {
	if err := checkFinite(X, shortName(n.class)); err != nil {
		return nil, err
	}
	if len(X.Cols) != n.wShape[0][0] {
		return nil, fmt.Errorf("%s was fitted on %d features but receives %d", shortName(n.class), n.wShape[0][0], len(X.Cols))
	}
	rows := X.Rows
	// First layer straight from the feature columns.
	k := n.wShape[0][1]
	act := make([]float64, rows*k)
	w := n.w[0]
	for j, col := range X.Cols {
		wj := w[j*k : (j+1)*k]
		for i, x := range col[:rows] {
			dst := act[i*k : (i+1)*k]
			for c, wc := range wj {
				dst[c] += float64(x * wc)
			}
		}
	}
	for layer := 0; ; layer++ {
		k = n.wShape[layer][1]
		b := n.b[layer]
		for i := range rows {
			dst := act[i*k : (i+1)*k]
			for c := range dst {
				dst[c] += b[c]
			}
		}
		if layer == len(n.w)-1 {
			n.out(act, k)
			return act, nil
		}
		n.hidden(act)
		act = matmul(act, rows, k, n.w[layer+1], n.wShape[layer+1][1])
	}
}

// matmul is a (rows x k) @ w (k x m), row-major, each dot product summed in
// order of the inner index with every product rounded on its own.
func matmul(a []float64, rows, k int, w []float64, m int) []float64 {
	out := make([]float64, rows*m)
	for i := range rows {
		dst := out[i*m : (i+1)*m]
		for j, x := range a[i*k : (i+1)*k] {
			wj := w[j*m : (j+1)*m]
			for c, wc := range wj {
				dst[c] += float64(x * wc)
			}
		}
	}
	return out
}

// mlpRegressor is MLPRegressor: predict is the output layer, flattened when
// it has one unit.
type mlpRegressor struct{ *mlpNet }

func buildMLPRegressor(obj *pickle.Object) (Estimator, error) {
	n, err := readMLP(obj)
	if err != nil {
		return nil, err
	}
	return &mlpRegressor{n}, nil
}

func (e *mlpRegressor) targets() (int, bool)                     { return e.nOut, e.nOut > 1 }
func (e *mlpRegressor) regress(X *Dense) ([]float64, error)      { return e.forward(X) }
func (e *mlpRegressor) Outputs(model.LoadOptions) []model.Column { return regressorOutputs(e) }
func (e *mlpRegressor) Predict(X *Dense, _ model.LoadOptions, mem memory.Allocator) ([]arrow.Array, error) {
	return regressorPredict(e, X, mem)
}

// mlpClassifier is a binary or multiclass MLPClassifier: predict is
// LabelBinarizer.inverse_transform of the output layer (binary: the logistic
// output > 0.5; multiclass: argmax of the softmax), predict_proba the output
// layer ([1-p, p] when binary).
type mlpClassifier struct {
	*mlpNet
	cls *classes
}

// mlpMultilabel is MLPClassifier fitted on a label indicator matrix: predict
// is one 0/1 int column per label (output > 0.5), predict_proba the logistic
// outputs themselves, one column per label.
type mlpMultilabel struct {
	*mlpNet
	cls *classes
}

func buildMLPClassifier(obj *pickle.Object) (Estimator, error) {
	n, err := readMLP(obj)
	if err != nil {
		return nil, err
	}
	lb, err := obj.Object("_label_binarizer")
	if err != nil {
		return nil, fmt.Errorf("not fitted: %w", err)
	}
	yType, err := lb.String("y_type_")
	if err != nil {
		return nil, fmt.Errorf("_label_binarizer: %w", err)
	}
	cv, ok := lb.Attr("classes_")
	if !ok {
		if cv, ok = obj.Attr("classes_"); !ok {
			return nil, fmt.Errorf("not fitted: no classes_")
		}
	}
	cls, err := readClasses(cv)
	if err != nil {
		return nil, err
	}
	// inverse_transform's threshold is (pos_label + neg_label) / 2; fit always
	// uses the defaults 1 and 0.
	for name, want := range map[string]int{"pos_label": 1, "neg_label": 0} {
		if v, ok := intAttr(lb, name); ok && v != want {
			return nil, fmt.Errorf("_label_binarizer.%s is %d; MLPClassifier fits it with %d", name, v, want)
		}
	}
	K := cls.len()
	switch yType {
	case "binary":
		if K != 2 || n.nOut != 1 || !n.outIs(obj, "logistic") {
			return nil, fmt.Errorf("a binary MLPClassifier needs 2 classes and one logistic output, has %d classes and %d outputs", K, n.nOut)
		}
		return &mlpClassifier{n, cls}, nil
	case "multiclass":
		if K < 3 || n.nOut != K || !n.outIs(obj, "softmax") {
			return nil, fmt.Errorf("a multiclass MLPClassifier needs one softmax output per class, has %d classes and %d outputs", K, n.nOut)
		}
		return &mlpClassifier{n, cls}, nil
	case "multilabel-indicator":
		if n.nOut != K || !n.outIs(obj, "logistic") {
			return nil, fmt.Errorf("a multilabel MLPClassifier needs one logistic output per label, has %d labels and %d outputs", K, n.nOut)
		}
		return &mlpMultilabel{n, cls}, nil
	}
	return nil, fmt.Errorf("_label_binarizer.y_type_ %q is not supported", yType)
}

func (n *mlpNet) outIs(obj *pickle.Object, want string) bool {
	s, _ := strAttr(obj, "out_activation_", "")
	return s == want
}

func (e *mlpClassifier) labelsOf() *classes { return e.cls }

func (e *mlpClassifier) Outputs(opts model.LoadOptions) []model.Column {
	return classifierOutputs(e.cls, opts)
}

func (e *mlpClassifier) predictProba(X *Dense) ([]float64, error) {
	y, err := e.forward(X)
	if err != nil {
		return nil, err
	}
	if e.nOut > 1 {
		return y, nil
	}
	p := make([]float64, 2*len(y))
	for i, v := range y {
		p[2*i], p[2*i+1] = 1-v, v
	}
	return p, nil
}

// indexFrom is LabelBinarizer.inverse_transform on the output layer.
func (e *mlpClassifier) indexFrom(y []float64, rows int) []int {
	idx := make([]int, rows)
	if e.nOut == 1 {
		for i, v := range y[:rows] {
			if v > 0.5 {
				idx[i] = 1
			}
		}
		return idx
	}
	K := e.nOut
	for i := range idx {
		idx[i] = argmax(y[i*K : (i+1)*K])
	}
	return idx
}

func (e *mlpClassifier) predictIndex(X *Dense) ([]int, error) {
	y, err := e.forward(X)
	if err != nil {
		return nil, err
	}
	return e.indexFrom(y, X.Rows), nil
}

func (e *mlpClassifier) Predict(X *Dense, opts model.LoadOptions, mem memory.Allocator) ([]arrow.Array, error) {
	y, err := e.forward(X)
	if err != nil {
		return nil, err
	}
	out := []arrow.Array{e.cls.labels(e.indexFrom(y, X.Rows), mem)}
	if opts.Proba {
		p := y
		if e.nOut == 1 {
			p = make([]float64, 2*X.Rows)
			for i, v := range y[:X.Rows] {
				p[2*i], p[2*i+1] = 1-v, v
			}
		}
		out = append(out, columnsOf(p, X.Rows, e.cls.len(), mem)...)
	}
	return out, nil
}

// Outputs: prediction_<k> (int64 0/1) per label, then with --proba
// proba_<label> per label (the columns of predict_proba, named by classes_,
// which for an indicator matrix is 0..n_labels-1).
func (e *mlpMultilabel) Outputs(opts model.LoadOptions) []model.Column {
	cols := make([]model.Column, 0, 2*e.nOut)
	for k := range e.nOut {
		cols = append(cols, model.Column{Name: "prediction_" + strconv.Itoa(k), Type: arrow.PrimitiveTypes.Int64})
	}
	if opts.Proba {
		for _, n := range e.cls.Names {
			cols = append(cols, model.Column{Name: "proba_" + n, Type: arrow.PrimitiveTypes.Float64})
		}
	}
	return cols
}

func (e *mlpMultilabel) Predict(X *Dense, opts model.LoadOptions, mem memory.Allocator) ([]arrow.Array, error) {
	y, err := e.forward(X)
	if err != nil {
		return nil, err
	}
	K := e.nOut
	out := make([]arrow.Array, 0, 2*K)
	b := array.NewInt64Builder(mem)
	defer b.Release()
	for k := range K {
		b.Reserve(X.Rows)
		for i := range X.Rows {
			if y[i*K+k] > 0.5 {
				b.UnsafeAppend(1)
			} else {
				b.UnsafeAppend(0)
			}
		}
		out = append(out, b.NewArray())
	}
	if opts.Proba {
		out = append(out, columnsOf(y, X.Rows, K, mem)...)
	}
	return out, nil
}
