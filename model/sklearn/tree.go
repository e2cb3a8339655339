package sklearn

import (
	"fmt"
	"math"
	"strconv"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/internal/mlerr"
	"github.com/mlbatch/mlbatch/model"
	"github.com/mlbatch/mlbatch/model/pickle"
)

// node is one split or leaf of a fitted tree, packed for the walk.
type node struct {
	threshold float64
	left      int32 // -1 for a leaf
	right     int32
	feature   int32
	missLeft  bool
}

// tree is a flattened sklearn.tree._tree.Tree.
type tree struct {
	nodes    []node
	values   []float64 // node_count x nOutputs x maxClasses
	stride   int       // nOutputs * maxClasses
	nOut     int
	maxCls   int
	nClasses []int
	// missing is true when the pickle has missing_go_to_left (scikit-learn >= 1.3):
	// NaN then follows the node's missing direction instead of being refused.
	missing bool
	nFeat   int
	flat    *flatTree // the breadth-first layout the block walk uses (treewalk.go)
}

// knownNodeFields are the node record fields of every scikit-learn release so far.
var knownNodeFields = map[string]bool{
	"left_child": true, "right_child": true, "feature": true, "threshold": true,
	"impurity": true, "n_node_samples": true, "weighted_n_node_samples": true,
	"missing_go_to_left": true,
}

// readTree rebuilds a Tree from its pickle: Tree(n_features, n_classes, n_outputs)
// plus the state {max_depth, node_count, nodes, values}. Node records are decoded
// by their dtype's field offsets, so the 56-byte records of scikit-learn <= 1.2,
// the 64-byte ones with missing_go_to_left, and int32 fields all load.
func readTree(v any) (*tree, error) {
	obj, ok := v.(*pickle.Object)
	if !ok || obj.Class() != "sklearn.tree._tree.Tree" {
		return nil, fmt.Errorf("tree_ is a %s, want sklearn.tree._tree.Tree", pickle.TypeName(v))
	}
	if len(obj.Args) != 3 {
		return nil, fmt.Errorf("Tree has %d constructor arguments, want 3", len(obj.Args))
	}
	t := &tree{}
	nf, ok1 := toInt(obj.Args[0])
	nOut, ok2 := toInt(obj.Args[2])
	if !ok1 || !ok2 || nf < 0 || nOut < 1 || nOut > 1<<16 {
		return nil, fmt.Errorf("Tree arguments (%v, _, %v) are not valid counts", obj.Args[0], obj.Args[2])
	}
	t.nFeat, t.nOut = nf, nOut
	ncArr, ok := obj.Args[1].(*pickle.NDArray)
	if !ok {
		return nil, fmt.Errorf("Tree n_classes is a %s, want an array", pickle.TypeName(obj.Args[1]))
	}
	nc, err := ncArr.Int64s()
	if err != nil || len(nc) != nOut {
		return nil, fmt.Errorf("Tree n_classes: want %d counts (%v)", nOut, err)
	}
	for _, c := range nc {
		if c < 1 || c > 1<<20 {
			return nil, fmt.Errorf("Tree n_classes holds %d", c)
		}
		t.nClasses = append(t.nClasses, int(c))
		t.maxCls = max(t.maxCls, int(c))
	}
	t.stride = t.nOut * t.maxCls

	count, err := obj.Int("node_count")
	if err != nil {
		return nil, err
	}
	nodes, err := obj.Array("nodes")
	if err != nil {
		return nil, err
	}
	if nodes.DType == nil || nodes.DType.Kind != 'V' {
		return nil, fmt.Errorf("Tree nodes is not a structured array")
	}
	for _, name := range nodes.DType.Names {
		if !knownNodeFields[name] {
			return nil, fmt.Errorf("Tree nodes have an unknown field %q: this node layout is not supported", name)
		}
	}
	n := nodes.Len()
	if int64(n) != count || n < 1 {
		return nil, fmt.Errorf("Tree node_count is %d but nodes holds %d records", count, n)
	}
	field := func(name string) (*pickle.FieldView, error) {
		f, err := nodes.Field(name)
		if err != nil {
			return nil, fmt.Errorf("Tree nodes: %w", err)
		}
		return f, nil
	}
	left, err := field("left_child")
	if err != nil {
		return nil, err
	}
	right, err := field("right_child")
	if err != nil {
		return nil, err
	}
	feat, err := field("feature")
	if err != nil {
		return nil, err
	}
	thr, err := field("threshold")
	if err != nil {
		return nil, err
	}
	var miss *pickle.FieldView
	if _, ok := nodes.DType.Fields["missing_go_to_left"]; ok {
		if miss, err = field("missing_go_to_left"); err != nil {
			return nil, err
		}
		t.missing = true
	}
	t.nodes = make([]node, n)
	for i := range n {
		l, r, f := left.Int64(i), right.Int64(i), feat.Int64(i)
		nd := node{threshold: thr.Float64(i), left: -1, right: -1}
		if l == -1 && r == -1 {
			t.nodes[i] = nd
			continue
		}
		// scikit-learn's builders add a node before its children, so a child
		// always comes after its parent: checking that rules out cycles.
		if l <= int64(i) || r <= int64(i) || l >= int64(n) || r >= int64(n) {
			return nil, fmt.Errorf("Tree node %d has children %d and %d: out of range or not after their parent (a corrupt or cyclic tree)", i, l, r)
		}
		if f < 0 || f >= int64(nf) {
			return nil, fmt.Errorf("Tree node %d splits on feature %d, but the tree has %d features", i, f, nf)
		}
		nd.left, nd.right, nd.feature = int32(l), int32(r), int32(f)
		if miss != nil {
			nd.missLeft = miss.Int64(i) != 0
		}
		t.nodes[i] = nd
	}
	vals, err := obj.Array("values")
	if err != nil {
		return nil, err
	}
	if t.values, err = vals.Float64s(); err != nil {
		return nil, fmt.Errorf("Tree values: %w", err)
	}
	if len(t.values) != n*t.stride {
		return nil, fmt.Errorf("Tree values has %d numbers, want %d nodes x %d outputs x %d classes", len(t.values), n, t.nOut, t.maxCls)
	}
	t.flat = flatten(t)
	return t, nil
}

