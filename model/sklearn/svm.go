package sklearn

import (
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/model"
	"github.com/mlbatch/mlbatch/model/pickle"
)

// The libsvm estimators (SVC, NuSVC, SVR, NuSVR, OneClassSVM) predict with
// libsvm's svm_predict_values as scikit-learn vendors it (sklearn/svm/src/libsvm/
// svm.cpp), fed with the pickled private arrays scikit-learn hands to libsvm:
// support_vectors_, _dual_coef_ (libsvm's sv_coef), _intercept_ (libsvm's -rho),
// _n_support (libsvm's nSV), _probA/_probB and _gamma.
//
// Classifiers: for each pair of classes (i, j), i < j, in that order,
//
//	dec_p = sum_{s in SV(i)} _dual_coef_[j-1][s] K(x, s) + sum_{s in SV(j)} _dual_coef_[i][s] K(x, s) + _intercept_[p]
//
// and the pair votes for i when dec_p > 0, else for j; the most votes win, ties
// going to the lower class index. scikit-learn negates dec for a binary
// problem (decision_function is -dec_0, predict is still the vote), and with
// decision_function_shape="ovr" turns the pairs into per-class scores
// (_ovr_decision_function). probability=True adds predict_proba: Platt's
// sigmoid per pair, then libsvm's pairwise coupling (multiclass_probability);
// predict keeps voting, as scikit-learn's does.
//
// Regressors and OneClassSVM: dec = sum_s _dual_coef_[0][s] K(x, s) + _intercept_[0];
// SVR predicts dec, OneClassSVM predicts +1 when dec > 0, else -1.

// libsvm's svm_type order (scikit-learn's LIBSVM_IMPL).
const (
	cSVC = iota
	nuSVC
	oneClass
	epsilonSVR
	nuSVR
)

// libsvm's kernel_type order.
const (
	kLinear = iota
	kPoly
	kRBF
	kSigmoid
)

var svmImpl = map[string]int{
	"SVC": cSVC, "NuSVC": nuSVC, "OneClassSVM": oneClass, "SVR": epsilonSVR, "NuSVR": nuSVR,
}

func init() {
	// A model fitted on a scipy sparse matrix keeps support_vectors_ and
	// _dual_coef_ as CSR matrices; they load as plain objects and are read by
	// csrDense.
	for _, c := range []string{"scipy.sparse._csr.csr_matrix", "scipy.sparse.csr.csr_matrix"} {
		inert[c] = true
	}
	for name := range svmImpl {
		// sklearn.svm.classes before 0.22, sklearn.svm._classes since.
		register("sklearn.svm._classes."+name, buildSVM)
		register("sklearn.svm.classes."+name, buildSVM)
	}
}

// svmModel is a fitted libsvm model.
type svmModel struct {
	meta
	impl   int
	kernel int
	degree int
	gamma  float64
	coef0  float64

	sv    []float64   // support vectors, row-major l x nFeat
	l     int         // number of support vectors
	coef  [][]float64 // _dual_coef_: (n_class-1) x l (1 x l for regression)
	icpt  []float64   // _intercept_: one per pair (one for regression)
	nSV   []int       // support vectors per class (classifiers)
	start []int       // first support vector of each class

	probA, probB []float64 // Platt parameters per pair, nil without probability
	cls          *classes
	ovr          bool // decision_function_shape == "ovr"
	breakTies    bool
}

