package xgboost

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
)

// parseBinary reads the old binary model format: what Booster.save_model wrote
// for any file name other than *.json / *.ubj up to xgboost 2.0 (model.xgb,
// model.bin). All fields are little-endian, as written on x86 and ARM hosts.
//
// Layout (xgboost src/learner.cc LearnerIO::LoadModel(dmlc::Stream*),
// src/gbm/gbtree_model.cc GBTreeModel::Load, src/tree/tree_model.cc RegTree::Load,
// src/gbm/gblinear_model.h GBLinearModel::Load):
//
//	"binf"                             optional header
//	LearnerModelParamLegacy, 136 bytes  f32 base_score, u32 num_feature, i32 num_class,
//	                                    i32 contain_extra_attrs, i32 contain_eval_metrics,
//	                                    u32 major_version, u32 minor_version, u32 num_target,
//	                                    reserved (zero before 1.0, when no version was saved)
//	string objective, string booster    u64 length + bytes
//	gbtree / dart:
//	  GBTreeModelParam, 160 bytes       i32 num_trees, i32 num_parallel_tree (num_roots before),
//	                                    i32 num_feature, i32 pad, i64 num_pbuffer (deprecated),
//	                                    i32 num_output_group, i32 size_leaf_vector, i32 reserved[32]
//	  num_trees x tree:
//	    TreeParam, 148 bytes            i32 num_roots, i32 num_nodes, i32 num_deleted,
//	                                    i32 max_depth, i32 num_feature, i32 size_leaf_vector, reserved[31]
//	    num_nodes x Node, 20 bytes      i32 parent, i32 cleft, i32 cright, u32 sindex
//	                                    (bit 31 = default left), f32 split_cond / leaf value
//	    num_nodes x RTreeNodeStat, 16   f32 loss_chg, f32 sum_hess, f32 base_weight, i32 leaf_child_cnt
//	    vector<f32> leaf_vector         only when size_leaf_vector != 0
//	  num_trees x i32 tree_info
//	  dart: vector<f32> weight_drop    (u64 count + values) when num_trees != 0
//	gblinear:
//	  param, 136 bytes; vector<f32> weights
//	vector<pair<string,string>> attributes   when contain_extra_attrs != 0
//
// The binary format has no categorical splits and no feature names.
func parseBinary(data []byte) (*rawModel, error) {
	r := &binReader{b: data}
	if len(data) >= 4 && string(data[:4]) == "binf" {
		r.pos = 4
	}
	if len(data) >= 4 && string(data[:4]) == "bs64" {
		return nil, fmt.Errorf("binary: the base64 model format is not supported")
	}
	raw := &rawModel{format: "binary", attributes: map[string]string{}}

	mp, err := r.take(136)
	if err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	baseScore := math.Float32frombits(le.Uint32(mp[0:]))
	raw.numFeature = int64(le.Uint32(mp[4:]))
	raw.numClass = int64(int32(le.Uint32(mp[8:])))
	hasAttrs := int32(le.Uint32(mp[12:])) != 0
	major := le.Uint32(mp[20:])
	minor := le.Uint32(mp[24:])
	numTarget := le.Uint32(mp[28:])
	if major > 1000 || minor > 1000 {
		return nil, fmt.Errorf("binary: not an XGBoost model (version field %d.%d)", major, minor)
	}
	raw.version = [3]int{int(major), int(minor), 0}
	raw.numTarget = int64(numTarget)
	if major < 1 || raw.numTarget == 0 {
		raw.numTarget = 1 // reserved (zero) before the field existed
	}
	raw.baseScore = []float32{baseScore}

	if raw.objective, err = r.str(); err != nil {
		return nil, fmt.Errorf("binary: objective: %w", err)
	}
	if raw.booster, err = r.str(); err != nil {
		return nil, fmt.Errorf("binary: booster: %w", err)
	}

	switch raw.booster {
	case "gbtree", "dart":
		if err := r.gbtree(raw); err != nil {
			return nil, err
		}
		if raw.booster == "dart" && len(raw.trees) > 0 {
			if raw.weightDrop, err = r.floats(); err != nil {
				return nil, fmt.Errorf("binary: weight_drop: %w", err)
			}
		}
	case "gblinear":
		if _, err := r.take(136); err != nil {
			return nil, fmt.Errorf("binary: gblinear parameters: %w", err)
		}
		if raw.linearWeights, err = r.floats(); err != nil {
			return nil, fmt.Errorf("binary: gblinear weights: %w", err)
		}
	default:
		return nil, fmt.Errorf("binary: gradient booster %q is not supported (gbtree, dart and gblinear are)", printable(raw.booster))
	}

	if hasAttrs {
		n, err := r.u64()
		if err != nil {
			return nil, fmt.Errorf("binary: attributes: %w", err)
		}
		// Each pair holds two 8-byte lengths at least.
		if n > uint64(r.remaining()/16) {
			return nil, fmt.Errorf("binary: %d attributes cannot fit in the remaining %d bytes", n, r.remaining())
		}
		for i := uint64(0); i < n; i++ {
			k, err := r.str()
			if err != nil {
				return nil, fmt.Errorf("binary: attribute %d: %w", i, err)
			}
			v, err := r.str()
			if err != nil {
				return nil, fmt.Errorf("binary: attribute %q: %w", printable(k), err)
			}
			raw.attributes[k] = v
		}
	}
	// What follows (count:poisson's max_delta_step, eval metric names) does not
	// change predictions.

	if major < 1 {
		// Before 1.0 the file held the intercept already in margin space; xgboost
		// 1.x maps it back through the objective's transform (except multi:*) and
		// then to margin again at load (learner.cc, LearnerIO::LoadModel).
		raw.marginBase = true
	}
	return raw, nil
}

