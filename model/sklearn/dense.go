package sklearn

import (
	"fmt"
	"math"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/mlbatch/mlbatch/internal/mlerr"
	"github.com/mlbatch/mlbatch/model"
)

// Dense is a batch as float64 feature columns, in the estimator's feature order.
// Null cells are NaN, as pandas hands them to scikit-learn.
type Dense struct {
	Cols  [][]float64
	Rows  int
	Names []string // column names for error messages ("" for positional columns)
}

// colName names feature j in messages.
func (d *Dense) colName(j int) string {
	if j < len(d.Names) && d.Names[j] != "" {
		return d.Names[j]
	}
	return "#" + strconv.Itoa(j)
}

// toDense views the arrays as float64 columns. Float64 arrays without nulls are used
// in place (no copy); other numeric types and nulls are converted into new slices.
func toDense(cols []arrow.Array, rows int, names []string) (*Dense, error) {
	d := &Dense{Cols: make([][]float64, len(cols)), Rows: rows, Names: names}
	for j, a := range cols {
		if a == nil {
			return nil, fmt.Errorf("feature %s is absent", d.colName(j))
		}
		v, err := model.Float64s(a)
		if err != nil {
			return nil, &mlerr.RowError{Column: d.colName(j), Kind: mlerr.Schema, Err: err}
		}
		d.Cols[j] = v
	}
	return d, nil
}

// checkFinite returns a RowError for the first row (in row order) holding NaN or an
// infinity, the way scikit-learn's check_array refuses them for most estimators.
func checkFinite(d *Dense, estimator string) error {
	bad, badCol := -1, -1
	for j, col := range d.Cols {
		limit := len(col)
		if bad >= 0 {
			limit = bad // only an earlier row can win
		}
		for i := 0; i < limit; i++ {
			v := col[i]
			if math.IsNaN(v) || math.IsInf(v, 0) {
				bad, badCol = i, j
				break
			}
		}
	}
	if bad < 0 {
		return nil
	}
	v := d.Cols[badCol][bad]
	what := "NaN (or an empty cell)"
	if math.IsInf(v, 0) {
		what = "an infinity"
	}
	return &mlerr.RowError{
		Row:    int64(bad + 1),
		Column: d.colName(badCol),
		Value:  strconv.FormatFloat(v, 'g', -1, 64),
		Err:    fmt.Errorf("%s cannot take %s, as in scikit-learn", estimator, what),
	}
}
