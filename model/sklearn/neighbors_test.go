package sklearn

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
)

// knnGolden is testdata/longtail/neighbors/kneighbors.json: scikit-learn's own
// kneighbors(X) indices and distances for each KNN fixture.
type knnGolden struct {
	Model     string      `json:"model"`
	Input     string      `json:"input"`
	FitMethod string      `json:"fit_method"`
	Ind       [][]int     `json:"ind"`
	Dist      [][]float64 `json:"dist"`
}

func loadKNNGolden(t *testing.T) map[string]knnGolden {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testdata, "longtail", "neighbors", "kneighbors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g map[string]knnGolden
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	if len(g) < 40 {
		t.Fatalf("only %d kneighbors fixtures", len(g))
	}
	return g
}

// denseCSV reads a numeric fixture CSV into a Dense.
func denseCSV(t *testing.T, path string) *Dense {
	t.Helper()
	names, cols := readCSV(t, path)
	d := &Dense{Names: names}
	for _, n := range names {
		vals := make([]float64, len(cols[n]))
		for i, s := range cols[n] {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Fatalf("%s: column %s row %d: %v", path, n, i+1, err)
			}
			vals[i] = v
		}
		d.Cols = append(d.Cols, vals)
		d.Rows = len(vals)
	}
	return d
}

// TestKNeighborsTies checks that every KNN fixture finds exactly the neighbours
// scikit-learn found, in its order, ties (duplicate training rows, equal
// integer distances) included, for the brute, kd_tree and ball_tree layouts.
func TestKNeighborsTies(t *testing.T) {
	g := loadKNNGolden(t)
	slugs := make([]string, 0, len(g))
	for s := range g {
		slugs = append(slugs, s)
	}
	sort.Strings(slugs)
	for _, slug := range slugs {
		c := g[slug]
		t.Run(slug, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(testdata, c.Model))
			if err != nil {
				t.Fatal(err)
			}
			est, err := Decode(data)
			if err != nil {
				t.Fatal(err)
			}
			var e *knn
			switch x := est.(type) {
			case knnRegressor:
				e = x.knn
			case knnClassifier:
				e = x.knn
			default:
				t.Fatalf("decoded a %T", est)
			}
			if e.method != c.FitMethod {
				t.Fatalf("_fit_method %s, want %s", e.method, c.FitMethod)
			}
			X := denseCSV(t, filepath.Join(testdata, c.Input))
			ind, dist, err := e.kneighbors(X)
			if err != nil {
				t.Fatal(err)
			}
			bad, maxRel := 0, 0.0
			for r, want := range c.Ind {
				for i, w := range want {
					got := ind[r*e.k+i]
					if got != w {
						if bad < 5 {
							t.Errorf("row %d neighbour %d: index %d, want %d (got %v, want %v)", r+1, i, got, w, ind[r*e.k:(r+1)*e.k], want)
						}
						bad++
					}
					wd, gd := c.Dist[r][i], dist[r*e.k+i]
					if d := math.Abs(gd - wd); d > 0 {
						maxRel = math.Max(maxRel, d/math.Max(math.Abs(wd), 1e-300))
						if d > 1e-12*math.Max(1, math.Abs(wd)) {
							if bad < 5 {
								t.Errorf("row %d neighbour %d: distance %v, want %v", r+1, i, gd, wd)
							}
							bad++
						}
					}
				}
			}
			if bad > 0 {
				t.Errorf("%d differences", bad)
			}
			if maxRel > 0 {
				t.Logf("max relative distance difference %.3g", maxRel)
			}
		})
	}
}
