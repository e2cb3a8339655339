package lightgbm

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// MaxModelBytes bounds the size of a text model ParseText accepts.
const MaxModelBytes = 1 << 31

// maxFeatures bounds max_feature_idx+1: one float64 per feature and row is kept
// in the row buffer while scoring.
const maxFeatures = 1 << 20

// kZeroThreshold is LightGBM's kZeroThreshold: the float literal 1e-35f stored in
// a double, so it is float32(1e-35) widened, not 1e-35.
var kZeroThreshold = float64(float32(1e-35))

// Booster is a parsed LightGBM text model (the output of Booster.save_model).
// It is immutable after ParseText and safe for concurrent use.
type Booster struct {
	// Version is the header's version: v2, v3 or v4.
	Version string
	// NumClass is num_class: the number of scores per row.
	NumClass int
	// TreesPerIteration is num_tree_per_iteration.
	TreesPerIteration int
	// FeatureNames holds max_feature_idx+1 names, as training saw them (LightGBM
	// names unnamed features Column_0, Column_1, ...).
	FeatureNames []string
	// Objective is the parsed objective line.
	Objective Objective
	// AverageOutput is set for random forests (boosting=rf): the sum of the trees
	// is divided by the number of iterations.
	AverageOutput bool
	// PandasCategorical reports a non-empty pandas_categorical line: the model was
	// trained on pandas category columns and takes their integer codes.
	PandasCategorical bool

	trees []tree
	// numIter is the number of iterations predict uses: len(trees) divided by
	// TreesPerIteration, rounded down, as LightGBM does.
	numIter int
	// hasCat reports whether any tree has a categorical split.
	hasCat bool
}

// NumFeatures is max_feature_idx+1.
func (b *Booster) NumFeatures() int { return len(b.FeatureNames) }

// NumTrees is the number of trees in the file.
func (b *Booster) NumTrees() int { return len(b.trees) }

// NumIterations is the number of boosting iterations predict uses.
func (b *Booster) NumIterations() int { return b.numIter }

// ParseText parses a LightGBM text model. It never panics: malformed or hostile
// input gives an error naming the line.
func ParseText(data []byte) (*Booster, error) {
	if len(data) > MaxModelBytes {
		return nil, fmt.Errorf("model text is %d bytes; at most %d are read", len(data), MaxModelBytes)
	}
	p := &parser{data: data}
	b, err := p.parse()
	if err != nil {
		if p.line > 0 {
			return nil, fmt.Errorf("lightgbm model line %d: %w", p.line, err)
		}
		return nil, fmt.Errorf("lightgbm model: %w", err)
	}
	return b, nil
}

type parser struct {
	data []byte
	pos  int
	line int // number of the line last returned by next
}

// next returns the next line without its end-of-line bytes. LightGBM ends lines
// at '\n' or '\r', so "\r\n" and a bare '\r' both end a line (the empty line
// between them is skipped by the callers that skip empty lines).
func (p *parser) next() (string, bool) {
	if p.pos >= len(p.data) {
		return "", false
	}
	rest := p.data[p.pos:]
	i := bytes.IndexAny(rest, "\r\n")
	p.line++
	if i < 0 {
		p.pos = len(p.data)
		return string(rest), true
	}
	p.pos += i + 1
	if rest[i] == '\r' && i+1 < len(rest) && rest[i+1] == '\n' {
		p.pos++
	}
	return string(rest[:i]), true
}

