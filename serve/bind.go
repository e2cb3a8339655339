package serve

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/batch"
	"github.com/mlbatch/mlbatch/internal/mlerr"
	"github.com/mlbatch/mlbatch/model"
)

// schemaError is a request whose columns do not fit the model's signature:
// MLflow's schema enforcement error (400, INVALID_PARAMETER_VALUE).
type schemaError struct{ msg string }

func (e *schemaError) Error() string { return e.msg }

// modelInputError is a request the model itself refuses (a column it needs is
// absent, a value is not a number): MLflow wraps what the flavor raises as
// "Encountered an unexpected error while evaluating the model" (400, BAD_REQUEST).
type modelInputError struct {
	err   error
	model bool // raised by the model's Predict
}

func (e *modelInputError) Error() string {
	return "Encountered an unexpected error while evaluating the model. Verify that the serialized " +
		"input Dataframe is compatible with the model for inference. Error: " + e.err.Error()
}

func (e *modelInputError) Unwrap() error { return e.err }

// binder maps a request's columns onto the model's inputs, with the rules of
// `mlbatch score` (batch.Bind): by name, or by position for a positional model.
type binder struct {
	m      model.Model
	inputs []model.Column
	// signed is true when the inputs come from a signature with column names:
	// MLflow enforces it, and a request without those names is refused.
	signed bool
	// positional models take unnamed columns in order.
	positional bool
	// bound caches mapColumns' answer per list of column names: clients send
	// the same columns request after request.
	bound  sync.Map // string (names joined by \x00) -> []int
	nBound atomic.Int32
}

// maxBound bounds the cache of column lists.
const maxBound = 256

func newBinder(m model.Model) *binder {
	in := m.Inputs()
	b := &binder{m: m, inputs: in, positional: model.Positional(in)}
	if !b.positional {
		for _, c := range in {
			if c.Signature {
				b.signed = true
			}
		}
	}
	return b
}

// features turns f into the model's feature arrays, in Inputs() order (nil for an
// absent optional input). The caller releases them.
func (b *binder) features(f *frame, mem memory.Allocator) ([]arrow.Array, error) {
	if len(b.inputs) == 0 {
		return nil, nil
	}
	cols, err := b.mapColumns(f)
	if err != nil {
		return nil, err
	}
	feats := make([]arrow.Array, len(b.inputs))
	// float64 columns, the common case, share one slab of Go memory.
	var slab []float64
	nf := 0
	for i, c := range b.inputs {
		if cols[i] >= 0 && c.Type != nil && c.Type.ID() == arrow.FLOAT64 {
			nf++
		}
	}
	if nf > 0 {
		slab = make([]float64, nf*f.rows)
	}
	for i, c := range b.inputs {
		j := cols[i]
		if j < 0 {
			continue
		}
		var a arrow.Array
		var err error
		if c.Type != nil && c.Type.ID() == arrow.FLOAT64 {
			a, err = buildFloat64(f, j, !c.Signature, slab[:f.rows:f.rows])
			slab = slab[f.rows:]
		} else {
			a, err = buildColumn(mem, f, j, c.Type, !c.Signature)
		}
		if err != nil {
			release(feats)
			name := c.Name
			if name == "" {
				if f.names != nil {
					name = f.names[j]
				} else {
					name = strconv.Itoa(j)
				}
			}
			var ce *cellError
			if errors.As(err, &ce) && c.Signature {
				return nil, invalidf("Data is not compatible with model signature. Failed to convert column %s to type '%s'. Error: '%v'",
					name, numpyName(c.Type), err)
			}
			if errors.As(err, &ce) {
				return nil, &modelInputError{err: fmt.Errorf("column %s: %w", strconv.Quote(name), err)}
			}
			return nil, &modelInputError{err: err}
		}
		feats[i] = a
	}
	return feats, nil
}

