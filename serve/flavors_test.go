package serve

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlbatch/mlbatch/model"

	_ "github.com/mlbatch/mlbatch/model/lightgbm" // registers the lightgbm flavor
	_ "github.com/mlbatch/mlbatch/model/xgboost"  // registers the xgboost flavor
)

// TestFlavors serves every XGBoost and LightGBM fixture with a CSV body and a
// typed dataframe_split body: each answer is what score computes on the rows.
func TestFlavors(t *testing.T) {
	type flavorCase struct{ name, dir, input string }
	var cases []flavorCase
	for _, root := range []string{"xgboost", "lightgbm"} {
		data, err := os.ReadFile(filepath.Join("..", "testdata", root, "cases.json"))
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			Cases []struct {
				Name     string `json:"name"`
				ModelDir string `json:"model_dir"`
				Input    string `json:"input"`
			} `json:"cases"`
		}
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		for _, c := range m.Cases {
			cases = append(cases, flavorCase{root + "/" + c.Name,
				filepath.Join("..", "testdata", root, c.ModelDir), filepath.Join("..", "testdata", root, c.Input)})
		}
	}
	for _, c := range cases {
		for _, proba := range []bool{false, true} {
			name := c.name
			if proba {
				name += "/proba"
			}
			t.Run(name, func(t *testing.T) {
				m, mm := loadModel(t, c.dir, proba)
				if proba && !hasProba(m) {
					t.Skip("not a classifier")
				}
				_, url := startServer(t, m, mm, Options{Proba: proba})
				w := want(scored(t, m, proba, c.input))
				csvText, err := os.ReadFile(c.input)
				if err != nil {
					t.Fatal(err)
				}
				names, rows := typedJSON(t, m, c.input)
				for _, form := range []struct{ ctype, body string }{
					{"text/csv", string(csvText)},
					{"application/json", `{"dataframe_split": {"columns": ` + jsonNames(names) + `, "data": ` + jsonRows(rows) + `}}`},
				} {
					code, _, body := post(t, url, form.ctype, form.body)
					if code != 200 || string(body) != w {
						t.Fatalf("%s: %d\n got %.300s\nwant %.300s", form.ctype, code, body, w)
					}
				}
			})
		}
	}
}

func hasProba(m model.Model) bool {
	for _, c := range m.Outputs() {
		if strings.HasPrefix(c.Name, "proba_") {
			return true
		}
	}
	return false
}
