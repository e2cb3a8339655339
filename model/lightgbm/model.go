package lightgbm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/internal/mlerr"
	"github.com/mlbatch/mlbatch/model"
	"github.com/mlbatch/mlbatch/model/labels"
	"github.com/mlbatch/mlbatch/model/pickle"
)

// Model classes MLflow records in the lightgbm flavor's model_class.
const (
	ClassBooster    = "lightgbm.basic.Booster"
	ClassClassifier = "lightgbm.sklearn.LGBMClassifier"
	ClassRegressor  = "lightgbm.sklearn.LGBMRegressor"
	ClassRanker     = "lightgbm.sklearn.LGBMRanker"
)

func init() { model.Register("lightgbm", load) }

func load(mm *model.MLmodel, opts model.LoadOptions) (model.Model, error) {
	mlmodelPath := filepath.Join(mm.Dir, "MLmodel")
	file := mm.FlavorString("lightgbm", "data")
	if file == "" {
		file = mm.FlavorString("python_function", "data")
	}
	if file == "" {
		return nil, fmt.Errorf("%s: the lightgbm flavor names no data file", mlmodelPath)
	}
	if filepath.IsAbs(file) || slices.Contains(strings.Split(filepath.ToSlash(file), "/"), "..") {
		return nil, fmt.Errorf("%s: data %q must be a path inside the model folder", mlmodelPath, file)
	}
	path := filepath.Join(mm.Dir, filepath.FromSlash(file))
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s: is a folder, not a LightGBM model file", path)
	}
	if st.Size() > MaxModelBytes {
		return nil, fmt.Errorf("%s: %d bytes is larger than mlbatch reads (%d)", path, st.Size(), int64(MaxModelBytes))
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	class := mm.FlavorString("lightgbm", "model_class")
	if class == "" {
		// MLflow before model_class existed logged only Boosters (its loader
		// defaults to lightgbm.basic.Booster); a pickle is recognised by its
		// first byte all the same.
		class = ClassBooster
		if isPickle(data) {
			class = ""
		}
	}
	var est *estimator
	switch class {
	case ClassBooster:
		b, err := ParseText(data)
		if err != nil {
			if isPickle(data) {
				return nil, fmt.Errorf("%s: model_class is %s but the file is a pickle, not a LightGBM text model", path, ClassBooster)
			}
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		est = &estimator{booster: b, class: ClassBooster, iters: b.numIter}
	case "", ClassClassifier, ClassRegressor, ClassRanker:
		if est, err = decodeSklearn(data); err != nil {
			var ue *pickle.UnsupportedError
			if class == "" && errors.As(err, &ue) && isSklearnClass(ue.Module+"."+ue.Name) {
				// An MLflow 1.x folder (no model_class) whose pickle holds a
				// scikit-learn object: a Pipeline ending in an LGBM estimator.
				return loadSklearnObject(data, "", mm, opts, path)
			}
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if class != "" && est.class != class {
			return nil, fmt.Errorf("%s: model_class is %s but the pickle holds %s", path, class, est.class)
		}
	default:
		if isSklearnClass(class) {
			return loadSklearnObject(data, class, mm, opts, path)
		}
		return nil, fmt.Errorf("%s: model_class %q is not supported (%s, %s, %s, %s and scikit-learn objects such as a Pipeline ending in one of them are)",
			mlmodelPath, class, ClassBooster, ClassClassifier, ClassRegressor, ClassRanker)
	}
	return newModel(est, mm, opts, path)
}

// estimator is what a model file decodes to: a booster and, for the
// scikit-learn API classes, how predict post-processes its output.
type estimator struct {
	booster *Booster
	class   string
	// iters is the number of iterations predict uses (best_iteration for a
	// scikit-learn model fitted with early stopping).
	iters int
	// classes is set for LGBMClassifier: labels in probability-column order.
	classes *labels.Classes
}

// lgbModel adapts an estimator to model.Model.
type lgbModel struct {
	est     *estimator
	b       *Booster
	inputs  []model.Column
	outputs []model.Column
	proba   bool
}

func newModel(est *estimator, mm *model.MLmodel, opts model.LoadOptions, path string) (*lgbModel, error) {
	b := est.booster
	sig, err := model.SignatureInputs(mm)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(mm.Dir, "MLmodel"), err)
	}
	nf := b.NumFeatures()
	var inputs []model.Column
	switch {
	case sig != nil:
		// MLflow hands LightGBM the signature's columns in signature order, and
		// LightGBM takes them by position whatever their names.
		if len(sig) != nf {
			return nil, fmt.Errorf("%s: the signature has %d input columns but the model was trained on %d features; LightGBM would refuse every input", path, len(sig), nf)
		}
		inputs = sig
	case autoNames(b.FeatureNames):
		// Column_0, Column_1, ...: LightGBM's names for features trained without
		// names. Python scores such a model by position.
		for range nf {
			inputs = append(inputs, model.Column{Type: arrow.PrimitiveTypes.Float64, Required: true})
		}
	default:
		for _, name := range b.FeatureNames {
			inputs = append(inputs, model.Column{Name: name, Type: arrow.PrimitiveTypes.Float64, Required: true})
		}
	}
	m := &lgbModel{est: est, b: b, inputs: inputs}
	if est.classes != nil {
		m.proba = opts.Proba
		m.outputs = est.classes.Outputs(opts.Proba)
	} else {
		if opts.Proba && opts.Warn != nil {
			opts.Warn(fmt.Sprintf("--proba has no effect on a LightGBM %s: its predict already returns %s", shortClass(est.class), describeOutput(b)))
		}
		m.outputs = scoreColumns(b.NumClass)
	}
	if b.PandasCategorical && opts.Warn != nil {
		opts.Warn("the LightGBM model was trained on pandas category columns: mlbatch reads those features as their integer category codes")
	}
	return m, nil
}

