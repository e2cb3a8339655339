package sklearn

import (
	"github.com/mlbatch/mlbatch/model"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode feeds mutated estimator pickles (trees, forests, boosting, linear)
// to the loader: an error or a model, never a panic or a hang. Seeds are the
// committed fixtures' pickles plus testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	for _, dir := range []string{"dtree_clf_iris", "dtree_reg_multi_diabetes", "gbc_binary_bc", "logreg_multinomial_iris",
		"linreg_pickle_p2", "dummy_clf_constant_iris", "hgbc_categorical_wine"} {
		data, err := os.ReadFile(filepath.Join(testdata, "models", dir, "model.pkl"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, dir := range []string{"tree-cycle", "tree-node-out-of-range", "tree-feature-out-of-range"} {
		data, err := os.ReadFile(filepath.Join(testdata, "bad", "models", dir, "model.pkl"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		est, err := Decode(data)
		if err != nil {
			return
		}
		_ = est.Outputs(modelOptsProba)
	})
}

var modelOptsProba = model.LoadOptions{Proba: true}
