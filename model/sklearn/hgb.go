package sklearn

import (
	"fmt"
	"math"

	"slices"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/model"
	"github.com/mlbatch/mlbatch/model/pickle"
)

// HistGradientBoostingRegressor and HistGradientBoostingClassifier.
//
// What predict does in scikit-learn 1.1 to 1.8 (_raw_predict, _predict_iterations,
// _predict_from_raw_data):
//
//   - X is validated as float64 with NaN and ±inf allowed; it is never cast to
//     float32.
//   - raw = zeros((n, K)) + _baseline_prediction, then for each iteration, for each
//     k, raw[:, k] += the k-th TreePredictor's leaf. Each cell is a chain of float64
//     additions in that order, which the Go code repeats exactly.
//   - A tree walk starts at node 0: a leaf returns its value (the learning rate is
//     already in it); NaN follows missing_go_to_left; a numeric split goes left iff
//     x <= num_threshold (float64); a categorical split treats x < 0 as missing,
//     goes left when the category is in the split's raw_left_cat_bitsets row, right
//     when it is another known category of the feature (the bin mapper's
//     bin_thresholds_), and follows the missing direction for unknown categories.
//     The category is C's <uint8_t>x, see hgbCategory.
//   - Regressors apply the loss's inverse link: identity (squared_error,
//     absolute_error, quantile) or exp (poisson, gamma). Classifiers: binary
//     proba = [1 - expit(raw), expit(raw)]; multiclass softmax with the row maximum
//     subtracted and the exponentials summed class by class (the raw array is
//     Fortran-ordered, so numpy's sum is sequential); labels are
//     classes_[argmax(proba)].
//
// Pickles of scikit-learn 0.23 to 1.0 keep their loss in the private
// hist_gradient_boosting.loss module (in _loss, or loss_ in the earliest
// releases); their multiclass probabilities are exp(raw - logsumexp(raw)), as
// CategoricalCrossEntropy.predict_proba computes them. 0.23 node records call
// num_threshold "threshold" and have no categorical fields (0.24 added
// categorical splits), and its bin mapper has no is_categorical_.
// Models of >= 1.4 fitted with categorical features keep an internal
// ColumnTransformer in _preprocessor (an OrdinalEncoder for the categorical
// columns, then check_array for the others) that recodes and reorders the
// columns before the trees: they load as a pipeline of that ColumnTransformer
// and the trees (buildHGBPreprocessed).

func init() {
	const hgbModule = "sklearn.ensemble._hist_gradient_boosting."
	register(hgbModule+"gradient_boosting.HistGradientBoostingRegressor", buildHGB)
	register(hgbModule+"gradient_boosting.HistGradientBoostingClassifier", buildHGB)
	for _, c := range []string{
		// Read by buildHGB; never estimators on their own.
		hgbModule + "predictor.TreePredictor",
		hgbModule + "binning._BinMapper",
		// The fitted _loss: only its link's class is looked at. Cython types pickle
		// as __pyx_unpickle_<Type>(<Type>, checksum, state).
		"sklearn._loss.loss.HalfSquaredError",
		"sklearn._loss.loss.AbsoluteError",
		"sklearn._loss.loss.PinballLoss",
		"sklearn._loss.loss.HalfPoissonLoss",
		"sklearn._loss.loss.HalfGammaLoss",
		"sklearn._loss.loss.HalfBinomialLoss",
		"sklearn._loss.loss.HalfMultinomialLoss",
		"sklearn._loss.link.IdentityLink",
		"sklearn._loss.link.LogLink",
		"sklearn._loss.link.LogitLink",
		"sklearn._loss.link.MultinomialLogit",
		"sklearn._loss.link.Interval",
		// Random state: _random_seed is a numpy scalar, _feature_subsample_rng
		// (>= 1.4) a numpy Generator, random_state may be a RandomState.
		"numpy.random._pickle.__randomstate_ctor",
		"numpy.random._pickle.__bit_generator_ctor",
		"numpy.random._pickle.__generator_ctor",
		"numpy.random.__RandomState_ctor",
		"numpy.random.mtrand.RandomState",
		"numpy.random._mt19937.MT19937",
		"numpy.random._pcg64.PCG64",
		"numpy.random._pcg64.PCG64DXSM",
		"numpy.random._philox.Philox",
		"numpy.random._sfc64.SFC64",
		// _scorer, set when early stopping scores with something other than the loss.
		"sklearn.metrics._scorer._PredictScorer",
		"sklearn.metrics._scorer._ProbaScorer",
		"sklearn.metrics._scorer._ThresholdScorer",
		"sklearn.metrics._scorer._Scorer",
		"sklearn.metrics._scorer._PassthroughScorer",
		"sklearn.metrics._scorer._passthrough_scorer",
		"sklearn.metrics._classification.accuracy_score",
		"sklearn.metrics._classification.balanced_accuracy_score",
		"sklearn.metrics._classification.f1_score",
		"sklearn.metrics._classification.precision_score",
		"sklearn.metrics._classification.recall_score",
		"sklearn.metrics._classification.log_loss",
		"sklearn.metrics._ranking.roc_auc_score",
		"sklearn.metrics._ranking.average_precision_score",
		"sklearn.metrics._regression.r2_score",
		"sklearn.metrics._regression.mean_squared_error",
		"sklearn.metrics._regression.root_mean_squared_error",
		"sklearn.metrics._regression.mean_absolute_error",
		"sklearn.metrics._regression.mean_absolute_percentage_error",
		"sklearn.metrics._regression.median_absolute_error",
		"sklearn.metrics._regression.explained_variance_score",
		"sklearn.metrics._regression.mean_poisson_deviance",
		"sklearn.metrics._regression.mean_gamma_deviance",
		// The losses of scikit-learn < 1.1 (only their class is looked at), and the
		// pieces of the >= 1.4 categorical _preprocessor.
		hgbModule + "loss.LeastSquares",
		hgbModule + "loss.LeastAbsoluteDeviation",
		hgbModule + "loss.Poisson",
		hgbModule + "loss.BinaryCrossEntropy",
		hgbModule + "loss.CategoricalCrossEntropy",
		"sklearn.compose._column_transformer.ColumnTransformer",
		"sklearn.preprocessing._encoders.OrdinalEncoder",
		"sklearn.preprocessing._function_transformer.FunctionTransformer",
		"sklearn.utils.validation.check_array",
		"functools.partial",
	} {
		inert[c] = true
	}
	for _, t := range []string{
		"HalfSquaredError", "AbsoluteError", "PinballLoss", "HalfPoissonLoss",
		"HalfGammaLoss", "HalfBinomialLoss", "HalfMultinomialLoss",
	} {
		inert["sklearn._loss._loss.Cy"+t] = true
		inert["sklearn._loss._loss.__pyx_unpickle_Cy"+t] = true
	}
}

