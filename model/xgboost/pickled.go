package xgboost

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/model"
	"github.com/mlbatch/mlbatch/model/labels"
	"github.com/mlbatch/mlbatch/model/pickle"
	"github.com/mlbatch/mlbatch/model/sklearn"
)

// XGBoost's scikit-learn wrappers pickled inside scikit-learn objects (the last
// step of a Pipeline logged with the sklearn flavor). XGBModel has no
// __getstate__ of its own: its __dict__ holds the constructor parameters
// (objective, missing, booster, predictor, ...), after fit n_classes_ and
// classes_ (a classifier), _le (the label encoder of xgboost before 1.6, when
// use_label_encoder was on), and _Booster, an xgboost.core.Booster. The
// Booster's __getstate__ replaces its ctypes handle by the bytes of
// XGBoosterSerializeToBuffer (a memory snapshot) and keeps its other Python
// attributes (best_iteration, best_ntree_limit; feature_names and
// feature_types before 1.4).
//
// The snapshot is the whole learner, in the layout of the version that wrote
// it: UBJSON {"Config": ..., "Model": ...} (1.6 on), the same as JSON (1.3 to
// 1.5), "CONFIG-offset:" + an int64 length + the binary model + the JSON
// configuration (1.0 to 1.2), or the bare binary model (before 1.0). Only the
// model part is read.
//
// predict then follows XGBModel.predict in xgboost 1.7 exactly as the xgboost
// flavor does for these classes, with best_iteration taken from the pickled
// Booster's Python attribute (what XGBModel.best_iteration reads), and missing,
// predictor and objective from the wrapper's __dict__.

// pickledClasses are the wrapper classes and their APIs.
var pickledClasses = map[string]api{
	"xgboost.sklearn.XGBModel":        apiRegressor,
	"xgboost.sklearn.XGBRegressor":    apiRegressor,
	"xgboost.sklearn.XGBRFRegressor":  apiRegressor,
	"xgboost.sklearn.XGBRanker":       apiRanker,
	"xgboost.sklearn.XGBClassifier":   apiClassifier,
	"xgboost.sklearn.XGBRFClassifier": apiClassifier,
}

func init() {
	for class, kind := range pickledClasses {
		sklearn.RegisterExternal(class, func(obj *pickle.Object) (sklearn.Estimator, error) {
			return buildPickled(obj, kind)
		})
	}
	sklearn.RegisterInert(
		"xgboost.core.Booster",
		// The label encoder of xgboost < 1.6 (a LabelEncoder subclass; before
		// 1.0 compat named scikit-learn's own class).
		"xgboost.compat.XGBoostLabelEncoder",
		"xgboost.compat.XGBLabelEncoder",
		"sklearn.preprocessing._label.LabelEncoder",
		"sklearn.preprocessing.label.LabelEncoder",
	)
}

// snapshotHeader starts the memory snapshots of xgboost 1.0 to 1.2.
const snapshotHeader = "CONFIG-offset:"

// decodeSnapshot reads the model part of a Booster's pickled memory snapshot.
func decodeSnapshot(data []byte) (b *booster, err error) {
	defer func() {
		// As in decodeSafe: a last line, the decoders check every length.
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("invalid xgboost model: %v", r)
		}
	}()
	return decodeSnapshotUnguarded(data)
}

func decodeSnapshotUnguarded(data []byte) (*booster, error) {
	var err error
	if len(data) >= len(snapshotHeader) && string(data[:len(snapshotHeader)]) == snapshotHeader {
		rest := data[len(snapshotHeader):]
		if len(rest) < 8 {
			return nil, errors.New("the memory snapshot ends inside its header")
		}
		n := binary.LittleEndian.Uint64(rest)
		rest = rest[8:]
		if n > uint64(len(rest)) {
			return nil, fmt.Errorf("the memory snapshot says its model has %d bytes, but only %d follow", n, len(rest))
		}
		raw, err := parseBinary(rest[:n])
		if err != nil {
			return nil, err
		}
		return build(raw)
	}
	var doc any
	switch Format(data) {
	case "json":
		if doc, err = parseJSON(data); err != nil {
			return nil, err
		}
	case "ubjson":
		if doc, err = parseUBJSON(data); err != nil {
			return nil, err
		}
	default:
		raw, err := parseBinary(data)
		if err != nil {
			return nil, err
		}
		return build(raw)
	}
	root, err := asObject(doc, "memory snapshot")
	if err != nil {
		return nil, err
	}
	if mv, ok := root["Model"]; ok {
		doc = mv
	}
	raw, err := fromDocument(doc, Format(data))
	if err != nil {
		return nil, err
	}
	return build(raw)
}

