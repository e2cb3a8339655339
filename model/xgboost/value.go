package xgboost

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The JSON and UBJSON decoders build the same tree of Go values:
//
//	nil                 null
//	bool                true, false
//	jsonNum             a JSON number (or NaN/Infinity) kept as its text
//	int64, float64      UBJSON scalars (float32 scalars are widened exactly)
//	string              strings
//	map[string]any      objects
//	[]any               generic arrays
//	numList             JSON arrays holding only numbers, as their texts
//	[]float32 ... []uint8  UBJSON typed arrays
//
// Numbers stay text until a reader asks for a type, so a float32 field is parsed
// straight to float32 (as XGBoost's reader does) and never rounded twice.

// jsonNum is the text of one JSON number token, including XGBoost's NaN,
// Infinity and -Infinity.
type jsonNum string

// numList is a JSON array whose elements are all numbers.
type numList []string

// maxDepth bounds the nesting of arrays and objects; models nest about 6 deep.
const maxDepth = 128

func parseJSONFloat32(s string) (float32, error) {
	switch s {
	case "NaN", "-NaN", "nan":
		return float32(math.NaN()), nil
	case "Infinity", "inf":
		return float32(math.Inf(1)), nil
	case "-Infinity", "-inf":
		return float32(math.Inf(-1)), nil
	}
	f, err := strconv.ParseFloat(s, 32)
	if err != nil {
		// ParseFloat saturates out-of-range values to ±Inf with ErrRange, as strtof.
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return float32(f), nil
		}
		return 0, fmt.Errorf("invalid number %q", s)
	}
	return float32(f), nil
}

func parseJSONInt(s string) (int64, error) {
	i, err := strconv.ParseInt(s, 10, 64)
	if err == nil {
		return i, nil
	}
	// Integers written as floats ("1E0") are accepted when they are whole.
	f, ferr := strconv.ParseFloat(s, 64)
	if ferr != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, fmt.Errorf("invalid integer %q", s)
	}
	return int64(f), nil
}

// asObject returns v as an object.
func asObject(v any, what string) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: expected an object, found %s", what, typeName(v))
	}
	return m, nil
}

// field returns m[key] as an object; missing keys are errors.
func objectField(m map[string]any, key, what string) (map[string]any, error) {
	v, ok := m[key]
	if !ok {
		return nil, fmt.Errorf("%s: missing %q", what, key)
	}
	return asObject(v, what+"."+key)
}

func stringField(m map[string]any, key, what string) (string, error) {
	v, ok := m[key]
	if !ok {
		return "", fmt.Errorf("%s: missing %q", what, key)
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s.%s: expected a string, found %s", what, key, typeName(v))
	}
	return s, nil
}

// intParam reads an integer parameter, which XGBoost stores as a string ("13") in
// parameter objects and as a number elsewhere. def is returned when the key is absent.
func intParam(m map[string]any, key, what string, def int64) (int64, error) {
	v, ok := m[key]
	if !ok {
		return def, nil
	}
	i, err := toInt(v)
	if err != nil {
		return 0, fmt.Errorf("%s.%s: %w", what, key, err)
	}
	return i, nil
}

func toInt(v any) (int64, error) {
	switch x := v.(type) {
	case string:
		return parseJSONInt(strings.TrimSpace(x))
	case jsonNum:
		return parseJSONInt(string(x))
	case int64:
		return x, nil
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return 0, fmt.Errorf("%v is not an integer", x)
		}
		return int64(x), nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	}
	return 0, fmt.Errorf("expected an integer, found %s", typeName(v))
}

// arrayLen returns the length of any array representation, or -1.
func arrayLen(v any) int {
	switch a := v.(type) {
	case []any:
		return len(a)
	case numList:
		return len(a)
	case []float32:
		return len(a)
	case []float64:
		return len(a)
	case []int8:
		return len(a)
	case []uint8:
		return len(a)
	case []int16:
		return len(a)
	case []int32:
		return len(a)
	case []int64:
		return len(a)
	}
	return -1
}