func (p *parser) parse() (*Booster, error) {
	// The first line names the boosting type; LightGBM's model file loader
	// accepts only "tree".
	first, ok := p.next()
	for ok && first == "" {
		first, ok = p.next()
	}
	if !ok || first != "tree" {
		return nil, fmt.Errorf("not a LightGBM text model: the first line is %q, want \"tree\"", clip(first))
	}
	header := map[string]string{}
	var line string
	// Header: key=value lines (and bare keys such as "tree" and
	// "average_output") up to the first tree.
	for {
		line, ok = p.next()
		if !ok {
			return nil, errors.New("no trees: the text ends before the first Tree= line (is this a LightGBM text model?)")
		}
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "Tree=") || line == "end of trees" {
			break
		}
		key, val, _ := strings.Cut(line, "=")
		if _, dup := header[key]; dup {
			return nil, fmt.Errorf("header key %q appears twice", key)
		}
		header[key] = val
	}
	headerEnd := p.line
	b, err := parseHeader(header)
	if err != nil {
		p.line = 0
		return nil, fmt.Errorf("header (lines 1-%d): %w", headerEnd, err)
	}

	nf := len(b.FeatureNames)
	for line != "end of trees" {
		if !strings.HasPrefix(line, "Tree=") {
			return nil, fmt.Errorf("expected Tree= or \"end of trees\", found %q", clip(line))
		}
		if n, err := strconv.Atoi(line[len("Tree="):]); err != nil || n != len(b.trees) {
			return nil, fmt.Errorf("tree header %q: want Tree=%d", clip(line), len(b.trees))
		}
		start := p.line
		kv := map[string]string{}
		for {
			l, ok := p.next()
			if !ok {
				return nil, fmt.Errorf("Tree=%d: the text ends inside the tree: the file is truncated", len(b.trees))
			}
			if l == "" {
				break
			}
			key, val, found := strings.Cut(l, "=")
			if !found {
				return nil, fmt.Errorf("tree %d: line %q is not key=value", len(b.trees), clip(l))
			}
			if _, dup := kv[key]; dup {
				return nil, fmt.Errorf("tree %d: key %q appears twice", len(b.trees), key)
			}
			kv[key] = val
		}
		t, err := parseTree(kv, nf)
		if err != nil {
			p.line = start
			return nil, fmt.Errorf("Tree=%d: %w", len(b.trees), err)
		}
		if t.hasCat() {
			b.hasCat = true
		}
		b.trees = append(b.trees, t)
		// Skip blank lines up to the next tree or the end marker.
		for {
			line, ok = p.next()
			if !ok {
				return nil, errors.New(`the text ends without "end of trees": the file is truncated`)
			}
			if line != "" {
				break
			}
		}
	}
	if sizes, ok := header["tree_sizes"]; ok {
		if n := len(fields(sizes)); n != len(b.trees) {
			return nil, fmt.Errorf("tree_sizes lists %d trees but the file holds %d", n, len(b.trees))
		}
	}
	b.numIter = len(b.trees) / b.TreesPerIteration

	// After the trees: feature importances, parameters and, written by the
	// Python package, pandas_categorical. Only the last matters here.
	for {
		l, ok := p.next()
		if !ok {
			break
		}
		if rest, found := strings.CutPrefix(l, "pandas_categorical:"); found {
			rest = strings.TrimSpace(rest)
			b.PandasCategorical = rest != "null" && rest != "[]" && rest != ""
		}
	}
	return b, nil
}

func parseHeader(h map[string]string) (*Booster, error) {
	b := &Booster{Version: h["version"]}
	switch b.Version {
	case "v2", "v3", "v4":
	case "":
		return nil, errors.New("no version line: LightGBM before 2.0 wrote models mlbatch cannot read (v2, v3 and v4 are supported)")
	default:
		return nil, fmt.Errorf("version %q is not supported (v2, v3 and v4 are)", clip(b.Version))
	}
	var err error
	if b.NumClass, err = headerInt(h, "num_class", 1, 1<<16, true, 0); err != nil {
		return nil, err
	}
	if b.TreesPerIteration, err = headerInt(h, "num_tree_per_iteration", 1, 1<<16, false, b.NumClass); err != nil {
		return nil, err
	}
	if b.TreesPerIteration != b.NumClass {
		return nil, fmt.Errorf("num_tree_per_iteration=%d differs from num_class=%d; mlbatch supports models with one tree per class and iteration", b.TreesPerIteration, b.NumClass)
	}
	maxIdx, err := headerInt(h, "max_feature_idx", -1, maxFeatures-1, true, 0)
	if err != nil {
		return nil, err
	}
	names, ok := h["feature_names"]
	if !ok {
		return nil, errors.New("no feature_names line (LightGBM requires one)")
	}
	b.FeatureNames = fields(names)
	if len(b.FeatureNames) != maxIdx+1 {
		return nil, fmt.Errorf("feature_names has %d names but max_feature_idx=%d", len(b.FeatureNames), maxIdx)
	}
	if _, ok := h["average_output"]; ok {
		b.AverageOutput = true
	}
	if obj, ok := h["objective"]; ok {
		if b.Objective, err = parseObjective(obj); err != nil {
			return nil, err
		}
	} else {
		b.Objective = Objective{Name: "", kind: objIdentity}
	}
	if k := b.Objective.NumClass; k > 0 && k != b.NumClass {
		return nil, fmt.Errorf("objective %q has num_class:%d but the header says num_class=%d", b.Objective.Text, k, b.NumClass)
	}
	if b.Objective.multi() && b.NumClass < 2 {
		return nil, fmt.Errorf("objective %q needs num_class >= 2, the header says %d", b.Objective.Text, b.NumClass)
	}
	return b, nil
}