// mapColumns gives, per model input, the frame column that feeds it (-1: an
// absent optional input).
func (b *binder) mapColumns(f *frame) ([]int, error) {
	out := make([]int, len(b.inputs))
	if f.names == nil {
		// Unnamed columns (rows without column names, like the seed's
		// {"data": [[...]]}). A positional model takes them in order; so does a
		// model fitted with feature names but logged without a signature
		// (scikit-learn warns and predicts by position). A named signature
		// wants its names, except that a one-column signature matches a
		// one-column input.
		if b.signed && !(len(b.inputs) == 1 && f.ncols == 1) {
			return nil, b.missing(nil)
		}
		if f.ncols != len(b.inputs) {
			return nil, &modelInputError{err: fmt.Errorf("X has %d features, but the model is expecting %d features as input", f.ncols, len(b.inputs))}
		}
		for i := range out {
			out[i] = i
		}
		return out, nil
	}
	key := strings.Join(f.names, "\x00")
	if v, ok := b.bound.Load(key); ok {
		return v.([]int), nil
	}
	out, err := b.mapNamed(f)
	if err == nil && b.nBound.Load() < maxBound {
		if _, loaded := b.bound.LoadOrStore(key, out); !loaded {
			b.nBound.Add(1)
		}
	}
	return out, err
}

// mapNamed binds named columns with batch.Bind.
func (b *binder) mapNamed(f *frame) ([]int, error) {
	out := make([]int, len(b.inputs))
	if b.signed {
		present := make(map[string]bool, len(f.names))
		for _, n := range f.names {
			present[n] = true
		}
		var missing []string
		for _, c := range b.inputs {
			if c.Required && !present[c.Name] {
				missing = append(missing, c.Name)
			}
		}
		if len(missing) > 0 {
			return nil, b.missing(f.names)
		}
	}
	fields := make([]arrow.Field, len(f.names))
	for j, n := range f.names {
		fields[j] = arrow.Field{Name: n, Type: arrow.Null, Nullable: true}
	}
	schema := arrow.NewSchema(fields, nil)
	bd, err := batch.Bind(schema, b.m, []string{}, "")
	if err != nil {
		if mlerr.KindOf(err) == mlerr.Schema && b.signed {
			return nil, &schemaError{msg: "Failed to enforce schema of data with the model signature. Error: " + err.Error()}
		}
		return nil, &modelInputError{err: err}
	}
	index := make(map[string]int, len(f.names))
	for j, n := range f.names {
		index[n] = j
	}
	for i, idx := range bd.FeatureIdx {
		out[i] = -1
		if idx >= 0 {
			out[i] = index[bd.Needed[idx]]
		}
	}
	return out, nil
}

// missing reports the required signature inputs that names lacks, in MLflow's
// words ("Model is missing inputs [...]", which clients match on).
func (b *binder) missing(names []string) error {
	present := make(map[string]bool, len(names))
	for _, n := range names {
		present[n] = true
	}
	known := make(map[string]bool, len(b.inputs))
	var missing []string
	for _, c := range b.inputs {
		known[c.Name] = true
		if c.Required && !present[c.Name] {
			missing = append(missing, c.Name)
		}
	}
	var extra []string
	for _, n := range names {
		if !known[n] {
			extra = append(extra, n)
		}
	}
	msg := "Failed to enforce schema of data with the model signature. Error: Model is missing inputs " + pyList(missing) + "."
	if len(extra) > 0 {
		msg += " Note that there were extra inputs: " + pyList(extra)
	}
	if names == nil {
		msg += " The request gave no column names: send them (dataframe_split \"columns\", dataframe_records, or an inputs dictionary)."
	} else if hint := caseHint(missing, names); hint != "" {
		msg += " " + hint
	}
	return &schemaError{msg: msg}
}

func caseHint(missing, names []string) string {
	var hints []string
	for _, m := range missing {
		for _, n := range names {
			if strings.EqualFold(m, n) {
				hints = append(hints, fmt.Sprintf("%q looks like %q", n, m))
			}
		}
	}
	if len(hints) == 0 {
		return ""
	}
	return "Did you mean: " + strings.Join(hints, "; ") + "? Column names are case-sensitive."
}

func release(arrs []arrow.Array) {
	for _, a := range arrs {
		if a != nil {
			a.Release()
		}
	}
}
