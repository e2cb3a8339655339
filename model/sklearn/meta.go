package sklearn

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/model"
	"github.com/mlbatch/mlbatch/model/labels"
	"github.com/mlbatch/mlbatch/model/pickle"
)

// Meta-estimators (search wrappers, TransformedTargetRegressor, calibration,
// voting, stacking, multi-output, one-vs-rest, AdaBoost, bagging) wrap other
// estimators. Each is a metaCore wrapped in a metaEst, which implements the
// Estimator interface and every kinds.go interface, and answers can() with
// what the Python object would answer to hasattr: a soft VotingClassifier has
// predict_proba, a hard one has not. Members are seen through member, which
// runs a Pipeline's steps on the table first and then calls its final
// estimator, so a VotingClassifier of Pipelines over text columns works: the
// meta-estimator is then a tableEstimator itself.

// input is one batch as a meta-estimator's members receive it: as a table
// (when a member is a Pipeline that may read text) and/or as float64 columns.
// Conversions are made once, when first needed.
type input struct {
	d *Dense
	t *table
}

func (in *input) dense(who string) (*Dense, error) {
	if in.d == nil {
		d, err := denseOf(in.t, who)
		if err != nil {
			return nil, err
		}
		in.d = d
	}
	return in.d, nil
}

func (in *input) table() *table {
	if in.t == nil {
		in.t = tableOfDense(in.d)
	}
	return in.t
}

func (in *input) rows() int {
	if in.d != nil {
		return in.d.Rows
	}
	return in.t.rows
}

// columns returns the input restricted to the columns idx (X[:, idx]).
func (in *input) columns(idx []int) *input {
	if in.d != nil {
		d := &Dense{Cols: make([][]float64, len(idx)), Rows: in.d.Rows, Names: make([]string, len(idx))}
		for k, j := range idx {
			d.Cols[k] = in.d.Cols[j]
			d.Names[k] = in.d.colName(j)
		}
		return &input{d: d}
	}
	return &input{t: in.t.sub(idx)}
}

// capability is a method the Python object has.
type capability int

const (
	capRegress  capability = iota // predict returns numbers
	capProba                      // predict_proba of a single-output classifier
	capLabels                     // predict of a single-output classifier
	capDecision                   // decision_function
)

// capable is implemented by estimators whose Go type has methods that do not
// all exist on the Python object (meta-estimators: what they have depends on
// what they wrap).
type capable interface{ can(c capability) bool }

// safeLabels is e's classes_, nil for a regressor (some estimator types serve
// both and index an empty slice for regressors: that is recovered here, at
// load time).
func safeLabels(e Estimator) (c *classes) {
	type labeled interface{ labelsOf() *classes }
	l, ok := e.(labeled)
	if !ok {
		return nil
	}
	defer func() {
		if recover() != nil {
			c = nil
		}
	}()
	return l.labelsOf()
}

// singleOutput reports an estimator whose predict returns one column.
func singleOutput(e Estimator) bool { return len(e.Outputs(model.LoadOptions{})) == 1 }

// has answers hasattr(e, method) for a member's final estimator.
func has(e Estimator, c capability) bool {
	if x, ok := e.(capable); ok {
		return x.can(c)
	}
	switch c {
	case capRegress:
		_, ok := e.(regressor)
		return ok && safeLabels(e) == nil
	case capProba:
		if _, ok := e.(probClassifier); !ok || safeLabels(e) == nil || !singleOutput(e) {
			return false
		}
		for _, col := range e.Outputs(model.LoadOptions{Proba: true}) {
			if len(col.Name) > 6 && col.Name[:6] == "proba_" {
				return true
			}
		}
		return false
	case capLabels:
		if _, ok := e.(labelClassifier); ok && safeLabels(e) != nil && singleOutput(e) {
			return true
		}
		return has(e, capProba)
	case capDecision:
		_, ok := e.(decider)
		return ok && safeLabels(e) != nil
	}
	return false
}

// member is an estimator inside a meta-estimator. A Pipeline member runs its
// steps on the table, then its final estimator predicts.
type member struct {
	est   Estimator
	pipes []*pipeline // outer to inner
	fin   Estimator
	who   string
}

func newMember(est Estimator) *member {
	m := &member{est: est, fin: est}
	for {
		p, ok := m.fin.(*pipeline)
		if !ok || p.final == nil {
			break
		}
		m.pipes = append(m.pipes, p)
		m.fin = p.final
	}
	m.who = shortName(m.fin.Class())
	return m
}

// buildMember builds a pickled estimator (estimators_[i], best_estimator_, ...).
func buildMember(v any, what string) (*member, error) {
	obj, ok := v.(*pickle.Object)
	if !ok {
		return nil, fmt.Errorf("%s is a %s, not a fitted estimator", what, pickle.TypeName(v))
	}
	est, err := build(obj)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return newMember(est), nil
}