func buildSVM(obj *pickle.Object) (Estimator, error) {
	e := &svmModel{meta: meta{class: obj.Class()}}
	e.impl = svmImpl[obj.Name]
	kernel, err := strAttr(obj, "kernel", "rbf")
	if err != nil {
		return nil, fmt.Errorf("%w: callable kernels are not supported (linear, poly, rbf and sigmoid are)", err)
	}
	switch kernel {
	case "linear":
		e.kernel = kLinear
	case "poly":
		e.kernel = kPoly
	case "rbf":
		e.kernel = kRBF
	case "sigmoid":
		e.kernel = kSigmoid
	case "precomputed":
		return nil, fmt.Errorf("kernel=\"precomputed\" needs the kernel matrix against the training samples as input, which mlbatch does not build; supported kernels are linear, poly, rbf and sigmoid")
	default:
		return nil, fmt.Errorf("kernel %q is not supported (linear, poly, rbf and sigmoid are)", kernel)
	}
	if err := e.readParams(obj); err != nil {
		return nil, err
	}

	// Support vectors.
	// A model fitted on sparse input (_sparse=True) holds CSR matrices. libsvm's
	// sparse kernels add the same products and squares in the same index
	// order as the dense ones here (the absent entries only add zeros), so
	// the dense form predicts identically.
	svShape, sv, err := matrixOrCSR(obj, "support_vectors_")
	if err != nil {
		return nil, err
	}
	e.sv = sv
	e.l = svShape[0]
	nFeat := svShape[1]

	// Dual coefficients and intercepts as libsvm sees them. scikit-learn keeps
	// them in _dual_coef_ / _intercept_; the public dual_coef_ / intercept_ are
	// negated for a binary SVC/NuSVC (and intercept_ differs for OneClassSVM).
	classifier := e.impl == cSVC || e.impl == nuSVC
	if classifier {
		cv, ok := obj.Attr("classes_")
		if !ok {
			return nil, fmt.Errorf("not fitted: no classes_")
		}
		if e.cls, err = readClasses(cv); err != nil {
			return nil, err
		}
		if e.cls.len() < 2 {
			return nil, fmt.Errorf("classes_ has %d classes; a fitted %s has at least 2", e.cls.len(), obj.Name)
		}
	}
	flip := false
	dcName, icName := "_dual_coef_", "_intercept_"
	if !obj.Has("_dual_coef_") || !obj.Has("_intercept_") {
		if e.impl == oneClass {
			return nil, fmt.Errorf("_dual_coef_ or _intercept_ is missing")
		}
		dcName, icName = "dual_coef_", "intercept_"
		flip = classifier && e.cls.len() == 2
	}
	dcShape, dcv, err := matrixOrCSR(obj, dcName)
	if err != nil {
		return nil, err
	}
	if dcShape[1] != e.l {
		return nil, fmt.Errorf("%s has shape %v for %d support vectors", dcName, dcShape, e.l)
	}
	for k := range dcShape[0] {
		e.coef = append(e.coef, dcv[k*e.l:(k+1)*e.l])
	}
	if e.icpt, err = floatsAttr(obj, icName); err != nil {
		return nil, err
	}
	if flip {
		for k, row := range e.coef {
			neg := make([]float64, len(row))
			for s, v := range row {
				neg[s] = -v
			}
			e.coef[k] = neg
		}
		e.icpt = []float64{-e.icpt[0]}
	}
	for _, row := range e.coef {
		for _, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("%s holds %v", dcName, v)
			}
		}
	}

	if classifier {
		if err := e.readClassifier(obj, dcName, icName); err != nil {
			return nil, err
		}
	} else {
		if len(e.coef) != 1 {
			return nil, fmt.Errorf("%s has %d rows; a %s has 1", dcName, len(e.coef), obj.Name)
		}
		if len(e.icpt) != 1 {
			return nil, fmt.Errorf("%s has %d values; a %s has 1", icName, len(e.icpt), obj.Name)
		}
		// scikit-learn checks n_support_ (_n_support[0] here) against the support
		// vectors (CVE-2020-28975), for dense models only: a sparse SVR's
		// _n_support is not maintained (1.2.1 pickles hold unrelated counts).
		sparse, _ := boolAttr(obj, "_sparse", false)
		if ns, ok, err := nSupport(obj); err != nil {
			return nil, err
		} else if ok && !sparse && len(ns) > 0 && e.l > 0 && ns[0] != e.l {
			return nil, fmt.Errorf("_n_support says %d support vectors but support_vectors_ has %d: the internal representation of %s was altered", ns[0], e.l, obj.Name)
		}
	}
	if e.l == 0 {
		// An empty model: libsvm sums nothing. nFeat comes from n_features_in_.
		nFeat = -1
	}
	if err := e.meta.read(obj, nFeat); err != nil {
		return nil, err
	}
	if e.nFeat < 0 {
		return nil, fmt.Errorf("cannot tell how many features the model takes (no support vectors, no n_features_in_)")
	}
	if e.l == 0 {
		e.sv = nil
	}
	switch {
	case classifier && e.probA != nil:
		return &svcProba{svc{e}}, nil
	case classifier:
		return &svc{e}, nil
	case e.impl == oneClass:
		return &oneClassSVM{e}, nil
	}
	return &svr{e}, nil
}

