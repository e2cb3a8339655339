package sklearn

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/model"
	"github.com/mlbatch/mlbatch/model/pickle"
)

const (
	pipelineClass     = "sklearn.pipeline.Pipeline"
	featureUnionClass = "sklearn.pipeline.FeatureUnion"
)

func init() {
	register(pipelineClass, func(obj *pickle.Object) (Estimator, error) {
		p, err := buildPipeline(obj)
		if err != nil {
			return nil, err
		}
		if p.final == nil {
			return nil, fmt.Errorf("the Pipeline ends in %s, which has no predict", p.lastName())
		}
		return p, nil
	})
	registerTransformer(pipelineClass, func(obj *pickle.Object) (transformer, error) {
		p, err := buildPipeline(obj)
		if err != nil {
			return nil, err
		}
		if p.final != nil {
			return nil, fmt.Errorf("the Pipeline ends in the estimator %s, so it cannot transform", shortName(p.final.Class()))
		}
		return p, nil
	})
	registerTransformer(featureUnionClass, buildFeatureUnion)
}

// pipeline is sklearn.pipeline.Pipeline: transformers applied in order, then
// either a final estimator (predict) or a final transformer (transform).
// 'passthrough' and None steps are skipped, as Pipeline._iter does.
type pipeline struct {
	meta
	steps []transformer // every transformer step, the last one included when final is nil
	final Estimator     // nil for a pipeline of transformers
	last  string        // class of the last step, for messages
}

func (p *pipeline) lastName() string {
	if p.last == "" {
		return "'passthrough'"
	}
	return shortName(p.last)
}

func buildPipeline(obj *pickle.Object) (*pipeline, error) {
	items, err := obj.Items("steps")
	if err != nil {
		return nil, fmt.Errorf("not a fitted Pipeline: %w", err)
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("the Pipeline has no steps")
	}
	p := &pipeline{meta: meta{class: obj.Class(), nFeat: -1}}
	first := true
	for i, it := range items {
		pair, err := itemsOf(it, "a Pipeline step")
		if err != nil || len(pair) != 2 {
			return nil, fmt.Errorf("Pipeline step %d is not a (name, estimator) pair", i)
		}
		name, _ := pair[0].(string)
		step := pair[1]
		lastStep := i == len(items)-1
		if isPassthrough(step) {
			if lastStep {
				p.last = ""
			}
			continue
		}
		if lastStep {
			if o, ok := step.(*pickle.Object); ok {
				p.last = o.Class()
			}
			if est, ok, err := buildFinal(step); err != nil {
				return nil, fmt.Errorf("step %q: %w", name, err)
			} else if ok {
				p.final = est
				if first {
					p.nFeat, p.names = est.NumFeatures(), est.FeatureNames()
				}
				continue
			}
		}
		t, err := buildTransformer(step)
		if err != nil {
			return nil, fmt.Errorf("step %q: %w", name, err)
		}
		if first {
			p.nFeat, p.names = t.NumFeatures(), t.FeatureNames()
		}
		first = false
		p.steps = append(p.steps, t)
	}
	return p, nil
}

// buildFinal builds the last step of a Pipeline when it is an estimator (ok
// false when it is a transformer).
func buildFinal(v any) (Estimator, bool, error) {
	obj, ok := v.(*pickle.Object)
	if !ok {
		return nil, false, fmt.Errorf("the last step is a %s, want a scikit-learn estimator", pickle.TypeName(v))
	}
	class := obj.Class()
	if class == pipelineClass {
		sub, err := buildPipeline(obj)
		if err != nil {
			return nil, false, fmt.Errorf("Pipeline: %w", err)
		}
		if sub.final == nil {
			return nil, false, nil
		}
		return sub, true, nil
	}
	if builders[class] == nil {
		return nil, false, nil
	}
	est, err := build(obj)
	if err != nil {
		return nil, false, err
	}
	return est, true, nil
}

