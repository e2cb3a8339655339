package lightgbm

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

type objKind uint8

const (
	objIdentity objKind = iota // regression_l2/l1, quantile, ..., ranking, none
	objSqrt                    // regression* with "sqrt": sign(x)*x*x
	objExp                     // poisson, gamma, tweedie
	objSigmoid                 // binary, cross_entropy: 1/(1+exp(-s*x))
	objSoftmax                 // multiclass
	objOVA                     // multiclassova: per-class sigmoid
	objLog1pExp                // cross_entropy_lambda: log1p(exp(x))
)

// Objective is a model's objective line (e.g. "binary sigmoid:1") and the output
// transform LightGBM's ConvertOutput applies to the raw scores.
type Objective struct {
	// Text is the line as written; Name its first word ("" when the model has no
	// objective line).
	Text, Name string
	// Sigmoid is the sigmoid: parameter of binary and multiclassova.
	Sigmoid float64
	// NumClass is the num_class: parameter of multiclass and multiclassova.
	NumClass int
	kind     objKind
}

func (o Objective) multi() bool { return o.kind == objSoftmax || o.kind == objOVA }

// Classifier reports whether the objective's outputs are class probabilities.
func (o Objective) Classifier() bool {
	return o.Name == "binary" || o.multi()
}

// parseObjective reads an objective line the way LightGBM's
// ObjectiveFunction::CreateObjectiveFunction(string) does: the first word names
// the objective, later words are flags ("sqrt") or key:value parameters.
func parseObjective(s string) (Objective, error) {
	words := fields(s)
	o := Objective{Text: s}
	if len(words) == 0 {
		return o, fmt.Errorf("empty objective line")
	}
	o.Name = words[0]
	params := map[string]string{}
	sqrt := false
	for _, w := range words[1:] {
		if w == "sqrt" {
			sqrt = true
		}
		// LightGBM splits on ':' dropping empty parts and uses exactly two-part
		// words.
		parts := strings.FieldsFunc(w, func(r rune) bool { return r == ':' })
		if len(parts) == 2 {
			params[parts[0]] = parts[1]
		}
	}
	sigmoid := func() error {
		v, ok := params["sigmoid"]
		if !ok {
			return fmt.Errorf("objective %q has no sigmoid: parameter", clip(s))
		}
		f, ok := lgbAtof(v)
		if !ok || !(f > 0) || math.IsInf(f, 0) {
			return fmt.Errorf("objective %q: sigmoid must be a number greater than zero", clip(s))
		}
		o.Sigmoid = f
		return nil
	}
	numClass := func() error {
		v, ok := params["num_class"]
		if !ok {
			return fmt.Errorf("objective %q has no num_class: parameter", clip(s))
		}
		k, err := strconv.Atoi(v)
		if err != nil || k < 1 {
			return fmt.Errorf("objective %q: num_class must be a positive integer", clip(s))
		}
		o.NumClass = k
		return nil
	}
	switch o.Name {
	case "regression", "regression_l1", "quantile", "fair", "mape":
		// These share RegressionL2loss's output: sign(x)*x^2 when trained on
		// sqrt-transformed labels (reg_sqrt), else the raw score.
		if sqrt {
			o.kind = objSqrt
		}
	case "huber":
		// Huber turns the sqrt transform off when it is created.
	case "poisson", "gamma", "tweedie":
		o.kind = objExp
	case "binary":
		o.kind = objSigmoid
		if err := sigmoid(); err != nil {
			return o, err
		}
	case "multiclass":
		o.kind = objSoftmax
		if err := numClass(); err != nil {
			return o, err
		}
	case "multiclassova":
		o.kind = objOVA
		if err := numClass(); err != nil {
			return o, err
		}
		if err := sigmoid(); err != nil {
			return o, err
		}
	case "cross_entropy", "xentropy":
		o.kind = objSigmoid
		o.Sigmoid = 1
	case "cross_entropy_lambda", "xentlambda":
		o.kind = objLog1pExp
	case "lambdarank", "rank_xendcg":
	case "none", "null", "custom", "na":
		// A custom objective: LightGBM returns raw scores.
	default:
		return o, fmt.Errorf("unknown objective %q", clip(o.Name))
	}
	return o, nil
}

// convert applies the objective's transform to one row of raw scores in place.
func (o *Objective) convert(s []float64) {
	switch o.kind {
	case objSqrt:
		x := s[0]
		s[0] = sign(x) * x * x
	case objExp:
		s[0] = math.Exp(s[0])
	case objSigmoid:
		s[0] = 1 / (1 + math.Exp(-o.Sigmoid*s[0]))
	case objLog1pExp:
		s[0] = math.Log1p(math.Exp(s[0]))
	case objOVA:
		for k, x := range s {
			s[k] = 1 / (1 + math.Exp(-o.Sigmoid*x))
		}
	case objSoftmax:
		softmax(s)
	}
}

// sign is LightGBM's Common::Sign: (x > 0) - (x < 0), so 0 for zero and NaN.
func sign(x float64) float64 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}

// softmax is LightGBM's Common::Softmax, including its max: std::max(a, b) keeps
// the running max only while the new value compares smaller.
func softmax(s []float64) {
	wmax := s[0]
	for _, x := range s[1:] {
		if !(x < wmax) {
			wmax = x
		}
	}
	sum := 0.0
	for k, x := range s {
		s[k] = math.Exp(x - wmax)
		sum += s[k]
	}
	for k := range s {
		s[k] /= sum
	}
}