// svc is SVC or NuSVC without probabilities: labelClassifier and decider.
type svc struct{ *svmModel }

// svcProba is SVC or NuSVC fitted with probability=True: also a probClassifier
// (whose predict still votes: use predictIndex for labels).
type svcProba struct{ svc }

// svr is SVR or NuSVR.
type svr struct{ *svmModel }

// oneClassSVM predicts +1 (inlier) or -1 (outlier) as int64.
type oneClassSVM struct{ *svmModel }

// matrixOrCSR reads a 2-D float attribute, a numpy array or a scipy CSR
// matrix, as a dense row-major matrix.
func matrixOrCSR(obj *pickle.Object, name string) ([2]int, []float64, error) {
	v, ok := obj.Attr(name)
	if !ok {
		return [2]int{}, nil, fmt.Errorf("not fitted: attribute %s is missing", name)
	}
	switch x := v.(type) {
	case *pickle.NDArray:
		if len(x.Shape) != 2 {
			return [2]int{}, nil, fmt.Errorf("%s has shape %v; want 2-D", name, x.Shape)
		}
		f, err := x.Float64s()
		if err != nil {
			return [2]int{}, nil, fmt.Errorf("%s: %w", name, err)
		}
		return [2]int{x.Shape[0], x.Shape[1]}, f, nil
	case *pickle.Object:
		if x.Name != "csr_matrix" {
			break
		}
		shape, m, err := csrDense(x)
		if err != nil {
			return [2]int{}, nil, fmt.Errorf("%s: %w", name, err)
		}
		return shape, m, nil
	}
	return [2]int{}, nil, fmt.Errorf("%s is a %s, want an array or a CSR matrix", name, pickle.TypeName(v))
}

// maxCSRCells bounds the dense copy of a CSR matrix (support vectors x features).
const maxCSRCells = 1 << 28

// csrDense turns a pickled scipy.sparse csr_matrix (_shape, data, indices,
// indptr) into a dense row-major matrix, checking every index.
func csrDense(o *pickle.Object) ([2]int, []float64, error) {
	var shape [2]int
	items, err := o.Items("_shape")
	if err != nil || len(items) != 2 {
		return shape, nil, fmt.Errorf("csr_matrix without a 2-D _shape")
	}
	for k, it := range items {
		n, ok := it.(int64)
		if !ok || n < 0 || n > math.MaxInt32 {
			return shape, nil, fmt.Errorf("csr_matrix _shape holds %v", it)
		}
		shape[k] = int(n)
	}
	if shape[0]*shape[1] > maxCSRCells {
		return shape, nil, fmt.Errorf("csr_matrix of shape %v is too large to expand", shape)
	}
	dataA, err := o.Array("data")
	if err != nil {
		return shape, nil, err
	}
	data, err := dataA.Float64s()
	if err != nil {
		return shape, nil, fmt.Errorf("data: %w", err)
	}
	idxA, err := o.Array("indices")
	if err != nil {
		return shape, nil, err
	}
	indices, err := idxA.Int64s()
	if err != nil {
		return shape, nil, fmt.Errorf("indices: %w", err)
	}
	ptrA, err := o.Array("indptr")
	if err != nil {
		return shape, nil, err
	}
	indptr, err := ptrA.Int64s()
	if err != nil {
		return shape, nil, fmt.Errorf("indptr: %w", err)
	}
	if len(indptr) != shape[0]+1 || len(indices) != len(data) || indptr[0] != 0 || indptr[shape[0]] != int64(len(data)) {
		return shape, nil, fmt.Errorf("csr_matrix arrays do not fit its shape %v", shape)
	}
	m := make([]float64, shape[0]*shape[1])
	for r := range shape[0] {
		lo, hi := indptr[r], indptr[r+1]
		if lo > hi || hi > int64(len(data)) {
			return shape, nil, fmt.Errorf("csr_matrix indptr is not monotonic at row %d", r)
		}
		for k := lo; k < hi; k++ {
			c := indices[k]
			if c < 0 || c >= int64(shape[1]) {
				return shape, nil, fmt.Errorf("csr_matrix column index %d out of range", c)
			}
			m[r*shape[1]+int(c)] += data[k]
		}
	}
	return shape, m, nil
}