func toInt(v any) (int, bool) {
	switch x := v.(type) {
	case int64:
		return int(x), true
	case *pickle.NDArray:
		if n, err := x.Int64s(); err == nil && len(n) == 1 {
			return int(n[0]), true
		}
	}
	return 0, false
}

// leaf walks one row (float32 values, as scikit-learn casts X for trees) to its
// leaf. Thresholds are float64 and the comparison is float64(x) <= threshold,
// as in the Cython code where the float32 feature is promoted.
func (t *tree) leaf(x []float32) int {
	nodes := t.nodes
	i := 0
	for {
		nd := &nodes[i]
		if nd.left < 0 {
			return i
		}
		v := x[nd.feature]
		switch {
		case v != v: // NaN: only reachable when the tree has missing_go_to_left
			if nd.missLeft {
				i = int(nd.left)
			} else {
				i = int(nd.right)
			}
		case float64(v) <= nd.threshold:
			i = int(nd.left)
		default:
			i = int(nd.right)
		}
	}
}

// blockRows is the number of rows transposed into one row-major block.
const blockRows = 256

var blockPool = sync.Pool{New: func() any { return new([]float32) }}

// rowBlocks transposes X into row-major float32 blocks of up to blockRows rows
// (reusing one pooled buffer) and calls fn for each. It refuses NaN unless
// allowNaN, and values that overflow float32, the way check_array(X,
// dtype=np.float32) does.
func rowBlocks(X *Dense, allowNaN bool, estimator string, fn func(start, n int, rows []float32) error) error {
	F := len(X.Cols)
	bp := blockPool.Get().(*[]float32)
	defer blockPool.Put(bp)
	if cap(*bp) < blockRows*F {
		*bp = make([]float32, blockRows*F)
	}
	buf := (*bp)[:blockRows*F]
	for start := 0; start < X.Rows; start += blockRows {
		n := min(blockRows, X.Rows-start)
		for j, col := range X.Cols {
			c := col[start : start+n]
			for i, v := range c {
				f := float32(v)
				if math.IsInf(float64(f), 0) || (f != f && !allowNaN) {
					return nonFiniteError(X, start+i, j, estimator, allowNaN)
				}
				buf[i*F+j] = f
			}
		}
		if err := fn(start, n, buf[:n*F]); err != nil {
			return err
		}
	}
	return nil
}