// hgbLink is the inverse link predict applies to the raw sums.
type hgbLink int

const (
	hgbIdentity  hgbLink = iota // squared_error, absolute_error, quantile
	hgbExp                      // poisson, gamma (LogLink)
	hgbLogit                    // binary log_loss: expit
	hgbSoftmax                  // multiclass log_loss
	hgbLogSumExp                // multiclass before 1.1: exp(raw - logsumexp(raw))
)

func (l hgbLink) String() string {
	return [...]string{"identity", "exp", "expit", "softmax", "softmax"}[l]
}

// hgbLossLinks maps the loss parameter strings of scikit-learn 1.1-1.8 (and the
// deprecated spellings 1.1 and 1.2 still accept) to their inverse links. -1 marks
// the classification losses: expit or softmax by the number of trees per
// iteration.
var hgbLossLinks = map[string]hgbLink{
	"squared_error":            hgbIdentity,
	"least_squares":            hgbIdentity,
	"absolute_error":           hgbIdentity,
	"least_absolute_deviation": hgbIdentity,
	"quantile":                 hgbIdentity,
	"poisson":                  hgbExp,
	"gamma":                    hgbExp,
	"log_loss":                 -1,
	"auto":                     -1,
	"binary_crossentropy":      -1,
	"categorical_crossentropy": -1,
}

// hgbOldLosses maps the loss classes of scikit-learn 0.23 to 1.0
// (sklearn.ensemble._hist_gradient_boosting.loss) to their inverse links.
var hgbOldLosses = map[string]hgbLink{
	"LeastSquares":            hgbIdentity,
	"LeastAbsoluteDeviation":  hgbIdentity,
	"Poisson":                 hgbExp,
	"BinaryCrossEntropy":      hgbLogit,
	"CategoricalCrossEntropy": hgbLogSumExp,
}

// hgbLinkClasses maps the class of _loss.link to the inverse link.
var hgbLinkClasses = map[string]hgbLink{
	"sklearn._loss.link.IdentityLink":     hgbIdentity,
	"sklearn._loss.link.LogLink":          hgbExp,
	"sklearn._loss.link.LogitLink":        hgbLogit,
	"sklearn._loss.link.MultinomialLogit": hgbSoftmax,
}

// hgbNode is one node of a flattened TreePredictor. Child indices are absolute
// in hgbEnsemble.nodes. A leaf is its own child both ways, so a walk can take
// extra steps from a leaf without moving.
type hgbNode struct {
	v     float64  // num_threshold of a split, value of a leaf
	kids  [2]int32 // left, right
	feat  int32
	cat   int32 // categorical split: offset of its left-category bitset in bits; -1 otherwise
	known int32 // categorical split: offset of the feature's known-category bitset
	missR uint8 // 1 when NaN (and unknown categories) go right
	leaf  uint8
}

// hgbEnsemble is everything both estimators share. It is immutable after load.
type hgbEnsemble struct {
	meta
	K     int       // n_trees_per_iteration_
	init  []float64 // 0 + _baseline_prediction, per k
	roots []int32   // tree t = iteration*K + k starts at nodes[roots[t]]
	// shape[t] is tree t's depth, negated when the tree has a categorical
	// split: a numeric tree takes the fixed-depth lockstep walk (walkBlock).
	shape []int32
	// flat[t] is numeric tree t in the compact breadth-first layout walkBlock
	// uses; nil for a categorical tree or one with more than 65536 features.
	flat  []*hgbFlatTree
	nodes []hgbNode
	bits  []uint32 // 8-word bitsets: known categories per feature, then split bitsets
	link  hgbLink
}

type hgbRegressor struct{ *hgbEnsemble }

type hgbClassifier struct {
	*hgbEnsemble
	labels *classes
}

// hgbMaxTrees bounds n_iter_ x n_trees_per_iteration_.
const hgbMaxTrees = 1 << 24

