package serve

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestProtocolConformance sends each request form of MLflow's scoring protocol
// (the documented JSON and CSV examples, MLflow 1.x's bodies and the seed
// article's curl) and checks that the answer is byte for byte the body MLflow
// writes for the predictions `mlbatch score` computes on the same rows, and that
// those match the golden predictions of scikit-learn.
func TestProtocolConformance(t *testing.T) {
	type form struct {
		name, ctype, body string
	}
	type fixture struct {
		name, dir, input, golden string
		sel                      []int // golden rows sent
		forms                    func(names []string, rows [][]string) []form
	}
	// Forms for a model whose signature names its columns.
	named := func(names []string, rows [][]string) []form {
		split := `{"columns": ` + jsonNames(names) + `, "data": ` + jsonRows(rows) + `}`
		return []form{
			{"dataframe_split", "application/json", `{"dataframe_split": ` + split + `}`},
			{"dataframe_split with index", "application/json", `{"dataframe_split": {"index": [7, 8, 9, 10, 11], "columns": ` + jsonNames(names) + `, "data": ` + jsonRows(rows) + `}}`},
			{"dataframe_split with params", "application/json", `{"dataframe_split": ` + split + `, "params": {"temperature": 0.5}}`},
			{"dataframe_records", "application/json", `{"dataframe_records": ` + jsonRecords(names, rows) + `}`},
			{"instances as records", "application/json", `{"instances": ` + jsonRecords(names, rows) + `}`},
			{"inputs as columns", "application/json", `{"inputs": ` + jsonColumns(names, rows) + `}`},
			{"inputs as records", "application/json", `{"inputs": ` + jsonRecords(names, rows) + `}`},
			{"mlflow 1.x pandas split", "application/json", split},
			{"mlflow 1.x pandas split, format param", "application/json; format=pandas-split", split},
			{"mlflow 1.x records", "application/json; format=pandas-records", jsonRecords(names, rows)},
			{"charset utf-8", "application/json; charset=utf-8", `{"dataframe_split": ` + split + `}`},
			{"columns out of order", "application/json", `{"dataframe_split": {"columns": ` + jsonNames(reverse(names)) + `, "data": ` + jsonRows(reverseRows(rows)) + `}}`},
			{"extra column", "application/json", `{"dataframe_records": ` + jsonRecords(append([]string{"id"}, names...), prepend("42", rows)) + `}`},
			{"text/csv", "text/csv", csvBody(names, rows, false)},
			{"text/csv from DataFrame.to_csv() with its index", "text/csv; charset=utf-8", csvBody(names, rows, true)},
		}
	}
	// Forms for a positional model (fitted on numpy, no signature).
	positional := func(names []string, rows [][]string) []form {
		return []form{
			{"seed curl", "application/json", `{"data": ` + jsonRows(rows) + `}`},
			{"dataframe_split without columns", "application/json", `{"dataframe_split": {"data": ` + jsonRows(rows) + `}}`},
			{"dataframe_split with columns", "application/json", `{"dataframe_split": {"columns": ` + jsonNames(names) + `, "data": ` + jsonRows(rows) + `}}`},
			{"instances as rows", "application/json", `{"instances": ` + jsonRows(rows) + `}`},
			{"inputs as rows", "application/json", `{"inputs": ` + jsonRows(rows) + `}`},
			{"dataframe_records as rows", "application/json", `{"dataframe_records": ` + jsonRows(rows) + `}`},
			{"mlflow 1.x pandas split", "application/json", `{"columns": ` + jsonNames(names) + `, "data": ` + jsonRows(rows) + `}`},
			{"text/csv", "text/csv", csvBody(names, rows, false)},
		}
	}
	fixtures := []fixture{
		{"demo (LinearRegression, column signature)", demoModel, demoInput, demoGolden, []int{0, 1, 2, 3, 4}, named},
		{"demo, rows further down", demoModel, demoInput, demoGolden, []int{441, 17, 230, 99, 300}, named},
		{"seed13 (positional LinearRegression)", seedModel, seedInput, seedGolden, []int{0}, positional},
		{"seed13, five rows", seedModel, seedInput, seedGolden, []int{0, 10, 20, 30, 49}, positional},
		{"rf_clf_iris (classifier, signature)", modelsDir + "rf_clf_iris", modelsDir + "iris_input.csv", modelsDir + "rf_clf_iris/expected.csv", []int{0, 60, 120, 149, 77}, named},
		{"logreg_iris_string_labels (feature_names_in_)", modelsDir + "logreg_iris_string_labels", modelsDir + "iris_input.csv", modelsDir + "logreg_iris_string_labels/expected.csv", []int{0, 60, 120, 149, 77}, named},
		{"logreg_bc_bool_labels", modelsDir + "logreg_bc_bool_labels", modelsDir + "breast_cancer_input.csv", modelsDir + "logreg_bc_bool_labels/expected.csv", []int{0, 19, 100, 200, 568}, named},
		{"linreg_multi (two outputs)", modelsDir + "linreg_multi", modelsDir + "diabetes_input.csv", modelsDir + "linreg_multi/expected.csv", []int{0, 1, 2, 3, 4}, named},
	}
	for _, fx := range fixtures {
		t.Run(fx.name, func(t *testing.T) {
			m, mm := loadModel(t, fx.dir, false)
			_, url := startServer(t, m, mm, Options{})
			names, rows := readCSV(t, fx.input)
			rows = pick(rows, fx.sel)
			scoredRows := pickS(scored(t, m, false, fx.input), fx.sel)
			for _, f := range fx.forms(names, rows) {
				t.Run(f.name, func(t *testing.T) {
					code, h, body := post(t, url, f.ctype, f.body)
					if code != http.StatusOK {
						t.Fatalf("status %d: %s", code, body)
					}
					if ct := h.Get("Content-Type"); ct != "application/json" {
						t.Errorf("Content-Type %q", ct)
					}
					if w := want(scoredRows); string(body) != w {
						t.Fatalf("body\n got %.300s\nwant %.300s", body, w)
					}
					checkGolden(t, body, fx.golden, fx.sel)
				})
			}
		})
	}
}

