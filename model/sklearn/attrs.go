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