// hgbTreeKey identifies a distinct tree: its nodes and raw_left_cat_bitsets.
type hgbTreeKey struct {
	nodes, bits *pickle.NDArray
}

// hgbKnownFields are the node record fields of every scikit-learn release that has
// categorical splits (0.24 on); feature_idx is uint32 or intp depending on the
// release. Any other field means a layout this code does not know.
var hgbKnownFields = map[string]bool{
	"value": true, "count": true, "feature_idx": true, "num_threshold": true,
	"missing_go_to_left": true, "left": true, "right": true, "gain": true,
	"depth": true, "is_leaf": true, "bin_threshold": true, "is_categorical": true,
	"bitset_idx": true,
	"threshold":  true, // 0.23's name for num_threshold
}

// hgbNeeded are the fields predict reads.
var hgbNeeded = []string{
	"value", "feature_idx", "num_threshold", "missing_go_to_left",
	"left", "right", "is_leaf", "is_categorical", "bitset_idx",
}

func buildHGB(obj *pickle.Object) (Estimator, error) {
	e := &hgbEnsemble{meta: meta{class: obj.Class(), nFeat: -1}}
	classifier := obj.Name == "HistGradientBoostingClassifier"

	if v, ok := obj.Attr("_preprocessor"); ok && v != nil {
		return buildHGBPreprocessed(obj, v)
	}
	if !obj.Has("_predictors") {
		return nil, fmt.Errorf("not fitted: attribute _predictors is missing")
	}

	// Features.
	nf, okN := intAttr(obj, "n_features_in_")
	nf2, ok2 := intAttr(obj, "_n_features")
	switch {
	case okN && ok2 && nf != nf2:
		return nil, fmt.Errorf("n_features_in_ is %d but _n_features is %d", nf, nf2)
	case !okN && ok2:
		nf, okN = nf2, true
	case !okN:
		nf, okN = intAttr(obj, "n_features_") // the earliest releases
	}
	if !okN || nf < 0 || nf > math.MaxInt32 {
		return nil, fmt.Errorf("n_features_in_ is missing or invalid")
	}
	e.nFeat = nf
	var err error
	if e.names, err = featureNames(obj); err != nil {
		return nil, err
	}
	if e.names != nil && len(e.names) != nf {
		return nil, fmt.Errorf("feature_names_in_ has %d names for %d features", len(e.names), nf)
	}

	// Trees per iteration, loss and link.
	K, ok := intAttr(obj, "n_trees_per_iteration_")
	if !ok || K < 1 || K > 1<<16 {
		return nil, fmt.Errorf("n_trees_per_iteration_ is missing or invalid")
	}
	if !classifier && K != 1 {
		return nil, fmt.Errorf("a regressor with %d trees per iteration", K)
	}
	e.K = K
	if e.link, err = hgbLinkOf(obj, classifier, K); err != nil {
		return nil, err
	}

	// Baseline.
	base, err := floatsAttr(obj, "_baseline_prediction")
	if err != nil {
		return nil, err
	}
	if len(base) != K {
		return nil, fmt.Errorf("_baseline_prediction has %d values for %d trees per iteration", len(base), K)
	}
	e.init = make([]float64, K)
	for k, b := range base {
		if b == 0 {
			b = 0 // 0.0 + -0.0 is +0.0, as in zeros(...) += baseline
		}
		e.init[k] = b
	}

	// Known categories.
	known, err := e.knownCategories(obj)
	if err != nil {
		return nil, err
	}

	// Predictors.
	iters, err := obj.Items("_predictors")
	if err != nil {
		return nil, err
	}
	// Trees are flattened once per distinct nodes array (with its bitsets), so a
	// pickle that references one large array from many predictors costs no more
	// memory than the pickle itself.
	seen := map[hgbTreeKey]int32{}
	flats := map[int32]*hgbFlatTree{}
	bitsets := map[*pickle.NDArray]int{}
	for it, v := range iters {
		var ks []any
		switch x := v.(type) {
		case *pickle.List:
			ks = x.Items
		case pickle.Tuple:
			ks = x
		default:
			return nil, fmt.Errorf("_predictors[%d] is a %s, want a list of TreePredictor", it, pickle.TypeName(v))
		}
		if len(ks) != K {
			return nil, fmt.Errorf("_predictors[%d] has %d trees, want n_trees_per_iteration_ = %d", it, len(ks), K)
		}
		if len(e.roots)+K > hgbMaxTrees {
			return nil, fmt.Errorf("the model has more than %d trees", hgbMaxTrees)
		}
		for k, p := range ks {
			po, ok := p.(*pickle.Object)
			if !ok || po.Class() != "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor" {
				return nil, fmt.Errorf("_predictors[%d][%d] is a %s, want a TreePredictor", it, k, pickle.TypeName(p))
			}
			nodes, err := po.Array("nodes")
			if err != nil {
				return nil, fmt.Errorf("_predictors[%d][%d]: %w", it, k, err)
			}
			bits, _ := po.Attr("raw_left_cat_bitsets")
			ba, _ := bits.(*pickle.NDArray) // a non-array fails in addPredictor if used
			key := hgbTreeKey{nodes, ba}
			root, dup := seen[key]
			if !dup {
				if root, err = e.addPredictor(nodes, bits, known, bitsets); err != nil {
					return nil, fmt.Errorf("_predictors[%d][%d]: %w", it, k, err)
				}
				seen[key] = root
			}
			e.roots = append(e.roots, root)
			e.shape = append(e.shape, e.treeShape(root))
			e.flat = append(e.flat, e.flatTree(root, e.shape[len(e.shape)-1], flats))
		}
	}

	if !classifier {
		return &hgbRegressor{e}, nil
	}
	cv, ok := obj.Attr("classes_")
	if !ok {
		return nil, fmt.Errorf("not fitted: attribute classes_ is missing")
	}
	labels, err := readClasses(cv)
	if err != nil {
		return nil, err
	}
	want := K
	if K == 1 {
		want = 2
	}
	if labels.len() != want {
		return nil, fmt.Errorf("classes_ has %d labels for %d trees per iteration", labels.len(), K)
	}
	return &hgbClassifier{hgbEnsemble: e, labels: labels}, nil
}

