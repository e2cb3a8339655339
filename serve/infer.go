package serve

import "github.com/apache/arrow-go/v18/arrow"

// inferType chooses the type of a column the model leaves untyped (a scikit-learn
// Pipeline input that is only passed along or compared with a missing-value
// marker declares no type): numbers, booleans or text, as pandas would build the
// column from the request. A column with text in it is text; one with only
// nulls is numeric (all NaN).
func inferType(f *frame, c int) arrow.DataType {
	num, boolean := false, false
	for r := range f.rows {
		v := f.cell(r, c)
		switch {
		case isNull(v):
		case v.k == kNumber:
			num = true
		case v.k == kTrue || v.k == kFalse:
			boolean = true
		case v.k == kText:
			if _, ok := parseNum(v); ok {
				num = true
			} else if _, ok := parseBoolText(v.s); ok {
				boolean = true
			} else {
				return arrow.BinaryTypes.String
			}
		default:
			return arrow.BinaryTypes.String
		}
	}
	if boolean && !num {
		return arrow.FixedWidthTypes.Boolean
	}
	return arrow.PrimitiveTypes.Float64
}
