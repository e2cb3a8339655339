package batch

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/mlbatch/mlbatch/internal/mlerr"
	"github.com/mlbatch/mlbatch/model"
)

// Binding ties an input schema to a model and an output schema.
type Binding struct {
	// Needed lists the input columns to read, in the file's column order.
	Needed []string
	// FeatureIdx gives, per model input, the column index in the projected batch
	// (the batch holding only Needed); -1 for an optional input that is absent.
	FeatureIdx []int
	// KeepIdx lists the projected batch's columns passed through to the output.
	KeepIdx []int
	// Out is the output schema: kept columns, then the model's outputs.
	Out *arrow.Schema
}

// Bind maps schema (the input file's full schema) onto the model's inputs. keep names
// the columns to pass through: nil means all, an empty non-nil slice none.
// predCol renames the model's "prediction" outputs. Errors are mlerr.Schema or
// mlerr.Usage.
func Bind(schema *arrow.Schema, m model.Model, keep []string, predCol string) (*Binding, error) {
	fields := schema.Fields()
	index := make(map[string]int, len(fields))
	for i, f := range fields {
		if _, dup := index[f.Name]; dup {
			return nil, mlerr.Errorf(mlerr.Schema, "input has two columns named %q", f.Name)
		}
		index[f.Name] = i
	}
	inputs := m.Inputs()
	need := make([]bool, len(fields))
	featFull := make([]int, len(inputs))

	if len(inputs) == 0 {
		// The model reads no column (a dummy estimator): only the row count.
	} else if model.Positional(inputs) {
		if len(fields) != len(inputs) {
			return nil, mlerr.Errorf(mlerr.Schema,
				"the model takes %d unnamed columns by position, but the input has %d columns (%s)",
				len(inputs), len(fields), strings.Join(fieldNames(fields, 20), ", "))
		}
		for i := range inputs {
			featFull[i] = i
			need[i] = true
		}
	} else {
		var missing []string
		for i, c := range inputs {
			j, ok := index[c.Name]
			if !ok {
				if !c.Required {
					featFull[i] = -1
					continue
				}
				missing = append(missing, fmt.Sprintf("%q", c.Name))
				continue
			}
			featFull[i] = j
			need[j] = true
		}
		if len(missing) > 0 {
			msg := fmt.Sprintf("input is missing %d column(s) the model needs: %s", len(missing), strings.Join(missing, ", "))
			if hint := caseHints(inputs, index); hint != "" {
				msg += " (" + hint + ")"
			}
			return nil, mlerr.Errorf(mlerr.Schema, "%s", msg)
		}
	}

	var keepFull []int
	if keep == nil {
		for i := range fields {
			keepFull = append(keepFull, i)
		}
	} else {
		seen := map[string]bool{}
		for _, name := range keep {
			if seen[name] {
				continue
			}
			seen[name] = true
			j, ok := index[name]
			if !ok {
				return nil, mlerr.Errorf(mlerr.Usage, "--keep: the input has no column %q", name)
			}
			keepFull = append(keepFull, j)
		}
	}
	for _, j := range keepFull {
		need[j] = true
	}

	// Projected positions: the needed columns in file order.
	proj := make([]int, len(fields))
	b := &Binding{}
	for i, f := range fields {
		proj[i] = -1
		if need[i] {
			proj[i] = len(b.Needed)
			b.Needed = append(b.Needed, f.Name)
		}
	}
	b.FeatureIdx = make([]int, len(inputs))
	for i, j := range featFull {
		b.FeatureIdx[i] = -1
		if j >= 0 {
			b.FeatureIdx[i] = proj[j]
		}
	}
	var outFields []arrow.Field
	names := map[string]bool{}
	for _, j := range keepFull {
		b.KeepIdx = append(b.KeepIdx, proj[j])
		f := fields[j]
		outFields = append(outFields, arrow.Field{Name: f.Name, Type: f.Type, Nullable: true, Metadata: f.Metadata})
		names[f.Name] = true
	}
	if predCol == "" {
		predCol = "prediction"
	}
	for _, c := range m.Outputs() {
		name := c.Name
		if name == "prediction" {
			name = predCol
		} else if rest, ok := strings.CutPrefix(name, "prediction_"); ok {
			name = predCol + "_" + rest
		}
		if names[name] {
			return nil, mlerr.Errorf(mlerr.Usage,
				"output column %q would overwrite the input column of that name: choose another --prediction-col or leave it out of --keep", name)
		}
		names[name] = true
		outFields = append(outFields, arrow.Field{Name: name, Type: c.Type, Nullable: true})
	}
	b.Out = arrow.NewSchema(outFields, nil)
	return b, nil
}

func caseHints(inputs []model.Column, index map[string]int) string {
	var hints []string
	for _, c := range inputs {
		if _, ok := index[c.Name]; ok {
			continue
		}
		for name := range index {
			if strings.EqualFold(name, c.Name) {
				hints = append(hints, fmt.Sprintf("%q looks like %q", name, c.Name))
			}
		}
	}
	if len(hints) == 0 {
		return ""
	}
	return "did you mean: " + strings.Join(hints, "; ") + "? column names are case-sensitive"
}

// CheckTypes refuses input columns that can never become what the model needs.
// schema is the full input schema Bind was given. Value-level problems (a bad
// cell, a null) are found per row by the model.
func (b *Binding) CheckTypes(schema *arrow.Schema, m model.Model) error {
	for i, c := range m.Inputs() {
		f, ok := b.FeatureField(schema, i)
		if !ok || c.Type == nil {
			continue
		}
		if c.Signature {
			if err := CastAllowed(f.Type, c.Type); err != nil {
				return mlerr.Errorf(mlerr.Schema, "column %q: the model's signature wants %s: %v", f.Name, c.Type, err)
			}
			continue
		}
		if IsNumeric(c.Type) && !IsNumeric(f.Type) {
			return mlerr.Errorf(mlerr.Schema, "column %q is %s, but the model needs %s", f.Name, f.Type, c.Type)
		}
	}
	return nil
}

// FeatureField is the input field that feeds model input i, if any.
func (b *Binding) FeatureField(schema *arrow.Schema, i int) (arrow.Field, bool) {
	idx := b.FeatureIdx[i]
	if idx < 0 {
		return arrow.Field{}, false
	}
	j := schema.FieldIndices(b.Needed[idx])
	if len(j) == 0 {
		return arrow.Field{}, false
	}
	return schema.Field(j[0]), true
}

// IsNumeric reports whether values of type t can be read as numbers.
func IsNumeric(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
		arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64,
		arrow.FLOAT16, arrow.FLOAT32, arrow.FLOAT64, arrow.BOOL:
		return true
	}
	return false
}

func fieldNames(fields []arrow.Field, max int) []string {
	var out []string
	for i, f := range fields {
		if i == max {
			out = append(out, "...")
			break
		}
		out = append(out, f.Name)
	}
	return out
}
