package main

import (
	"path/filepath"
	"slices"
	"testing"
)

// compatFixtures is testdata/longtail/compat/cases.json: models fitted by
// scikit-learn 1.2.1 and re-pickled by testdata/longtail/compat/gen.py in the
// forms scikit-learn 0.23 to 1.8 (and numpy 2) wrote, each with the goldens
// 1.2.1 predicted for the original object.
func compatFixtures(t *testing.T) pipelineFixtures {
	t.Helper()
	var f pipelineFixtures
	readJSON(t, filepath.Join(testdata, "longtail", "compat", "cases.json"), &f)
	if len(f.Cases) < 60 {
		t.Fatalf("only %d cases", len(f.Cases))
	}
	return f
}

// TestScoreCompat scores every release form through the command line (CSV
// input, 2 workers, 64-row batches; Parquet input for the first form of each
// model) and compares with scikit-learn's predictions.
func TestScoreCompat(t *testing.T) {
	dir := t.TempDir()
	var seen []string
	for _, c := range compatFixtures(t).Cases {
		formats := []string{"csv"}
		if golden := c.Outputs[0].Golden; !slices.Contains(seen, golden) {
			seen = append(seen, golden)
			formats = append(formats, "parquet")
		}
		for _, in := range formats {
			t.Run(c.Name+"/"+in, func(t *testing.T) {
				scoreFixture(t, c, in == "parquet", dir)
			})
		}
	}
}