func nonFiniteError(X *Dense, row, col int, estimator string, allowNaN bool) error {
	v := X.Cols[col][row]
	what := "NaN (or an empty cell)"
	if !math.IsNaN(v) {
		what = "a value too large for float32"
	}
	// Report the first bad cell in row order, as check_array does.
	for j := range col {
		f := float32(X.Cols[j][row])
		if math.IsInf(float64(f), 0) || (f != f && !allowNaN) {
			col, v = j, X.Cols[j][row]
			break
		}
	}
	return &mlerr.RowError{
		Row:    int64(row + 1),
		Column: X.colName(col),
		Value:  strconv.FormatFloat(v, 'g', -1, 64),
		Err:    fmt.Errorf("%s cannot take %s, as in scikit-learn", estimator, what),
	}
}

// decisionTree is DecisionTree{Regressor,Classifier} and ExtraTree{Regressor,Classifier}.
type decisionTree struct {
	meta
	t   *tree
	cls []*classes // nil for regressors; one per output for classifiers
}

func init() {
	for _, c := range []string{"DecisionTreeRegressor", "ExtraTreeRegressor", "DecisionTreeClassifier", "ExtraTreeClassifier"} {
		register("sklearn.tree._classes."+c, buildDecisionTree)
		register("sklearn.tree.tree."+c, buildDecisionTree) // before 0.22
	}
	inert["sklearn.tree._tree.Tree"] = true // read by readTree inside the estimators
}

func buildDecisionTree(obj *pickle.Object) (Estimator, error) {
	e := &decisionTree{meta: meta{class: obj.Class()}}
	tv, ok := obj.Attr("tree_")
	if !ok {
		return nil, fmt.Errorf("not fitted: no tree_")
	}
	var err error
	if e.t, err = readTree(tv); err != nil {
		return nil, err
	}
	if err := e.meta.read(obj, e.t.nFeat); err != nil {
		return nil, err
	}
	if isClassifierClass(obj.Name) {
		if e.cls, err = readOutputClasses(obj, e.t.nOut); err != nil {
			return nil, err
		}
		for k, c := range e.cls {
			if c.len() != e.t.nClasses[k] {
				return nil, fmt.Errorf("output %d has %d classes but its tree holds %d", k, c.len(), e.t.nClasses[k])
			}
		}
	}
	return e, nil
}

func isClassifierClass(name string) bool {
	return len(name) > 10 && name[len(name)-10:] == "Classifier"
}

// read fills feature names and checks n_features_in_ against the model's own count.
func (m *meta) read(obj *pickle.Object, nFeat int) error {
	m.nFeat = nFeat
	if n, ok := intAttr(obj, "n_features_in_"); ok {
		if nFeat >= 0 && n != nFeat {
			return fmt.Errorf("n_features_in_ is %d but the model uses %d features", n, nFeat)
		}
		m.nFeat = n
	}
	names, err := featureNames(obj)
	if err != nil {
		return err
	}
	if names != nil && m.nFeat >= 0 && len(names) != m.nFeat {
		return fmt.Errorf("feature_names_in_ has %d names for %d features", len(names), m.nFeat)
	}
	m.names = names
	return nil
}

// readOutputClasses reads classes_: one array for a single-output classifier, a
// list of arrays for a multi-output one.
func readOutputClasses(obj *pickle.Object, nOut int) ([]*classes, error) {
	v, ok := obj.Attr("classes_")
	if !ok {
		return nil, fmt.Errorf("not fitted: no classes_")
	}
	if nOut == 1 {
		if l, ok := v.(*pickle.List); ok && len(l.Items) == 1 {
			v = l.Items[0]
		}
		c, err := readClasses(v)
		if err != nil {
			return nil, err
		}
		return []*classes{c}, nil
	}
	var items []any
	switch x := v.(type) {
	case *pickle.List:
		items = x.Items
	case pickle.Tuple:
		items = x
	default:
		return nil, fmt.Errorf("classes_ of a %d-output classifier is a %s, want a list", nOut, pickle.TypeName(v))
	}
	if len(items) != nOut {
		return nil, fmt.Errorf("classes_ has %d arrays for %d outputs", len(items), nOut)
	}
	out := make([]*classes, nOut)
	for k, it := range items {
		c, err := readClasses(it)
		if err != nil {
			return nil, fmt.Errorf("output %d: %w", k, err)
		}
		out[k] = c
	}
	return out, nil
}

