package sklearn

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/mlbatch/mlbatch/model/pickle"
)

// floatsAttr reads an attribute that is a float, a numpy scalar or a numeric array.
func floatsAttr(obj *pickle.Object, name string) ([]float64, error) {
	v, ok := obj.Attr(name)
	if !ok {
		return nil, fmt.Errorf("attribute %s is missing", name)
	}
	switch x := v.(type) {
	case float64:
		return []float64{x}, nil
	case int64:
		return []float64{float64(x)}, nil
	case bool:
		if x {
			return []float64{1}, nil
		}
		return []float64{0}, nil
	case *pickle.NDArray:
		f, err := x.Float64s()
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", name, err)
		}
		return f, nil
	}
	return nil, fmt.Errorf("attribute %s is a %T, want a number or an array", name, v)
}

// intAttr reads an int attribute; ok is false when it is absent or not an int.
func intAttr(obj *pickle.Object, name string) (int, bool) {
	v, ok := obj.Attr(name)
	if !ok {
		return 0, false
	}
	switch x := v.(type) {
	case int64:
		return int(x), true
	case *big.Int:
		if x.IsInt64() {
			return int(x.Int64()), true
		}
	}
	return 0, false
}

// featureNames reads feature_names_in_ when the estimator has it.
func featureNames(obj *pickle.Object) ([]string, error) {
	v, ok := obj.Attr("feature_names_in_")
	if !ok || v == nil {
		return nil, nil
	}
	arr, ok := v.(*pickle.NDArray)
	if !ok {
		return nil, fmt.Errorf("feature_names_in_ is a %T, want an array", v)
	}
	names, err := arr.Strings()
	if err != nil {
		return nil, fmt.Errorf("feature_names_in_: %w", err)
	}
	return names, nil
}

// shortName is the class name without its module.
func shortName(class string) string {
	if i := strings.LastIndexByte(class, '.'); i >= 0 {
		return class[i+1:]
	}
	return class
}

// sklearnVersion reads _sklearn_version, which BaseEstimator.__getstate__ adds
// to every pickled estimator, as (major, minor); ok is false when it is absent
// or unreadable (hand-built pickles, very old releases).
func sklearnVersion(obj *pickle.Object) (major, minor int, ok bool) {
	v, has := obj.Attr("_sklearn_version")
	s, isStr := v.(string)
	if !has || !isStr {
		return 0, 0, false
	}
	parts := strings.SplitN(s, ".", 3)
	if len(parts) < 2 {
		return 0, 0, false
	}
	num := func(p string) (int, bool) {
		n := 0
		i := 0
		for ; i < len(p) && p[i] >= '0' && p[i] <= '9' && i < 6; i++ {
			n = n*10 + int(p[i]-'0')
		}
		return n, i > 0
	}
	var ok1, ok2 bool
	major, ok1 = num(parts[0])
	minor, ok2 = num(parts[1]) // "1.6.dev0", "0.24rc1" still read as 1.6, 0.24
	return major, minor, ok1 && ok2
}

// versionBefore reports whether obj was pickled by a release older than
// major.minor; unknown is returned when _sklearn_version is missing.
func versionBefore(obj *pickle.Object, major, minor int, unknown bool) bool {
	ma, mi, ok := sklearnVersion(obj)
	if !ok {
		return unknown
	}
	return ma < major || (ma == major && mi < minor)
}