func (m *member) has(c capability) bool { return has(m.fin, c) }

// labels is the final estimator's classes_ (nil for a regressor).
func (m *member) labels() *classes { return safeLabels(m.fin) }

// tabular reports whether the member reads the raw table (it has Pipeline
// steps, or is a meta-estimator that has such members).
func (m *member) tabular() bool {
	if len(m.pipes) > 0 {
		return true
	}
	_, ok := m.fin.(*metaTable)
	return ok
}

// sub returns what the final estimator receives for the batch in.
func (m *member) sub(in *input) (*input, error) {
	if len(m.pipes) == 0 {
		return in, nil
	}
	t := in.table()
	for _, p := range m.pipes {
		var err error
		if t, err = p.transform(t); err != nil {
			return nil, err
		}
	}
	if n := m.fin.NumFeatures(); n >= 0 && n != len(t.cols) {
		return nil, fmt.Errorf("%s was fitted on %d features but the steps before it produce %d", m.who, n, len(t.cols))
	}
	return &input{t: t}, nil
}

func (m *member) final(in *input) (*input, *metaEst, *Dense, error) {
	s, err := m.sub(in)
	if err != nil {
		return nil, nil, nil, err
	}
	if me := asMeta(m.fin); me != nil {
		return s, me, nil, nil
	}
	d, err := s.dense(m.who)
	return s, nil, d, err
}

func asMeta(e Estimator) *metaEst {
	switch x := e.(type) {
	case *metaEst:
		return x
	case *metaTable:
		return x.metaEst
	}
	return nil
}

func (m *member) regress(in *input) ([]float64, error) {
	s, me, d, err := m.final(in)
	if err != nil {
		return nil, err
	}
	if me != nil {
		return me.core.regressIn(s)
	}
	r, ok := m.fin.(regressor)
	if !ok {
		return nil, fmt.Errorf("%s has no numeric predict", m.who)
	}
	return r.regress(d)
}

func (m *member) proba(in *input) ([]float64, error) {
	s, me, d, err := m.final(in)
	if err != nil {
		return nil, err
	}
	if me != nil {
		return me.core.probaIn(s)
	}
	c, ok := m.fin.(probClassifier)
	if !ok {
		return nil, fmt.Errorf("%s has no predict_proba", m.who)
	}
	return c.predictProba(d)
}

// index is predict as indices into labels(): predictIndex when the estimator
// has its own predict, else argmax of predict_proba.
func (m *member) index(in *input) ([]int, error) {
	s, me, d, err := m.final(in)
	if err != nil {
		return nil, err
	}
	if me != nil {
		return me.core.indexIn(s)
	}
	if c, ok := m.fin.(labelClassifier); ok {
		return c.predictIndex(d)
	}
	c, ok := m.fin.(probClassifier)
	if !ok {
		return nil, fmt.Errorf("%s has no predict", m.who)
	}
	p, err := c.predictProba(d)
	if err != nil {
		return nil, err
	}
	return argmaxRows(p, d.Rows, c.labelsOf().len()), nil
}

func (m *member) decide(in *input) ([]float64, int, error) {
	s, me, d, err := m.final(in)
	if err != nil {
		return nil, 0, err
	}
	if me != nil {
		return me.core.decideIn(s)
	}
	c, ok := m.fin.(decider)
	if !ok {
		return nil, 0, fmt.Errorf("%s has no decision_function", m.who)
	}
	return c.decisionFunction(d)
}

// predict is the member's own Predict (outputs as if it were the model).
func (m *member) predict(in *input, opts model.LoadOptions, mem memory.Allocator) ([]arrow.Array, error) {
	s, me, d, err := m.final(in)
	if err != nil {
		return nil, err
	}
	if me != nil {
		return me.core.predictIn(s, opts, mem)
	}
	return m.fin.Predict(d, opts, mem)
}

// inputKinds is what the member needs of each of the n inputs.
func (m *member) inputKinds(n int) []kind {
	switch {
	case len(m.pipes) > 0:
		return m.pipes[0].inputKinds(kindNum)
	case asMeta(m.fin) != nil:
		if t, ok := m.fin.(*metaTable); ok {
			return t.inputKinds(kindNum)
		}
	}
	if n < 0 {
		return nil
	}
	return fill(n, kindNum)
}

func (m *member) usedInputs() []bool {
	switch {
	case len(m.pipes) > 0:
		return m.pipes[0].usedInputs()
	case asMeta(m.fin) != nil:
		if t, ok := m.fin.(*metaTable); ok {
			return t.usedInputs()
		}
	}
	return nil
}

// argmaxRows is numpy's argmax(axis=1) of a row-major rows x k matrix.
func argmaxRows(p []float64, rows, k int) []int {
	idx := make([]int, rows)
	for i := range idx {
		idx[i] = argmax(p[i*k : (i+1)*k])
	}
	return idx
}