type binReader struct {
	b   []byte
	pos int
}

func (r *binReader) remaining() int { return len(r.b) - r.pos }

func (r *binReader) take(n int) ([]byte, error) {
	if n < 0 || n > r.remaining() {
		return nil, fmt.Errorf("binary: offset %d: unexpected end of file (need %d bytes, %d left)", r.pos, n, r.remaining())
	}
	s := r.b[r.pos : r.pos+n]
	r.pos += n
	return s, nil
}

func (r *binReader) u64() (uint64, error) {
	b, err := r.take(8)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

// str reads a dmlc string: u64 length + bytes.
func (r *binReader) str() (string, error) {
	n, err := r.u64()
	if err != nil {
		return "", err
	}
	if n > uint64(r.remaining()) {
		return "", fmt.Errorf("offset %d: string of %d bytes, %d left", r.pos, n, r.remaining())
	}
	b, _ := r.take(int(n))
	return string(b), nil
}

// floats reads a dmlc vector<float>: u64 count + values.
func (r *binReader) floats() ([]float32, error) {
	n, err := r.u64()
	if err != nil {
		return nil, err
	}
	if n > uint64(r.remaining()/4) {
		return nil, fmt.Errorf("offset %d: %d floats cannot fit in the remaining %d bytes", r.pos, n, r.remaining())
	}
	b, _ := r.take(int(n) * 4)
	out := make([]float32, n)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out, nil
}

func (r *binReader) gbtree(raw *rawModel) error {
	le := binary.LittleEndian
	p, err := r.take(160)
	if err != nil {
		return fmt.Errorf("binary: gbtree parameters: %w", err)
	}
	numTrees := int32(le.Uint32(p[0:]))
	npt := int32(le.Uint32(p[4:]))
	numPBuffer := int64(le.Uint64(p[16:]))
	if numTrees < 0 {
		return fmt.Errorf("binary: negative tree count %d", numTrees)
	}
	if numPBuffer != 0 {
		return fmt.Errorf("binary: models with a prediction buffer (xgboost < 0.7) are not supported")
	}
	raw.numParallelTree = int64(npt)
	if npt < 1 {
		raw.numParallelTree = 1
	}
	// A tree takes at least 148 + 36 bytes (its parameters and one node).
	if int(numTrees) > r.remaining()/(148+36) {
		return fmt.Errorf("binary: %d trees cannot fit in the remaining %d bytes", numTrees, r.remaining())
	}
	raw.trees = make([]rawTree, numTrees)
	for i := range raw.trees {
		if err := r.tree(&raw.trees[i]); err != nil {
			return fmt.Errorf("binary: tree %d: %w", i, err)
		}
	}
	b, err := r.take(4 * int(numTrees))
	if err != nil {
		return fmt.Errorf("binary: tree_info: %w", err)
	}
	raw.treeInfo = make([]int32, numTrees)
	for i := range raw.treeInfo {
		raw.treeInfo[i] = int32(le.Uint32(b[4*i:]))
	}
	return nil
}

func (r *binReader) tree(t *rawTree) error {
	le := binary.LittleEndian
	p, err := r.take(148)
	if err != nil {
		return err
	}
	numNodes := int32(le.Uint32(p[4:]))
	sizeLeafVector := int32(le.Uint32(p[20:]))
	if numNodes < 1 {
		return fmt.Errorf("num_nodes is %d", numNodes)
	}
	if int(numNodes) > r.remaining()/36 {
		return fmt.Errorf("%d nodes cannot fit in the remaining %d bytes", numNodes, r.remaining())
	}
	n := int(numNodes)
	nodes, _ := r.take(20 * n)
	t.left = make([]int32, n)
	t.right = make([]int32, n)
	t.splitIndex = make([]int64, n)
	t.cond = make([]float32, n)
	t.defaultLeft = make([]bool, n)
	for i := range n {
		b := nodes[20*i:]
		t.left[i] = int32(le.Uint32(b[4:]))
		t.right[i] = int32(le.Uint32(b[8:]))
		sindex := le.Uint32(b[12:])
		t.splitIndex[i] = int64(sindex & (1<<31 - 1))
		t.defaultLeft[i] = sindex>>31 != 0
		t.cond[i] = math.Float32frombits(le.Uint32(b[16:]))
	}
	if _, err := r.take(16 * n); err != nil { // node statistics
		return err
	}
	if sizeLeafVector != 0 {
		if _, err := r.floats(); err != nil {
			return fmt.Errorf("leaf_vector: %w", err)
		}
	}
	return nil
}

// printable trims and escapes a string read from a hostile file for messages.
func printable(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}