func (p *pipeline) finalEstimator() Estimator {
	if sub, ok := p.final.(*pipeline); ok {
		return sub.finalEstimator()
	}
	return p.final
}

func (p *pipeline) topLevelErr() error {
	if r, ok := p.finalEstimator().(interface{ topLevelErr() error }); ok {
		return r.topLevelErr()
	}
	return nil
}

func (p *pipeline) Outputs(opts model.LoadOptions) []model.Column {
	if p.final == nil {
		return nil
	}
	return p.final.Outputs(opts)
}

func (p *pipeline) Predict(X *Dense, opts model.LoadOptions, mem memory.Allocator) ([]arrow.Array, error) {
	return p.predictTable(tableOfDense(X), opts, mem)
}

func (p *pipeline) transform(t *table) (*table, error) {
	for _, s := range p.steps {
		var err error
		if t, err = s.transform(t); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func (p *pipeline) predictTable(t *table, opts model.LoadOptions, mem memory.Allocator) ([]arrow.Array, error) {
	if p.final == nil {
		return nil, fmt.Errorf("the Pipeline ends in %s, which has no predict", p.lastName())
	}
	t, err := p.transform(t)
	if err != nil {
		return nil, err
	}
	if sub, ok := p.final.(*pipeline); ok {
		return sub.predictTable(t, opts, mem)
	}
	who := shortName(p.final.Class())
	X, err := denseOf(t, who)
	if err != nil {
		return nil, err
	}
	if n := p.final.NumFeatures(); n >= 0 && n != len(X.Cols) && len(p.steps) > 0 {
		return nil, fmt.Errorf("%s was fitted on %d features but the steps before it produce %d", who, n, len(X.Cols))
	}
	return p.final.Predict(X, opts, mem)
}

func (p *pipeline) namesOut(in []string) []string {
	names := in
	for _, s := range p.steps {
		names = s.namesOut(names)
		if names == nil {
			return nil
		}
	}
	return names
}

func (p *pipeline) inputKinds(down kind) []kind {
	if p.final != nil {
		if sub, ok := p.final.(*pipeline); ok {
			down = collapse(sub.inputKinds(kindNum))
		} else {
			down = kindNum
		}
	}
	var kinds []kind
	for i := len(p.steps) - 1; i >= 0; i-- {
		kinds = p.steps[i].inputKinds(down)
		down = collapse(kinds)
	}
	if len(p.steps) == 0 && p.nFeat >= 0 {
		kinds = fill(p.nFeat, down)
	}
	return kinds
}

func (p *pipeline) usedInputs() []bool {
	if len(p.steps) == 0 {
		return nil
	}
	if u, ok := p.steps[0].(interface{ usedInputs() []bool }); ok {
		return u.usedInputs()
	}
	return nil
}

// collapse turns per-column kinds into the one kind a previous step must
// produce: the common kind, else any.
func collapse(kinds []kind) kind {
	if len(kinds) == 0 {
		return kindAny
	}
	for _, k := range kinds[1:] {
		if k != kinds[0] {
			return kindAny
		}
	}
	return kinds[0]
}

// mergeKind combines what two consumers of one column need: any defers to
// the other, and numbers against text (or booleans) is any.
func mergeKind(a, b kind) kind {
	switch {
	case a == kindAny:
		return b
	case b == kindAny, a == b:
		return a
	}
	return kindAny
}

// featureUnion is sklearn.pipeline.FeatureUnion: every transformer sees the
// whole input, and their outputs are concatenated (each times its weight).
type featureUnion struct {
	meta
	parts []unionPart
}

type unionPart struct {
	name   string
	t      transformer // nil for 'passthrough'
	weight float64     // 1 when transformer_weights has none
}

func buildFeatureUnion(obj *pickle.Object) (transformer, error) {
	items, err := obj.Items("transformer_list")
	if err != nil {
		return nil, fmt.Errorf("not a FeatureUnion: %w", err)
	}
	weights, err := readWeights(obj)
	if err != nil {
		return nil, err
	}
	u := &featureUnion{meta: meta{class: obj.Class(), nFeat: -1}}
	first := true
	for i, it := range items {
		pair, err := itemsOf(it, "a FeatureUnion entry")
		if err != nil || len(pair) != 2 {
			return nil, fmt.Errorf("FeatureUnion entry %d is not a (name, transformer) pair", i)
		}
		name, _ := pair[0].(string)
		if isDrop(pair[1]) {
			continue
		}
		part := unionPart{name: name, weight: 1}
		if w, ok := weights[name]; ok {
			part.weight = w
		}
		if pair[1] == nil {
			return nil, fmt.Errorf("FeatureUnion entry %q is None", name)
		}
		if !isPassthrough(pair[1]) {
			if part.t, err = buildTransformer(pair[1]); err != nil {
				return nil, fmt.Errorf("entry %q: %w", name, err)
			}
			if first {
				u.nFeat, u.names = part.t.NumFeatures(), part.t.FeatureNames()
			}
		}
		first = false
		u.parts = append(u.parts, part)
	}
	return u, nil
}

// readWeights reads transformer_weights (None or a dict name -> number).
func readWeights(obj *pickle.Object) (map[string]float64, error) {
	v, ok := obj.Attr("transformer_weights")
	if !ok || v == nil {
		return nil, nil
	}
	d, ok := v.(*pickle.Dict)
	if !ok {
		return nil, fmt.Errorf("transformer_weights is a %s, want a dict", pickle.TypeName(v))
	}
	out := map[string]float64{}
	for i, k := range d.Keys() {
		name, ok1 := k.(string)
		w, ok2 := floatVal(d.Values()[i])
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("transformer_weights must map names to numbers")
		}
		out[name] = w
	}
	return out, nil
}

// weighted multiplies every column by w, as _transform_one does (res * weight).
func weighted(t *table, w float64, who string) (*table, error) {
	if w == 1 {
		// numpy still multiplies, but x * 1.0 is x for every float.
		return t, nil
	}
	out := &table{rows: t.rows, cols: make([]*column, len(t.cols)), names: t.names, sparse: t.sparse}
	for j := range t.cols {
		v, err := t.numeric(j, who)
		if err != nil {
			return nil, err
		}
		n := make([]float64, len(v))
		for i, x := range v {
			n[i] = x * w
		}
		out.cols[j] = &column{num: n}
	}
	return out, nil
}

func (u *featureUnion) transform(t *table) (*table, error) {
	var outs []*table
	sparse := false
	for _, p := range u.parts {
		r := t
		if p.t != nil {
			var err error
			if r, err = p.t.transform(t); err != nil {
				return nil, err
			}
		}
		r, err := weighted(r, p.weight, "FeatureUnion")
		if err != nil {
			return nil, err
		}
		sparse = sparse || r.sparse
		outs = append(outs, r)
	}
	return hstack(t.rows, outs, sparse), nil
}

func (u *featureUnion) namesOut(in []string) []string {
	var out []string
	for _, p := range u.parts {
		names := in
		if p.t != nil {
			names = p.t.namesOut(in)
		}
		if names == nil {
			return nil
		}
		for _, n := range names {
			out = append(out, p.name+"__"+n)
		}
	}
	return out
}

func (u *featureUnion) inputKinds(down kind) []kind {
	var kinds []kind
	for _, p := range u.parts {
		var k []kind
		if p.t == nil {
			if u.nFeat < 0 {
				continue
			}
			k = fill(u.nFeat, down)
		} else if k = p.t.inputKinds(down); k == nil {
			return nil
		}
		if kinds == nil {
			kinds = append([]kind(nil), k...)
			continue
		}
		if len(k) != len(kinds) {
			return nil
		}
		for j := range kinds {
			kinds[j] = mergeKind(kinds[j], k[j])
		}
	}
	return kinds
}