// hgbLinkOf works out the inverse link from the loss parameter and checks it
// against the class of the fitted _loss.link.
func hgbLinkOf(obj *pickle.Object, classifier bool, K int) (hgbLink, error) {
	fromParam, fromLoss := hgbLink(-1), hgbLink(-1)
	paramName, linkName := "", ""
	if s, ok := obj.Attr("loss"); ok {
		if name, isStr := s.(string); isStr {
			paramName = name
			l, known := hgbLossLinks[name]
			if !known {
				return 0, fmt.Errorf("loss %q is not supported", name)
			}
			if l < 0 {
				if !classifier {
					return 0, fmt.Errorf("loss %q is a classification loss", name)
				}
				l = hgbSoftmax
				if K == 1 {
					l = hgbLogit
				}
			} else if classifier {
				return 0, fmt.Errorf("loss %q is a regression loss", name)
			}
			fromParam = l
		}
	}
	lv, ok := obj.Attr("_loss")
	if !ok {
		lv, ok = obj.Attr("loss_") // the earliest releases
	}
	if ok {
		lo, isObj := lv.(*pickle.Object)
		if !isObj {
			return 0, fmt.Errorf("_loss is a %s, want a loss object", pickle.TypeName(lv))
		}
		if lo.Module == "sklearn.ensemble._hist_gradient_boosting.loss" {
			l, known := hgbOldLosses[lo.Name]
			if !known {
				return 0, fmt.Errorf("_loss %s (scikit-learn < 1.1) is not supported", lo.Name)
			}
			if l == hgbLogit && K != 1 || l == hgbLogSumExp && K == 1 {
				return 0, fmt.Errorf("the fitted _loss (%s) does not fit %d trees per iteration", lo.Name, K)
			}
			if fromParam == hgbSoftmax && l == hgbLogSumExp {
				return l, nil
			}
			fromLoss, linkName = l, lo.Name
		} else if link, err := lo.Object("link"); err == nil {
			l, known := hgbLinkClasses[link.Class()]
			if !known {
				return 0, fmt.Errorf("_loss %s has link %s, which mlbatch does not know", lo.Name, link.Class())
			}
			fromLoss, linkName = l, lo.Name+" with "+link.Name
		}
	}
	switch {
	case fromParam >= 0 && fromLoss >= 0 && fromParam != fromLoss:
		return 0, fmt.Errorf("loss %q means an %s inverse link, which does not match the fitted _loss (%s)", paramName, fromParam, linkName)
	case fromParam >= 0:
		return fromParam, nil
	case fromLoss >= 0:
		isCls := fromLoss == hgbLogit || fromLoss == hgbSoftmax || fromLoss == hgbLogSumExp
		if classifier != isCls || (isCls && (fromLoss == hgbLogit) != (K == 1)) {
			return 0, fmt.Errorf("the fitted _loss (%s) does not fit a %s with %d trees per iteration", linkName, shortName(obj.Class()), K)
		}
		return fromLoss, nil
	}
	return 0, fmt.Errorf("cannot tell the loss: neither the loss parameter nor _loss.link is readable")
}

// knownCategories adds one 8-word bitset per categorical feature to e.bits, built
// from the bin mapper as make_known_categories_bitsets does, and returns each
// feature's bitset offset (-1 for numeric features), or nil when no feature is
// categorical. Every fitted model has a bin mapper; its is_categorical_ must have
// one entry per feature, which also bounds n_features_in_ by the pickle's size.
func (e *hgbEnsemble) knownCategories(obj *pickle.Object) ([]int32, error) {
	bm, err := obj.Object("_bin_mapper")
	if err != nil || bm.Class() != "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper" {
		return nil, fmt.Errorf("_bin_mapper is missing or not a _BinMapper")
	}
	if v, has := bm.Attr("is_categorical_"); !has || v == nil {
		return nil, nil // 0.23: no categorical support, every feature is numeric
	}
	ca, err := bm.Array("is_categorical_")
	if err != nil {
		return nil, fmt.Errorf("_bin_mapper: %w", err)
	}
	isCat, err := ca.Int64s()
	if err != nil {
		return nil, fmt.Errorf("_bin_mapper.is_categorical_: %w", err)
	}
	if len(isCat) != e.nFeat {
		return nil, fmt.Errorf("_bin_mapper.is_categorical_ has %d entries for %d features", len(isCat), e.nFeat)
	}
	var known []int32
	var thresholds []any
	for f, c := range isCat {
		if c == 0 {
			continue
		}
		if known == nil {
			known = make([]int32, e.nFeat)
			for i := range known {
				known[i] = -1
			}
			if thresholds, err = bm.Items("bin_thresholds_"); err != nil {
				return nil, fmt.Errorf("_bin_mapper: %w", err)
			}
			if len(thresholds) != e.nFeat {
				return nil, fmt.Errorf("_bin_mapper.bin_thresholds_ has %d entries for %d features", len(thresholds), e.nFeat)
			}
		}
		ta, ok := thresholds[f].(*pickle.NDArray)
		if !ok {
			return nil, fmt.Errorf("_bin_mapper.bin_thresholds_[%d] is a %s, want an array", f, pickle.TypeName(thresholds[f]))
		}
		if ta.Len() > 256 {
			return nil, fmt.Errorf("categorical feature %d has %d known categories; there are at most 256", f, ta.Len())
		}
		cats, err := ta.Float64s()
		if err != nil {
			return nil, fmt.Errorf("_bin_mapper.bin_thresholds_[%d]: %w", f, err)
		}
		off := len(e.bits)
		known[f] = int32(off)
		e.bits = append(e.bits, make([]uint32, 8)...)
		for _, x := range cats {
			if !(x >= 0 && x <= 255) || x != math.Trunc(x) {
				return nil, fmt.Errorf("categorical feature %d has known category %v; categories are integers in [0, 255]", f, x)
			}
			c := uint32(x)
			e.bits[off+int(c>>5)] |= 1 << (c & 31)
		}
	}
	return known, nil
}

