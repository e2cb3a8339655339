package sklearn

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/model"
	"github.com/mlbatch/mlbatch/model/pickle"
)

// Estimator is a fitted scikit-learn estimator rebuilt in Go.
type Estimator interface {
	// Class is the estimator's fully qualified Python class name.
	Class() string
	// NumFeatures is n_features_in_ (or the width of coef_), -1 when unknown.
	NumFeatures() int
	// FeatureNames is feature_names_in_, nil when fitted without names.
	FeatureNames() []string
	// Outputs lists the columns Predict returns for these options.
	Outputs(opts model.LoadOptions) []model.Column
	// Predict scores a batch. X is never modified.
	Predict(X *Dense, opts model.LoadOptions, mem memory.Allocator) ([]arrow.Array, error)
}

// builder turns an allowed pickled object into an Estimator.
type builder func(obj *pickle.Object) (Estimator, error)

var (
	builders = map[string]builder{}
	// inert lists classes that may appear inside fitted estimators but are not
	// needed to predict; they load as plain objects and are never called.
	inert = map[string]bool{}
)

// register makes a class loadable. Called from init in the estimator files.
func register(class string, b builder) { builders[class] = b }

func allow(module, name string) bool {
	full := module + "." + name
	return builders[full] != nil || tbuilders[full] != nil || inert[full]
}

func init() { model.Register("sklearn", load) }

// maxPickle bounds the model file read into memory.
const maxPickle = 4 << 30

func load(mm *model.MLmodel, opts model.LoadOptions) (model.Model, error) {
	path, format, data, err := readModelFile(mm)
	if err != nil {
		return nil, err
	}
	decode := Decode
	if format == "skops" {
		decode = DecodeSkops
	}
	est, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return newModel(est, mm, opts, path)
}

// readModelFile reads the file the sklearn flavor names, with its
// serialization format ("", "pickle", "cloudpickle" or "skops").
func readModelFile(mm *model.MLmodel) (path, format string, data []byte, err error) {
	file := mm.FlavorString("sklearn", "pickled_model")
	if file == "" {
		file = mm.FlavorString("python_function", "model_path")
	}
	if file == "" {
		return "", "", nil, fmt.Errorf("%s: the sklearn flavor names no pickled_model", filepath.Join(mm.Dir, "MLmodel"))
	}
	if filepath.IsAbs(file) || slices.Contains(strings.Split(filepath.ToSlash(file), "/"), "..") {
		return "", "", nil, fmt.Errorf("%s: pickled_model %q must be a path inside the model folder", filepath.Join(mm.Dir, "MLmodel"), file)
	}
	format = mm.FlavorString("sklearn", "serialization_format")
	switch format {
	case "", "pickle", "cloudpickle", "skops":
	default:
		return "", "", nil, fmt.Errorf("%s: sklearn serialization_format %q is not supported (pickle, cloudpickle and skops are)", filepath.Join(mm.Dir, "MLmodel"), format)
	}
	path = filepath.Join(mm.Dir, filepath.FromSlash(file))
	st, err := os.Stat(path)
	if err != nil {
		return "", "", nil, fmt.Errorf("%s: %w", path, err)
	}
	if st.Size() > maxPickle {
		return "", "", nil, fmt.Errorf("%s: %d bytes is larger than mlbatch reads (%d)", path, st.Size(), int64(maxPickle))
	}
	data, err = os.ReadFile(path)
	if err != nil {
		return "", "", nil, fmt.Errorf("%s: %w", path, err)
	}
	return path, format, data, nil
}

// Decode rebuilds an estimator from the bytes of a pickle.
func Decode(data []byte) (Estimator, error) {
	v, err := pickle.Unmarshal(data, pickle.Options{Allow: allow})
	if err != nil {
		return nil, explainUnsupported(err)
	}
	return build(v)
}

// build turns a decoded pickle value into an estimator.
func build(v any) (Estimator, error) {
	obj, ok := v.(*pickle.Object)
	if !ok {
		return nil, fmt.Errorf("the pickle holds a %T, not a scikit-learn estimator", v)
	}
	class := obj.Module + "." + obj.Name
	b := builders[class]
	if b == nil {
		if tbuilders[class] != nil {
			return nil, fmt.Errorf("%s is a transformer: it has no predict, so it cannot score (MLflow's pyfunc cannot either)", obj.Name)
		}
		return nil, &pickle.UnsupportedError{Module: obj.Module, Name: obj.Name}
	}
	est, err := b(obj)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", obj.Name, err)
	}
	return est, nil
}