// metaCore is one meta-estimator's arithmetic. Methods it does not have
// return errors (metaBase); can says which exist.
type metaCore interface {
	can(c capability) bool
	labels() *classes     // classes_, nil for regressors
	targets() (int, bool) // regressors: predict's columns
	parts() []*member     // the members that read the meta-estimator's input
	outputs(opts model.LoadOptions) []model.Column
	predictIn(in *input, opts model.LoadOptions, mem memory.Allocator) ([]arrow.Array, error)
	regressIn(in *input) ([]float64, error)
	probaIn(in *input) ([]float64, error)
	indexIn(in *input) ([]int, error)
	decideIn(in *input) ([]float64, int, error)
}

var errNoMethod = errors.New("the estimator has no such method")

// metaBase gives a metaCore the methods it does not have.
type metaBase struct{}

func (metaBase) labels() *classes                        { return nil }
func (metaBase) targets() (int, bool)                    { return 1, false }
func (metaBase) regressIn(*input) ([]float64, error)     { return nil, errNoMethod }
func (metaBase) probaIn(*input) ([]float64, error)       { return nil, errNoMethod }
func (metaBase) indexIn(*input) ([]int, error)           { return nil, errNoMethod }
func (metaBase) decideIn(*input) ([]float64, int, error) { return nil, 0, errNoMethod }

// metaEst adapts a metaCore to Estimator and the kinds.go interfaces.
type metaEst struct {
	meta
	core metaCore
}

// metaTable is a metaEst with a member that reads the raw table: the model
// then hands it the table (see tableEstimator).
type metaTable struct{ *metaEst }

// newMetaEst wraps core; the feature count and names come from the pickle
// (n_features_in_, feature_names_in_) or else from the first member.
func newMetaEst(obj *pickle.Object, core metaCore) (Estimator, error) {
	e := &metaEst{meta: meta{class: obj.Class(), nFeat: -1}, core: core}
	parts := core.parts()
	if _, subsets := core.(interface{ subsetsFeatures() }); len(parts) > 0 && !subsets {
		e.nFeat, e.names = parts[0].est.NumFeatures(), parts[0].est.FeatureNames()
	}
	if n, ok := intAttr(obj, "n_features_"); ok {
		e.nFeat = n // scikit-learn < 1.0 (ensembles)
	}
	if n, ok := intAttr(obj, "n_features_in_"); ok {
		e.nFeat = n
	}
	names, err := featureNames(obj)
	if err != nil {
		return nil, err
	}
	if names != nil {
		e.names = names
	}
	if e.names != nil && e.nFeat >= 0 && len(e.names) != e.nFeat {
		return nil, fmt.Errorf("feature_names_in_ has %d names for %d features", len(e.names), e.nFeat)
	}
	_, subsets := core.(interface{ subsetsFeatures() })
	for _, p := range parts {
		if n := p.est.NumFeatures(); n >= 0 && e.nFeat >= 0 && n != e.nFeat && !subsets {
			return nil, fmt.Errorf("%s was fitted on %d features, the %s on %d", p.who, n, shortName(e.class), e.nFeat)
		}
		if p.tabular() && !subsets {
			return &metaTable{e}, nil
		}
	}
	return e, nil
}

func (e *metaEst) can(c capability) bool { return e.core.can(c) }
func (e *metaEst) labelsOf() *classes    { return e.core.labels() }
func (e *metaEst) targets() (int, bool)  { return e.core.targets() }

func (e *metaEst) Outputs(opts model.LoadOptions) []model.Column { return e.core.outputs(opts) }

func (e *metaEst) Predict(X *Dense, opts model.LoadOptions, mem memory.Allocator) ([]arrow.Array, error) {
	return e.core.predictIn(&input{d: X}, opts, mem)
}

func (e *metaEst) regress(X *Dense) ([]float64, error)      { return e.core.regressIn(&input{d: X}) }
func (e *metaEst) predictProba(X *Dense) ([]float64, error) { return e.core.probaIn(&input{d: X}) }
func (e *metaEst) predictIndex(X *Dense) ([]int, error)     { return e.core.indexIn(&input{d: X}) }
func (e *metaEst) decisionFunction(X *Dense) ([]float64, int, error) {
	return e.core.decideIn(&input{d: X})
}

func (e *metaTable) predictTable(t *table, opts model.LoadOptions, mem memory.Allocator) ([]arrow.Array, error) {
	return e.core.predictIn(&input{t: t}, opts, mem)
}

func (e *metaTable) finalEstimator() Estimator { return e.metaEst }