// addPredictor flattens one TreePredictor (its nodes and raw_left_cat_bitsets)
// into e.nodes and e.bits and returns the index of its root. Every split's
// children must come after it (scikit-learn numbers nodes depth first), so every
// walk ends. bitsets maps the bitset arrays already copied into e.bits to their
// offsets.
func (e *hgbEnsemble) addPredictor(arr *pickle.NDArray, bv any, known []int32, bitsets map[*pickle.NDArray]int) (int32, error) {
	if arr.DType == nil || arr.DType.Kind != 'V' || arr.DType.Fields == nil {
		return 0, fmt.Errorf("nodes is an array of %s, want structured node records", arr.DType)
	}
	if len(arr.Shape) != 1 || arr.Shape[0] < 1 {
		return 0, fmt.Errorf("nodes has shape %v, want one or more records", arr.Shape)
	}
	for _, name := range arr.DType.Names {
		if !hgbKnownFields[name] {
			return 0, fmt.Errorf("nodes has an unknown field %q: this node layout is not supported", name)
		}
	}
	f := map[string]*pickle.FieldView{}
	_, legacy := arr.DType.Fields["threshold"] // 0.23: no categorical fields
	for _, name := range hgbNeeded {
		field := name
		if legacy {
			if name == "is_categorical" || name == "bitset_idx" {
				continue
			}
			if name == "num_threshold" {
				field = "threshold"
			}
		}
		fv, err := arr.Field(field)
		if err != nil {
			return 0, fmt.Errorf("nodes: %w", err)
		}
		kind := fv.DType().Kind
		if name == "value" || name == "num_threshold" {
			if kind != 'f' {
				return 0, fmt.Errorf("nodes field %s has dtype %s, want float", name, fv.DType())
			}
		} else if kind != 'i' && kind != 'u' && kind != 'b' {
			return 0, fmt.Errorf("nodes field %s has dtype %s, want integer", name, fv.DType())
		}
		f[name] = fv
	}
	n := arr.Shape[0]
	if len(e.nodes)+n > math.MaxInt32 {
		return 0, fmt.Errorf("the model has more than %d tree nodes", math.MaxInt32)
	}

	// Split bitsets, read only when a categorical split needs them.
	var nBitsets, bitsBase int
	loadBitsets := func() error {
		if bv == nil {
			return fmt.Errorf("raw_left_cat_bitsets is missing")
		}
		ba, ok := bv.(*pickle.NDArray)
		if !ok {
			return fmt.Errorf("raw_left_cat_bitsets is a %s, want an array", pickle.TypeName(bv))
		}
		if len(ba.Shape) != 2 || ba.Shape[1] != 8 || ba.DType == nil || ba.DType.Kind != 'u' || ba.DType.ItemSize != 4 {
			return fmt.Errorf("raw_left_cat_bitsets is %s of shape %v, want uint32 of shape (n, 8)", ba.DType, ba.Shape)
		}
		nBitsets = ba.Shape[0]
		if off, ok := bitsets[ba]; ok {
			bitsBase = off
			return nil
		}
		words, err := ba.Int64s()
		if err != nil {
			return fmt.Errorf("raw_left_cat_bitsets: %w", err)
		}
		if len(e.bits)+len(words) > math.MaxInt32 {
			return fmt.Errorf("the model has too many category bitsets")
		}
		bitsBase = len(e.bits)
		bitsets[ba] = bitsBase
		for _, w := range words {
			e.bits = append(e.bits, uint32(w))
		}
		return nil
	}
	bitsLoaded := false

	base := int32(len(e.nodes))
	for i := range n {
		nd := hgbNode{cat: -1, known: -1}
		if f["is_leaf"].Int64(i) != 0 {
			nd.v = f["value"].Float64(i)
			nd.kids = [2]int32{base + int32(i), base + int32(i)}
			nd.leaf = 1
			e.nodes = append(e.nodes, nd)
			continue
		}
		left, right := f["left"].Int64(i), f["right"].Int64(i)
		if left <= int64(i) || left >= int64(n) || right <= int64(i) || right >= int64(n) {
			return 0, fmt.Errorf("node %d has children %d and %d; want indexes after it and below %d (a cycle or a truncated tree)", i, left, right, n)
		}
		feat := f["feature_idx"].Int64(i)
		if feat < 0 || feat >= int64(e.nFeat) {
			return 0, fmt.Errorf("node %d splits on feature %d; the model has %d features", i, feat, e.nFeat)
		}
		nd.v = f["num_threshold"].Float64(i)
		nd.kids = [2]int32{base + int32(left), base + int32(right)}
		nd.feat = int32(feat)
		if f["missing_go_to_left"].Int64(i) == 0 {
			nd.missR = 1
		}
		if !legacy && f["is_categorical"].Int64(i) != 0 {
			if known == nil || known[feat] < 0 {
				return 0, fmt.Errorf("node %d is a categorical split on feature %d, which the bin mapper does not mark categorical", i, feat)
			}
			if !bitsLoaded {
				if err := loadBitsets(); err != nil {
					return 0, err
				}
				bitsLoaded = true
			}
			b := f["bitset_idx"].Int64(i)
			if b < 0 || b >= int64(nBitsets) {
				return 0, fmt.Errorf("node %d uses category bitset %d; the tree has %d", i, b, nBitsets)
			}
			nd.cat = int32(bitsBase + 8*int(b))
			nd.known = known[feat]
		}
		e.nodes = append(e.nodes, nd)
	}
	return base, nil
}

