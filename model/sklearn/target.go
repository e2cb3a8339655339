package sklearn

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/model"
	"github.com/mlbatch/mlbatch/model/pickle"
)

// TransformedTargetRegressor predicts with regressor_, then maps the
// predictions back with transformer_.inverse_transform: a FunctionTransformer
// whose inverse_func is one of the numpy ufuncs below (or None, the identity),
// or a fitted StandardScaler, MinMaxScaler, MaxAbsScaler or RobustScaler.

func init() {
	register("sklearn.compose._target.TransformedTargetRegressor", buildTTR)
	for name := range ufuncs {
		for _, m := range ufuncModules {
			inert[m+"."+name] = true
		}
	}
	// Other ufuncs decode (as references) so that TransformedTargetRegressor
	// can say which inverse_func it does not evaluate.
	for _, name := range []string{"sin", "cos", "tan", "arcsin", "arccos", "arctan", "floor", "ceil",
		"rint", "trunc", "sign", "positive", "fabs", "deg2rad", "rad2deg"} {
		for _, m := range ufuncModules {
			inert[m+"."+name] = true
		}
	}
	for name := range scipyUfuncs {
		inert["scipy.special._ufuncs."+name] = true
	}
	// numpy < 1.17 pickled a ufunc as _ufunc_reconstruct(module, name).
	inert["numpy.core._ufunc_reconstruct"] = true
	inert["numpy._core._ufunc_reconstruct"] = true
}

// ufuncModules are where numpy's ufuncs are found when unpickled: numpy 1.x
// and 2.x write the private _multiarray_umath module, others the public names.
var ufuncModules = []string{"numpy", "numpy.core._multiarray_umath", "numpy._core._multiarray_umath", "numpy.core.umath", "numpy._core.umath"}

// ufuncs are the numpy ufuncs mlbatch evaluates as a TransformedTargetRegressor's
// inverse_func: one float64 argument, Go's math library (within an ulp of
// numpy's own loops).
var ufuncs = map[string]func(float64) float64{
	"exp":        math.Exp,
	"expm1":      math.Expm1,
	"exp2":       math.Exp2,
	"log":        math.Log,
	"log1p":      math.Log1p,
	"log2":       math.Log2,
	"log10":      math.Log10,
	"sqrt":       math.Sqrt,
	"cbrt":       math.Cbrt,
	"square":     func(x float64) float64 { return x * x },
	"negative":   func(x float64) float64 { return -x },
	"absolute":   math.Abs,
	"reciprocal": func(x float64) float64 { return 1 / x },
	"sinh":       math.Sinh,
	"cosh":       math.Cosh,
	"tanh":       math.Tanh,
	"arcsinh":    math.Asinh,
	"arccosh":    math.Acosh,
	"arctanh":    math.Atanh,
}

// scipyUfuncs are scipy.special's logistic pair.
var scipyUfuncs = map[string]func(float64) float64{
	"expit": expit,
	"logit": func(p float64) float64 { return math.Log(p / (1 - p)) },
}

// ufuncOf resolves a pickled function reference to an allowed ufunc.
func ufuncOf(v any) (func(float64) float64, string, error) {
	var module, name string
	switch x := v.(type) {
	case *pickle.Global:
		module, name = x.Module, x.Name
	case *pickle.Object:
		// numpy.core._ufunc_reconstruct(module, name)
		if x.Name == "_ufunc_reconstruct" && len(x.Args) == 2 {
			module, _ = x.Args[0].(string)
			name, _ = x.Args[1].(string)
		}
	}
	if name == "" {
		return nil, "", fmt.Errorf("is a %s, want a numpy ufunc such as numpy.exp", pickle.TypeName(v))
	}
	if module == "scipy.special._ufuncs" || module == "scipy.special" {
		if f := scipyUfuncs[name]; f != nil {
			return f, "scipy.special." + name, nil
		}
	}
	if strings.HasPrefix(module, "numpy") {
		if f := ufuncs[name]; f != nil {
			return f, "numpy." + name, nil
		}
	}
	known := make([]string, 0, len(ufuncs))
	for n := range ufuncs {
		known = append(known, "numpy."+n)
	}
	sort.Strings(known)
	return nil, "", fmt.Errorf("is %s.%s, which mlbatch does not evaluate (it runs only these functions: %s, scipy.special.expit, scipy.special.logit)", module, name, strings.Join(known, ", "))
}

// ttrCore is a TransformedTargetRegressor.
type ttrCore struct {
	metaBase
	reg   *member
	inv   func(vals []float64, rows, n int) ([]float64, error)
	nOut  int
	multi bool
}

func buildTTR(obj *pickle.Object) (Estimator, error) {
	v, ok := obj.Attr("regressor_")
	if !ok || v == nil {
		return nil, fmt.Errorf("not fitted: regressor_ is missing")
	}
	reg, err := buildMember(v, "regressor_")
	if err != nil {
		return nil, err
	}
	if !reg.has(capRegress) {
		return nil, fmt.Errorf("regressor_ %s is not a regressor", reg.who)
	}
	n, multi := reg.fin.(regressor).targets()
	c := &ttrCore{reg: reg, nOut: n, multi: multi}
	tv, ok := obj.Attr("transformer_")
	if !ok || tv == nil {
		return nil, fmt.Errorf("not fitted: transformer_ is missing")
	}
	tobj, ok := tv.(*pickle.Object)
	if !ok {
		return nil, fmt.Errorf("transformer_ is a %s", pickle.TypeName(tv))
	}
	if c.inv, err = inverseTransform(tobj); err != nil {
		return nil, fmt.Errorf("transformer_ %s: %w", tobj.Name, err)
	}
	// predict squeezes (n, 1) back to (n,) when the target was 1-D.
	if dim, ok := intAttr(obj, "_training_dim"); ok && n == 1 {
		c.multi = dim != 1
	}
	return newMetaEst(obj, c)
}