// readParams reads the kernel parameters libsvm uses.
func (e *svmModel) readParams(obj *pickle.Object) error {
	if v, ok := obj.Attr("degree"); ok {
		d, ok := floatVal(v)
		if !ok || d != math.Trunc(d) || d < 0 || d > 1<<20 {
			return fmt.Errorf("degree is %v; want a non-negative integer", v)
		}
		e.degree = int(d)
	} else {
		e.degree = 3
	}
	if v, ok := obj.Attr("coef0"); ok {
		c, ok := floatVal(v)
		if !ok {
			return fmt.Errorf("coef0 is a %s, want a number", pickle.TypeName(v))
		}
		e.coef0 = c
	}
	// _gamma is the value fit resolved ("scale" and "auto" become numbers).
	g, ok := obj.Attr("_gamma")
	if !ok {
		g, _ = obj.Attr("gamma")
	}
	gf, isNum := floatVal(g)
	if !isNum {
		if e.kernel == kLinear {
			return nil // linear ignores gamma
		}
		return fmt.Errorf("_gamma is missing or not a number (gamma is %v)", g)
	}
	e.gamma = gf
	return nil
}

// nSupport reads _n_support (n_support_ before scikit-learn 0.23).
func nSupport(obj *pickle.Object) ([]int, bool, error) {
	name := "_n_support"
	v, ok := obj.Attr(name)
	if !ok {
		name = "n_support_"
		if v, ok = obj.Attr(name); !ok {
			return nil, false, nil
		}
	}
	a, isArr := v.(*pickle.NDArray)
	if !isArr {
		return nil, false, fmt.Errorf("%s is a %s, want an array", name, pickle.TypeName(v))
	}
	n, err := a.Int64s()
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", name, err)
	}
	out := make([]int, len(n))
	for i, x := range n {
		if x < 0 || x > math.MaxInt32 {
			return nil, false, fmt.Errorf("%s holds %d", name, x)
		}
		out[i] = int(x)
	}
	return out, true, nil
}

// readClassifier reads what SVC and NuSVC add: the class layout of the support
// vectors, Platt's parameters and the decision_function options.
func (e *svmModel) readClassifier(obj *pickle.Object, dcName, icName string) error {
	K := e.cls.len()
	pairs := K * (K - 1) / 2
	ns, ok, err := nSupport(obj)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("not fitted: no _n_support")
	}
	if len(ns) != K {
		return fmt.Errorf("_n_support has %d counts for %d classes", len(ns), K)
	}
	e.nSV = ns
	e.start = make([]int, K)
	total := 0
	for k, n := range ns {
		e.start[k] = total
		total += n
	}
	if total != e.l {
		return fmt.Errorf("_n_support adds up to %d support vectors but support_vectors_ has %d: the internal representation of %s was altered", total, e.l, obj.Name)
	}
	if len(e.coef) != K-1 {
		return fmt.Errorf("%s has %d rows for %d classes; want %d", dcName, len(e.coef), K, K-1)
	}
	if len(e.icpt) != pairs {
		return fmt.Errorf("%s has %d values for %d classes; want %d", icName, len(e.icpt), K, pairs)
	}
	pa, pb, err := plattParams(obj)
	if err != nil {
		return err
	}
	prob, err := boolAttr(obj, "probability", false)
	if err != nil {
		return err
	}
	if prob && len(pa) > 0 {
		if len(pa) != pairs || len(pb) != pairs {
			return fmt.Errorf("probA_/probB_ have %d/%d values for %d classes; want %d", len(pa), len(pb), K, pairs)
		}
		e.probA, e.probB = pa, pb
	}
	shape, err := strAttr(obj, "decision_function_shape", "ovr")
	if err != nil {
		return err
	}
	switch shape {
	case "ovr":
		e.ovr = true
	case "ovo":
	default:
		return fmt.Errorf("decision_function_shape %q is not supported (ovr and ovo are)", shape)
	}
	if e.breakTies, err = boolAttr(obj, "break_ties", false); err != nil {
		return err
	}
	if e.breakTies && !e.ovr {
		// scikit-learn's predict raises this very error.
		return fmt.Errorf("break_ties must be False when decision_function_shape is 'ovo'")
	}
	return nil
}