func shortClass(c string) string { return c[strings.LastIndexByte(c, '.')+1:] }

func describeOutput(b *Booster) string {
	switch {
	case b.Objective.Classifier() && b.NumClass > 1:
		return "class probabilities"
	case b.Objective.Classifier():
		return "the probability of the positive class"
	}
	return "its scores"
}

// autoNames reports whether names are LightGBM's defaults Column_0..Column_<n-1>.
func autoNames(names []string) bool {
	if len(names) == 0 {
		return false
	}
	for i, n := range names {
		if n != "Column_"+strconv.Itoa(i) {
			return false
		}
	}
	return true
}

// scoreColumns names k float64 outputs: "prediction" for one score per row, else
// prediction_0..prediction_<k-1> (Booster.predict's (n, k) matrix).
func scoreColumns(k int) []model.Column {
	if k == 1 {
		return []model.Column{{Name: "prediction", Type: arrow.PrimitiveTypes.Float64}}
	}
	cols := make([]model.Column, k)
	for i := range cols {
		cols[i] = model.Column{Name: "prediction_" + strconv.Itoa(i), Type: arrow.PrimitiveTypes.Float64}
	}
	return cols
}

func (m *lgbModel) Info() model.Info {
	return model.Info{Flavor: "lightgbm", Estimator: m.est.class}
}

func (m *lgbModel) Inputs() []model.Column  { return m.inputs }
func (m *lgbModel) Outputs() []model.Column { return m.outputs }

// colName names input j in messages.
func (m *lgbModel) colName(j int) string {
	if m.inputs[j].Name != "" {
		return m.inputs[j].Name
	}
	return "#" + strconv.Itoa(j)
}

func (m *lgbModel) Predict(ctx context.Context, in model.Features, mem memory.Allocator) ([]arrow.Array, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(in.Cols) != len(m.inputs) {
		return nil, fmt.Errorf("lightgbm: %d input columns, the model takes %d", len(in.Cols), len(m.inputs))
	}
	cols := make([][]float64, len(in.Cols))
	for j, a := range in.Cols {
		if a == nil {
			return nil, &mlerr.RowError{Column: m.colName(j), Kind: mlerr.Schema,
				Err: fmt.Errorf("the column is absent; LightGBM needs all %d features", len(m.inputs))}
		}
		if a.Len() < in.Rows {
			return nil, fmt.Errorf("lightgbm: column %s has %d rows, want %d", m.colName(j), a.Len(), in.Rows)
		}
		v, err := model.Float64s(a)
		if err != nil {
			return nil, &mlerr.RowError{Column: m.colName(j), Kind: mlerr.Schema, Err: err}
		}
		cols[j] = v
	}
	b := m.b
	k := b.NumClass
	scores := make([]float64, in.Rows*k)
	if err := b.predictRaw(ctx, cols, in.Rows, m.est.iters, scores); err != nil {
		return nil, err
	}
	b.transform(scores, m.est.iters)
	if m.est.classes != nil {
		return classifierResult(m.est.classes, scores, k, in.Rows, m.proba, mem), nil
	}
	return labels.Columns(scores, in.Rows, k, mem), nil
}

// isPickle reports whether data starts like a pickle (protocol 2 and later).
func isPickle(data []byte) bool { return bytes.HasPrefix(data, []byte{0x80}) }
