package sklearn

import (
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/mlbatch/mlbatch/model"
	"github.com/mlbatch/mlbatch/model/pickle"
)

// Inspection: the model as a tree, each class marked supported or not
//
// The model file is decoded a second time with a permissive allow-list: every
// global the file names, whatever it is, becomes an inert *pickle.Object (or a
// *pickle.Global where the file refers to it without calling it), and each is
// recorded. Nothing is executed: the pickle machine never runs code, permissive
// or not; it only lets decoding go on past the first class mlbatch lacks, so
// that every such class can be named at its place in the model. Whether a class
// is supported is read from the live registry (register, registerTransformer
// and the inert set), so the answer follows the estimators this build has.

// Node is one object of a model: an estimator, a transformer, a step that
// passes its columns through or drops them, a function or another object.
type Node struct {
	// Name is the step or transformer name, or the attribute that holds the
	// object (estimator_, init_, func, ...).
	Name string `json:"name,omitempty"`
	// Class is the fully qualified Python class ("" for passthrough and drop).
	Class string `json:"class,omitempty"`
	// Kind is "estimator", "transformer", "object" (a helper mlbatch reads as
	// data), "function", "passthrough", "drop" or "unknown" (a class mlbatch
	// does not have).
	Kind      string `json:"kind"`
	Supported bool   `json:"supported"`
	// Columns is a ColumnTransformer entry's column selection, as written in
	// the model.
	Columns string `json:"columns,omitempty"`
	// Params are a few key hyper-parameters, as Python would print them.
	Params []Param `json:"params,omitempty"`
	// Count > 1 says that this node stands for that many fitted copies of the
	// same class (a forest's trees); the first one is shown.
	Count    int     `json:"count,omitempty"`
	Note     string  `json:"note,omitempty"`
	Children []*Node `json:"children,omitempty"`
}

// Param is one hyper-parameter.
type Param struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// ClassUse is one class or function the model file names.
type ClassUse struct {
	Class     string `json:"class"`
	Kind      string `json:"kind"`
	Supported bool   `json:"supported"`
	// Count is how many objects of the class the model holds (0 for a class
	// or function only referred to).
	Count int `json:"count"`
}

// Tree is what inspection finds in a scikit-learn model file.
type Tree struct {
	File   string `json:"file"`
	Format string `json:"format"` // pickle, cloudpickle or skops
	Root   *Node  `json:"root"`
	// Classes lists every class and function the file names beyond the
	// built-in Python and numpy types, sorted.
	Classes []ClassUse `json:"classes"`
	// Unsupported lists the classes and functions of Classes mlbatch does not
	// have; the model cannot be scored while any is left.
	Unsupported []string `json:"unsupported,omitempty"`
	// Incomplete says why the file could not be decoded to the end, even for
	// inspection; Root is then nil and Classes holds the classes named before.
	Incomplete string `json:"incomplete,omitempty"`
}