// hgbCategory is the category C's <uint8_t>x gives for a value that is neither NaN
// nor negative. C leaves out-of-range conversions undefined; scikit-learn's x86-64
// builds truncate to int32 and keep the low byte, so 257.5 is category 1, and
// values from 2^31 up (and +inf) convert to int32's "indefinite" 0x80000000,
// category 0. mlbatch follows those builds.
func hgbCategory(x float64) uint32 {
	if x < 1<<31 {
		return uint32(int32(x)) & 0xff
	}
	return 0
}

// hgbLanes rows walk a tree together, one step each in turn, so that their
// independent chains of loads overlap.
const hgbLanes = 8

// walkLanes adds the leaf value of the tree rooted at root to acc[r*K+k] for the
// rows r0 <= r < r0+n (n <= hgbLanes) of the row-major block buf (F values a
// row). A numeric split picks its child without a jump: kids[x > v], or the
// missing side for NaN; so the walk pays for no mispredicted branches. Lanes
// that reach a leaf stay there (a leaf is its own child) until every lane has.
func (e *hgbEnsemble) walkLanes(root int32, buf []float64, F, r0, n int, acc []float64, K, k int) {
	nodes, bits := e.nodes, e.bits
	var idx [hgbLanes]int32
	var off [hgbLanes]int
	for j := range idx {
		idx[j] = root
		off[j] = (r0 + min(j, n-1)) * F
	}
	for {
		done := uint8(1)
		for j := range idx {
			nd := &nodes[idx[j]]
			done &= nd.leaf
			x := buf[off[j]+int(nd.feat)]
			if nd.cat < 0 {
				idx[j] = nd.kids[hgbB2i(x > nd.v)|hgbB2i(x != x)&int(nd.missR)]
				continue
			}
			// Categorical: NaN, negative and unknown categories go the missing
			// way; the split's categories left, the feature's other known ones
			// right.
			side := int(nd.missR)
			if x >= 0 {
				c := hgbCategory(x)
				w, bit := int(c>>5), c&31
				if bits[int(nd.cat)+w]>>bit&1 != 0 {
					side = 0
				} else if bits[int(nd.known)+w]>>bit&1 != 0 {
					side = 1
				}
			}
			idx[j] = nd.kids[side]
		}
		if done != 0 {
			break
		}
	}
	for j := range n {
		acc[(r0+j)*K+k] += nodes[idx[j]].v
	}
}

// treeShape returns the depth of the tree at root, negated (and at least -1)
// when it has a categorical split. addPredictor checked that children come
// after their parent, so the walk ends.
func (e *hgbEnsemble) treeShape(root int32) int32 {
	type item struct{ i, d int32 }
	stack := []item{{root, 0}}
	depth, numeric := int32(0), true
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		nd := &e.nodes[it.i]
		if nd.leaf != 0 {
			depth = max(depth, it.d)
			continue
		}
		numeric = numeric && nd.cat < 0
		stack = append(stack, item{nd.kids[0], it.d + 1}, item{nd.kids[1], it.d + 1})
	}
	if !numeric {
		return -max(depth, 1)
	}
	return depth
}

// walkBlock adds the leaf value of the numeric tree rooted at root, of the
// given depth, to acc[r*K+k] for the n rows of the row-major block buf. All n
// rows take depth steps together (a leaf is its own child, so rows that reach
// one early stay there): no per-step "all done" test, and n independent chains
// of loads in flight. BenchmarkHGBWalk measures it against walkLanes.
func (e *hgbEnsemble) walkBlock(root, depth int32, buf []float64, F, n int, acc []float64, K, k int) {
	nodes := e.nodes
	var idx [hgbBlockRows]int32
	for r := range n {
		idx[r] = root
	}
	for range depth {
		for r := range n {
			nd := &nodes[idx[r]]
			x := buf[r*F+int(nd.feat)]
			idx[r] = nd.kids[hgbB2i(x > nd.v)|hgbB2i(x != x)&int(nd.missR)]
		}
	}
	for r := range n {
		acc[r*K+k] += nodes[idx[r]].v
	}
}

