package xgboost

import (
	"fmt"
	"math"
	"strings"
)

// rawModel is a model file decoded but not yet checked: the fields prediction
// needs, whatever the file format. build turns it into a booster.
type rawModel struct {
	format  string // "json", "ubjson" or "binary"
	version [3]int // xgboost version that wrote the file, zero when unknown

	objective  string
	baseScore  []float32 // user-space intercept: one value, or one per output (3.1+)
	marginBase bool      // baseScore is already a margin (binary files from xgboost < 1.0)
	numFeature int64
	numClass   int64
	numTarget  int64

	booster         string // gbtree, dart or gblinear
	trees           []rawTree
	treeInfo        []int32
	numParallelTree int64
	iterationIndptr []int64 // 2.0+: tree index where each boosting round starts
	weightDrop      []float32
	linearWeights   []float32

	featureNames []string
	featureTypes []string
	attributes   map[string]string
}

// rawTree holds one tree's node arrays as stored.
type rawTree struct {
	left, right []int32
	splitIndex  []int64
	cond        []float32 // split threshold, or the leaf value for leaves
	defaultLeft []bool
	splitType   []uint8 // nil: all numerical

	catNodes    []int32
	catSegments []int64
	catSizes    []int64
	categories  []int32
}

// fromDocument reads a JSON/UBJSON model document (the tree of values that
// parseJSON and parseUBJSON build), following the schema XGBoost writes:
// {"version": [...], "learner": {...}}.
func fromDocument(doc any, format string) (*rawModel, error) {
	root, err := asObject(doc, "model")
	if err != nil {
		return nil, err
	}
	raw := &rawModel{format: format, attributes: map[string]string{}}
	if v, ok := root["version"]; ok {
		if vs, err := toInt64s(v); err == nil {
			for i := 0; i < len(vs) && i < 3; i++ {
				raw.version[i] = int(vs[i])
			}
		}
	}
	learner, err := objectField(root, "learner", "model")
	if err != nil {
		return nil, err
	}

	// learner_model_param: every value is a string.
	lmp, err := objectField(learner, "learner_model_param", "learner")
	if err != nil {
		return nil, err
	}
	bs, ok := lmp["base_score"]
	if !ok {
		raw.baseScore = []float32{0.5}
	} else {
		s, ok := bs.(string)
		if !ok {
			f, err := toFloat32(bs)
			if err != nil {
				return nil, fmt.Errorf("learner_model_param.base_score: %w", err)
			}
			raw.baseScore = []float32{f}
		} else if raw.baseScore, err = parseBaseScore(s); err != nil {
			return nil, fmt.Errorf("learner_model_param.base_score: %w", err)
		}
	}
	const what = "learner_model_param"
	if raw.numFeature, err = intParam(lmp, "num_feature", what, 0); err != nil {
		return nil, err
	}
	if raw.numClass, err = intParam(lmp, "num_class", what, 0); err != nil {
		return nil, err
	}
	if raw.numTarget, err = intParam(lmp, "num_target", what, 1); err != nil {
		return nil, err
	}

	obj, err := objectField(learner, "objective", "learner")
	if err != nil {
		return nil, err
	}
	if raw.objective, err = stringField(obj, "name", "learner.objective"); err != nil {
		return nil, err
	}

	if v, ok := learner["attributes"]; ok && v != nil {
		attrs, err := asObject(v, "learner.attributes")
		if err != nil {
			return nil, err
		}
		for k, v := range attrs {
			if s, ok := v.(string); ok {
				raw.attributes[k] = s
			}
		}
	}
	if v, ok := learner["feature_names"]; ok && v != nil {
		if raw.featureNames, err = toStrings(v); err != nil {
			return nil, fmt.Errorf("learner.feature_names: %w", err)
		}
	}
	if v, ok := learner["feature_types"]; ok && v != nil {
		if raw.featureTypes, err = toStrings(v); err != nil {
			return nil, fmt.Errorf("learner.feature_types: %w", err)
		}
	}

	gb, err := objectField(learner, "gradient_booster", "learner")
	if err != nil {
		return nil, err
	}
	if raw.booster, err = stringField(gb, "name", "gradient_booster"); err != nil {
		return nil, err
	}
	switch raw.booster {
	case "gbtree":
		err = raw.readGBTree(gb, "gradient_booster")
	case "dart":
		inner, err2 := objectField(gb, "gbtree", "gradient_booster")
		if err2 != nil {
			return nil, err2
		}
		if err = raw.readGBTree(inner, "gradient_booster.gbtree"); err != nil {
			return nil, err
		}
		wd, ok := gb["weight_drop"]
		if !ok {
			return nil, fmt.Errorf("gradient_booster: dart model without weight_drop")
		}
		if raw.weightDrop, err = toFloat32s(wd); err != nil {
			return nil, fmt.Errorf("gradient_booster.weight_drop: %w", err)
		}
	case "gblinear":
		m, err2 := objectField(gb, "model", "gradient_booster")
		if err2 != nil {
			return nil, err2
		}
		w, ok := m["weights"]
		if !ok {
			return nil, fmt.Errorf("gradient_booster.model: missing \"weights\"")
		}
		if raw.linearWeights, err = toFloat32s(w); err != nil {
			return nil, fmt.Errorf("gradient_booster.model.weights: %w", err)
		}
	default:
		return nil, fmt.Errorf("gradient booster %q is not supported (gbtree, dart and gblinear are)", raw.booster)
	}
	if err != nil {
		return nil, err
	}
	return raw, nil
}