// Inspect decodes the model file of an MLmodel's sklearn flavor for
// inspection. It fails only when the file cannot be read or decoded at all.
func Inspect(mm *model.MLmodel) (*Tree, error) {
	path, format, data, err := readModelFile(mm)
	if err != nil {
		return nil, err
	}
	if format == "" {
		format = "pickle"
	}
	var t *Tree
	if format == "skops" {
		t, err = InspectSkops(data)
	} else {
		t, err = InspectPickle(data)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	t.File, t.Format = path, format
	return t, nil
}

// InspectPickle decodes a pickle for inspection.
func InspectPickle(data []byte) (*Tree, error) {
	seen := map[string]bool{}
	v, err := pickle.Unmarshal(data, pickle.Options{Allow: func(module, name string) bool {
		seen[module+"."+name] = true
		return true
	}})
	return inspectValue(v, seen, err), nil
}

// InspectSkops decodes a .skops archive for inspection.
func InspectSkops(data []byte) (*Tree, error) {
	seen := map[string]bool{}
	v, err := readSkopsInspect(data, func(module, name string) { seen[module+"."+name] = true })
	return inspectValue(v, seen, err), nil
}

// inspectValue builds the tree of a decoded model; decodeErr is the decoder's
// error, when it stopped early.
func inspectValue(v any, seen map[string]bool, decodeErr error) *Tree {
	t := &Tree{Classes: []ClassUse{}}
	if decodeErr != nil {
		v = nil
		t.Incomplete = decodeErr.Error()
	}
	counts := map[string]int{}
	countObjects(v, counts, map[any]bool{}, 0)
	for c := range seen {
		counts[c] += 0
	}
	for c, n := range counts {
		mod, name := splitClass(c)
		u := ClassUse{Class: c, Kind: classKind(mod, name), Supported: allow(mod, name), Count: n}
		if !seen[c] {
			continue // a built-in type (numpy, Python)
		}
		t.Classes = append(t.Classes, u)
		if !u.Supported {
			t.Unsupported = append(t.Unsupported, c)
		}
	}
	slices.SortFunc(t.Classes, func(a, b ClassUse) int { return strings.Compare(a.Class, b.Class) })
	slices.Sort(t.Unsupported)
	w := &walker{seen: seen, visited: map[*pickle.Object]bool{}}
	if decodeErr != nil {
		return t
	}
	t.Root = w.node("", v, 0)
	if t.Root == nil {
		t.Root = &Node{Kind: "unknown", Note: "the file holds a " + pickle.TypeName(v) + ", not a scikit-learn estimator"}
	}
	return t
}

func splitClass(c string) (module, name string) {
	if i := strings.LastIndexByte(c, '.'); i >= 0 {
		return c[:i], c[i+1:]
	}
	return "", c
}

// classKind says what a class is to mlbatch, from the live registry.
func classKind(module, name string) string {
	full := module + "." + name
	switch {
	case builders[full] != nil:
		return "estimator"
	case tbuilders[full] != nil:
		return "transformer"
	case inert[full]:
		return "object"
	case isFunction(module, name):
		return "function"
	}
	return "unknown"
}

// isFunction guesses whether a global names Python code rather than a class,
// as explainUnsupported does: by-value functions (cloudpickle, __main__,
// types) and lower-case names, by the Python naming convention.
func isFunction(module, name string) bool {
	return strings.HasPrefix(module, "cloudpickle") || module == "__main__" || module == "types" ||
		(name != "" && (name[0] == '_' || (name[0] >= 'a' && name[0] <= 'z')))
}

// countObjects counts the objects of each class reachable from v.
func countObjects(v any, counts map[string]int, visited map[any]bool, depth int) {
	if depth > maxInspectDepth {
		return
	}
	each := func(items []any) {
		for _, x := range items {
			countObjects(x, counts, visited, depth+1)
		}
	}
	switch x := v.(type) {
	case *pickle.Object:
		if visited[x] {
			return
		}
		visited[x] = true
		counts[x.Class()]++
		each(x.Args)
		for _, k := range x.Keys {
			countObjects(x.Dict[k], counts, visited, depth+1)
		}
		if x.Dict == nil {
			countObjects(x.State, counts, visited, depth+1)
		}
		if x.DictItems != nil {
			each(x.DictItems.Values())
		}
		each(x.ListItems)
	case *pickle.List:
		if visited[x] {
			return
		}
		visited[x] = true
		each(x.Items)
	case pickle.Tuple:
		each(x)
	case *pickle.Dict:
		if visited[x] {
			return
		}
		visited[x] = true
		each(x.Values())
	case *pickle.Set:
		each(x.Items)
	case *pickle.NDArray:
		if x.DType != nil && x.DType.Kind == 'O' {
			each(x.Objects)
		}
	}
}

const (
	maxInspectDepth = 64
	maxInspectNodes = 2000
	maxParams       = 6
)

type walker struct {
	seen    map[string]bool // globals the file names beyond the built-in ones
	visited map[*pickle.Object]bool
	nodes   int
}

// node describes v under a name; nil when v is nothing worth a node (plain
// data, or an object mlbatch reads as inert data that holds nothing else).
func (w *walker) node(name string, v any, depth int) *Node {
	switch x := v.(type) {
	case *pickle.Object:
		return w.object(name, x, depth)
	case *pickle.Global:
		if !w.seen[x.String()] {
			return nil // a built-in type, such as the dtype np.float64
		}
		n := &Node{Name: name, Class: x.String(), Kind: classKind(x.Module, x.Name), Supported: allow(x.Module, x.Name)}
		if n.Kind == "function" || n.Kind == "unknown" && isFunction(x.Module, x.Name) {
			n.Kind = "function"
			n.Note = "Python code: mlbatch never runs it"
		}
		return n
	case string:
		switch x {
		case "passthrough":
			return &Node{Name: name, Kind: "passthrough", Supported: true}
		case "drop":
			return &Node{Name: name, Kind: "drop", Supported: true}
		}
	}
	return nil
}

func (w *walker) object(name string, o *pickle.Object, depth int) *Node {
	n := &Node{Name: name, Class: o.Class(), Kind: classKind(o.Module, o.Name), Supported: allow(o.Module, o.Name)}
	if !n.Supported && n.Kind == "function" {
		n.Note = "Python code: mlbatch never runs it"
	}
	if w.visited[o] {
		n.Note = "the same object as above"
		return n
	}
	w.visited[o] = true
	w.nodes++
	if depth > maxInspectDepth || w.nodes > maxInspectNodes {
		n.Note = "not shown: the model is too deep or too large to print whole"
		return n
	}
	if strings.HasPrefix(o.Module, "cloudpickle") {
		n.Kind, n.Note = "function", "a Python function pickled by value: mlbatch never runs Python code"
		return n
	}
	if o.Class() == "sklearn.compose._column_transformer.make_column_selector" {
		n.Note = "a callable column selector: mlbatch supports selection by name, index, boolean mask or slice"
	}
	n.Params = keyParams(o)
	// Attributes first, then the redundant ones (private bookkeeping, unfitted
	// copies) only for a class mlbatch lacks that shows nowhere else (a
	// callable column selector is kept only in the unfitted transformers).
	var redundant []string
	for _, k := range o.Keys {
		if redundantAttr(o, k) {
			redundant = append(redundant, k)
			continue
		}
		n.Children = append(n.Children, w.children(k, o.Dict[k], depth+1)...)
	}
	shown := map[string]bool{}
	for _, c := range n.Children {
		c.unsupported(shown)
	}
	for _, k := range redundant {
		for _, c := range w.children(k, o.Dict[k], depth+1) {
			lacks := map[string]bool{}
			c.unsupported(lacks)
			news := false
			for cl := range lacks {
				news = news || !shown[cl]
				shown[cl] = true
			}
			if news {
				if c.Note == "" {
					c.Note = "in " + k
				}
				n.Children = append(n.Children, c)
			}
		}
	}
	if len(o.Args) > 0 && n.Kind != "object" {
		n.Children = append(n.Children, w.children("args", o.Args, depth+1)...)
	}
	if o.DictItems != nil {
		n.Children = append(n.Children, w.children("items", pickle.Tuple(o.DictItems.Values()), depth+1)...)
	}
	if n.Kind == "object" && n.Supported && len(n.Children) == 0 {
		return nil // trees, losses, random states: data that predict reads or ignores
	}
	return n
}

// redundantAttr reports attributes that repeat others or only keep books: the
// unfitted copy of a parameter when its fitted copy (name_) is there, the
// named_* views and private attributes.
func redundantAttr(o *pickle.Object, k string) bool {
	switch {
	case strings.HasPrefix(k, "named_"), strings.HasPrefix(k, "_"):
		return true
	case !strings.HasPrefix(k, "_") && !strings.HasSuffix(k, "_") && o.Has(k+"_"):
		return true // transformers -> transformers_, final_estimator -> final_estimator_
	case k == "estimator_" || k == "base_estimator_":
		// The validated template of an ensemble; the fitted estimators_ follow.
		return o.Has("estimators_")
	case k == "estimator" || k == "base_estimator":
		return o.Has("estimators_") || o.Has(k+"_")
	}
	return false
}

// children describes the objects inside an attribute value.
func (w *walker) children(name string, v any, depth int) []*Node {
	if depth > maxInspectDepth {
		return nil
	}
	var items []any
	switch x := v.(type) {
	case *pickle.List:
		items = x.Items
	case pickle.Tuple:
		items = x
	case *pickle.NDArray:
		if x.DType == nil || x.DType.Kind != 'O' {
			return nil
		}
		items = x.Objects
	case *pickle.Dict:
		var out []*Node
		for i, k := range x.Keys() {
			out = append(out, w.children(fmt.Sprintf("%s[%s]", name, shortRepr(k)), x.Values()[i], depth+1)...)
		}
		return out
	case string:
		return nil // 'passthrough' and 'drop' count only as named entries
	default:
		if n := w.node(name, v, depth); n != nil {
			return []*Node{n}
		}
		return nil
	}
	if len(items) == 0 {
		return nil
	}
	// Named entries: Pipeline steps, FeatureUnion parts, ColumnTransformer
	// (name, transformer, columns) triples, Voting and Stacking estimators.
	if named(items) {
		var out []*Node
		for _, it := range items {
			e := tupleItems(it)
			entryName := e[0].(string)
			n := w.node(entryName, e[1], depth)
			if n == nil {
				if e[1] == nil {
					n = &Node{Name: entryName, Kind: "passthrough", Supported: true}
				} else {
					n = &Node{Name: entryName, Kind: "unknown", Note: "a " + pickle.TypeName(e[1])}
				}
			}
			if len(e) == 3 {
				n.Columns = describeColumns(e[2])
				if sel := w.node("columns", e[2], depth+1); sel != nil {
					n.Children = append(n.Children, sel)
				}
			}
			out = append(out, n)
		}
		return out
	}
	// Many fitted copies of one class (a forest's trees, one-vs-rest models):
	// one node for all, unless they differ.
	flat := flattenItems(items, 0)
	var objs []*pickle.Object
	for _, it := range flat {
		if o, ok := it.(*pickle.Object); ok {
			objs = append(objs, o)
		}
	}
	if len(objs) > 1 && len(objs) == len(flat) && sameClass(objs) {
		n := w.object(name, objs[0], depth)
		if n == nil {
			return nil
		}
		n.Count = len(objs)
		return []*Node{n}
	}
	var out []*Node
	for i, it := range flat {
		label := name
		if len(flat) > 1 {
			label = fmt.Sprintf("%s[%d]", name, i)
		}
		if n := w.node(label, it, depth); n != nil {
			out = append(out, n)
		}
	}
	return out
}

func tupleItems(v any) []any {
	switch x := v.(type) {
	case pickle.Tuple:
		return x
	case *pickle.List:
		return x.Items
	}
	return nil
}

// named reports lists of (name, object[, columns]) entries.
func named(items []any) bool {
	for _, it := range items {
		e := tupleItems(it)
		if len(e) != 2 && len(e) != 3 {
			return false
		}
		if _, ok := e[0].(string); !ok {
			return false
		}
		switch x := e[1].(type) {
		case *pickle.Object, *pickle.Global, nil:
		case string:
			if x != "passthrough" && x != "drop" {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// flattenItems opens nested lists (HistGradientBoosting's _predictors, a list per
// iteration).
func flattenItems(items []any, depth int) []any {
	var out []any
	for _, it := range items {
		switch x := it.(type) {
		case *pickle.List:
			if depth < 4 {
				out = append(out, flattenItems(x.Items, depth+1)...)
				continue
			}
		case pickle.Tuple:
			if depth < 4 {
				out = append(out, flattenItems(x, depth+1)...)
				continue
			}
		}
		out = append(out, it)
	}
	return out
}

func sameClass(objs []*pickle.Object) bool {
	for _, o := range objs[1:] {
		if o.Module != objs[0].Module || o.Name != objs[0].Name {
			return false
		}
	}
	return true
}

// keyParamNames are the hyper-parameters worth a line, in the order shown.
var keyParamNames = []string{
	"n_estimators", "max_iter", "learning_rate", "max_depth", "max_leaf_nodes", "min_samples_leaf",
	"max_features", "criterion", "loss", "kernel", "C", "alpha", "l1_ratio", "penalty", "solver",
	"gamma", "degree", "n_neighbors", "weights", "metric", "hidden_layer_sizes", "activation",
	"voting", "stack_method", "method", "strategy", "fill_value", "add_indicator", "features",
	"handle_unknown", "drop", "min_frequency", "max_categories", "unknown_value", "encoded_missing_value",
	"categories", "with_mean", "with_std", "with_centering", "with_scaling", "feature_range", "clip",
	"quantile_range", "norm", "n_bins", "encode", "interaction_only", "include_bias", "func",
	"validate", "remainder", "sparse_threshold", "verbose_feature_names_out", "fit_intercept",
	"multi_class", "constant", "quantile", "var_smoothing", "n_components", "threshold",
}

// keyParams picks the object's key hyper-parameters that hold plain values.
func keyParams(o *pickle.Object) []Param {
	var out []Param
	for _, k := range keyParamNames {
		v, ok := o.Attr(k)
		if !ok {
			continue
		}
		if v == nil {
			continue
		}
		s, ok := paramRepr(v)
		if !ok {
			continue
		}
		out = append(out, Param{Name: k, Value: s})
		if len(out) == maxParams {
			break
		}
	}
	return out
}

// paramRepr formats a parameter as Python's repr would, for plain values;
// false for objects (those become child nodes).
func paramRepr(v any) (string, bool) {
	switch x := v.(type) {
	case *pickle.Object:
		return "", false
	case *pickle.Global:
		return x.String(), true
	case *pickle.List, pickle.Tuple:
		items := tupleItems(x)
		parts := make([]string, 0, len(items))
		for i, it := range items {
			if i == 8 {
				parts = append(parts, fmt.Sprintf("... %d items", len(items)))
				break
			}
			s, ok := paramRepr(it)
			if !ok {
				return "", false
			}
			parts = append(parts, s)
		}
		if _, isTuple := x.(pickle.Tuple); isTuple {
			if len(items) == 1 {
				return "(" + parts[0] + ",)", true
			}
			return "(" + strings.Join(parts, ", ") + ")", true
		}
		return "[" + strings.Join(parts, ", ") + "]", true
	case *pickle.NDArray:
		return fmt.Sprintf("array(shape=%v)", x.Shape), true
	}
	return shortRepr(v), true
}

// shortRepr formats a plain Python value.
func shortRepr(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		return pyReprBool(x)
	case string:
		s := pyStrRepr(x)
		if len(s) > 60 {
			s = s[:57] + "..."
		}
		return s
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case *big.Int:
		return x.String()
	case float64:
		return pyReprFloat(x)
	case *pickle.Global:
		return x.String()
	case *pickle.Slice:
		return fmt.Sprintf("slice(%s, %s, %s)", shortRepr(x.Start), shortRepr(x.Stop), shortRepr(x.Step))
	}
	return pickle.TypeName(v)
}

// describeColumns formats a ColumnTransformer column selection.
func describeColumns(v any) string {
	switch x := v.(type) {
	case *pickle.Object:
		if x.Class() == remainderColsList {
			if d, ok := x.Attr("data"); ok {
				return describeColumns(d)
			}
		}
		return x.Class() + " (a callable)"
	case *pickle.List, pickle.Tuple:
		items := tupleItems(x)
		parts := make([]string, 0, len(items))
		for i, it := range items {
			if i == 12 {
				parts = append(parts, fmt.Sprintf("... %d columns", len(items)))
				break
			}
			parts = append(parts, shortRepr(it))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case *pickle.NDArray:
		vals, err := x.Values()
		if err != nil {
			return "array"
		}
		if x.DType != nil && x.DType.Kind == 'b' {
			var idx []any
			for i, b := range vals {
				if b == true {
					idx = append(idx, int64(i))
				}
			}
			return "mask " + describeColumns(pickle.Tuple(idx))
		}
		return describeColumns(&pickle.List{Items: vals})
	}
	return shortRepr(v)
}

// Reason names what stops the model from being scored, from the tree alone:
// the unsupported classes and functions, each with where it sits. Empty when
// every class is supported (loading may still refuse a feature; its error
// then says which).
func (t *Tree) Reason() string {
	if len(t.Unsupported) == 0 {
		return ""
	}
	var parts []string
	for _, c := range t.Unsupported {
		where := t.Root.path(c)
		if where != "" {
			parts = append(parts, c+" (at "+where+")")
		} else {
			parts = append(parts, c)
		}
	}
	return "unsupported: " + strings.Join(parts, ", ")
}

// unsupported adds the classes below n (n included) that mlbatch lacks.
func (n *Node) unsupported(into map[string]bool) {
	if !n.Supported && n.Class != "" {
		into[n.Class] = true
	}
	for _, c := range n.Children {
		c.unsupported(into)
	}
}

// path is where class first appears below n, as step names joined by " > ".
func (n *Node) path(class string) string {
	if n == nil {
		return ""
	}
	label := n.Name
	if label == "" {
		label = n.Class[strings.LastIndexByte(n.Class, '.')+1:]
	}
	if n.Class == class {
		return label
	}
	for _, c := range n.Children {
		if p := c.path(class); p != "" {
			return label + " > " + p
		}
	}
	return ""
}