// headerInt reads an integer header value in [lo, hi]; absent keys give def, or
// an error when required.
func headerInt(h map[string]string, key string, lo, hi int, required bool, def int) (int, error) {
	s, ok := h[key]
	if !ok {
		if required {
			return 0, fmt.Errorf("no %s line", key)
		}
		return def, nil
	}
	v, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%s=%q is not an integer", key, clip(s))
	}
	if v < lo || v > hi {
		return 0, fmt.Errorf("%s=%d is out of range [%d, %d]", key, v, lo, hi)
	}
	return v, nil
}

// fields splits on spaces and drops empty fields, like LightGBM's Common::Split.
func fields(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' })
}

// countFields counts what fields would return without allocating.
func countFields(s string) int {
	n := 0
	in := false
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' {
			in = false
		} else if !in {
			in = true
			n++
		}
	}
	return n
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// parseFloats reads exactly want space-separated float64 values. The count is
// checked before anything is allocated.
func parseFloats(s string, want int, what string) ([]float64, error) {
	if n := countFields(s); n != want {
		return nil, fmt.Errorf("%s has %d values, want %d", what, n, want)
	}
	out := make([]float64, 0, want)
	for _, f := range fields(s) {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			var ne *strconv.NumError
			// Out of range: keep ±Inf or 0 as strtod does.
			if !errors.As(err, &ne) || ne.Err != strconv.ErrRange {
				return nil, fmt.Errorf("%s: %q is not a number", what, clip(f))
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// parseInts reads exactly want space-separated integers in [lo, hi].
func parseInts(s string, want int, lo, hi int64, what string) ([]int64, error) {
	if n := countFields(s); n != want {
		return nil, fmt.Errorf("%s has %d values, want %d", what, n, want)
	}
	out := make([]int64, 0, want)
	for _, f := range fields(s) {
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not an integer", what, clip(f))
		}
		if v < lo || v > hi {
			return nil, fmt.Errorf("%s: %d is out of range [%d, %d]", what, v, lo, hi)
		}
		out = append(out, v)
	}
	return out, nil
}

// lgbAtof parses a number the way LightGBM's Common::Atof does (the parser it
// uses for objective parameters such as sigmoid:), which is not always the
// correctly rounded value: digits are accumulated in a double, the fraction is
// divided by a power of ten and the exponent applied by repeated scaling.
func lgbAtof(s string) (float64, bool) {
	i := 0
	for i < len(s) && s[i] == ' ' {
		i++
	}
	sign := 1.0
	if i < len(s) && s[i] == '-' {
		sign = -1
		i++
	} else if i < len(s) && s[i] == '+' {
		i++
	}
	isDigit := func(j int) bool { return j < len(s) && s[j] >= '0' && s[j] <= '9' }
	if !(isDigit(i) || (i < len(s) && (s[i] == '.' || s[i] == 'e' || s[i] == 'E'))) {
		return 0, false
	}
	value := 0.0
	for ; isDigit(i); i++ {
		value = float64(value*10) + float64(s[i]-'0')
	}
	if i < len(s) && s[i] == '.' {
		i++
		right := 0.0
		nn := 0
		for ; isDigit(i); i++ {
			right = float64(s[i]-'0') + float64(right*10)
			nn++
		}
		value += right / lgbPow(10, nn)
	}
	frac := false
	scale := 1.0
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && s[i] == '-' {
			frac = true
			i++
		} else if i < len(s) && s[i] == '+' {
			i++
		}
		var expon uint32
		for ; isDigit(i); i++ {
			expon = expon*10 + uint32(s[i]-'0')
		}
		if expon > 308 {
			expon = 308
		}
		for expon >= 50 {
			scale *= 1e50
			expon -= 50
		}
		for expon >= 8 {
			scale *= 1e8
			expon -= 8
		}
		for expon > 0 {
			scale *= 10
			expon--
		}
	}
	if i != len(s) {
		return 0, false
	}
	if frac {
		return sign * (value / scale), true
	}
	return sign * (value * scale), true
}

// lgbPow is LightGBM's Common::Pow (exponentiation by squaring and cubing).
func lgbPow(base float64, power int) float64 {
	switch {
	case power < 0:
		return 1 / lgbPow(base, -power)
	case power == 0:
		return 1
	case power%2 == 0:
		return lgbPow(base*base, power/2)
	case power%3 == 0:
		return lgbPow(base*base*base, power/3)
	default:
		return base * lgbPow(base, power-1)
	}
}