// pickledBase is a fitted wrapper rebuilt from its pickle.
type pickledBase struct {
	m     *xgbModel
	names []string // the Booster's feature names, nil when fitted on arrays
}

// pickledRegressor is XGBRegressor, XGBRFRegressor, XGBRanker or XGBModel.
type pickledRegressor struct{ pickledBase }

// pickledClassifier is XGBClassifier or XGBRFClassifier.
type pickledClassifier struct {
	pickledBase
	classes *labels.Classes
}

var (
	_ sklearn.Regressor  = (*pickledRegressor)(nil)
	_ sklearn.Classifier = (*pickledClassifier)(nil)
)

func buildPickled(obj *pickle.Object, kind api) (sklearn.Estimator, error) {
	bo, err := obj.Object("_Booster")
	if err != nil {
		return nil, fmt.Errorf("not fitted or unreadable: %w", err)
	}
	if bo.Class() != "xgboost.core.Booster" {
		return nil, fmt.Errorf("_Booster is %s, want xgboost.core.Booster", bo.Class())
	}
	h, ok := bo.Attr("handle")
	if !ok || h == nil {
		return nil, errors.New("the Booster holds no model (its handle is None)")
	}
	data, ok := h.([]byte)
	if !ok {
		return nil, fmt.Errorf("the Booster's handle is %s, want the bytes of a memory snapshot", pickle.TypeName(h))
	}
	b, err := decodeSnapshot(data)
	if err != nil {
		return nil, fmt.Errorf("_Booster: %w", err)
	}

	meta := sklearnMeta{present: true, missing: float32(math.NaN())}
	if v, ok := obj.Attr("objective"); ok && v != nil {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("objective is %s; only named objectives are supported", pickle.TypeName(v))
		}
		meta.objective = s
	}
	if v, ok := obj.Attr("predictor"); ok && v != nil {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("predictor is %s, want a str", pickle.TypeName(v))
		}
		meta.predictor = s
	}
	if obj.Has("missing") {
		if v, _ := obj.Attr("missing"); v != nil {
			f, err := obj.Float("missing")
			if err != nil {
				return nil, err
			}
			meta.missing = float32(f)
		}
	}
	// XGBModel.best_iteration reads the Python Booster's attribute; without
	// one (AttributeError) predict uses every tree.
	best := -1
	if v, ok := bo.Attr("best_iteration"); ok && v != nil {
		n, err := bo.Int("best_iteration")
		if err != nil {
			return nil, fmt.Errorf("_Booster: %w", err)
		}
		if n < 0 {
			return nil, fmt.Errorf("_Booster.best_iteration is %d", n)
		}
		best = int(min(n, math.MaxInt32))
	}
	var cls *labels.Classes
	if kind == apiClassifier {
		if obj.Has("n_classes_") {
			n, err := obj.Int("n_classes_")
			if err != nil {
				return nil, err
			}
			if n < 2 || n > 1<<16 {
				return nil, fmt.Errorf("n_classes_ is %d", n)
			}
			meta.nClasses = int(n)
		}
		if le, err := obj.Object("_le"); err == nil {
			cv, ok := le.Attr("classes_")
			if !ok {
				return nil, errors.New("the label encoder _le has no classes_")
			}
			if cls, err = labels.FromPickle(cv); err != nil {
				return nil, fmt.Errorf("_le.%w", err)
			}
			meta.labels = fromClasses(cls)
		}
	}

	m := &xgbModel{b: b, class: obj.Class(), api: kind, treeEnd: b.numTrees(), missing: float32(math.NaN())}
	if err := m.setupSklearnAPI(meta, best); err != nil {
		return nil, err
	}
	base := pickledBase{m: m}
	if len(b.featureNames) > 0 {
		base.names = b.featureNames
	}
	if v, ok := bo.Attr("feature_names"); ok && v != nil && base.names == nil {
		// Before xgboost 1.4 the Booster kept feature_names in Python.
		items, err := bo.Items("feature_names")
		if err != nil {
			return nil, fmt.Errorf("_Booster: %w", err)
		}
		for _, it := range items {
			s, ok := it.(string)
			if !ok {
				return nil, errors.New("_Booster.feature_names holds a non-str")
			}
			base.names = append(base.names, s)
		}
		if len(base.names) != b.numFeature {
			return nil, fmt.Errorf("_Booster has %d feature_names for %d features", len(base.names), b.numFeature)
		}
	}
	if kind != apiClassifier {
		return &pickledRegressor{base}, nil
	}
	if m.multiSoftmx || !m.mapLabels {
		// predict returns class indices (the int32 cast of multi:softmax, or the
		// argmax without a label encoder): those are the labels.
		ints := make([]any, m.nClasses)
		for i := range ints {
			ints[i] = int64(i)
		}
		if cls, err = labels.FromValues(ints); err != nil {
			return nil, err
		}
	}
	return &pickledClassifier{pickledBase: base, classes: cls}, nil
}