// hgbFlatNode is a numeric node in 16 bytes, children adjacent: the walk's
// working set is half of hgbNode's, and the child is kids + (go right).
type hgbFlatNode struct {
	v     float64 // the threshold; +Inf for a leaf
	kids  int32   // left child (right is kids+1); a leaf's own index
	feat  uint16
	missR uint8 // NaN goes right; 0 for a leaf, which so stays put
}

// hgbFlatTree is a numeric tree laid out breadth first.
type hgbFlatTree struct {
	nodes []hgbFlatNode
	val   []float64 // the leaf values, by index in nodes
	depth int32
}

// flatTree lays out the numeric tree at root breadth first, sharing the
// layout of a tree seen before (iterations can repeat a predictor).
func (e *hgbEnsemble) flatTree(root, depth int32, seen map[int32]*hgbFlatTree) *hgbFlatTree {
	if depth < 0 || e.nFeat > 1<<16 {
		return nil
	}
	if f, ok := seen[root]; ok {
		return f
	}
	f := &hgbFlatTree{depth: depth, nodes: make([]hgbFlatNode, 1), val: make([]float64, 1)}
	queue := []int32{root}
	for q := 0; q < len(queue); q++ {
		nd := &e.nodes[queue[q]]
		if nd.leaf != 0 {
			f.nodes[q] = hgbFlatNode{v: math.Inf(1), kids: int32(q)}
			f.val[q] = nd.v
			continue
		}
		kids := int32(len(f.nodes))
		f.nodes = append(f.nodes, hgbFlatNode{}, hgbFlatNode{})
		f.val = append(f.val, 0, 0)
		f.nodes[q] = hgbFlatNode{v: nd.v, kids: kids, feat: uint16(nd.feat), missR: nd.missR}
		queue = append(queue, nd.kids[0], nd.kids[1])
	}
	seen[root] = f
	return f
}

// walk is walkBlock over the compact layout. nan reports whether the block
// has a NaN anywhere; without one, a step need not test for it (x > v alone
// picks the child). Measured: 38M against 60M walks/s in BenchmarkHGBWalk, and
// 36% less time on the benchmark's 100-iteration regressor.
func (f *hgbFlatTree) walk(buf []float64, F, n int, acc []float64, K, k int, nan bool) {
	nodes := f.nodes
	var idx [hgbBlockRows]int32
	if nan {
		for range f.depth {
			for r := range n {
				nd := &nodes[idx[r]]
				x := buf[r*F+int(nd.feat)]
				idx[r] = nd.kids + int32(hgbB2i(x > nd.v)|hgbB2i(x != x)&int(nd.missR))
			}
		}
	} else {
		for range f.depth {
			for r := range n {
				nd := &nodes[idx[r]]
				idx[r] = nd.kids + int32(hgbB2i(buf[r*F+int(nd.feat)] > nd.v))
			}
		}
	}
	for r := range n {
		acc[r*K+k] += f.val[idx[r]]
	}
}

// hgbB2i is 1 for true; the compiler makes it a SETcc, not a jump.
func hgbB2i(b bool) int {
	i := 0
	if b {
		i = 1
	}
	return i
}

// hgbBlockRows rows are transposed into one row-major block at a time; the block
// stays in cache while every tree walks it.
const hgbBlockRows = 128

var hgbBlockPool = sync.Pool{New: func() any { return new([]float64) }}

// raw is _raw_predict: rows x K, row-major.
func (e *hgbEnsemble) raw(X *Dense) ([]float64, error) {
	F, K := e.nFeat, e.K
	if len(X.Cols) != F {
		return nil, fmt.Errorf("%s takes %d features, got %d", shortName(e.class), F, len(X.Cols))
	}
	out := make([]float64, X.Rows*K)
	for i := range X.Rows {
		copy(out[i*K:(i+1)*K], e.init)
	}
	if len(e.roots) == 0 || X.Rows == 0 {
		return out, nil
	}
	stride := max(F, 1) // leaves read feature 0 too
	bp := hgbBlockPool.Get().(*[]float64)
	defer hgbBlockPool.Put(bp)
	if cap(*bp) < hgbBlockRows*stride {
		*bp = make([]float64, hgbBlockRows*stride)
	}
	buf := (*bp)[:hgbBlockRows*stride]
	for start := 0; start < X.Rows; start += hgbBlockRows {
		n := min(hgbBlockRows, X.Rows-start)
		for j, col := range X.Cols {
			for r, v := range col[start : start+n] {
				buf[r*stride+j] = v
			}
		}
		acc := out[start*K : (start+n)*K]
		nan := slices.ContainsFunc(buf[:n*stride], math.IsNaN)
		for t, root := range e.roots {
			if f := e.flat[t]; f != nil {
				f.walk(buf, stride, n, acc, K, t%K, nan)
				continue
			}
			if d := e.shape[t]; d >= 0 {
				e.walkBlock(root, d, buf, stride, n, acc, K, t%K)
				continue
			}
			for r0 := 0; r0 < n; r0 += hgbLanes {
				e.walkLanes(root, buf, stride, r0, min(hgbLanes, n-r0), acc, K, t%K)
			}
		}
	}
	return out, nil
}

