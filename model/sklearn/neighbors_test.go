package sklearn

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/mlbatch/mlbatch/model"
	"github.com/mlbatch/mlbatch/model/pickle"
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

// decodeObject unpickles a fixture's model.pkl into the raw object, for tests
// that damage attributes before building.
func decodeObject(t *testing.T, rel string) *pickle.Object {
	return objectOf(t, filepath.Join("longtail", "neighbors", rel))
}

// TestKNNRefusals damages fitted attributes one at a time: each gives an
// error naming the problem, never a panic.
func TestKNNRefusals(t *testing.T) {
	for _, tc := range []struct {
		model, want string
		damage      func(o *pickle.Object)
	}{
		{"knn_reg_ties_kd_tree_minkowski_p2_uniform_k5", "n_neighbors is 151", func(o *pickle.Object) { o.Dict["n_neighbors"] = int64(151) }},
		{"knn_reg_ties_kd_tree_minkowski_p2_uniform_k5", "weights", func(o *pickle.Object) { o.Dict["weights"] = int64(1) }},
		{"knn_reg_ties_kd_tree_minkowski_p2_uniform_k5", "weights \"gaussian\"", func(o *pickle.Object) { o.Dict["weights"] = "gaussian" }},
		{"knn_reg_ties_kd_tree_minkowski_p2_uniform_k5", "_fit_method \"lsh\"", func(o *pickle.Object) { o.Dict["_fit_method"] = "lsh" }},
		{"knn_reg_ties_kd_tree_minkowski_p2_uniform_k5", "metric \"haversine\"", func(o *pickle.Object) { o.Dict["effective_metric_"] = "haversine" }},
		{"knn_reg_ties_kd_tree_minkowski_p2_uniform_k5", "_tree is a None", func(o *pickle.Object) { o.Dict["_tree"] = nil }},
		{"knn_reg_ties_kd_tree_minkowski_p2_uniform_k5", "want a BallTree", func(o *pickle.Object) { o.Dict["_fit_method"] = "ball_tree" }},
		{"knn_reg_ties_kd_tree_minkowski_p2_uniform_k5", "tree's distance metric", func(o *pickle.Object) { o.Dict["effective_metric_"] = "manhattan" }},
		{"knn_reg_ties_kd_tree_minkowski_p2_uniform_k5", "_y has shape", func(o *pickle.Object) {
			y := *o.Dict["_y"].(*pickle.NDArray)
			y.Shape = []int{75, 2}
			o.Dict["_y"] = &y
		}},
		{"knn_reg_ties_kd_tree_minkowski_p2_uniform_k5", "state", func(o *pickle.Object) {
			o.Dict["_tree"].(*pickle.Object).State = pickle.Tuple{int64(1)}
		}},
		{"knn_reg_ties_kd_tree_minkowski_p2_uniform_k5", "idx_array", func(o *pickle.Object) {
			st := o.Dict["_tree"].(*pickle.Object).State.(pickle.Tuple)
			ia := *st[1].(*pickle.NDArray)
			ia.Data = append([]byte(nil), ia.Data...)
			for i := range 8 {
				ia.Data[i] = 0x7f // a huge index
			}
			st[1] = &ia
		}},
		{"knn_reg_ties_kd_tree_minkowski_p2_uniform_k5", "node_bounds", func(o *pickle.Object) {
			st := o.Dict["_tree"].(*pickle.Object).State.(pickle.Tuple)
			st[3] = st[0]
		}},
		{"knn_reg_ties_kd_tree_minkowski_p2_uniform_k5", "dist_metric", func(o *pickle.Object) {
			st := o.Dict["_tree"].(*pickle.Object).State.(pickle.Tuple)
			st[11] = "euclidean"
		}},
		{"knn_clf_ties_brute_minkowski_p2_uniform_k5", "class index", func(o *pickle.Object) {
			y := *o.Dict["_y"].(*pickle.NDArray)
			y.Data = append([]byte(nil), y.Data...)
			y.Data[0] = 9
			o.Dict["_y"] = &y
		}},
		{"knn_clf_ties_brute_minkowski_p2_uniform_k5", "weighted Minkowski", func(o *pickle.Object) {
			d := pickle.NewDict()
			_ = d.Set("p", 3.0)
			_ = d.Set("w", o.Dict["_y"])
			o.Dict["effective_metric_"] = "minkowski"
			o.Dict["effective_metric_params_"] = d
		}},
		{"nearest_centroid_grid_euclidean", "metric \"cosine\"", func(o *pickle.Object) { o.Dict["metric"] = "cosine" }},
		{"nearest_centroid_grid_euclidean", "classes_ has 4 classes", func(o *pickle.Object) {
			c := *o.Dict["classes_"].(*pickle.NDArray)
			c.Shape = []int{4}
			c.Data = c.Data[:4*c.DType.ItemSize]
			o.Dict["classes_"] = &c
		}},
		{"kmeans_grid", "cluster_centers_ has shape", func(o *pickle.Object) {
			c := *o.Dict["cluster_centers_"].(*pickle.NDArray)
			c.Shape = []int{c.Len()}
			o.Dict["cluster_centers_"] = &c
		}},
	} {
		t.Run(tc.model+"/"+tc.want, func(t *testing.T) {
			o := decodeObject(t, tc.model)
			tc.damage(o)
			_, err := build(o)
			if err == nil {
				t.Fatal("built a damaged model")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

// TestKMeansInt32 checks that KMeans predicts int32 cluster indices, as
// scikit-learn returns them, and that its transform names its outputs as
// get_feature_names_out does.
func TestKMeansInt32(t *testing.T) {
	est, err := build(decodeObject(t, "kmeans_grid"))
	if err != nil {
		t.Fatal(err)
	}
	out := est.Outputs(model.LoadOptions{Proba: true})
	if len(out) != 1 || out[0].Type != arrow.PrimitiveTypes.Int32 {
		t.Fatalf("outputs %v, want one int32 prediction", out)
	}
	km := est.(*kmeans)
	if got := km.namesOut(nil); strings.Join(got, ",") != "kmeans0,kmeans1,kmeans2,kmeans3,kmeans4" {
		t.Fatalf("names out %v", got)
	}
}