// plattParams reads _probA/_probB (scikit-learn >= 1.0), else probA_/probB_.
func plattParams(obj *pickle.Object) (a, b []float64, err error) {
	an, bn := "_probA", "_probB"
	if !obj.Has(an) {
		an, bn = "probA_", "probB_"
		if !obj.Has(an) {
			return nil, nil, nil
		}
	}
	if a, err = floatsAttr(obj, an); err != nil {
		return nil, nil, err
	}
	if b, err = floatsAttr(obj, bn); err != nil {
		return nil, nil, err
	}
	return a, b, nil
}

func (e *svc) labelsOf() *classes { return e.cls }

func (e *svc) noProbaReason() string {
	return shortName(e.class) + " was fitted with probability=False, so it has no predict_proba"
}

func (e *svc) Outputs(opts model.LoadOptions) []model.Column {
	o := opts
	o.Proba = false
	return classifierOutputs(e.cls, o)
}

func (e *svcProba) Outputs(opts model.LoadOptions) []model.Column {
	return classifierOutputs(e.cls, opts)
}

func (e *svr) targets() (int, bool) { return 1, false }

func (e *svr) Outputs(model.LoadOptions) []model.Column { return regressorOutputs(e) }

func (e *oneClassSVM) Outputs(model.LoadOptions) []model.Column {
	return []model.Column{{Name: "prediction", Type: arrow.PrimitiveTypes.Int64}}
}