// fromClasses converts decoded labels to the flavor's own label type.
func fromClasses(c *labels.Classes) *classLabels {
	l := &classLabels{names: c.Names}
	switch c.Kind {
	case labels.String:
		l.typ, l.strs = arrow.BinaryTypes.String, c.Strs
	case labels.Bool:
		l.typ, l.bools = arrow.FixedWidthTypes.Boolean, c.Bools
	case labels.Float:
		l.typ, l.floats = arrow.PrimitiveTypes.Float64, c.Floats
	default:
		l.typ, l.ints = arrow.PrimitiveTypes.Int64, c.Ints
	}
	return l
}

func (p *pickledBase) Class() string          { return p.m.class }
func (p *pickledBase) NumFeatures() int       { return p.m.b.numFeature }
func (p *pickledBase) FeatureNames() []string { return p.names }

// withProba is the model with predict_proba's columns on or off.
func (p *pickledBase) withProba(opts model.LoadOptions) *xgbModel {
	m := *p.m
	m.proba = opts.Proba && m.api == apiClassifier
	m.names = nil
	return &m
}

func (p *pickledBase) Outputs(opts model.LoadOptions) []model.Column {
	return p.withProba(opts).outputColumns()
}

// margins scores X (the estimator's features in order).
func (p *pickledBase) margins(m *xgbModel, X *sklearn.Dense) ([]float32, error) {
	if len(X.Cols) != m.b.numFeature {
		return nil, fmt.Errorf("%s takes %d features, got %d", shortClass(m.class), m.b.numFeature, len(X.Cols))
	}
	cols := make([][]float64, len(X.Cols))
	for j, c := range X.Cols {
		if len(c) < X.Rows {
			return nil, fmt.Errorf("feature %d has %d values for %d rows", j, len(c), X.Rows)
		}
		cols[j] = c[:X.Rows]
	}
	m.names = X.Names
	if !m.inplace {
		if err := m.checkFinite(cols); err != nil {
			return nil, err
		}
	}
	return m.margins(context.Background(), cols, X.Rows), nil
}

func (p *pickledBase) Predict(X *sklearn.Dense, opts model.LoadOptions, mem memory.Allocator) ([]arrow.Array, error) {
	m := p.withProba(opts)
	margins, err := p.margins(m, X)
	if err != nil {
		return nil, err
	}
	return m.finish(margins, X.Rows, mem)
}

// Targets is the width of predict's output: 1, or one column per target or
// class score (a multi-output regressor, multi:softprob through XGBRegressor).
func (r *pickledRegressor) Targets() (int, bool) {
	w := r.m.b.valueWidth()
	return w, w > 1
}

func (r *pickledRegressor) Regress(X *sklearn.Dense) ([]float64, error) {
	m := r.withProba(model.LoadOptions{})
	margins, err := r.margins(m, X)
	if err != nil {
		return nil, err
	}
	vals, _ := m.b.predictValues(margins, X.Rows)
	return widen(vals), nil
}

func (c *pickledClassifier) Classes() *labels.Classes { return c.classes }

func (c *pickledClassifier) PredictProba(X *sklearn.Dense) ([]float64, error) {
	m := c.withProba(model.LoadOptions{})
	margins, err := c.margins(m, X)
	if err != nil {
		return nil, err
	}
	vals, width := m.b.predictValues(margins, X.Rows)
	probs, _, err := m.probaMatrix(margins, vals, width, X.Rows)
	if err != nil {
		return nil, err
	}
	return widen(probs), nil
}

func (c *pickledClassifier) PredictIndex(X *sklearn.Dense) ([]int, error) {
	m := c.withProba(model.LoadOptions{})
	margins, err := c.margins(m, X)
	if err != nil {
		return nil, err
	}
	vals, width := m.b.predictValues(margins, X.Rows)
	idx := m.classIndex(vals, width, X.Rows)
	out := make([]int, len(idx))
	for i, v := range idx {
		if v < 0 || int(v) >= c.classes.Len() {
			// multi:softmax casts its float prediction; a NaN margin gives
			// numpy's int32 of NaN, which names no class.
			return nil, fmt.Errorf("row %d: predict gives class %d of %d", i+1, v, c.classes.Len())
		}
		out[i] = int(v)
	}
	return out, nil
}

// widen converts float32 predictions to float64 exactly.
func widen(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}
