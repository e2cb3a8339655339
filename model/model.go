package model

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/internal/mlerr"
)

// Column is one column a model takes or produces.
type Column struct {
	// Name is the column name; empty for a positional input.
	Name string
	// Type is the Arrow type the model wants (inputs) or produces (outputs).
	Type arrow.DataType
	// Required is false for optional signature columns.
	Required bool
	// Signature is true when Type comes from the MLflow signature, so MLflow's
	// own cast rules apply to the input column (see batch.CastAllowed).
	Signature bool
}

// Features is the model's view of one input batch: one array per model input, in
// Inputs() order. The arrays belong to the caller.
type Features struct {
	Cols []arrow.Array
	Rows int
}

// Info describes a loaded model for summaries and inspect.
type Info struct {
	Flavor    string // MLmodel flavor used, e.g. "sklearn"
	Estimator string // fully qualified class, e.g. "sklearn.linear_model._base.LinearRegression"
}

// Model is a loaded, immutable model. Predict is safe for concurrent use.
type Model interface {
	Info() Info
	// Inputs lists the columns the model needs. When every input is unnamed the
	// model is positional: it takes the input's columns in order.
	Inputs() []Column
	// Outputs lists the arrays Predict returns, in order. An output named
	// "prediction" or "prediction_<i>" is the model's prediction; the pipeline may
	// rename that prefix (--prediction-col). Regressors return float64
	// predictions. Classifiers return the label in "prediction", typed like the
	// model's classes (int64, float64, bool or string), and with LoadOptions.Proba
	// one float64 column per class named "proba_<label>", in class order.
	Outputs() []Column
	// Predict scores one batch. The returned arrays (len(Outputs()), each
	// in.Rows long) are owned by the caller.
	Predict(ctx context.Context, in Features, mem memory.Allocator) ([]arrow.Array, error)
}

// LoadOptions are the user's choices that change what a model produces.
type LoadOptions struct {
	// Proba asks classifiers for one probability column per class.
	Proba bool
	// Warn receives non-fatal notes (e.g. --proba on a regressor). May be nil.
	Warn func(msg string)
}

// Loader loads a model folder for one flavor.
type Loader func(m *MLmodel, opts LoadOptions) (Model, error)

var (
	regMu   sync.RWMutex
	loaders = map[string]Loader{}
	// preference is the order in which flavors are tried when a model has several.
	preference = []string{"sklearn", "xgboost", "lightgbm", "onnx"}
)

// Register makes a flavor loadable. It is called from flavor packages' init.
func Register(flavor string, l Loader) {
	regMu.Lock()
	defer regMu.Unlock()
	loaders[flavor] = l
}

// pyfuncModules maps python_function loader modules to the native flavor that reads
// the same files, for MLmodel files that carry only the python_function flavor.
var pyfuncModules = map[string]string{
	"mlflow.sklearn":  "sklearn",
	"mlflow.xgboost":  "xgboost",
	"mlflow.lightgbm": "lightgbm",
	"mlflow.onnx":     "onnx",
}

// Load reads dir's MLmodel and loads it with the first supported flavor.
func Load(dir string, opts LoadOptions) (Model, *MLmodel, error) {
	mm, err := ReadMLmodel(dir)
	if err != nil {
		return nil, nil, mlerr.Wrap(mlerr.Model, err)
	}
	flavor, err := chooseFlavor(mm)
	if err != nil {
		return nil, mm, mlerr.Wrap(mlerr.Model, fmt.Errorf("%s: %w", dir, err))
	}
	regMu.RLock()
	load := loaders[flavor]
	regMu.RUnlock()
	m, err := load(mm, opts)
	if err != nil {
		return nil, mm, mlerr.Wrap(mlerr.Model, err)
	}
	return m, mm, nil
}

func chooseFlavor(mm *MLmodel) (string, error) {
	regMu.RLock()
	defer regMu.RUnlock()
	for _, f := range preference {
		if _, ok := mm.Flavors[f]; ok && loaders[f] != nil {
			return f, nil
		}
	}
	for f := range mm.Flavors {
		if loaders[f] != nil {
			return f, nil
		}
	}
	if lm := mm.FlavorString("python_function", "loader_module"); lm != "" {
		if f, ok := pyfuncModules[lm]; ok && loaders[f] != nil {
			// Only python_function is present: synthesise the native flavor's
			// keys from it.
			pf := mm.Flavors["python_function"]
			if mm.Flavors[f] == nil {
				native := map[string]any{}
				if p, ok := pf["model_path"]; ok {
					native["pickled_model"] = p
				}
				if p, ok := pf["data"]; ok {
					native["data"] = p
					native["pickled_model"] = p
				}
				mm.Flavors[f] = native
			}
			return f, nil
		}
	}
	var have []string
	for f, conf := range mm.Flavors {
		if f == "python_function" {
			if lm, _ := conf["loader_module"].(string); lm != "" {
				f += " (loader_module " + lm + ")"
			}
		}
		have = append(have, f)
	}
	sort.Strings(have)
	var supported []string
	for f := range loaders {
		supported = append(supported, f)
	}
	sort.Strings(supported)
	return "", fmt.Errorf("unsupported flavor: the model has %s; mlbatch supports %s",
		strings.Join(have, ", "), strings.Join(supported, ", "))
}

// Flavors lists the registered flavors, sorted.
func Flavors() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	var out []string
	for f := range loaders {
		out = append(out, f)
	}
	slices.Sort(out)
	return out
}

// SignatureInputs turns a column signature into model inputs. It returns nil when
// the model has no input signature.
func SignatureInputs(mm *MLmodel) ([]Column, error) {
	if mm == nil || mm.Signature == nil || mm.Signature.Inputs == nil {
		return nil, nil
	}
	in := mm.Signature.Inputs
	if in.IsTensor() {
		// A single 2-D tensor [-1, n] is n positional numeric columns.
		if len(in.Tensors) != 1 {
			return nil, fmt.Errorf("signature: %d input tensors; only one 2-D tensor is supported", len(in.Tensors))
		}
		ts := in.Tensors[0]
		typ, err := NumpyArrowType(ts.DType)
		if err != nil {
			return nil, fmt.Errorf("signature: %w", err)
		}
		if len(ts.Shape) != 2 || ts.Shape[1] < 1 {
			return nil, fmt.Errorf("signature: tensor shape %v: only a 2-D shape [-1, n] is supported", ts.Shape)
		}
		cols := make([]Column, ts.Shape[1])
		for i := range cols {
			cols[i] = Column{Type: typ, Required: true, Signature: true}
		}
		return cols, nil
	}
	cols := make([]Column, len(in.Columns))
	for i, c := range in.Columns {
		typ, err := ArrowType(c.Type)
		if err != nil {
			return nil, fmt.Errorf("signature column %q: %w", c.Name, err)
		}
		cols[i] = Column{Name: c.Name, Type: typ, Required: c.Required, Signature: true}
	}
	return cols, nil
}

// Positional reports whether a model's inputs are unnamed.
func Positional(inputs []Column) bool {
	for _, c := range inputs {
		if c.Name != "" {
			return false
		}
	}
	return true
}
