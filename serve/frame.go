package serve

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unsafe"
)

// frame is a request's data as pandas would hold it before the model sees it:
// columns, named or not, and rows of cells. Cells are parsed JSON values (or CSV
// text) that the column converters turn into the model's types.
type frame struct {
	// names are the column names; nil when the columns are unnamed (pandas'
	// RangeIndex: the body gave rows without column names).
	names []string
	ncols int
	rows  int
	// cells is row-major, rows x ncols. A nil cell is missing (a key absent from
	// a record, a short row): pandas fills it with NaN.
	cells []*value
}

func (f *frame) cell(r, c int) *value { return f.cells[r*f.ncols+c] }

// badInput is a request body that cannot become a frame: MLflow's
// MlflowInvalidInputException (400, BAD_REQUEST, "Invalid input. ...").
type badInput struct{ msg string }

func (e *badInput) Error() string { return e.msg }

func invalidf(format string, args ...any) error {
	return &badInput{msg: "Invalid input. " + fmt.Sprintf(format, args...)}
}

// The input formats MLflow 2+ reads from a JSON dictionary, exactly one per body.
const (
	fmtSplit     = "dataframe_split"
	fmtRecords   = "dataframe_records"
	fmtInstances = "instances"
	fmtInputs    = "inputs"
)

const requiredInputFormat = "The input must be a JSON dictionary with exactly one of the input fields " +
	"{'dataframe_split', 'dataframe_records', 'instances', 'inputs'}"

// request is a decoded /invocations body.
type request struct {
	frame  *frame
	params *value // the "params" dictionary, nil when absent
}

// decodeJSON turns a JSON body into a frame. orient is the MLflow 1.x content
// type's format parameter ("pandas-split", "pandas-records") or empty. single says
// the model takes exactly one input, so a flat list is that column (MLflow matches
// a one-column schema with a list input).
func decodeJSON(body []byte, orient string, single bool, ar *arena) (*request, error) {
	root, err := parseJSON(body, ar)
	if err != nil {
		return nil, invalidf("Ensure that input is a valid JSON formatted string. Error: '%v'", err)
	}
	switch root.k {
	case kObject:
	case kArray:
		// MLflow 1.x: a bare list is a DataFrame in records orientation.
		if orient == "pandas-split" {
			return nil, invalidf("Dataframe split format must be a dictionary. Got list.")
		}
		f, err := recordsFrame(&root, fmtRecords, ar)
		return &request{frame: f}, err
	default:
		return nil, invalidf("%s. Received unexpected input type '%s'.", requiredInputFormat, root.kindName())
	}

	var formats []string
	for _, k := range root.keys() {
		switch k {
		case fmtSplit, fmtRecords, fmtInstances, fmtInputs:
			formats = append(formats, k)
		}
	}
	req := &request{}
	if p, ok := root.get("params"); ok && p.k != kNull {
		req.params = p
	}
	if len(formats) == 0 {
		if _, ok := root.get("data"); ok && req.params == nil {
			// MLflow 1.x: pandas' split orientation, {"columns": [...],
			// "data": [[...]]} or just {"data": [[...]]} (the seed's curl).
			if orient == "pandas-records" {
				return nil, invalidf("Dataframe records format must be a list of records. Got dictionary.")
			}
			req.frame, err = splitFrame(&root, ar)
			return req, err
		}
	}
	if len(formats) != 1 {
		return nil, invalidf("%s. Received dictionary with input fields: %s. The MLflow 1.x "+
			"forms are also accepted: a pandas split-oriented dictionary with a 'data' field, "+
			"or a list of records.", requiredInputFormat, pyList(root.keys()))
	}
	data, _ := root.get(formats[0])
	switch formats[0] {
	case fmtSplit:
		if data.k != kObject {
			return nil, invalidf("Dataframe split format must be a dictionary. Got %s.", typeMessage(data))
		}
		req.frame, err = splitFrame(data, ar)
	case fmtRecords:
		if data.k != kArray {
			return nil, invalidf("Dataframe records format must be a list of records. Got %s.", typeMessage(data))
		}
		req.frame, err = recordsFrame(data, fmtRecords, ar)
	case fmtInstances:
		req.frame, err = tensorFrame(data, fmtInstances, single, ar)
	case fmtInputs:
		req.frame, err = tensorFrame(data, fmtInputs, single, ar)
	}
	return req, err
}

func typeMessage(v *value) string {
	if v.k == kObject {
		return "dictionary"
	}
	if v.k == kArray {
		return "list"
	}
	return "type " + v.kindName()
}

// pyList formats names as Python prints a list of str.
func pyList(names []string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, n := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(pyRepr(n))
	}
	b.WriteByte(']')
	return b.String()
}

// pyRepr quotes s roughly as Python's repr of a str does.
func pyRepr(s string) string {
	q := strconv.Quote(s)
	if !strings.Contains(s, "'") {
		q = "'" + strings.ReplaceAll(q[1:len(q)-1], `\"`, `"`) + "'"
	}
	return q
}

