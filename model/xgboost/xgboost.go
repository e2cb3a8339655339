package xgboost

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/internal/mlerr"
	"github.com/mlbatch/mlbatch/model"
)

func init() { model.Register("xgboost", load) }

// maxModelFile bounds the model file read into memory.
const maxModelFile = 4 << 30

// api is the Python class a model was logged as; it decides what predict returns.
type api uint8

const (
	apiBooster api = iota
	apiRegressor
	apiClassifier
	apiRanker
)

var modelClasses = map[string]api{
	"xgboost.core.Booster":            apiBooster,
	"xgboost.sklearn.XGBModel":        apiRegressor,
	"xgboost.sklearn.XGBRegressor":    apiRegressor,
	"xgboost.sklearn.XGBRFRegressor":  apiRegressor,
	"xgboost.sklearn.XGBClassifier":   apiClassifier,
	"xgboost.sklearn.XGBRFClassifier": apiClassifier,
	"xgboost.sklearn.XGBRanker":       apiRanker,
}

func load(mm *model.MLmodel, opts model.LoadOptions) (model.Model, error) {
	mlmodelPath := filepath.Join(mm.Dir, "MLmodel")
	file := mm.FlavorString("xgboost", "data")
	if file == "" {
		file = mm.FlavorString("python_function", "data")
	}
	if file == "" {
		return nil, fmt.Errorf("%s: the xgboost flavor names no data file", mlmodelPath)
	}
	if filepath.IsAbs(file) || slices.Contains(strings.Split(filepath.ToSlash(file), "/"), "..") {
		return nil, fmt.Errorf("%s: xgboost data %q must be a path inside the model folder", mlmodelPath, file)
	}
	class := mm.FlavorString("xgboost", "model_class")
	if class == "" {
		class = "xgboost.core.Booster" // MLflow < 1.22 wrote no model_class
	}
	kind, ok := modelClasses[class]
	if !ok {
		return nil, fmt.Errorf("%s: xgboost model_class %q is not supported (Booster, XGBRegressor, XGBClassifier, XGBRFRegressor, XGBRFClassifier and XGBRanker are)", mlmodelPath, class)
	}
	path := filepath.Join(mm.Dir, filepath.FromSlash(file))
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if st.Size() > maxModelFile {
		return nil, fmt.Errorf("%s: %d bytes is larger than mlbatch reads (%d)", path, st.Size(), int64(maxModelFile))
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	b, err := decodeSafe(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m, err := newModel(b, class, kind, mm, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Format names a model file format detected from its bytes.
func Format(data []byte) string {
	i := 0
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	if i < len(data) && data[i] == '{' {
		j := i + 1
		for j < len(data) && (data[j] == ' ' || data[j] == '\t' || data[j] == '\n' || data[j] == '\r') {
			j++
		}
		if j < len(data) && (data[j] == '"' || data[j] == '}') {
			return "json"
		}
		if i == 0 && len(data) > 1 && strings.IndexByte("iUIlL$#N}", data[1]) >= 0 {
			return "ubjson"
		}
		return "json"
	}
	return "binary"
}

// decodeSafe reads a model file in any of XGBoost's formats, detected from its
// bytes: JSON ({"), UBJSON ({ and a UBJSON marker) or the old binary format
// (binf header or none).
func decodeSafe(data []byte) (b *booster, err error) {
	defer func() {
		// The decoders check every length and index (and the fuzzers call decode
		// without this guard); this is a last line so that a bug can never turn
		// hostile bytes into a crash of the whole run.
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("invalid xgboost model: %v", r)
		}
	}()
	return decode(data)
}

func decode(data []byte) (*booster, error) {
	var raw *rawModel
	var err error
	switch Format(data) {
	case "json":
		doc, err := parseJSON(data)
		if err != nil {
			return nil, err
		}
		if raw, err = fromDocument(doc, "json"); err != nil {
			return nil, err
		}
	case "ubjson":
		doc, err := parseUBJSON(data)
		if err != nil {
			return nil, err
		}
		if raw, err = fromDocument(doc, "ubjson"); err != nil {
			return nil, err
		}
	default:
		if raw, err = parseBinary(data); err != nil {
			return nil, err
		}
	}
	return build(raw)
}

// sklearnMeta is the scikit-learn wrapper's state that XGBModel.save_model
// stores in the booster attribute "scikit_learn" (xgboost/sklearn.py).
type sklearnMeta struct {
	present   bool
	objective string
	nClasses  int
	predictor string
	missing   float32
	labels    *classLabels // from "_le" (label encoder of xgboost < 1.6)
}

func readSklearnMeta(attrs map[string]string) (sklearnMeta, error) {
	meta := sklearnMeta{missing: float32(math.NaN())}
	s, ok := attrs["scikit_learn"]
	if !ok {
		return meta, nil
	}
	doc, err := parseJSON([]byte(s))
	if err != nil {
		return meta, fmt.Errorf("attribute scikit_learn: %w", err)
	}
	m, err := asObject(doc, "attribute scikit_learn")
	if err != nil {
		return meta, err
	}
	meta.present = true
	if v, ok := m["objective"].(string); ok {
		meta.objective = v
	}
	if v, ok := m["predictor"].(string); ok {
		meta.predictor = v
	}
	if v, ok := m["n_classes_"]; ok {
		n, err := toInt(v)
		if err != nil || n < 0 || n > 1<<16 {
			return meta, fmt.Errorf("attribute scikit_learn: invalid n_classes_")
		}
		meta.nClasses = int(n)
	}
	if v, ok := m["missing"]; ok && v != nil {
		f, err := toFloat32(v)
		if err != nil {
			return meta, fmt.Errorf("attribute scikit_learn: missing: %w", err)
		}
		meta.missing = f
	}
	if v, ok := m["_le"].(string); ok {
		le, err := parseJSON([]byte(v))
		if err != nil {
			return meta, fmt.Errorf("attribute scikit_learn: _le: %w", err)
		}
		lm, err := asObject(le, "_le")
		if err != nil {
			return meta, err
		}
		if cv, ok := lm["classes_"]; ok {
			if meta.labels, err = labelsFrom(cv); err != nil {
				return meta, fmt.Errorf("attribute scikit_learn: _le.classes_: %w", err)
			}
		}
	}
	return meta, nil
}

// xgbModel adapts a booster to model.Model for one model_class.
type xgbModel struct {
	b       *booster
	class   string
	api     api
	inputs  []model.Column
	names   []string
	outputs []model.Column

	treeEnd     int  // trees used: all, or up to best_iteration for the sklearn API
	inplace     bool // sklearn API on trees: inplace_predict semantics
	missing     float32
	proba       bool
	sklObj      string       // the wrapper's objective (decides the classifier's label rule)
	nClasses    int          // classifier classes
	labels      *classLabels // classifier labels
	mapLabels   bool         // labels come from a label encoder
	multiSoftmx bool         // XGBClassifier with objective multi:softmax
}

func newModel(b *booster, class string, kind api, mm *model.MLmodel, opts model.LoadOptions) (*xgbModel, error) {
	m := &xgbModel{b: b, class: class, api: kind, treeEnd: b.numTrees(), missing: float32(math.NaN())}

	if kind != apiBooster {
		meta, err := readSklearnMeta(b.attributes)
		if err != nil {
			return nil, err
		}
		// XGBModel._get_iteration_range: best_iteration (a booster attribute,
		// which load_model copies to the Python Booster) when set.
		best := -1
		if s, ok := b.attributes["best_iteration"]; ok && b.kind != kindLinear {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || n < 0 || n > len(b.layerEnds) {
				return nil, fmt.Errorf("best_iteration attribute %q does not name one of the %d boosting rounds", printable(s), len(b.layerEnds))
			}
			best = n
		}
		if err := m.setupSklearnAPI(meta, best); err != nil {
			return nil, err
		}
	}
	if err := m.setupInputs(mm); err != nil {
		return nil, err
	}
	if opts.Proba {
		if kind == apiClassifier {
			m.proba = true
		} else if opts.Warn != nil {
			opts.Warn(fmt.Sprintf("%s has no predict_proba; --proba is ignored", shortClass(class)))
		}
	}
	m.outputs = m.outputColumns()
	return m, nil
}

// setupSklearnAPI sets predict's semantics for the scikit-learn wrapper
// classes. best is the Booster's best_iteration, -1 when it has none.
func (m *xgbModel) setupSklearnAPI(meta sklearnMeta, best int) error {
	b := m.b
	m.sklObj = meta.objective
	if m.sklObj == "" {
		m.sklObj = b.obj.name
	}
	m.missing = meta.missing
	// XGBModel._can_use_inplace_predict: no explicit predictor and not gblinear.
	m.inplace = b.kind != kindLinear && (meta.predictor == "" || meta.predictor == "auto")
	// XGBModel._get_iteration_range: trees up to best_iteration+1 when the
	// booster has one, all trees otherwise, and never for gblinear.
	if best >= 0 && b.kind != kindLinear {
		if best > len(b.layerEnds) {
			return fmt.Errorf("best_iteration %d does not name one of the %d boosting rounds", best, len(b.layerEnds))
		}
		var err error
		if m.treeEnd, err = b.treeEndFor(best + 1); err != nil {
			return err
		}
	}
	if m.api == apiClassifier {
		return m.setupClassifier(meta)
	}
	return nil
}

func shortClass(class string) string {
	if i := strings.LastIndexByte(class, '.'); i >= 0 {
		return class[i+1:]
	}
	return class
}

func (m *xgbModel) setupClassifier(meta sklearnMeta) error {
	b := m.b
	n := meta.nClasses
	if n == 0 {
		n = max(int(b.numOutputClasses()), 2)
	}
	m.nClasses = n
	m.multiSoftmx = m.sklObj == "multi:softmax"
	width := b.numOutput
	if b.obj.transform == transSoftmax {
		width = 1
	}
	if width > 1 && (n == 2 || width != n) && !m.multiSoftmx {
		return fmt.Errorf("XGBClassifier with %d outputs and %d classes predicts a multi-label matrix, which mlbatch does not support", width, n)
	}
	if meta.labels != nil {
		if len(meta.labels.names) != n {
			return fmt.Errorf("the label encoder has %d classes, the model %d", len(meta.labels.names), n)
		}
		m.labels = meta.labels
		m.mapLabels = true
	} else {
		ints := make([]int64, n)
		for i := range ints {
			ints[i] = int64(i)
		}
		m.labels = intLabels(ints)
	}
	return nil
}

// numOutputClasses is num_class for classification boosters.
func (b *booster) numOutputClasses() int {
	if b.obj.transform == transSoftprob || b.obj.transform == transSoftmax {
		return b.numOutput
	}
	return 0
}

func (m *xgbModel) setupInputs(mm *model.MLmodel) error {
	b := m.b
	sig, err := model.SignatureInputs(mm)
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(mm.Dir, "MLmodel"), err)
	}
	switch {
	case sig != nil:
		if len(sig) != b.numFeature {
			return fmt.Errorf("the signature has %d input columns but the model takes %d features (num_feature)", len(sig), b.numFeature)
		}
		if b.featureNames != nil && !model.Positional(sig) {
			for i, c := range sig {
				if c.Name != b.featureNames[i] {
					return fmt.Errorf("signature column %d is %q but the booster names feature %d %q; xgboost's feature validation would refuse this input", i, c.Name, i, b.featureNames[i])
				}
			}
		}
		m.inputs = sig
	case b.featureNames != nil:
		for _, name := range b.featureNames {
			m.inputs = append(m.inputs, model.Column{Name: name, Type: arrow.PrimitiveTypes.Float64, Required: true})
		}
	default:
		for range b.numFeature {
			m.inputs = append(m.inputs, model.Column{Type: arrow.PrimitiveTypes.Float64, Required: true})
		}
	}
	m.names = make([]string, len(m.inputs))
	for i, c := range m.inputs {
		m.names[i] = c.Name
	}
	return nil
}

func predictionColumns(k int) []model.Column {
	if k == 1 {
		return []model.Column{{Name: "prediction", Type: arrow.PrimitiveTypes.Float64}}
	}
	cols := make([]model.Column, k)
	for i := range cols {
		cols[i] = model.Column{Name: "prediction_" + strconv.Itoa(i), Type: arrow.PrimitiveTypes.Float64}
	}
	return cols
}

// valueWidth is the number of columns Booster.predict returns.
func (b *booster) valueWidth() int {
	if b.obj.transform == transSoftmax {
		return 1
	}
	return b.numOutput
}

func (m *xgbModel) outputColumns() []model.Column {
	if m.api != apiClassifier {
		return predictionColumns(m.b.valueWidth())
	}
	cols := []model.Column{{Name: "prediction", Type: m.labels.typ}}
	if m.multiSoftmx {
		cols[0].Type = arrow.PrimitiveTypes.Int64
	}
	if m.proba {
		for _, name := range m.labels.names {
			cols = append(cols, model.Column{Name: "proba_" + name, Type: arrow.PrimitiveTypes.Float64})
		}
	}
	return cols
}

func (m *xgbModel) Info() model.Info {
	return model.Info{Flavor: "xgboost", Estimator: m.class}
}

func (m *xgbModel) Inputs() []model.Column  { return m.inputs }
func (m *xgbModel) Outputs() []model.Column { return m.outputs }

// rowBuf is a reusable row-major block of features.
type rowBuf struct{ x []float32 }

var rowBufs sync.Pool

func getRowBuf(n int) *rowBuf {
	if v, ok := rowBufs.Get().(*rowBuf); ok && cap(v.x) >= n {
		v.x = v.x[:n]
		return v
	}
	return &rowBuf{x: make([]float32, n)}
}

func (m *xgbModel) colName(j int) string {
	if j < len(m.names) && m.names[j] != "" {
		return m.names[j]
	}
	return "#" + strconv.Itoa(j)
}

func (m *xgbModel) Predict(ctx context.Context, in model.Features, mem memory.Allocator) ([]arrow.Array, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rows := in.Rows
	if len(in.Cols) != len(m.inputs) {
		return nil, fmt.Errorf("xgboost model takes %d features, got %d columns", len(m.inputs), len(in.Cols))
	}
	cols := make([][]float64, len(in.Cols))
	for j, a := range in.Cols {
		if a == nil {
			return nil, &mlerr.RowError{Column: m.colName(j), Kind: mlerr.Schema, Err: errors.New("the column is absent")}
		}
		v, err := model.Float64s(a)
		if err != nil {
			return nil, &mlerr.RowError{Column: m.colName(j), Kind: mlerr.Schema, Err: err}
		}
		if len(v) < rows {
			return nil, fmt.Errorf("column %s has %d values for %d rows", m.colName(j), len(v), rows)
		}
		cols[j] = v[:rows]
	}
	if !m.inplace {
		if err := m.checkFinite(cols); err != nil {
			return nil, err
		}
	}
	margins := m.margins(ctx, cols, rows)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return m.finish(margins, rows, mem)
}

// checkFinite refuses infinities as xgboost's DMatrix does ("Input data contains
// `inf`"), after the conversion to float32 (so 1e39 is refused too); the
// sklearn API's inplace path takes them as ordinary values.
func (m *xgbModel) checkFinite(cols [][]float64) error {
	bad, badCol := -1, -1
	for j, col := range cols {
		limit := len(col)
		if bad >= 0 {
			limit = bad
		}
		for i := 0; i < limit; i++ {
			if math.IsInf(float64(float32(col[i])), 0) {
				bad, badCol = i, j
				break
			}
		}
	}
	if bad < 0 {
		return nil
	}
	return &mlerr.RowError{
		Row:    int64(bad + 1),
		Column: m.colName(badCol),
		Value:  strconv.FormatFloat(cols[badCol][bad], 'g', -1, 64),
		Err:    errors.New("xgboost refuses infinite input values (Input data contains `inf`)"),
	}
}

// margins computes the raw (untransformed) predictions, rows x numOutput.
func (m *xgbModel) margins(ctx context.Context, cols [][]float64, rows int) []float32 {
	b := m.b
	nf, ng := b.numFeature, b.numOutput
	stride := nf + 1
	out := make([]float32, rows*ng)
	per := blockRowsFor(stride)
	buf := getRowBuf(per*stride + per)
	defer rowBufs.Put(buf)
	X, leaves := buf.x[:per*stride], buf.x[per*stride:]
	checkMissing := !math.IsNaN(float64(m.missing))
	nan := float32(math.NaN())
	for start, blk := 0, 0; start < rows; start, blk = start+per, blk+1 {
		if blk%64 == 63 && ctx.Err() != nil {
			return out
		}
		n := min(per, rows-start)
		// Transpose the block into row-major float32, as numpy's astype would.
		nanFree := true
		for j, col := range cols {
			for r, v := range col[start : start+n] {
				f := float32(v)
				if f != f {
					nanFree = false
				}
				X[r*stride+j] = f
			}
		}
		for r := range n {
			X[r*stride+nf] = 0
		}
		if checkMissing {
			for i, v := range X[:n*stride] {
				if v == m.missing && i%stride != nf {
					X[i] = nan
					nanFree = false
				}
			}
		}
		o := out[start*ng : (start+n)*ng]
		if b.kind == kindLinear {
			b.linearMargins(X, stride, n, o)
			continue
		}
		b.initMargins(o, n)
		b.addTrees(X, stride, n, nanFree, o, m.treeEnd, m.inplace, leaves)
	}
	return out
}