// parseBaseScore reads learner_model_param.base_score: a float ("5E-1") up to
// xgboost 3.0, a JSON array of floats inside the string ("[5E-1]",
// "[1E0,2E0]") from 3.1 on. Parentheses are accepted for brackets as in
// xgboost's ParamArray reader (src/common/param_array.cc, ReadStream).
func parseBaseScore(s string) ([]float32, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return nil, fmt.Errorf("empty")
	}
	if t[0] == '(' && t[len(t)-1] == ')' {
		t = "[" + t[1:len(t)-1] + "]"
	}
	if t[0] != '[' {
		f, err := parseJSONFloat32(t)
		if err != nil {
			return nil, err
		}
		return []float32{f}, nil
	}
	doc, err := parseJSON([]byte(t))
	if err != nil {
		return nil, fmt.Errorf("%q: %w", s, err)
	}
	vals, err := toFloat32s(doc)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", s, err)
	}
	if len(vals) == 0 {
		return nil, fmt.Errorf("%q: no values", s)
	}
	return vals, nil
}

func (raw *rawModel) readGBTree(gb map[string]any, what string) error {
	model, err := objectField(gb, "model", what)
	if err != nil {
		return err
	}
	what += ".model"
	param, err := objectField(model, "gbtree_model_param", what)
	if err != nil {
		return err
	}
	numTrees, err := intParam(param, "num_trees", what+".gbtree_model_param", 0)
	if err != nil {
		return err
	}
	if raw.numParallelTree, err = intParam(param, "num_parallel_tree", what+".gbtree_model_param", 1); err != nil {
		return err
	}
	tv, ok := model["trees"]
	if !ok {
		return fmt.Errorf("%s: missing \"trees\"", what)
	}
	trees, ok := tv.([]any)
	if !ok && arrayLen(tv) != 0 {
		return fmt.Errorf("%s.trees: expected an array, found %s", what, typeName(tv))
	}
	if int64(len(trees)) != numTrees {
		return fmt.Errorf("%s: num_trees is %d but %d trees are stored", what, numTrees, len(trees))
	}
	raw.trees = make([]rawTree, len(trees))
	for i, t := range trees {
		obj, err := asObject(t, fmt.Sprintf("%s.trees[%d]", what, i))
		if err != nil {
			return err
		}
		if err := raw.trees[i].fromObject(obj); err != nil {
			return fmt.Errorf("%s.trees[%d]: %w", what, i, err)
		}
	}
	ti, ok := model["tree_info"]
	if !ok {
		return fmt.Errorf("%s: missing \"tree_info\"", what)
	}
	if raw.treeInfo, err = toInt32s(ti); err != nil {
		return fmt.Errorf("%s.tree_info: %w", what, err)
	}
	if v, ok := model["iteration_indptr"]; ok && v != nil {
		if raw.iterationIndptr, err = toInt64s(v); err != nil {
			return fmt.Errorf("%s.iteration_indptr: %w", what, err)
		}
	}
	return nil
}