func (e *metaTable) inputKinds(kind) []kind {
	var out []kind
	for _, p := range e.core.parts() {
		k := p.inputKinds(e.nFeat)
		if out == nil {
			out = slices.Clone(k)
			continue
		}
		for j := range min(len(out), len(k)) {
			out[j] = mergeKind(out[j], k[j])
		}
	}
	return out
}

func (e *metaTable) usedInputs() []bool {
	var out []bool
	for _, p := range e.core.parts() {
		u := p.usedInputs()
		if u == nil {
			return nil
		}
		if out == nil {
			out = slices.Clone(u)
			continue
		}
		for j := range min(len(out), len(u)) {
			out[j] = out[j] || u[j]
		}
	}
	return out
}

// classifierCore gives a single-output classifier core its outputs and
// Predict: labels from indexIn, probabilities (when it has them) with --proba.
func classifierOutputsOf(c metaCore, opts model.LoadOptions) []model.Column {
	if !c.can(capProba) {
		opts.Proba = false
	}
	return classifierOutputs(c.labels(), opts)
}

func classifierPredictIn(c metaCore, in *input, opts model.LoadOptions, mem memory.Allocator) ([]arrow.Array, error) {
	idx, err := c.indexIn(in)
	if err != nil {
		return nil, err
	}
	out := []arrow.Array{c.labels().labels(idx, mem)}
	if opts.Proba && c.can(capProba) {
		p, err := c.probaIn(in)
		if err != nil {
			out[0].Release()
			return nil, err
		}
		out = append(out, columnsOf(p, in.rows(), c.labels().len(), mem)...)
	}
	return out, nil
}

func regressorOutputsOf(c metaCore) []model.Column {
	n, multi := c.targets()
	return predictionColumns(n, multi)
}

func regressorPredictIn(c metaCore, in *input, mem memory.Allocator) ([]arrow.Array, error) {
	vals, err := c.regressIn(in)
	if err != nil {
		return nil, err
	}
	n, _ := c.targets()
	if n == 1 {
		return []arrow.Array{float64Array(vals[:in.rows()], mem)}, nil
	}
	return columnsOf(vals, in.rows(), n, mem), nil
}

// labelInt is label k of c as the integer it encodes: members of voting,
// stacking and bagging ensembles are fitted on encoded targets 0..K-1.
func labelInt(c *classes, k int) (int, bool) {
	switch c.Kind {
	case labels.Int:
		return int(c.Ints[k]), true
	case labels.Float:
		f := c.Floats[k]
		if f == math.Trunc(f) && math.Abs(f) < 1<<31 {
			return int(f), true
		}
	case labels.Bool:
		if c.Bools[k] {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// encodedIndex maps a member's class indices to the encoded targets 0..K-1 it
// was fitted on.
func encodedIndex(c *classes, K int, who string) ([]int, error) {
	out := make([]int, c.len())
	for k := range out {
		v, ok := labelInt(c, k)
		if !ok || v < 0 || v >= K {
			return nil, fmt.Errorf("%s has class %s, want the encoded classes 0..%d", who, c.Names[k], K-1)
		}
		out[k] = v
	}
	return out, nil
}

// labelPositions maps a member's class indices to positions in classes_ by
// value (members fitted on the original labels).
func labelPositions(inner, outer *classes, who string) ([]int, error) {
	out := make([]int, inner.len())
	for k := range out {
		out[k] = -1
		for j := range outer.len() {
			if inner.Kind == outer.Kind && inner.Names[k] == outer.Names[j] {
				out[k] = j
				break
			}
		}
		if out[k] < 0 {
			return nil, fmt.Errorf("%s predicts class %s, which classes_ does not hold", who, inner.Names[k])
		}
	}
	return out, nil
}

// membersOf builds the fitted estimators of a list attribute, skipping the
// 'drop' placeholders when drop is set.
func membersOf(obj *pickle.Object, attr string, drop bool) ([]*member, error) {
	items, err := obj.Items(attr)
	if err != nil {
		return nil, fmt.Errorf("not fitted: %w", err)
	}
	var out []*member
	for i, it := range items {
		if drop && isDrop(it) {
			continue
		}
		m, err := buildMember(it, fmt.Sprintf("%s[%d]", attr, i))
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s is empty", attr)
	}
	return out, nil
}

// firstAttr returns the first of the attributes that is set (renamed
// attributes across releases).
func firstAttr(obj *pickle.Object, names ...string) (any, string, bool) {
	for _, n := range names {
		if v, ok := obj.Attr(n); ok && v != nil {
			return v, n, true
		}
	}
	return nil, "", false
}

// classesOf reads a classes_ attribute.
func classesOf(obj *pickle.Object, name string) (*classes, error) {
	v, ok := obj.Attr(name)
	if !ok || v == nil {
		return nil, fmt.Errorf("not fitted: no %s", name)
	}
	c, err := readClasses(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return c, nil
}