// kernelRow sets k[s] = K(x, sv_s) for every support vector, as libsvm's
// Kernel::k_function evaluates it for dense data.
func (e *svmModel) kernelRow(x, k []float64) {
	f := e.nFeat
	for s := range e.l {
		v := e.sv[s*f : (s+1)*f]
		switch e.kernel {
		case kLinear:
			k[s] = dot(x, v)
		case kPoly:
			k[s] = powi(e.gamma*dot(x, v)+e.coef0, e.degree)
		case kRBF:
			sum := 0.0
			for j, xv := range x {
				d := xv - v[j]
				sum += d * d
			}
			k[s] = math.Exp(-e.gamma * sum)
		case kSigmoid:
			k[s] = math.Tanh(e.gamma*dot(x, v) + e.coef0)
		}
	}
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

// powi is libsvm's integer power by repeated squaring (not math.Pow: the
// rounding differs).
func powi(base float64, times int) float64 {
	tmp, ret := base, 1.0
	for t := times; t > 0; t /= 2 {
		if t%2 == 1 {
			ret *= tmp
		}
		tmp *= tmp
	}
	return ret
}

// rawDecision returns libsvm's decision values, rows x pairs (classifiers) or
// rows x 1 (regression, one-class), row-major.
func (e *svmModel) rawDecision(X *Dense) ([]float64, int, error) {
	if err := checkFinite(X, shortName(e.class)); err != nil {
		return nil, 0, err
	}
	pairs := 1
	if e.cls != nil {
		K := e.cls.len()
		pairs = K * (K - 1) / 2
	}
	out := make([]float64, X.Rows*pairs)
	x := make([]float64, e.nFeat)
	k := make([]float64, e.l)
	for i := range X.Rows {
		for j, col := range X.Cols {
			x[j] = col[i]
		}
		e.kernelRow(x, k)
		dec := out[i*pairs : (i+1)*pairs]
		if e.cls == nil {
			sum := 0.0
			for s, c := range e.coef[0] {
				sum += c * k[s]
			}
			dec[0] = sum + e.icpt[0] // libsvm: sum - rho, rho = -_intercept_
			continue
		}
		K := e.cls.len()
		p := 0
		for a := range K {
			for b := a + 1; b < K; b++ {
				sa, sb := e.start[a], e.start[b]
				c1, c2 := e.coef[b-1], e.coef[a]
				sum := 0.0
				for s := sa; s < sa+e.nSV[a]; s++ {
					sum += c1[s] * k[s]
				}
				for s := sb; s < sb+e.nSV[b]; s++ {
					sum += c2[s] * k[s]
				}
				dec[p] = sum + e.icpt[p] // libsvm: sum - rho, rho = -_intercept_
				p++
			}
		}
	}
	return out, pairs, nil
}

// votes returns libsvm's one-vs-one winner per row: most votes, ties to the
// lower class index.
func (e *svmModel) votes(dec []float64, rows, pairs int) []int {
	K := e.cls.len()
	idx := make([]int, rows)
	vote := make([]int, K)
	for i := range rows {
		clear(vote)
		d := dec[i*pairs : (i+1)*pairs]
		p := 0
		for a := range K {
			for b := a + 1; b < K; b++ {
				if d[p] > 0 {
					vote[a]++
				} else {
					vote[b]++
				}
				p++
			}
		}
		best := 0
		for c := 1; c < K; c++ {
			if vote[c] > vote[best] {
				best = c
			}
		}
		idx[i] = best
	}
	return idx
}

// ovrDecision is scikit-learn's _ovr_decision_function(dec < 0, -dec, K): votes
// plus the summed confidences squashed into (-1/3, 1/3).
func ovrDecision(dec []float64, rows, K int) []float64 {
	pairs := K * (K - 1) / 2
	out := make([]float64, rows*K)
	conf := make([]float64, K)
	for i := range rows {
		d := dec[i*pairs : (i+1)*pairs]
		votes := out[i*K : (i+1)*K]
		clear(conf)
		p := 0
		for a := range K {
			for b := a + 1; b < K; b++ {
				c := -d[p]
				conf[a] -= c
				conf[b] += c
				if d[p] < 0 {
					votes[b]++
				} else {
					votes[a]++
				}
				p++
			}
		}
		for c := range K {
			votes[c] += conf[c] / (3 * (math.Abs(conf[c]) + 1))
		}
	}
	return out
}

// decisionFunction is scikit-learn's decision_function: -dec for two classes,
// the K(K-1)/2 pair values with "ovo", per-class scores with "ovr".
func (e *svc) decisionFunction(X *Dense) ([]float64, int, error) {
	dec, pairs, err := e.rawDecision(X)
	if err != nil {
		return nil, 0, err
	}
	K := e.cls.len()
	switch {
	case K == 2:
		for i := range dec {
			dec[i] = -dec[i]
		}
		return dec, 1, nil
	case e.ovr:
		return ovrDecision(dec, X.Rows, K), K, nil
	}
	return dec, pairs, nil
}

// predictIndex is SVC.predict as an index into classes_.
func (e *svc) predictIndex(X *Dense) ([]int, error) {
	dec, pairs, err := e.rawDecision(X)
	if err != nil {
		return nil, err
	}
	return e.indexFrom(dec, X.Rows, pairs), nil
}

func (e *svmModel) indexFrom(dec []float64, rows, pairs int) []int {
	K := e.cls.len()
	if e.breakTies && e.ovr && K > 2 {
		scores := ovrDecision(dec, rows, K)
		idx := make([]int, rows)
		for i := range idx {
			idx[i] = argmax(scores[i*K : (i+1)*K])
		}
		return idx
	}
	return e.votes(dec, rows, pairs)
}

func (e *svcProba) predictProba(X *Dense) ([]float64, error) {
	dec, pairs, err := e.rawDecision(X)
	if err != nil {
		return nil, err
	}
	return e.probaFrom(dec, X.Rows, pairs), nil
}

// probaFrom is libsvm's svm_predict_probability on decision values.
func (e *svmModel) probaFrom(dec []float64, rows, pairs int) []float64 {
	K := e.cls.len()
	const minProb = 1e-7
	out := make([]float64, rows*K)
	r := make([][]float64, K)
	for a := range r {
		r[a] = make([]float64, K)
	}
	mc := newMulticlassProb(K)
	for i := range rows {
		d := dec[i*pairs : (i+1)*pairs]
		p := 0
		for a := range K {
			for b := a + 1; b < K; b++ {
				v := min(max(sigmoidPredict(d[p], e.probA[p], e.probB[p]), minProb), 1-minProb)
				r[a][b] = v
				r[b][a] = 1 - v
				p++
			}
		}
		mc.solve(r, out[i*K:(i+1)*K])
	}
	return out
}

// sigmoidPredict is libsvm's sigmoid_predict: 1/(1+exp(dec*A+B)) written to
// avoid cancellation.
func sigmoidPredict(dec, A, B float64) float64 {
	fApB := dec*A + B
	if fApB >= 0 {
		return math.Exp(-fApB) / (1.0 + math.Exp(-fApB))
	}
	return 1.0 / (1 + math.Exp(fApB))
}

// multiclassProb holds the buffers of libsvm's multiclass_probability (method 2
// of Wu, Lin and Weng, 2004), reused across rows.
type multiclassProb struct {
	k  int
	Q  [][]float64
	Qp []float64
}

func newMulticlassProb(k int) *multiclassProb {
	m := &multiclassProb{k: k, Q: make([][]float64, k), Qp: make([]float64, k)}
	for t := range m.Q {
		m.Q[t] = make([]float64, k)
	}
	return m
}

// solve sets p from the pairwise probabilities r, in libsvm's order of
// operations.
func (m *multiclassProb) solve(r [][]float64, p []float64) {
	k, Q, Qp := m.k, m.Q, m.Qp
	maxIter := max(100, k)
	eps := 0.005 / float64(k)
	for t := range k {
		p[t] = 1.0 / float64(k)
		Q[t][t] = 0
		for j := 0; j < t; j++ {
			Q[t][t] += r[j][t] * r[j][t]
			Q[t][j] = Q[j][t]
		}
		for j := t + 1; j < k; j++ {
			Q[t][t] += r[j][t] * r[j][t]
			Q[t][j] = -r[j][t] * r[t][j]
		}
	}
	for iter := 0; iter < maxIter; iter++ {
		// Stopping condition; Qp and pQp recomputed for accuracy.
		pQp := 0.0
		for t := range k {
			Qp[t] = 0
			for j := range k {
				Qp[t] += Q[t][j] * p[j]
			}
			pQp += p[t] * Qp[t]
		}
		maxError := 0.0
		for t := range k {
			if e := math.Abs(Qp[t] - pQp); e > maxError {
				maxError = e
			}
		}
		if maxError < eps {
			break
		}
		for t := range k {
			diff := (-Qp[t] + pQp) / Q[t][t]
			p[t] += diff
			pQp = (pQp + diff*(diff*Q[t][t]+2*Qp[t])) / (1 + diff) / (1 + diff)
			for j := range k {
				Qp[j] = (Qp[j] + diff*Q[t][j]) / (1 + diff)
				p[j] /= (1 + diff)
			}
		}
	}
}

func (e *svr) regress(X *Dense) ([]float64, error) {
	dec, _, err := e.rawDecision(X)
	return dec, err
}

func (e *svr) Predict(X *Dense, _ model.LoadOptions, mem memory.Allocator) ([]arrow.Array, error) {
	return regressorPredict(e, X, mem)
}

func (e *oneClassSVM) Predict(X *Dense, _ model.LoadOptions, mem memory.Allocator) ([]arrow.Array, error) {
	dec, _, err := e.rawDecision(X)
	if err != nil {
		return nil, err
	}
	b := array.NewInt64Builder(mem)
	defer b.Release()
	b.Reserve(X.Rows)
	for _, v := range dec {
		if v > 0 {
			b.UnsafeAppend(1)
		} else {
			b.UnsafeAppend(-1)
		}
	}
	return []arrow.Array{b.NewArray()}, nil
}

// Predict votes (or, with break_ties, takes the ovr argmax) and adds libsvm's
// probabilities when asked and available.
func (e *svc) Predict(X *Dense, opts model.LoadOptions, mem memory.Allocator) ([]arrow.Array, error) {
	dec, pairs, err := e.rawDecision(X)
	if err != nil {
		return nil, err
	}
	out := []arrow.Array{e.cls.labels(e.indexFrom(dec, X.Rows, pairs), mem)}
	if opts.Proba && e.probA != nil {
		out = append(out, columnsOf(e.probaFrom(dec, X.Rows, pairs), X.Rows, e.cls.len(), mem)...)
	}
	return out, nil
}
