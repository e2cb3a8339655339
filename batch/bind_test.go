package batch

import (
	"context"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/internal/mlerr"
	"github.com/mlbatch/mlbatch/model"
)

// sigModel is a model with a given signature and one float64 output.
type sigModel struct{ in []model.Column }

func (m sigModel) Info() model.Info       { return model.Info{} }
func (m sigModel) Inputs() []model.Column { return m.in }
func (m sigModel) Outputs() []model.Column {
	return []model.Column{{Name: "prediction", Type: arrow.PrimitiveTypes.Float64}}
}
func (m sigModel) Predict(context.Context, model.Features, memory.Allocator) ([]arrow.Array, error) {
	return nil, nil
}

func schemaOf(fields ...arrow.Field) *arrow.Schema { return arrow.NewSchema(fields, nil) }

// TestBindSignature: MLflow's column rules: exact names, missing required columns
// listed (with a hint for a case-only difference), optional ones skipped, extra
// ones dropped for the model but kept when asked, and the cast rules.
func TestBindSignature(t *testing.T) {
	f64, i32, i64 := arrow.PrimitiveTypes.Float64, arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Int64
	m := sigModel{in: []model.Column{
		{Name: "Age", Type: f64, Required: true, Signature: true},
		{Name: "rooms", Type: i64, Required: true, Signature: true},
		{Name: "note", Type: arrow.BinaryTypes.String, Required: false, Signature: true},
	}}
	in := schemaOf(arrow.Field{Name: "id", Type: i64}, arrow.Field{Name: "age", Type: f64}, arrow.Field{Name: "rooms", Type: i32})
	_, err := Bind(in, m, nil, "prediction")
	if mlerr.KindOf(err) != mlerr.Schema || !strings.Contains(err.Error(), `"Age"`) || !strings.Contains(err.Error(), `"age" looks like "Age"`) {
		t.Fatalf("missing column: %v", err)
	}
	in = schemaOf(arrow.Field{Name: "id", Type: i64}, arrow.Field{Name: "Age", Type: f64}, arrow.Field{Name: "rooms", Type: i32})
	b, err := Bind(in, m, []string{"id"}, "y")
	if err != nil {
		t.Fatal(err)
	}
	if b.FeatureIdx[2] != -1 {
		t.Errorf("optional absent column bound to %d", b.FeatureIdx[2])
	}
	if got := strings.Join(b.Needed, ","); got != "id,Age,rooms" {
		t.Errorf("needed %s", got)
	}
	if len(b.Out.Fields()) != 2 || b.Out.Field(0).Name != "id" || b.Out.Field(1).Name != "y" {
		t.Errorf("output schema %v", b.Out)
	}
	// int32 -> long is a widening MLflow allows.
	if err := b.CheckTypes(in, m); err != nil {
		t.Errorf("int32 into long: %v", err)
	}
	// int64 -> double is refused, as MLflow refuses it.
	m.in[1].Type = f64
	in = schemaOf(arrow.Field{Name: "Age", Type: f64}, arrow.Field{Name: "rooms", Type: i64})
	b, err = Bind(in, m, nil, "prediction")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.CheckTypes(in, m); mlerr.KindOf(err) != mlerr.Schema || !strings.Contains(err.Error(), `"rooms"`) {
		t.Errorf("int64 into double: %v", err)
	}
}

// TestBindPositional: unnamed inputs take the columns in order; a count mismatch
// gives both counts.
func TestBindPositional(t *testing.T) {
	f64 := arrow.PrimitiveTypes.Float64
	m := sigModel{in: []model.Column{{Type: f64, Required: true}, {Type: f64, Required: true}}}
	_, err := Bind(schemaOf(arrow.Field{Name: "a", Type: f64}, arrow.Field{Name: "b", Type: f64}, arrow.Field{Name: "c", Type: f64}), m, nil, "")
	if err == nil || !strings.Contains(err.Error(), "takes 2 unnamed columns") || !strings.Contains(err.Error(), "has 3 columns") {
		t.Errorf("got %v", err)
	}
	b, err := Bind(schemaOf(arrow.Field{Name: "a", Type: f64}, arrow.Field{Name: "b", Type: f64}), m, nil, "")
	if err != nil || b.FeatureIdx[0] != 0 || b.FeatureIdx[1] != 1 {
		t.Errorf("got %v %v", b, err)
	}
}
