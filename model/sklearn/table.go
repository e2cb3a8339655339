package sklearn

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/mlbatch/mlbatch/internal/mlerr"
	"github.com/mlbatch/mlbatch/model"
	"github.com/mlbatch/mlbatch/model/labels"
	"github.com/mlbatch/mlbatch/model/pickle"
)

// Mixed-type tables
//
// A Pipeline whose first step routes columns (ColumnTransformer) or encodes them
// (OneHotEncoder, OrdinalEncoder, SimpleImputer on strings) needs the raw input
// columns, not floats. A table is that view: one column per feature, each either
// numeric (float64, NaN for missing) or an object column of Python-like values,
// the way pandas hands a DataFrame to scikit-learn:
//
//   - int, float and bool columns are numbers (bool as 0 and 1, which Python
//     compares and hashes equal to False and True); a null is NaN, as pandas
//     reads an empty CSV cell in a numeric column;
//   - string columns are object columns of str, and a null is NaN, as pandas
//     reads an empty cell in a text column (SimpleImputer and the encoders treat
//     it as missing).
//
// Values compare the way Python's == and hash do for the types that occur:
// numbers by value (1 == 1.0 == True), NaN equal to NaN where scikit-learn's
// helpers (_nandict, _check_unknown) make it so, str by content, None only to
// None. Transformers never modify their input columns.

// vkind is the Python type of a value.
type vkind uint8

const (
	vNum  vkind = iota // int, float or bool, as float64; NaN is missing
	vStr               // str
	vNone              // None
)

// value is one cell of an object column.
type value struct {
	k vkind
	f float64
	s string
}

func numValue(f float64) value { return value{k: vNum, f: f} }
func strValue(s string) value  { return value{k: vStr, s: s} }

var nanValue = value{k: vNum, f: math.NaN()}

func (v value) isNaN() bool { return v.k == vNum && math.IsNaN(v.f) }

// equal is Python's ==, except that NaN equals NaN (scikit-learn's encoders and
// imputers treat every NaN as the same missing value).
func (v value) equal(w value) bool {
	if v.k != w.k {
		return false
	}
	switch v.k {
	case vNum:
		return v.f == w.f || (math.IsNaN(v.f) && math.IsNaN(w.f))
	case vStr:
		return v.s == w.s
	}
	return true
}

// repr renders a value as Python's repr does, for messages.
func (v value) repr() string {
	switch v.k {
	case vStr:
		return pyStrRepr(v.s)
	case vNone:
		return "None"
	}
	return pyNumStr(v.f)
}

// text renders a value as Python's str does (feature names, messages).
func (v value) text() string {
	switch v.k {
	case vStr:
		return v.s
	case vNone:
		return "None"
	}
	return pyNumStr(v.f)
}

// pyNumStr prints a number held as float64: integral values without a
// fraction (they mostly come from int columns), others as Python's repr.
func pyNumStr(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e16 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return pyReprFloat(f)
}