func reverse(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}

func reverseRows(rows [][]string) [][]string {
	out := make([][]string, len(rows))
	for i, r := range rows {
		out[i] = reverse(r)
	}
	return out
}

func prepend(v string, rows [][]string) [][]string {
	out := make([][]string, len(rows))
	for i, r := range rows {
		out[i] = append([]string{v}, r...)
	}
	return out
}

// TestSeedCurl is the seed article's request, verbatim, against a model of its
// shape: 13 features by position.
func TestSeedCurl(t *testing.T) {
	m, mm := loadModel(t, seedModel, false)
	_, url := startServer(t, m, mm, Options{})
	code, _, body := post(t, url, "application/json",
		`{"data":[[0.09178,0.0,4.05,0.0,0.51,6.416,84.1,2.6463,5.0,296.0,16.6,395.5,9.04]]}`)
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	checkGolden(t, body, seedGolden, []int{0})
	if w := want(pickS(scored(t, m, false, seedInput), []int{0})); string(body) != w {
		t.Fatalf("got %s, want %s", body, w)
	}
}

// TestProba: with --proba a classifier answers predict_proba's rows, as MLflow
// does for a model logged with pyfunc_predict_fn="predict_proba"; a multi-output
// classifier answers one list of rows per output.
func TestProba(t *testing.T) {
	for _, c := range []struct{ dir, input string }{
		{"logreg_multinomial_iris", "iris_input.csv"},
		{"logreg_iris_string_labels", "iris_input.csv"},
		{"rf_clf_iris", "iris_input.csv"},
		{"logreg_bc_bool_labels", "breast_cancer_input.csv"},
	} {
		t.Run(c.dir, func(t *testing.T) {
			m, mm := loadModel(t, modelsDir+c.dir, true)
			_, url := startServer(t, m, mm, Options{Proba: true})
			names, rows := readCSV(t, modelsDir+c.input)
			sel := []int{0, 50, 100, 149}
			code, _, body := post(t, url, "application/json", `{"dataframe_split": {"columns": `+jsonNames(names)+`, "data": `+jsonRows(pick(rows, sel))+`}}`)
			if code != 200 {
				t.Fatalf("%d %s", code, body)
			}
			if w := want(pickS(scored(t, m, true, modelsDir+c.input), sel)); string(body) != w {
				t.Fatalf("got %.300s, want %.300s", body, w)
			}
			checkGolden(t, body, modelsDir+c.dir+"/expected_proba.csv", sel)
		})
	}
	t.Run("multi-output", func(t *testing.T) {
		m, mm := loadModel(t, modelsDir+"dtree_clf_multi_iris", true)
		_, url := startServer(t, m, mm, Options{Proba: true})
		names, rows := readCSV(t, modelsDir+"iris_input.csv")
		code, _, body := post(t, url, "text/csv", csvBody(names, pick(rows, []int{0, 70, 140}), false))
		if code != 200 {
			t.Fatalf("%d %s", code, body)
		}
		var resp struct{ Predictions [][][]float64 }
		if err := json.Unmarshal(body, &resp); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		if len(resp.Predictions) != 2 || len(resp.Predictions[0]) != 3 || len(resp.Predictions[0][0]) != 3 || len(resp.Predictions[1][0]) != 2 {
			t.Fatalf("want 2 outputs x 3 rows x (3, 2) classes: %s", body)
		}
		_, gold := readCSV(t, modelsDir+"dtree_clf_multi_iris/expected_proba.csv")
		for k, i := range []int{0, 70, 140} {
			row := append(append([]float64{}, resp.Predictions[0][k]...), resp.Predictions[1][k]...)
			for j, w := range gold[i] {
				if err := sameValue(row[j], w); err != nil {
					t.Fatalf("row %d: %v", i, err)
				}
			}
		}
	})
}