// inverseTransform reads a fitted target transformer's inverse_transform.
func inverseTransform(obj *pickle.Object) (func([]float64, int, int) ([]float64, error), error) {
	name := obj.Name
	vec := func(attr string) ([]float64, error) {
		v, ok := obj.Attr(attr)
		if !ok || v == nil {
			return nil, nil
		}
		return floatsAttr(obj, attr)
	}
	// elementwise builds an inverse from per-column steps, applied in order.
	type step struct {
		v  []float64
		op func(x, p float64) float64
	}
	elementwise := func(steps ...step) func([]float64, int, int) ([]float64, error) {
		return func(vals []float64, rows, n int) ([]float64, error) {
			for _, s := range steps {
				if s.v == nil {
					continue
				}
				if len(s.v) != 1 && len(s.v) != n {
					return nil, fmt.Errorf("%s was fitted on %d targets, the regressor predicts %d", name, len(s.v), n)
				}
			}
			out := make([]float64, len(vals))
			for i, x := range vals {
				j := i % n
				for _, s := range steps {
					if s.v != nil {
						x = s.op(x, broadcast(s.v, j))
					}
				}
				out[i] = x
			}
			return out, nil
		}
	}
	mul := func(x, p float64) float64 { return x * p }
	add := func(x, p float64) float64 { return x + p }
	switch obj.Class() {
	case "sklearn.preprocessing._function_transformer.FunctionTransformer",
		"sklearn.preprocessing.function_transformer.FunctionTransformer":
		if kw, ok := obj.Attr("inv_kw_args"); ok && kw != nil {
			if d, ok := kw.(*pickle.Dict); !ok || d.Len() > 0 {
				return nil, fmt.Errorf("inv_kw_args are not supported")
			}
		}
		validate, err := boolAttr(obj, "validate", false)
		if err != nil {
			return nil, err
		}
		f := func(x float64) float64 { return x }
		if v, ok := obj.Attr("inverse_func"); ok && v != nil {
			g, _, err := ufuncOf(v)
			if err != nil {
				return nil, fmt.Errorf("inverse_func %w", err)
			}
			f = g
		}
		return func(vals []float64, rows, n int) ([]float64, error) {
			out := make([]float64, len(vals))
			for i, x := range vals {
				if validate && (math.IsNaN(x) || math.IsInf(x, 0)) {
					return nil, fmt.Errorf("the regressor predicts %v for row %d, which FunctionTransformer(validate=True).inverse_transform refuses, as in scikit-learn", x, i/n+1)
				}
				out[i] = f(x)
			}
			return out, nil
		}, nil
	case "sklearn.preprocessing._data.StandardScaler", "sklearn.preprocessing.data.StandardScaler":
		// X *= scale_ (with_std); X += mean_ (with_mean)
		scale, err := vec("scale_")
		if err != nil {
			return nil, err
		}
		mean, err := vec("mean_")
		if err != nil {
			return nil, err
		}
		withMean, err := boolAttr(obj, "with_mean", true)
		if err != nil {
			return nil, err
		}
		withStd, err := boolAttr(obj, "with_std", true)
		if err != nil {
			return nil, err
		}
		if !withMean {
			mean = nil
		}
		if !withStd {
			scale = nil
		}
		return elementwise(step{scale, mul}, step{mean, add}), nil
	case "sklearn.preprocessing._data.MinMaxScaler", "sklearn.preprocessing.data.MinMaxScaler":
		// X -= min_; X /= scale_
		minv, err := vec("min_")
		if err != nil {
			return nil, err
		}
		scale, err := vec("scale_")
		if err != nil {
			return nil, err
		}
		if minv == nil || scale == nil {
			return nil, fmt.Errorf("not fitted: min_ or scale_ is missing")
		}
		return elementwise(step{minv, func(x, p float64) float64 { return x - p }}, step{scale, func(x, p float64) float64 { return x / p }}), nil
	case "sklearn.preprocessing._data.MaxAbsScaler", "sklearn.preprocessing.data.MaxAbsScaler":
		scale, err := vec("scale_")
		if err != nil || scale == nil {
			return nil, fmt.Errorf("not fitted: scale_ is missing")
		}
		return elementwise(step{scale, mul}), nil
	case "sklearn.preprocessing._data.RobustScaler", "sklearn.preprocessing.data.RobustScaler":
		// X *= scale_ (with_scaling); X += center_ (with_centering)
		scale, err := vec("scale_")
		if err != nil {
			return nil, err
		}
		center, err := vec("center_")
		if err != nil {
			return nil, err
		}
		return elementwise(step{scale, mul}, step{center, add}), nil
	}
	return nil, fmt.Errorf("mlbatch cannot invert a %s (FunctionTransformer with a numpy inverse_func, StandardScaler, MinMaxScaler, MaxAbsScaler and RobustScaler are supported)", name)
}

func (c *ttrCore) can(k capability) bool { return k == capRegress }
func (c *ttrCore) parts() []*member      { return []*member{c.reg} }
func (c *ttrCore) targets() (int, bool)  { return c.nOut, c.multi }

func (c *ttrCore) outputs(model.LoadOptions) []model.Column { return regressorOutputsOf(c) }

func (c *ttrCore) predictIn(in *input, _ model.LoadOptions, mem memory.Allocator) ([]arrow.Array, error) {
	return regressorPredictIn(c, in, mem)
}

func (c *ttrCore) regressIn(in *input) ([]float64, error) {
	pred, err := c.reg.regress(in)
	if err != nil {
		return nil, err
	}
	return c.inv(pred, in.rows(), c.nOut)
}