// pyStrRepr quotes s the way Python's repr quotes a str.
func pyStrRepr(s string) string {
	q := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == rune(q):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// pyValue converts a decoded pickle value (a category, a statistic, a fill
// value) to a value. ok is false for types that cannot be table cells.
func pyValue(v any) (value, bool) {
	switch x := v.(type) {
	case nil:
		return value{k: vNone}, true
	case float64:
		return numValue(x), true
	case int64:
		return numValue(float64(x)), true
	case uint64:
		return numValue(float64(x)), true
	case int:
		return numValue(float64(x)), true
	case bool:
		if x {
			return numValue(1), true
		}
		return numValue(0), true
	case *big.Int:
		f, _ := new(big.Float).SetInt(x).Float64()
		return numValue(f), true
	case string:
		return strValue(x), true
	}
	return value{}, false
}

// pyText is Python's str() of a decoded pickle value (category names in
// get_feature_names_out).
func pyText(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		return pyReprBool(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case *big.Int:
		return x.String()
	case float64:
		return pyReprFloat(x)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

// column is one feature of a table: numeric (num) or object (obj != nil).
type column struct {
	num []float64
	obj []value
}

func (c *column) isObj() bool { return c.obj != nil }

// at returns row i as a value.
func (c *column) at(i int) value {
	if c.obj != nil {
		return c.obj[i]
	}
	return numValue(c.num[i])
}

// table is a batch as scikit-learn's transformers see it.
type table struct {
	rows  int
	cols  []*column
	names []string // per column, for messages and feature names; "" when unknown
	// sparse is true when scikit-learn would hold this matrix as a scipy sparse
	// matrix (some transformers then compute differently, e.g. scale by the
	// reciprocal).
	sparse bool
}

func (t *table) name(j int) string {
	if j < len(t.names) && t.names[j] != "" {
		return t.names[j]
	}
	return "#" + strconv.Itoa(j)
}

// sub returns the columns idx of t (shared, not copied).
func (t *table) sub(idx []int) *table {
	s := &table{rows: t.rows, cols: make([]*column, len(idx)), names: make([]string, len(idx)), sparse: t.sparse}
	for k, j := range idx {
		s.cols[k] = t.cols[j]
		s.names[k] = t.name(j)
	}
	return s
}

// hstack concatenates tables column-wise (numpy.hstack or scipy.sparse.hstack).
func hstack(rows int, parts []*table, sparse bool) *table {
	out := &table{rows: rows, sparse: sparse}
	for _, p := range parts {
		for j, c := range p.cols {
			out.cols = append(out.cols, c)
			out.names = append(out.names, p.name(j))
		}
	}
	return out
}

// rowError reports a bad cell: row is 0-based within the batch.
func rowError(row int, col, val string, err error) error {
	return &mlerr.RowError{Row: int64(row + 1), Column: col, Value: val, Err: err}
}

// tableFrom views a batch's arrays (one per fitted feature, nil for an absent
// optional column) as a table.
func tableFrom(cols []arrow.Array, rows int, names []string) (*table, error) {
	t := &table{rows: rows, cols: make([]*column, len(cols)), names: names}
	for j, a := range cols {
		c, err := arrowColumn(a, rows)
		if err != nil {
			return nil, &mlerr.RowError{Column: t.name(j), Kind: mlerr.Schema, Err: err}
		}
		t.cols[j] = c
	}
	return t, nil
}

// stringer is satisfied by arrow's String, LargeString and StringView arrays.
type stringer interface {
	arrow.Array
	Value(i int) string
}

func arrowColumn(a arrow.Array, rows int) (*column, error) {
	if a == nil {
		nan := make([]float64, rows)
		for i := range nan {
			nan[i] = math.NaN()
		}
		return &column{num: nan}, nil
	}
	switch c := a.(type) {
	case stringer:
		if _, bin := a.(*array.Binary); bin {
			break
		}
		vals := make([]value, c.Len())
		for i := range vals {
			if c.IsNull(i) {
				vals[i] = nanValue
			} else {
				vals[i] = strValue(c.Value(i))
			}
		}
		return &column{obj: vals}, nil
	case *array.Dictionary:
		dict, ok := c.Dictionary().(stringer)
		if !ok {
			f, err := model.Float64s(c.Dictionary())
			if err != nil {
				return nil, err
			}
			vals := make([]float64, c.Len())
			for i := range vals {
				if c.IsNull(i) {
					vals[i] = math.NaN()
				} else {
					vals[i] = f[c.GetValueIndex(i)]
				}
			}
			return &column{num: vals}, nil
		}
		vals := make([]value, c.Len())
		for i := range vals {
			if c.IsNull(i) {
				vals[i] = nanValue
			} else {
				vals[i] = strValue(dict.Value(c.GetValueIndex(i)))
			}
		}
		return &column{obj: vals}, nil
	}
	f, err := model.Float64s(a)
	if err != nil {
		return nil, fmt.Errorf("type %s cannot be read as numbers or strings", a.DataType())
	}
	return &column{num: f}, nil
}

// pyFloat converts a str the way Python's float() does (numpy uses it to cast
// object arrays to float64): surrounding whitespace ignored, digits with
// optional underscores between them, inf, infinity and nan in any case.
func pyFloat(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	body := strings.TrimLeft(s, "+-")
	if len(s)-len(body) > 1 {
		return 0, false
	}
	switch strings.ToLower(body) {
	case "inf", "infinity":
		if s[0] == '-' {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	case "nan":
		return math.NaN(), true
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c >= '0' && c <= '9', c == '.', c == 'e', c == 'E', c == '+', c == '-':
		case c == '_' && i > 0 && i+1 < len(body) && isDigit(body[i-1]) && isDigit(body[i+1]):
		default:
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return f, true // Python rounds to inf or 0 as well
		}
		return 0, false
	}
	return f, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// numeric returns column j as float64 (numpy's astype(float64) of an object
// column: None becomes NaN, a str is parsed as float() parses it, anything else
// is an error naming the row, column and value).
func (t *table) numeric(j int, who string) ([]float64, error) {
	c := t.cols[j]
	if !c.isObj() {
		return c.num, nil
	}
	out := make([]float64, t.rows)
	for i, v := range c.obj {
		switch v.k {
		case vNum:
			out[i] = v.f
		case vNone:
			out[i] = math.NaN()
		case vStr:
			f, ok := pyFloat(v.s)
			if !ok {
				return nil, rowError(i, t.name(j), v.s, fmt.Errorf("%s: could not convert string to float: %s", who, pyStrRepr(v.s)))
			}
			out[i] = f
		}
	}
	return out, nil
}

// numericAll converts every column to float64 and checks them as check_array
// does: infinities always fail, NaN fails unless allowNaN. The first bad cell in
// row order is reported.
func (t *table) numericAll(who string, allowNaN bool) ([][]float64, error) {
	cols := make([][]float64, len(t.cols))
	for j := range t.cols {
		v, err := t.numeric(j, who)
		if err != nil {
			return nil, err
		}
		cols[j] = v
	}
	if err := checkCells(cols, t, who, allowNaN); err != nil {
		return nil, err
	}
	return cols, nil
}

// checkCells finds the first non-finite cell (row order, then column order)
// that check_array would refuse.
func checkCells(cols [][]float64, t *table, who string, allowNaN bool) error {
	bad, badCol := -1, -1
	for j, col := range cols {
		limit := len(col)
		if bad >= 0 {
			limit = bad
		}
		for i := 0; i < limit; i++ {
			v := col[i]
			if math.IsInf(v, 0) || (!allowNaN && math.IsNaN(v)) {
				bad, badCol = i, j
				break
			}
		}
	}
	if bad < 0 {
		return nil
	}
	v := cols[badCol][bad]
	what := "NaN (or an empty cell)"
	if math.IsInf(v, 0) {
		what = "an infinity"
	}
	return rowError(bad, t.name(badCol), strconv.FormatFloat(v, 'g', -1, 64),
		fmt.Errorf("%s cannot take %s, as in scikit-learn", who, what))
}

// checkNoMissing is check_array's finiteness test on a table of any dtype:
// infinities in numeric columns always fail, NaN (in any column) fails unless
// allowNaN. The first bad cell in row order is reported.
func checkNoMissing(t *table, who string, allowNaN bool) error {
	bad, badCol := -1, -1
	for j, c := range t.cols {
		limit := t.rows
		if bad >= 0 {
			limit = bad
		}
		for i := 0; i < limit; i++ {
			v := c.at(i)
			if v.k != vNum || (!math.IsInf(v.f, 0) && (allowNaN || !math.IsNaN(v.f))) {
				continue
			}
			if c.isObj() && math.IsInf(v.f, 0) {
				continue // check_array does not look for infinities in object arrays
			}
			bad, badCol = i, j
			break
		}
	}
	if bad < 0 {
		return nil
	}
	v := t.cols[badCol].at(bad)
	what := "NaN (or an empty cell)"
	if math.IsInf(v.f, 0) {
		what = "an infinity"
	}
	return rowError(bad, t.name(badCol), v.text(), fmt.Errorf("%s cannot take %s, as in scikit-learn", who, what))
}

// denseOf turns the table a final estimator receives into float64 columns.
func denseOf(t *table, who string) (*Dense, error) {
	d := &Dense{Cols: make([][]float64, len(t.cols)), Rows: t.rows, Names: make([]string, len(t.cols))}
	for j := range t.cols {
		v, err := t.numeric(j, who)
		if err != nil {
			return nil, err
		}
		d.Cols[j] = v
		d.Names[j] = t.name(j)
	}
	return d, nil
}

// tableOfDense wraps float64 columns as a table.
func tableOfDense(X *Dense) *table {
	t := &table{rows: X.Rows, cols: make([]*column, len(X.Cols)), names: X.Names}
	for j, c := range X.Cols {
		t.cols[j] = &column{num: c}
	}
	return t
}

// catIndex finds a value's position among fitted categories, with the
// equality of Python dicts (and scikit-learn's NaN handling).
type catIndex struct {
	strs map[string]int
	nums map[float64]int
	nan  int
	none int
}

func newCatIndex(cats []value) *catIndex {
	c := &catIndex{strs: map[string]int{}, nums: map[float64]int{}, nan: -1, none: -1}
	for i, v := range cats {
		switch {
		case v.k == vStr:
			if _, dup := c.strs[v.s]; !dup {
				c.strs[v.s] = i
			}
		case v.k == vNone:
			if c.none < 0 {
				c.none = i
			}
		case math.IsNaN(v.f):
			if c.nan < 0 {
				c.nan = i
			}
		default:
			if _, dup := c.nums[v.f]; !dup {
				c.nums[v.f] = i
			}
		}
	}
	return c
}

// find returns the category index of v, -1 when unknown.
func (c *catIndex) find(v value) int {
	switch {
	case v.k == vStr:
		if i, ok := c.strs[v.s]; ok {
			return i
		}
	case v.k == vNone:
		return c.none
	case math.IsNaN(v.f):
		return c.nan
	default:
		if i, ok := c.nums[v.f]; ok {
			return i
		}
	}
	return -1
}

// findNum is find for a number.
func (c *catIndex) findNum(f float64) int {
	if math.IsNaN(f) {
		return c.nan
	}
	if i, ok := c.nums[f]; ok {
		return i
	}
	return -1
}

// arrayValues reads a fitted array (categories, statistics) as values; names
// holds each one's Python str().
func arrayValues(v any, what string) (vals []value, names []string, err error) {
	var items []any
	switch x := v.(type) {
	case *pickle.NDArray:
		if x.DType != nil && x.DType.Kind == 'S' {
			return nil, nil, fmt.Errorf("%s holds bytes, which mlbatch does not compare with text", what)
		}
		if items, err = x.Values(); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", what, err)
		}
	case *pickle.List:
		items = x.Items
	case pickle.Tuple:
		items = x
	default:
		return nil, nil, fmt.Errorf("%s is a %s, want an array", what, pickle.TypeName(v))
	}
	vals = make([]value, len(items))
	names = make([]string, len(items))
	for i, it := range items {
		pv, ok := pyValue(it)
		if !ok {
			return nil, nil, fmt.Errorf("%s holds a %s, which mlbatch cannot compare", what, pickle.TypeName(it))
		}
		vals[i], names[i] = pv, pyText(it)
	}
	return vals, names, nil
}

// pyReprFloat formats a float as Python's repr() does (see labels.PyFloatStr).
func pyReprFloat(x float64) string { return labels.PyFloatStr(x) }

func pyReprBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}