// TestResponseFormatV1: MLflow 1.x answered the bare list.
func TestResponseFormatV1(t *testing.T) {
	m, mm := loadModel(t, seedModel, false)
	_, url := startServer(t, m, mm, Options{ResponseFormat: "v1"})
	_, rows := readCSV(t, seedInput)
	code, _, body := post(t, url, "application/json", `{"data": `+jsonRows(pick(rows, []int{0, 1}))+`}`)
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	sc := scored(t, m, false, seedInput)
	if w := "[" + sc[0] + ", " + sc[1] + "]"; string(body) != w {
		t.Fatalf("got %s, want %s", body, w)
	}
}

// TestErrors: each bad request gets MLflow's error body and status code.
func TestErrors(t *testing.T) {
	m, mm := loadModel(t, demoModel, false)
	_, url := startServer(t, m, mm, Options{MaxBodyBytes: 4096})
	names, rows := readCSV(t, demoInput)
	noS3 := append(append([]string{}, names[:6]...), names[7:]...)
	rowNoS3 := append(append([]string{}, rows[0][:6]...), rows[0][7:]...)
	goodSplit := func(data string) string {
		return `{"dataframe_split": {"columns": ` + jsonNames(names) + `, "data": ` + data + `}}`
	}
	for _, c := range []struct {
		name, ctype, body string
		status            int
		code              string
		msg               string // a part of the message
	}{
		{"bad JSON", "application/json", `{"dataframe_split": {"columns": [`, 400, "BAD_REQUEST", "valid JSON"},
		{"trailing garbage", "application/json", goodSplit(jsonRows(rows[:1])) + "x", 400, "BAD_REQUEST", "valid JSON"},
		{"text/plain", "text/plain", goodSplit(jsonRows(rows[:1])), 415, "BAD_REQUEST", "content types"},
		{"no content type", "", goodSplit(jsonRows(rows[:1])), 415, "BAD_REQUEST", "content types"},
		{"charset latin-1", "application/json; charset=latin-1", goodSplit(jsonRows(rows[:1])), 415, "BAD_REQUEST", "UTF-8"},
		{"unknown content type parameter", "application/json; format=tf-serving", goodSplit(jsonRows(rows[:1])), 415, "BAD_REQUEST", "Unrecognized content type parameters"},
		{"no input field", "application/json", `{"rows": [[1, 2]]}`, 400, "BAD_REQUEST", "exactly one of the input fields"},
		{"two input fields", "application/json", `{"instances": [[1]], "inputs": [[1]]}`, 400, "BAD_REQUEST", "exactly one of the input fields"},
		{"a number", "application/json", `42`, 400, "BAD_REQUEST", "exactly one of the input fields"},
		{"split is a list", "application/json", `{"dataframe_split": [[1, 2]]}`, 400, "BAD_REQUEST", "must be a dictionary"},
		{"records is a dictionary", "application/json", `{"dataframe_records": {"a": 1}}`, 400, "BAD_REQUEST", "list of records"},
		{"split extra key", "application/json", `{"dataframe_split": {"columns": ["a"], "data": [[1]], "rows": 1}}`, 400, "BAD_REQUEST", "'data' field"},
		{"split row too long", "application/json", goodSplit("[[" + strings.Join(rows[0], ",") + ", 1.0]]"), 400, "BAD_REQUEST", "11 columns"},
		{"missing column", "application/json", `{"dataframe_split": {"columns": ` + jsonNames(noS3) + `, "data": [[` + strings.Join(rowNoS3, ",") + `]]}}`, 400, "INVALID_PARAMETER_VALUE", "Model is missing inputs ['s3']"},
		{"missing column, CSV", "text/csv", csvBody(noS3, [][]string{rowNoS3}, false), 400, "INVALID_PARAMETER_VALUE", "Model is missing inputs ['s3']"},
		{"wrong case", "application/json", `{"dataframe_records": [{"AGE": 1, "sex": 1, "bmi": 1, "bp": 1, "s1": 1, "s2": 1, "s3": 1, "s4": 1, "s5": 1, "s6": 1}]}`, 400, "INVALID_PARAMETER_VALUE", `"AGE" looks like "age"`},
		{"no column names for a named signature", "application/json", `{"data": ` + jsonRows(rows[:1]) + `}`, 400, "INVALID_PARAMETER_VALUE", "Model is missing inputs"},
		{"string in a double column", "application/json", goodSplit(`[["abc", 1, 1, 1, 1, 1, 1, 1, 1, 1]]`), 400, "BAD_REQUEST", "Failed to convert column age to type 'float64'"},
		{"boolean in a double column", "application/json", goodSplit(`[[true, 1, 1, 1, 1, 1, 1, 1, 1, 1]]`), 400, "BAD_REQUEST", "Failed to convert column age"},
		{"bad CSV cell", "text/csv", csvBody(names, [][]string{{"1", "2", "x", "4", "5", "6", "7", "8", "9", "10"}}, false), 400, "BAD_REQUEST", "column bmi"},
		{"CSV row too long", "text/csv", "a,b\n1,2,3,4\n", 400, "BAD_REQUEST", "Failed to parse input as a Pandas DataFrame"},
		{"empty CSV", "text/csv", "", 400, "BAD_REQUEST", "No columns to parse"},
		{"params not a dictionary", "application/json", `{"dataframe_split": {"columns": ` + jsonNames(names) + `, "data": ` + jsonRows(rows[:1]) + `}, "params": [1]}`, 400, "INVALID_PARAMETER_VALUE", "Parameters must be a dictionary"},
		{"body too large", "application/json", goodSplit(jsonRows(rows[:40])), 413, "BAD_REQUEST", "larger than the limit"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, h, body := post(t, url, c.ctype, c.body)
			checkError(t, code, h, body, c.status, c.code, c.msg)
		})
	}

	t.Run("GET /invocations", func(t *testing.T) {
		resp, err := client.Get(url + "/invocations")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 405 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
	t.Run("unknown route", func(t *testing.T) {
		resp, err := client.Get(url + "/predict")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
}

func checkError(t *testing.T, code int, h http.Header, body []byte, status int, ecode, part string) {
	t.Helper()
	if code != status {
		t.Fatalf("status %d, want %d: %s", code, status, body)
	}
	if ct := h.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var e map[string]any
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body %s: %v", body, err)
	}
	if len(e) != 2 || e["error_code"] != ecode {
		t.Fatalf("want {error_code: %s, message}, got %s", ecode, body)
	}
	if msg, _ := e["message"].(string); !strings.Contains(msg, part) {
		t.Fatalf("message %q does not say %q", msg, part)
	}
}

// TestModelRefusals: values the model refuses (NaN into a tree that takes none)
// are the request's fault: 400 naming the row.
func TestModelRefusals(t *testing.T) {
	m, mm := loadModel(t, modelsDir+"dtree_clf_iris", false)
	_, url := startServer(t, m, mm, Options{})
	names, _ := readCSV(t, modelsDir+"iris_input.csv")
	code, h, body := post(t, url, "application/json", `{"dataframe_split": {"columns": `+jsonNames(names)+`, "data": [[5.1, 3.5, 1.4, 0.2], [5.1, null, 1.4, 0.2]]}}`)
	checkError(t, code, h, body, 400, "BAD_REQUEST", "row 2")
	code, h, body = post(t, url, "text/csv", csvBody(names, [][]string{{"5.1", "3.5", "1.4", "0.2"}, {"5.1", "", "1.4", "0.2"}}, false))
	checkError(t, code, h, body, 400, "BAD_REQUEST", "row 2")
}

func TestHealthAndVersion(t *testing.T) {
	s, url := startServer(t, nil, nil, Options{Version: "1.2.3"})
	get := func(path string) (int, string) {
		resp, err := client.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		buf := make([]byte, 512)
		for {
			n, err := resp.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		return resp.StatusCode, b.String()
	}
	for _, p := range []string{"/ping", "/health"} {
		if code, _ := get(p); code != 503 {
			t.Errorf("%s before the model is loaded: %d, want 503", p, code)
		}
	}
	code, _, _ := post(t, url, "application/json", `{"inputs": [[1]]}`)
	if code != 503 {
		t.Errorf("/invocations before the model is loaded: %d", code)
	}
	m, mm := loadModel(t, seedModel, false)
	if err := s.SetModel(m, mm); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/ping", "/health"} {
		if code, body := get(p); code != 200 || body != "\n" {
			t.Errorf("%s: %d %q", p, code, body)
		}
	}
	if code, body := get("/version"); code != 200 || body != "1.2.3" {
		t.Errorf("/version: %d %q", code, body)
	}
	if code, body := get("/metrics"); code != 200 || !strings.Contains(body, `mlbatch_serve_requests_total{route="/ping",code="503"} 1`) ||
		!strings.Contains(body, "mlbatch_serve_model_ready 1") ||
		!strings.Contains(body, `mlbatch_serve_request_duration_seconds_bucket{route="/ping",le="+Inf"} 2`) {
		t.Errorf("/metrics: %d\n%s", code, body)
	}
}
