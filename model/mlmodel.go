package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"go.yaml.in/yaml/v3"
)

// MLmodel is the parsed MLmodel file of a model folder. Unknown keys are ignored.
type MLmodel struct {
	// Dir is the local folder that holds the MLmodel file.
	Dir string `yaml:"-"`

	ArtifactPath     string                    `yaml:"artifact_path"`
	Flavors          map[string]map[string]any `yaml:"flavors"`
	MLflowVersion    string                    `yaml:"mlflow_version"`
	ModelUUID        string                    `yaml:"model_uuid"`
	ModelID          string                    `yaml:"model_id"`
	RunID            string                    `yaml:"run_id"`
	UTCTimeCreated   string                    `yaml:"utc_time_created"`
	RawSignature     *rawSignature             `yaml:"signature"`
	SavedInputExInfo map[string]any            `yaml:"saved_input_example_info"`

	// Signature is the decoded signature, nil when the model has none.
	Signature *Signature `yaml:"-"`
}

type rawSignature struct {
	Inputs  string `yaml:"inputs"`
	Outputs string `yaml:"outputs"`
	Params  string `yaml:"params"`
}

// Signature is an MLflow model signature. A schema is either column-based (Columns)
// or tensor-based (Tensors), never both.
type Signature struct {
	Inputs  *Schema
	Outputs *Schema
}

// Schema is one side of a signature.
type Schema struct {
	Columns []SchemaColumn
	Tensors []TensorSpec
}

// IsTensor reports whether the schema is in the tensor form.
func (s *Schema) IsTensor() bool { return s != nil && len(s.Tensors) > 0 }

// HasNames reports whether every column of a column schema is named.
func (s *Schema) HasNames() bool {
	if s == nil || len(s.Columns) == 0 {
		return false
	}
	for _, c := range s.Columns {
		if c.Name == "" {
			return false
		}
	}
	return true
}

// SchemaColumn is one entry of a column-based schema.
type SchemaColumn struct {
	Name     string
	Type     string // MLflow type name: boolean, integer, long, float, double, string, binary, datetime, ...
	Required bool
}

// TensorSpec is one entry of a tensor-based schema.
type TensorSpec struct {
	Name  string
	DType string // numpy dtype name, e.g. float64
	Shape []int  // -1 means any length
}

// ReadMLmodel reads and parses dir/MLmodel.
func ReadMLmodel(dir string) (*MLmodel, error) {
	path := filepath.Join(dir, "MLmodel")
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s: not an MLflow model folder: no MLmodel file", dir)
		}
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	m, err := ParseMLmodel(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m.Dir = dir
	return m, nil
}

// ParseMLmodel parses the bytes of an MLmodel file.
func ParseMLmodel(data []byte) (*MLmodel, error) {
	var m MLmodel
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("invalid MLmodel YAML: %w", err)
	}
	if len(m.Flavors) == 0 {
		return nil, errors.New("MLmodel lists no flavors")
	}
	if m.RawSignature != nil {
		sig, err := parseSignature(m.RawSignature)
		if err != nil {
			return nil, fmt.Errorf("signature: %w", err)
		}
		m.Signature = sig
	}
	return &m, nil
}