// toInt64s converts any array of integers.
func toInt64s(v any) ([]int64, error) {
	switch a := v.(type) {
	case []int64:
		return a, nil
	case []int32:
		out := make([]int64, len(a))
		for i, x := range a {
			out[i] = int64(x)
		}
		return out, nil
	case []int16:
		out := make([]int64, len(a))
		for i, x := range a {
			out[i] = int64(x)
		}
		return out, nil
	case []int8:
		out := make([]int64, len(a))
		for i, x := range a {
			out[i] = int64(x)
		}
		return out, nil
	case []uint8:
		out := make([]int64, len(a))
		for i, x := range a {
			out[i] = int64(x)
		}
		return out, nil
	case numList:
		out := make([]int64, len(a))
		for i, s := range a {
			x, err := parseJSONInt(s)
			if err != nil {
				return nil, fmt.Errorf("element %d: %w", i, err)
			}
			out[i] = x
		}
		return out, nil
	case []any:
		out := make([]int64, len(a))
		for i, e := range a {
			x, err := toInt(e)
			if err != nil {
				return nil, fmt.Errorf("element %d: %w", i, err)
			}
			out[i] = x
		}
		return out, nil
	case []float32, []float64:
		return nil, fmt.Errorf("expected integers, found a float array")
	}
	return nil, fmt.Errorf("expected an array of integers, found %s", typeName(v))
}

// toInt32s converts an integer array and checks that each value fits int32.
func toInt32s(v any) ([]int32, error) {
	if a, ok := v.([]int32); ok {
		return a, nil
	}
	w, err := toInt64s(v)
	if err != nil {
		return nil, err
	}
	out := make([]int32, len(w))
	for i, x := range w {
		if x < math.MinInt32 || x > math.MaxInt32 {
			return nil, fmt.Errorf("element %d: %d is out of range", i, x)
		}
		out[i] = int32(x)
	}
	return out, nil
}

// toFloat32s converts any numeric array to float32 the way XGBoost reads it.
func toFloat32s(v any) ([]float32, error) {
	switch a := v.(type) {
	case []float32:
		return a, nil
	case []float64:
		out := make([]float32, len(a))
		for i, x := range a {
			out[i] = float32(x)
		}
		return out, nil
	case numList:
		out := make([]float32, len(a))
		for i, s := range a {
			f, err := parseJSONFloat32(s)
			if err != nil {
				return nil, fmt.Errorf("element %d: %w", i, err)
			}
			out[i] = f
		}
		return out, nil
	case []any:
		out := make([]float32, len(a))
		for i, e := range a {
			f, err := toFloat32(e)
			if err != nil {
				return nil, fmt.Errorf("element %d: %w", i, err)
			}
			out[i] = f
		}
		return out, nil
	case []int64, []int32, []int16, []int8, []uint8:
		ints, err := toInt64s(a)
		if err != nil {
			return nil, err
		}
		out := make([]float32, len(ints))
		for i, x := range ints {
			out[i] = float32(x)
		}
		return out, nil
	}
	return nil, fmt.Errorf("expected an array of numbers, found %s", typeName(v))
}

func toFloat32(v any) (float32, error) {
	switch x := v.(type) {
	case jsonNum:
		return parseJSONFloat32(string(x))
	case float64:
		return float32(x), nil
	case int64:
		return float32(x), nil
	case string:
		return parseJSONFloat32(strings.TrimSpace(x))
	}
	return 0, fmt.Errorf("expected a number, found %s", typeName(v))
}

// toBools reads default_left: booleans in early JSON models, 0/1 integers later.
func toBools(v any) ([]bool, error) {
	if a, ok := v.([]any); ok {
		out := make([]bool, len(a))
		for i, e := range a {
			switch x := e.(type) {
			case bool:
				out[i] = x
			default:
				n, err := toInt(x)
				if err != nil {
					return nil, fmt.Errorf("element %d: %w", i, err)
				}
				out[i] = n != 0
			}
		}
		return out, nil
	}
	ints, err := toInt64s(v)
	if err != nil {
		return nil, err
	}
	out := make([]bool, len(ints))
	for i, x := range ints {
		out[i] = x != 0
	}
	return out, nil
}

// toStrings reads an array of strings (feature names and types).
func toStrings(v any) ([]string, error) {
	a, ok := v.([]any)
	if !ok {
		if arrayLen(v) == 0 {
			return nil, nil
		}
		return nil, fmt.Errorf("expected an array of strings, found %s", typeName(v))
	}
	out := make([]string, len(a))
	for i, e := range a {
		s, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("element %d: expected a string, found %s", i, typeName(e))
		}
		out[i] = s
	}
	return out, nil
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case jsonNum, int64, float64:
		return "a number"
	case string:
		return "a string"
	case map[string]any:
		return "an object"
	case []any, numList, []float32, []float64, []int8, []uint8, []int16, []int32, []int64:
		return "an array"
	}
	return fmt.Sprintf("%T", v)
}