// splitFrame reads pandas' split orientation: "data" and optional "columns" and
// "index" (ignored).
func splitFrame(v *value, ar *arena) (*frame, error) {
	for _, k := range v.keys() {
		if k != "columns" && k != "data" && k != "index" {
			return nil, invalidf("Dataframe split format must have 'data' field and optionally 'columns' and 'index' fields. Got %s.", pySet(v.keys()))
		}
	}
	data, ok := v.get("data")
	if !ok {
		return nil, invalidf("Dataframe split format must have 'data' field and optionally 'columns' and 'index' fields. Got %s.", pySet(v.keys()))
	}
	var names []string
	if cols, ok := v.get("columns"); ok && cols.k != kNull {
		if cols.k != kArray {
			return nil, invalidf("Provided dataframe_split field is not a valid dataframe representation in 'split' format. Error: 'columns must be a list, got %s'", cols.kindName())
		}
		names = make([]string, len(cols.arr))
		for i := range cols.arr {
			n, err := label(&cols.arr[i])
			if err != nil {
				return nil, invalidf("Provided dataframe_split field is not a valid dataframe representation in 'split' format. Error: '%v'", err)
			}
			names[i] = n
		}
	}
	if data.k != kArray {
		return nil, invalidf("Provided dataframe_split field is not a valid dataframe representation in 'split' format. Error: 'data must be a list, got %s'", data.kindName())
	}
	f, err := rowsFrame(data.arr, names, ar)
	if err != nil {
		return nil, invalidf("Provided dataframe_split field is not a valid dataframe representation in 'split' format. Error: '%v'", err)
	}
	return f, nil
}

func pySet(names []string) string {
	l := pyList(names)
	return "{" + l[1:len(l)-1] + "}"
}

// label is a column label: a string, or a number or boolean printed as text.
func label(v *value) (string, error) {
	switch v.k {
	case kString, kNumber:
		return string(v.s), nil
	case kTrue:
		return "True", nil
	case kFalse:
		return "False", nil
	}
	return "", fmt.Errorf("a column label cannot be a %s", v.kindName())
}

// rowsFrame builds a frame from a list of rows (lists), or of scalars (one column).
// With names, a row may be shorter (the rest is missing) but not longer.
func rowsFrame(rows []value, names []string, ar *arena) (*frame, error) {
	f := &frame{names: names, ncols: len(names), rows: len(rows)}
	scalars := 0
	for i := range rows {
		switch rows[i].k {
		case kArray:
			if names == nil && len(rows[i].arr) > f.ncols {
				f.ncols = len(rows[i].arr)
			}
		case kObject:
			return nil, errors.New("rows must be lists of values, not dictionaries")
		default:
			scalars++
		}
	}
	if scalars > 0 {
		// A flat list is one column.
		if scalars != len(rows) {
			return nil, errors.New("rows mix lists and single values")
		}
		if names == nil {
			f.ncols = 1
		}
		if f.ncols != 1 {
			return nil, fmt.Errorf("%d columns passed, passed data had 1 columns", f.ncols)
		}
		f.cells = ar.cells(len(rows))
		for i := range rows {
			f.cells[i] = &rows[i]
		}
		return f, nil
	}
	f.cells = ar.cells(f.rows * f.ncols)
	for i := range rows {
		r := rows[i].arr
		if len(r) > f.ncols {
			return nil, fmt.Errorf("%d columns passed, passed data had %d columns", f.ncols, len(r))
		}
		for j := range r {
			f.cells[i*f.ncols+j] = &r[j]
		}
	}
	return f, nil
}

// recordsFrame builds a frame from a list of records (dictionaries): the columns
// are the keys in the order they first appear, and a key a record lacks is
// missing there. A list of lists is rows without names, as pandas reads it.
func recordsFrame(v *value, format string, ar *arena) (*frame, error) {
	dicts := 0
	for i := range v.arr {
		if v.arr[i].k == kObject {
			dicts++
		}
	}
	if dicts == 0 {
		f, err := rowsFrame(v.arr, nil, ar)
		if err != nil {
			return nil, invalidf("Provided %s field is not a valid dataframe representation in 'records' format. Error: '%v'", format, err)
		}
		return f, nil
	}
	if dicts != len(v.arr) {
		return nil, invalidf("Provided %s field is not a valid dataframe representation in 'records' format. Error: 'records mix dictionaries and other values'", format)
	}
	index := map[string]int{}
	var names []string
	for i := range v.arr {
		for _, m := range v.arr[i].obj {
			if _, ok := index[m.key]; !ok {
				index[m.key] = len(names)
				names = append(names, m.key)
			}
		}
	}
	f := &frame{names: names, ncols: len(names), rows: len(v.arr)}
	f.cells = ar.cells(f.rows * f.ncols)
	for i := range v.arr {
		obj := v.arr[i].obj
		for k := range obj {
			f.cells[i*f.ncols+index[obj[k].key]] = &obj[k].val
		}
	}
	return f, nil
}

