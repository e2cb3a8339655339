package serve

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/mlbatch/mlbatch/model"
)

// MLflow 2.6+ requests may carry "params" next to the data. The flavors mlbatch
// serves take no inference parameters, so params are checked the way MLflow's
// PyFuncModel checks them and then ignored: they must be a dictionary; with a
// params schema in the signature, a known parameter must have its declared type
// (else 400, INVALID_PARAMETER_VALUE) and unknown ones are ignored with a warning;
// without one, MLflow warns and ignores them all.

type paramSpec struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Shape []int  `json:"shape"`
}

type paramSchema struct {
	specs map[string]paramSpec
}

func parseParamSchema(mm *model.MLmodel) (*paramSchema, error) {
	if mm == nil || mm.RawSignature == nil {
		return nil, nil
	}
	raw := strings.TrimSpace(mm.RawSignature.Params)
	if raw == "" || raw == "null" {
		return nil, nil
	}
	var specs []paramSpec
	if err := json.Unmarshal([]byte(raw), &specs); err != nil {
		return nil, fmt.Errorf("signature params: %w", err)
	}
	ps := &paramSchema{specs: map[string]paramSpec{}}
	for _, s := range specs {
		ps.specs[s.Name] = s
	}
	return ps, nil
}

// paramError is a params value MLflow refuses (400, INVALID_PARAMETER_VALUE).
type paramError struct{ msg string }

func (e *paramError) Error() string { return e.msg }

// checkParams validates params and returns the names it ignores without a schema
// entry (for a warning).
func (ps *paramSchema) check(params *value) (ignored []string, err error) {
	if params == nil {
		return nil, nil
	}
	if params.k != kObject {
		return nil, &paramError{msg: fmt.Sprintf("Parameters must be a dictionary. Got type '%s'.", params.kindName())}
	}
	for _, m := range params.obj {
		var spec paramSpec
		ok := false
		if ps != nil {
			spec, ok = ps.specs[m.key]
		}
		if !ok {
			ignored = append(ignored, m.key)
			continue
		}
		v := m.val
		if v.k == kNull {
			continue // the default applies
		}
		if len(spec.Shape) > 0 {
			if v.k != kArray {
				return nil, &paramError{msg: fmt.Sprintf("Failed to enforce params schema: parameter %s must be a list of %s, got %s", pyRepr(m.key), spec.Type, v.kindName())}
			}
			for i := range v.arr {
				if msg := checkParam(&v.arr[i], spec.Type); msg != "" {
					return nil, &paramError{msg: fmt.Sprintf("Failed to enforce params schema: parameter %s element %d: %s", pyRepr(m.key), i, msg)}
				}
			}
			continue
		}
		if msg := checkParam(&v, spec.Type); msg != "" {
			return nil, &paramError{msg: fmt.Sprintf("Failed to enforce params schema: parameter %s: %s", pyRepr(m.key), msg)}
		}
	}
	return ignored, nil
}

func checkParam(v *value, typ string) string {
	switch typ {
	case "string", "datetime", "binary":
		if v.k != kString {
			return fmt.Sprintf("a %s is not a %s", v.kindName(), typ)
		}
	case "boolean":
		if v.k != kTrue && v.k != kFalse {
			return fmt.Sprintf("a %s is not a boolean", v.kindName())
		}
	case "long", "integer":
		if v.k != kNumber {
			return fmt.Sprintf("a %s is not an integer", v.kindName())
		}
		if !v.isInt {
			f, ok := parseNum(v)
			if !ok || f != math.Trunc(f) || math.IsInf(f, 0) {
				return fmt.Sprintf("%s is not an integer", v.s)
			}
		}
	case "float", "double":
		if v.k != kNumber {
			return fmt.Sprintf("a %s is not a number", v.kindName())
		}
	}
	return ""
}