func (e *decisionTree) targets() (int, bool) { return e.t.nOut, e.t.nOut > 1 }

// labelsOf and predictProba make a single-output DecisionTreeClassifier a
// probClassifier (meta-estimators check singleOutput before using them).
func (e *decisionTree) labelsOf() *classes {
	if len(e.cls) != 1 {
		return nil
	}
	return e.cls[0]
}

func (e *decisionTree) predictProba(X *Dense) ([]float64, error) {
	p, err := e.probas(X)
	if err != nil {
		return nil, err
	}
	return p[0], nil
}

func (e *decisionTree) Outputs(opts model.LoadOptions) []model.Column {
	switch {
	case e.cls == nil:
		return regressorOutputs(e)
	case len(e.cls) == 1:
		return classifierOutputs(e.cls[0], opts)
	}
	return multiClassifierOutputs(e.cls, opts)
}

func (e *decisionTree) Predict(X *Dense, opts model.LoadOptions, mem memory.Allocator) ([]arrow.Array, error) {
	if e.cls == nil {
		return regressorPredict(e, X, mem)
	}
	probas, err := e.probas(X)
	if err != nil {
		return nil, err
	}
	return multiProbaResult(e.cls, probas, X.Rows, opts, mem), nil
}

// regress is the tree's predict for regressors: value[leaf, output, 0].
func (e *decisionTree) regress(X *Dense) ([]float64, error) {
	nOut := e.t.nOut
	out := make([]float64, X.Rows*nOut)
	err := rowBlocks(X, e.t.missing, shortName(e.class), func(start, n int, rows []float32) error {
		F := len(X.Cols)
		var idx [blockRows]int32
		e.t.leaves(rows, F, n, idx[:])
		for i, l := range idx[:n] {
			v := e.t.values[int(l)*e.t.stride:]
			for o := range nOut {
				out[(start+i)*nOut+o] = v[o*e.t.maxCls]
			}
		}
		return nil
	})
	return out, err
}

// probas is predict_proba per output: the leaf's class values normalised to sum
// to one (a zero sum is left as zeros), as DecisionTreeClassifier does.
func (e *decisionTree) probas(X *Dense) ([][]float64, error) {
	out := make([][]float64, e.t.nOut)
	for o := range out {
		out[o] = make([]float64, X.Rows*e.t.nClasses[o])
	}
	err := rowBlocks(X, e.t.missing, shortName(e.class), func(start, n int, rows []float32) error {
		F := len(X.Cols)
		var idx [blockRows]int32
		e.t.leaves(rows, F, n, idx[:])
		for i, l := range idx[:n] {
			v := e.t.values[int(l)*e.t.stride:]
			for o := range e.t.nOut {
				k := e.t.nClasses[o]
				normalise(out[o][(start+i)*k:(start+i+1)*k], v[o*e.t.maxCls:o*e.t.maxCls+k])
			}
		}
		return nil
	})
	return out, err
}

// normalise sets dst = src / sum(src), as predict_proba does: the plain sum, and a
// zero sum divides by one.
func normalise(dst, src []float64) {
	s := 0.0
	for _, v := range src {
		s += v
	}
	if s == 0 {
		s = 1
	}
	for j, v := range src {
		dst[j] = v / s
	}
}

// multiProbaResult assembles classifier outputs for one or more outputs:
// labels per output, then (with Proba) the probability columns.
func multiProbaResult(cls []*classes, probas [][]float64, rows int, opts model.LoadOptions, mem memory.Allocator) []arrow.Array {
	if len(cls) == 1 {
		return probaResult(cls[0], probas[0], rows, opts, mem)
	}
	var out []arrow.Array
	for k, c := range cls {
		kk := c.len()
		idx := make([]int, rows)
		for i := range rows {
			idx[i] = argmax(probas[k][i*kk : (i+1)*kk])
		}
		out = append(out, c.labels(idx, mem))
	}
	if opts.Proba {
		for k, c := range cls {
			out = append(out, columnsOf(probas[k], rows, c.len(), mem)...)
		}
	}
	return out
}
