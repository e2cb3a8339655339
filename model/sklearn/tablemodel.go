package sklearn

import (
	"errors"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/model"
	"github.com/mlbatch/mlbatch/model/pickle"
)

// newTableModel adapts a Pipeline to model.Model. Its inputs are the signature's
// columns when there is one, else the first step's feature_names_in_, else
// n_features_in_ positional columns. Without a signature each input is typed by
// what the first step does with it: text for columns an encoder or imputer
// fitted on strings reads, numbers for columns a scaler or the estimator reads,
// and no type (read as the file has it) for columns only passed along; columns
// a ColumnTransformer drops are optional.
func newTableModel(te tableEstimator, sig []model.Column, opts model.LoadOptions, path string) (*skModel, error) {
	if r, ok := te.(interface{ topLevelErr() error }); ok {
		if err := r.topLevelErr(); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	n, fn := te.NumFeatures(), te.FeatureNames()
	kinds := te.inputKinds(kindNum)
	used := te.usedInputs()
	kindAt := func(p int) arrow.DataType {
		if p < len(kinds) {
			return kinds[p].arrowType()
		}
		return nil
	}
	usedAt := func(p int) bool { return p >= len(used) || used[p] }
	identity := func(k int) []int {
		o := make([]int, k)
		for i := range o {
			o[i] = i
		}
		return o
	}
	m := &skModel{est: te, opts: opts, outputs: te.Outputs(opts)}
	switch {
	case sig != nil && !model.Positional(sig):
		m.inputs = sig
		if fn == nil {
			if n >= 0 && len(sig) != n {
				return nil, fmt.Errorf("%s: the signature has %d input columns but the model was fitted on %d features", path, len(sig), n)
			}
			m.order = identity(len(sig))
			for _, c := range sig {
				m.fitNames = append(m.fitNames, c.Name)
			}
			break
		}
		byName := make(map[string]int, len(sig))
		for i, c := range sig {
			byName[c.Name] = i
		}
		m.order = make([]int, len(fn))
		m.fitNames = fn
		for p, name := range fn {
			i, ok := byName[name]
			if !ok {
				if usedAt(p) {
					return nil, fmt.Errorf("%s: the model was fitted with column %q (feature_names_in_), which its signature lacks", path, name)
				}
				i = -1
			}
			m.order[p] = i
		}
	case sig != nil:
		if n >= 0 && len(sig) != n {
			return nil, fmt.Errorf("%s: the signature has %d input columns but the model was fitted on %d features", path, len(sig), n)
		}
		m.inputs = sig
		m.order = identity(len(sig))
	case fn != nil:
		for p, name := range fn {
			m.inputs = append(m.inputs, model.Column{Name: name, Type: kindAt(p), Required: usedAt(p)})
		}
		m.order = identity(len(fn))
		m.fitNames = fn
	case n >= 0:
		for p := range n {
			m.inputs = append(m.inputs, model.Column{Type: kindAt(p), Required: true})
		}
		m.order = identity(n)
	case ignoresFeatures(te.finalEstimator()):
	default:
		return nil, fmt.Errorf("%s: cannot tell how many features %s takes", path, te.Class())
	}
	warnProba(opts, te.finalEstimator())
	m.names = make([]string, len(m.inputs))
	for i, c := range m.inputs {
		m.names[i] = c.Name
	}
	return m, nil
}

// predictTable hands a tableEstimator the batch's columns in fitted order.
func (m *skModel) predictTable(te tableEstimator, in model.Features, mem memory.Allocator) ([]arrow.Array, error) {
	cols := make([]arrow.Array, len(m.order))
	for p, i := range m.order {
		if i >= 0 && i < len(in.Cols) {
			cols[p] = in.Cols[i]
		}
	}
	t, err := tableFrom(cols, in.Rows, m.fitNames)
	if err != nil {
		return nil, err
	}
	return te.predictTable(t, m.opts, mem)
}

// explainUnsupported adds why to the pickle reader's refusal of a global that
// is a function rather than a class: mlbatch never runs Python code.
func explainUnsupported(err error) error {
	var u *pickle.UnsupportedError
	if !errors.As(err, &u) {
		return err
	}
	full := u.Module + "." + u.Name
	switch {
	case full == "sklearn.compose._column_transformer.make_column_selector":
		return fmt.Errorf("%w: the ColumnTransformer chooses columns with a callable (make_column_selector); mlbatch supports selection by name, index, boolean mask or slice", err)
	case strings.HasPrefix(u.Module, "cloudpickle"), u.Module == "__main__", u.Module == "types",
		u.Name != "" && (u.Name[0] == '_' || (u.Name[0] >= 'a' && u.Name[0] <= 'z')):
		return fmt.Errorf("%w: the model holds Python code (a function, lambda or method such as FunctionTransformer's func or a callable column selector); mlbatch rebuilds only known scikit-learn classes and cannot run arbitrary Python code", err)
	}
	return err
}
