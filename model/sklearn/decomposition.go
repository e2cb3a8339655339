package sklearn

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/mlbatch/mlbatch/model/pickle"
)

// PCA, TruncatedSVD and FastICA transforms: a projection onto components_,
// after centring on mean_ where the class centres, as transform computes in
// scikit-learn 1.2:
//
//	PCA:          (X - mean_) @ components_.T, divided by sqrt(explained_variance_) when whiten
//	TruncatedSVD: X @ components_.T
//	FastICA:      (X - mean_) @ components_.T when fitted with whitening, else X @ components_.T
//
// Later releases compute PCA as X @ components_.T - mean_ @ components_.T
// (same value, different rounding: a relative difference of the order of
// machine epsilon times |X|/|result|) and clip sqrt(explained_variance_) to
// at least machine epsilon when whitening; the 1.2 order is kept, as it is the
// more accurate of the two.

func init() {
	for class, b := range map[string]tbuilder{
		"sklearn.decomposition._pca.PCA":                        buildPCA,
		"sklearn.decomposition.pca.PCA":                         buildPCA, // before 0.22
		"sklearn.decomposition._truncated_svd.TruncatedSVD":     buildTruncatedSVD,
		"sklearn.decomposition.truncated_svd.TruncatedSVD":      buildTruncatedSVD,
		"sklearn.decomposition._fastica.FastICA":                buildFastICA,
		"sklearn.decomposition.fastica_.FastICA":                buildFastICA,
		"sklearn.decomposition._incremental_pca.IncrementalPCA": buildPCA,
		"sklearn.decomposition.incremental_pca.IncrementalPCA":  buildPCA,
	} {
		registerTransformer(class, b)
	}
}

// projection is X (centred when mean is set) @ comps.T, divided by scale when
// set.
type projection struct {
	meta
	who    string
	prefix string      // get_feature_names_out prefix: the lowercased class name
	comps  [][]float64 // [component][feature]
	mean   []float64   // nil: no centring
	scale  []float64   // nil: no division
}

// readComponents reads components_ as rows.
func readComponents(obj *pickle.Object) ([][]float64, error) {
	a, err := obj.Array("components_")
	if err != nil {
		return nil, fmt.Errorf("not fitted: %w", err)
	}
	if len(a.Shape) != 2 || a.Shape[0] < 1 || a.Shape[1] < 1 {
		return nil, fmt.Errorf("components_ has shape %v, want (n_components, n_features)", a.Shape)
	}
	v, err := a.Float64s()
	if err != nil {
		return nil, fmt.Errorf("components_: %w", err)
	}
	k, f := a.Shape[0], a.Shape[1]
	out := make([][]float64, k)
	for i := range out {
		out[i] = v[i*f : (i+1)*f]
	}
	return out, nil
}

func newProjection(obj *pickle.Object) (*projection, error) {
	m, err := transformerMeta(obj)
	if err != nil {
		return nil, err
	}
	comps, err := readComponents(obj)
	if err != nil {
		return nil, err
	}
	nf := len(comps[0])
	if m.nFeat >= 0 && m.nFeat != nf {
		return nil, fmt.Errorf("n_features_in_ is %d but components_ has %d columns", m.nFeat, nf)
	}
	if m.names != nil && len(m.names) != nf {
		return nil, fmt.Errorf("feature_names_in_ has %d names for %d features", len(m.names), nf)
	}
	m.nFeat = nf
	return &projection{meta: m, who: obj.Name, prefix: strings.ToLower(obj.Name), comps: comps}, nil
}

// readMean reads mean_ of n features (nil when None).
func readMean(obj *pickle.Object, n int) ([]float64, error) {
	v, ok := obj.Attr("mean_")
	if !ok || v == nil {
		return nil, nil
	}
	mean, err := floatsAttr(obj, "mean_")
	if err != nil {
		return nil, err
	}
	if len(mean) != n {
		return nil, fmt.Errorf("mean_ has %d values for %d features", len(mean), n)
	}
	return mean, nil
}

func buildPCA(obj *pickle.Object) (transformer, error) {
	p, err := newProjection(obj)
	if err != nil {
		return nil, err
	}
	if p.mean, err = readMean(obj, p.nFeat); err != nil {
		return nil, err
	}
	whiten, err := boolAttr(obj, "whiten", false)
	if err != nil {
		return nil, err
	}
	if whiten {
		ev, err := floatsAttr(obj, "explained_variance_")
		if err != nil {
			return nil, fmt.Errorf("whiten=True needs explained_variance_: %w", err)
		}
		if len(ev) != len(p.comps) {
			return nil, fmt.Errorf("explained_variance_ has %d values for %d components", len(ev), len(p.comps))
		}
		p.scale = make([]float64, len(ev))
		for i, v := range ev {
			p.scale[i] = math.Sqrt(v)
		}
	}
	return p, nil
}

func buildTruncatedSVD(obj *pickle.Object) (transformer, error) {
	return newProjection(obj)
}

func buildFastICA(obj *pickle.Object) (transformer, error) {
	p, err := newProjection(obj)
	if err != nil {
		return nil, err
	}
	// Whether transform centres: _whiten (1.1 and later: False,
	// "arbitrary-variance" or "unit-variance"), else whiten (a bool before
	// 1.1; "warn", "arbitrary-variance" or "unit-variance" after).
	w, ok := obj.Attr("_whiten")
	if !ok {
		w, _ = obj.Attr("whiten")
	}
	var centre bool
	switch x := w.(type) {
	case nil:
	case bool:
		centre = x
	case int64:
		centre = x != 0
	case string:
		centre = x != ""
	default:
		return nil, fmt.Errorf("whiten is a %s, want a bool or a str", pickle.TypeName(w))
	}
	if centre {
		if p.mean, err = readMean(obj, p.nFeat); err != nil {
			return nil, err
		}
		if p.mean == nil {
			return nil, fmt.Errorf("fitted with whitening but mean_ is missing")
		}
	}
	return p, nil
}

func (p *projection) transform(t *table) (*table, error) {
	if err := checkWidth(t, p.nFeat, p.who); err != nil {
		return nil, err
	}
	cols, err := t.numericAll(p.who, false)
	if err != nil {
		return nil, err
	}
	rows := t.rows
	if p.mean != nil {
		c := make([][]float64, len(cols))
		for j, x := range cols {
			mu := p.mean[j]
			c[j] = mapCol(x[:rows], func(v float64) float64 { return v - mu })
		}
		cols = c
	}
	out := &table{rows: rows, cols: make([]*column, len(p.comps)), names: p.namesOut(nil)}
	for k, comp := range p.comps {
		acc := make([]float64, rows)
		for j, x := range cols {
			w := comp[j]
			for i, v := range x[:rows] {
				acc[i] += float64(v * w)
			}
		}
		if p.scale != nil {
			s := p.scale[k]
			for i := range acc {
				acc[i] /= s
			}
		}
		out.cols[k] = &column{num: acc}
	}
	return out, nil
}

// namesOut is ClassNamePrefixFeaturesOutMixin: <class name lowercased><i>.
func (p *projection) namesOut([]string) []string {
	out := make([]string, len(p.comps))
	for i := range out {
		out[i] = p.prefix + strconv.Itoa(i)
	}
	return out
}

func (p *projection) inputKinds(kind) []kind { return fill(p.nFeat, kindNum) }