// FlavorString returns a string-valued key of a flavor's configuration.
func (m *MLmodel) FlavorString(flavor, key string) string {
	f := m.Flavors[flavor]
	if f == nil {
		return ""
	}
	switch v := f[key].(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

func parseSignature(raw *rawSignature) (*Signature, error) {
	var sig Signature
	var err error
	if raw.Inputs != "" {
		if sig.Inputs, err = parseSchema(raw.Inputs); err != nil {
			return nil, fmt.Errorf("inputs: %w", err)
		}
	}
	if raw.Outputs != "" {
		if sig.Outputs, err = parseSchema(raw.Outputs); err != nil {
			return nil, fmt.Errorf("outputs: %w", err)
		}
	}
	if sig.Inputs == nil && sig.Outputs == nil {
		return nil, nil
	}
	return &sig, nil
}

// schemaEntry covers both schema forms as MLflow serialises them.
type schemaEntry struct {
	Name       *string         `json:"name"`
	Type       json.RawMessage `json:"type"`
	Required   *bool           `json:"required"`
	Optional   *bool           `json:"optional"`
	TensorSpec *struct {
		DType string `json:"dtype"`
		Shape []int  `json:"shape"`
	} `json:"tensor-spec"`
}

func parseSchema(s string) (*Schema, error) {
	if strings.TrimSpace(s) == "" || strings.TrimSpace(s) == "null" {
		return nil, nil
	}
	var entries []schemaEntry
	if err := json.Unmarshal([]byte(s), &entries); err != nil {
		return nil, fmt.Errorf("invalid schema JSON: %w", err)
	}
	var out Schema
	for i, e := range entries {
		var typ string
		if len(e.Type) > 0 && e.Type[0] == '"' {
			_ = json.Unmarshal(e.Type, &typ)
		} else if len(e.Type) > 0 {
			// array/object/map types are JSON objects; keep their raw text.
			typ = string(e.Type)
		}
		name := ""
		if e.Name != nil {
			name = *e.Name
		}
		if typ == "tensor" {
			if e.TensorSpec == nil {
				return nil, fmt.Errorf("entry %d: tensor without tensor-spec", i)
			}
			out.Tensors = append(out.Tensors, TensorSpec{Name: name, DType: e.TensorSpec.DType, Shape: e.TensorSpec.Shape})
			continue
		}
		required := true
		if e.Required != nil {
			required = *e.Required
		} else if e.Optional != nil {
			required = !*e.Optional
		}
		out.Columns = append(out.Columns, SchemaColumn{Name: name, Type: typ, Required: required})
	}
	if len(out.Tensors) > 0 && len(out.Columns) > 0 {
		return nil, errors.New("schema mixes tensor and column entries")
	}
	return &out, nil
}

// ArrowType maps an MLflow column type name to the Arrow type mlbatch reads it as.
func ArrowType(mlflowType string) (arrow.DataType, error) {
	switch mlflowType {
	case "boolean":
		return arrow.FixedWidthTypes.Boolean, nil
	case "integer":
		return arrow.PrimitiveTypes.Int32, nil
	case "long":
		return arrow.PrimitiveTypes.Int64, nil
	case "float":
		return arrow.PrimitiveTypes.Float32, nil
	case "double":
		return arrow.PrimitiveTypes.Float64, nil
	case "string":
		return arrow.BinaryTypes.String, nil
	case "binary":
		return arrow.BinaryTypes.Binary, nil
	case "datetime":
		return &arrow.TimestampType{Unit: arrow.Nanosecond}, nil
	}
	return nil, fmt.Errorf("MLflow type %q is not supported", mlflowType)
}

// NumpyArrowType maps a tensor-spec dtype to an Arrow type.
func NumpyArrowType(dtype string) (arrow.DataType, error) {
	switch dtype {
	case "float64":
		return arrow.PrimitiveTypes.Float64, nil
	case "float32":
		return arrow.PrimitiveTypes.Float32, nil
	case "int64":
		return arrow.PrimitiveTypes.Int64, nil
	case "int32":
		return arrow.PrimitiveTypes.Int32, nil
	case "int16":
		return arrow.PrimitiveTypes.Int16, nil
	case "int8":
		return arrow.PrimitiveTypes.Int8, nil
	case "uint8":
		return arrow.PrimitiveTypes.Uint8, nil
	case "bool":
		return arrow.FixedWidthTypes.Boolean, nil
	case "str", "object":
		return arrow.BinaryTypes.String, nil
	}
	return nil, fmt.Errorf("tensor dtype %q is not supported", dtype)
}