// Regressor.

func (e *hgbRegressor) targets() (int, bool) { return 1, false }

func (e *hgbRegressor) Outputs(model.LoadOptions) []model.Column { return regressorOutputs(e) }

func (e *hgbRegressor) Predict(X *Dense, _ model.LoadOptions, mem memory.Allocator) ([]arrow.Array, error) {
	return regressorPredict(e, X, mem)
}

func (e *hgbRegressor) regress(X *Dense) ([]float64, error) {
	raw, err := e.raw(X)
	if err != nil {
		return nil, err
	}
	if e.link == hgbExp {
		for i, v := range raw {
			raw[i] = math.Exp(v)
		}
	}
	return raw, nil
}

// Classifier.

func (e *hgbClassifier) labelsOf() *classes { return e.labels }

// decisionFunction is HistGradientBoostingClassifier.decision_function: the
// raw scores, one column for two classes.
func (e *hgbClassifier) decisionFunction(X *Dense) ([]float64, int, error) {
	raw, err := e.raw(X)
	return raw, e.K, err
}

func (e *hgbClassifier) Outputs(opts model.LoadOptions) []model.Column {
	return classifierOutputs(e.labels, opts)
}

func (e *hgbClassifier) Predict(X *Dense, opts model.LoadOptions, mem memory.Allocator) ([]arrow.Array, error) {
	return classifierPredict(e, X, opts, mem)
}

func (e *hgbClassifier) predictProba(X *Dense) ([]float64, error) {
	raw, err := e.raw(X)
	if err != nil {
		return nil, err
	}
	if e.K == 1 {
		// HalfBinomialLoss.predict_proba: proba[:, 1] = expit(raw); proba[:, 0] = 1 - proba[:, 1].
		p := make([]float64, 2*X.Rows)
		for i, v := range raw {
			p1 := 1 / (1 + math.Exp(-v))
			p[2*i], p[2*i+1] = 1-p1, p1
		}
		return p, nil
	}
	K := e.K
	for i := range X.Rows {
		if e.link == hgbLogSumExp {
			hgbLogSumExpRow(raw[i*K : (i+1)*K])
		} else {
			hgbSoftmaxRow(raw[i*K : (i+1)*K])
		}
	}
	return raw, nil
}

// hgbLogSumExpRow is the predict_proba of scikit-learn < 1.1's
// CategoricalCrossEntropy on one sample, in place: exp(raw - logsumexp(raw)),
// with scipy's logsumexp (maximum, exponentials summed class by class, log,
// plus the maximum).
func hgbLogSumExpRow(row []float64) {
	m := row[0]
	for _, v := range row[1:] {
		if v > m || v != v {
			m = v
		}
	}
	s := 0.0
	for _, v := range row {
		s += math.Exp(v - m)
	}
	lse := math.Log(s) + m
	for k, v := range row {
		row[k] = math.Exp(v - lse)
	}
}

// hgbSoftmaxRow is sklearn.utils.extmath.softmax on one row of a Fortran-ordered
// array, in place: subtract the row maximum, exponentiate, sum the classes in
// order, divide.
func hgbSoftmaxRow(row []float64) {
	m := row[0]
	for _, v := range row[1:] {
		if v > m || v != v {
			m = v
		}
	}
	s := 0.0
	for k, v := range row {
		row[k] = math.Exp(v - m)
		s += row[k]
	}
	for k := range row {
		row[k] /= s
	}
}

// buildHGBPreprocessed reads a model fitted with categorical features by
// scikit-learn 1.4 or later: predict first runs _preprocessor, a fitted
// ColumnTransformer of an OrdinalEncoder (the categorical columns, unknown and
// missing categories as NaN) and a FunctionTransformer(check_array) (the
// others), which puts the categorical columns first; the trees and the bin
// mapper work on those recoded, reordered columns. It becomes a pipeline of
// that ColumnTransformer and the estimator without it.
func buildHGBPreprocessed(obj *pickle.Object, v any) (Estimator, error) {
	po, ok := v.(*pickle.Object)
	if !ok || po.Class() != "sklearn.compose._column_transformer.ColumnTransformer" {
		return nil, fmt.Errorf("_preprocessor is a %s, want the ColumnTransformer scikit-learn >= 1.4 fits for categorical features", pickle.TypeName(v))
	}
	ct, err := buildColumnTransformer(po)
	if err != nil {
		return nil, fmt.Errorf("_preprocessor: %w", err)
	}
	inner := *obj
	inner.Dict = make(map[string]any, len(obj.Dict))
	for k, x := range obj.Dict {
		inner.Dict[k] = x
	}
	// The trees see the preprocessor's output: no _preprocessor, and not the
	// original column names (their order changed).
	inner.Dict["_preprocessor"] = nil
	delete(inner.Dict, "feature_names_in_")
	est, err := buildHGB(&inner)
	if err != nil {
		return nil, err
	}
	if n := ct.NumFeatures(); n >= 0 && est.NumFeatures() >= 0 && n != est.NumFeatures() {
		return nil, fmt.Errorf("_preprocessor takes %d columns but the model %d", n, est.NumFeatures())
	}
	return &pipeline{
		meta:  meta{class: obj.Class(), nFeat: ct.NumFeatures(), names: ct.FeatureNames()},
		steps: []transformer{ct},
		final: est,
		last:  obj.Class(),
	}, nil
}