// skModel adapts an Estimator to model.Model.
type skModel struct {
	est     Estimator
	inputs  []model.Column
	names   []string
	outputs []model.Column
	opts    model.LoadOptions
	// For a tableEstimator (a Pipeline): order[p] is the model input that
	// feeds fitted feature p (-1: absent, read as missing), and fitNames the
	// fitted features' names.
	order    []int
	fitNames []string
	flavor   string // Info's flavor; "" is sklearn
}

func newModel(est Estimator, mm *model.MLmodel, opts model.LoadOptions, path string) (*skModel, error) {
	sig, err := model.SignatureInputs(mm)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(mm.Dir, "MLmodel"), err)
	}
	if te, ok := est.(tableEstimator); ok {
		return newTableModel(te, sig, opts, path)
	}
	n := est.NumFeatures()
	fn := est.FeatureNames()
	var inputs []model.Column
	switch {
	case sig != nil:
		if n >= 0 && len(sig) != n {
			return nil, fmt.Errorf("%s: the signature has %d input columns but the model was fitted on %d features", path, len(sig), n)
		}
		if fn != nil && !model.Positional(sig) {
			for i, c := range sig {
				if c.Name != fn[i] {
					return nil, fmt.Errorf("%s: signature column %d is %q but the model was fitted with %q there (feature_names_in_); scikit-learn would refuse this input", path, i, c.Name, fn[i])
				}
			}
		}
		inputs = sig
	case fn != nil:
		for _, name := range fn {
			inputs = append(inputs, model.Column{Name: name, Type: arrow.PrimitiveTypes.Float64, Required: true})
		}
	case n >= 0:
		for range n {
			inputs = append(inputs, model.Column{Type: arrow.PrimitiveTypes.Float64, Required: true})
		}
	case ignoresFeatures(est):
		// Dummy estimators read only the number of rows.
	default:
		return nil, fmt.Errorf("%s: cannot tell how many features %s takes", path, est.Class())
	}
	if r, ok := est.(interface{ topLevelErr() error }); ok {
		if err := r.topLevelErr(); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	warnProba(opts, est)
	m := &skModel{est: est, inputs: inputs, opts: opts, outputs: est.Outputs(opts)}
	m.names = make([]string, len(inputs))
	for i, c := range inputs {
		m.names[i] = c.Name
	}
	return m, nil
}

func (m *skModel) Info() model.Info {
	flavor := m.flavor
	if flavor == "" {
		flavor = "sklearn"
	}
	return model.Info{Flavor: flavor, Estimator: m.est.Class()}
}

// NewModel adapts a decoded estimator to model.Model, with its inputs from the
// MLmodel's signature (or the estimator's feature names or count), as the
// sklearn flavor does. flavor is what Info reports: another flavor whose file
// holds a scikit-learn object (the lightgbm flavor's model.pkl holding a
// Pipeline) names itself. path names the model file in messages.
func NewModel(flavor string, est Estimator, mm *model.MLmodel, opts model.LoadOptions, path string) (model.Model, error) {
	m, err := newModel(est, mm, opts, path)
	if err != nil {
		return nil, err
	}
	m.flavor = flavor
	return m, nil
}

func (m *skModel) Inputs() []model.Column  { return m.inputs }
func (m *skModel) Outputs() []model.Column { return m.outputs }

func (m *skModel) Predict(ctx context.Context, in model.Features, mem memory.Allocator) ([]arrow.Array, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if te, ok := m.est.(tableEstimator); ok {
		return m.predictTable(te, in, mem)
	}
	X, err := toDense(in.Cols, in.Rows, m.names)
	if err != nil {
		return nil, err
	}
	return m.est.Predict(X, m.opts, mem)
}

// ignoresFeatures reports estimators whose predict looks only at the number of rows.
func ignoresFeatures(est Estimator) bool {
	switch est.(type) {
	case *dummyRegressor, *dummyClassifier:
		return true
	}
	return false
}