func (t *rawTree) fromObject(obj map[string]any) error {
	var err error
	get := func(key string) (any, error) {
		v, ok := obj[key]
		if !ok {
			return nil, fmt.Errorf("missing %q", key)
		}
		return v, nil
	}
	if tp, ok := obj["tree_param"]; ok {
		if p, err := asObject(tp, "tree_param"); err == nil {
			if n, err := intParam(p, "size_leaf_vector", "tree_param", 0); err == nil && n > 1 {
				return fmt.Errorf("vector-leaf trees (size_leaf_vector %d, multi_strategy multi_output_tree) are not supported", n)
			}
		}
	}
	v, err := get("left_children")
	if err != nil {
		return err
	}
	if t.left, err = toInt32s(v); err != nil {
		return fmt.Errorf("left_children: %w", err)
	}
	if v, err = get("right_children"); err != nil {
		return err
	}
	if t.right, err = toInt32s(v); err != nil {
		return fmt.Errorf("right_children: %w", err)
	}
	if v, err = get("split_indices"); err != nil {
		return err
	}
	if t.splitIndex, err = toInt64s(v); err != nil {
		return fmt.Errorf("split_indices: %w", err)
	}
	if v, err = get("split_conditions"); err != nil {
		return err
	}
	if t.cond, err = toFloat32s(v); err != nil {
		return fmt.Errorf("split_conditions: %w", err)
	}
	if v, err = get("default_left"); err != nil {
		return err
	}
	if t.defaultLeft, err = toBools(v); err != nil {
		return fmt.Errorf("default_left: %w", err)
	}
	if v, ok := obj["split_type"]; ok {
		st, err := toInt64s(v)
		if err != nil {
			return fmt.Errorf("split_type: %w", err)
		}
		t.splitType = make([]uint8, len(st))
		for i, x := range st {
			if x != 0 && x != 1 {
				return fmt.Errorf("split_type[%d] is %d; want 0 (numerical) or 1 (categorical)", i, x)
			}
			t.splitType[i] = uint8(x)
		}
	}
	if v, ok := obj["categories_nodes"]; ok {
		if t.catNodes, err = toInt32s(v); err != nil {
			return fmt.Errorf("categories_nodes: %w", err)
		}
		if v, err = get("categories_segments"); err != nil {
			return err
		}
		if t.catSegments, err = toInt64s(v); err != nil {
			return fmt.Errorf("categories_segments: %w", err)
		}
		if v, err = get("categories_sizes"); err != nil {
			return err
		}
		if t.catSizes, err = toInt64s(v); err != nil {
			return fmt.Errorf("categories_sizes: %w", err)
		}
		if v, err = get("categories"); err != nil {
			return err
		}
		if t.categories, err = toInt32s(v); err != nil {
			return fmt.Errorf("categories: %w", err)
		}
	}
	if tp, ok := obj["tree_param"]; ok {
		p, err := asObject(tp, "tree_param")
		if err != nil {
			return err
		}
		n, err := intParam(p, "num_nodes", "tree_param", int64(len(t.left)))
		if err != nil {
			return err
		}
		if n != int64(len(t.left)) {
			return fmt.Errorf("tree_param.num_nodes is %d but left_children has %d entries", n, len(t.left))
		}
	}
	return nil
}

// finite32 reports whether f is neither NaN nor infinite.
func finite32(f float32) bool {
	return !math.IsNaN(float64(f)) && !math.IsInf(float64(f), 0)
}