// tensorFrame reads TF serving's "instances" (a list of rows or of records) and
// "inputs" (the same, or a dictionary of columns).
func tensorFrame(v *value, format string, single bool, ar *arena) (*frame, error) {
	switch v.k {
	case kArray:
		if len(v.arr) > 0 && v.arr[0].k == kObject {
			f, err := recordsFrame(v, format, ar)
			if err != nil {
				return nil, err
			}
			if format == fmtInstances {
				for _, c := range f.cells {
					if c == nil {
						return nil, invalidf("The length of values for each input/column name are not the same")
					}
				}
			}
			return f, nil
		}
		f, err := rowsFrame(v.arr, nil, ar)
		if err != nil {
			return nil, invalidf("Failed to parse %s: %v", format, err)
		}
		if f.ncols == 1 && !single && f.rows > 0 && v.arr[0].k != kArray {
			// A 1-D array for a model of several features: scikit-learn says
			// "Expected 2D array, got 1D array instead".
			return nil, invalidf("Expected 2D array, got 1D array instead: %s must be a list of rows for a model of several inputs", format)
		}
		return f, nil
	case kObject:
		// A dictionary of columns (MLflow casts either field's dictionary
		// column by column).
		return columnsFrame(v, ar)
	}
	return nil, invalidf("Failed to parse %s: expected a list or a dictionary, got %s", format, v.kindName())
}

// columnsFrame reads {"col": [values...], ...}; all scalars make one row.
func columnsFrame(v *value, ar *arena) (*frame, error) {
	names := v.keys()
	f := &frame{names: names, ncols: len(names)}
	cols := make([]*value, len(names))
	for j, n := range names {
		cols[j], _ = v.get(n)
	}
	lists := 0
	for j, c := range cols {
		if c.k == kArray {
			if lists == 0 {
				f.rows = len(c.arr)
			} else if len(c.arr) != f.rows {
				return nil, invalidf("The length of values for each input/column name are not the same: %s has %d values, %s has %d",
					pyRepr(names[0]), f.rows, pyRepr(names[j]), len(c.arr))
			}
			lists++
		}
	}
	switch {
	case lists == 0:
		f.rows = 1
		f.cells = cols
		return f, nil
	case lists != len(cols):
		return nil, invalidf("The inputs dictionary mixes lists and single values")
	}
	f.cells = ar.cells(f.rows * f.ncols)
	for j, c := range cols {
		for i := range c.arr {
			f.cells[i*f.ncols+j] = &c.arr[i]
		}
	}
	return f, nil
}

// decodeCSV reads a text/csv body as pandas.read_csv does: a header of column
// names, then rows. An empty name becomes "Unnamed: <i>" and a repeated one
// "<name>.<n>", as pandas names them; when every data row has one field more than
// the header, the first field is the index (pandas' DataFrame.to_csv() output)
// and is dropped. Blank lines are skipped; a row shorter than the header is filled
// with missing cells, a longer one is an error.
func decodeCSV(body []byte) (*frame, error) {
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	r := csv.NewReader(bytes.NewReader(body))
	r.FieldsPerRecord = -1
	r.ReuseRecord = false
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, csvError(errors.New("No columns to parse from file"))
	}
	if err != nil {
		return nil, csvError(err)
	}
	names := make([]string, len(header))
	seen := map[string]int{}
	for j, h := range header {
		if h == "" {
			h = "Unnamed: " + strconv.Itoa(j)
		}
		if n, dup := seen[h]; dup {
			seen[h] = n + 1
			h = h + "." + strconv.Itoa(n+1)
		} else {
			seen[h] = 0
		}
		names[j] = h
	}
	var recs [][]string
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvError(err)
		}
		recs = append(recs, rec)
	}
	skip := 0
	if len(recs) > 0 {
		skip = 1
		for _, rec := range recs {
			if len(rec) != len(names)+1 {
				skip = 0
				break
			}
		}
	}
	f := &frame{names: names, ncols: len(names), rows: len(recs)}
	f.cells = make([]*value, f.rows*f.ncols)
	vals := make([]value, 0, f.rows*f.ncols)
	for i, rec := range recs {
		rec = rec[skip:]
		if len(rec) > f.ncols {
			return nil, csvError(fmt.Errorf("Expected %d fields in data row %d, saw %d", f.ncols, i+1, len(rec)))
		}
		for j, s := range rec {
			vals = append(vals, value{k: kText, s: strBytes(s)})
			f.cells[i*f.ncols+j] = &vals[len(vals)-1]
		}
	}
	return f, nil
}

// strBytes views s as bytes without copying; they are only read.
func strBytes(s string) []byte {
	if s == "" {
		return nil
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

func csvError(err error) error {
	return &badInput{msg: "Failed to parse input as a Pandas DataFrame. Ensure that the input is a valid " +
		"CSV-formatted Pandas DataFrame produced using the `pandas.DataFrame.to_csv()` method. Error: '" + err.Error() + "'"}
}
