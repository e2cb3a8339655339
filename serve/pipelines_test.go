package serve

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestPipelines serves every scikit-learn Pipeline fixture (mixed-type tables:
// strings, booleans, missing values, unseen categories) with a CSV body and a
// typed JSON body, and checks that each answer is what score computes on the same
// rows, and matches scikit-learn's golden predictions.
func TestPipelines(t *testing.T) {
	data, err := os.ReadFile("../testdata/pipelines/cases.json")
	if err != nil {
		t.Skip("no pipeline fixtures")
	}
	var fx struct {
		Cases []struct {
			Name     string `json:"name"`
			ModelDir string `json:"model_dir"`
			Input    string `json:"input"`
			Outputs  []struct {
				Method string `json:"method"`
				Golden string `json:"golden"`
			} `json:"outputs"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(data, &fx); err != nil {
		t.Fatal(err)
	}
	for _, c := range fx.Cases {
		for _, out := range c.Outputs {
			proba := out.Method == "predict_proba"
			t.Run(c.Name+"/"+out.Method, func(t *testing.T) {
				dir := filepath.Join("..", "testdata", c.ModelDir)
				input := filepath.Join("..", "testdata", c.Input)
				m, mm := loadModel(t, dir, proba)
				_, url := startServer(t, m, mm, Options{Proba: proba})
				sc := scored(t, m, proba, input)
				csvText, err := os.ReadFile(input)
				if err != nil {
					t.Fatal(err)
				}
				names, rows := typedJSON(t, m, input)
				for _, form := range []struct{ name, ctype, body string }{
					{"csv", "text/csv", string(csvText)},
					{"dataframe_split", "application/json", `{"dataframe_split": {"columns": ` + jsonNames(names) + `, "data": ` + jsonRows(rows) + `}}`},
					{"dataframe_records", "application/json", `{"dataframe_records": ` + jsonRecords(names, rows) + `}`},
				} {
					code, _, body := post(t, url, form.ctype, form.body)
					if code != 200 {
						t.Fatalf("%s: %d %.300s", form.name, code, body)
					}
					if w := want(sc); string(body) != w {
						t.Fatalf("%s:\n got %.300s\nwant %.300s", form.name, body, w)
					}
				}
				_, _, body := post(t, url, "text/csv", string(csvText))
				checkGolden(t, body, filepath.Join("..", "testdata", out.Golden), seq(len(sc)))
			})
		}
	}
}
