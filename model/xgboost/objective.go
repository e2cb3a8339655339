package xgboost

import (
	"fmt"
	"sort"
	"strings"
)

type link uint8

const (
	linkIdentity link = iota
	linkLogit         // base_score -> -log(1/b - 1)
	linkLog           // base_score -> log(b)
)

type transform uint8

const (
	transIdentity transform = iota
	transSigmoid
	transExp
	transSoftprob // softmax over the classes of a row
	transSoftmax  // index of the largest margin
	transHinge    // 1 if margin > 0 else 0
)

// objective is what prediction needs from an XGBoost objective: the inverse
// link applied to base_score (ObjFunction::ProbToMargin) and the output
// transform (ObjFunction::PredTransform).
type objective struct {
	name      string
	link      link
	transform transform
}

var objectives = map[string]objective{
	"reg:squarederror":     {link: linkIdentity, transform: transIdentity},
	"reg:linear":           {link: linkIdentity, transform: transIdentity}, // old name of squarederror
	"reg:squaredlogerror":  {link: linkIdentity, transform: transIdentity},
	"reg:pseudohubererror": {link: linkIdentity, transform: transIdentity},
	"reg:absoluteerror":    {link: linkIdentity, transform: transIdentity},
	"reg:quantileerror":    {link: linkIdentity, transform: transIdentity},
	"reg:expectileerror":   {link: linkIdentity, transform: transIdentity},
	"rank:pairwise":        {link: linkIdentity, transform: transIdentity},
	"rank:ndcg":            {link: linkIdentity, transform: transIdentity},
	"rank:map":             {link: linkIdentity, transform: transIdentity},
	"binary:logistic":      {link: linkLogit, transform: transSigmoid},
	"reg:logistic":         {link: linkLogit, transform: transSigmoid},
	// LogisticRaw keeps base_score as the margin (its own ProbToMargin in
	// src/objective/regression_loss.h); checked against xgboost 1.7.4.
	"binary:logitraw": {link: linkIdentity, transform: transIdentity},
	"binary:hinge":    {link: linkIdentity, transform: transHinge},
	"count:poisson":   {link: linkLog, transform: transExp},
	"reg:gamma":       {link: linkLog, transform: transExp},
	"reg:tweedie":     {link: linkLog, transform: transExp},
	"survival:cox":    {link: linkLog, transform: transExp},
	"survival:aft":    {link: linkLog, transform: transExp},
	"multi:softprob":  {link: linkIdentity, transform: transSoftprob},
	"multi:softmax":   {link: linkIdentity, transform: transSoftmax},
}

func lookupObjective(name string) (objective, error) {
	o, ok := objectives[name]
	if !ok {
		var names []string
		for k := range objectives {
			names = append(names, k)
		}
		sort.Strings(names)
		return objective{}, fmt.Errorf("objective %q is not supported; mlbatch supports %s", printable(name), strings.Join(names, ", "))
	}
	o.name = name
	return o, nil
}

// probToMargin converts a user-space base_score to a margin, in float32 as
// XGBoost does.
func (o objective) probToMargin(b float32) (float32, error) {
	switch o.link {
	case linkLogit:
		if !(b > 0 && b < 1) {
			return 0, fmt.Errorf("base_score %v must be in (0, 1) for %s", b, o.name)
		}
		t := float32(float32(1)/b) - 1
		return -logf(t), nil
	case linkLog:
		return logf(b), nil
	}
	return b, nil
}

// sigmoid is xgboost's common::Sigmoid(float) (src/common/math.h): the argument
// of exp is clamped at 88.7 and the work is done in float32.
func sigmoid(x float32) float32 {
	t := -x
	if t > 88.7 {
		t = 88.7
	}
	const eps = float32(1e-16)
	denom := float32(float32(expf(t)+1) + eps)
	return 1 / denom
}

// transformOne applies the element-wise transform to one value (softmax
// objectives are left alone).
func (o objective) transformOne(x float32) float32 {
	switch o.transform {
	case transSigmoid:
		return sigmoid(x)
	case transExp:
		return expf(x)
	case transHinge:
		if x > 0 {
			return 1
		}
		return 0
	}
	return x
}

// softmaxRow is common::Softmax: the maximum found with fmaxf (which skips
// NaN), the exponentials summed in double, each divided by the float32 sum.
func softmaxRow(p []float32) {
	wmax := p[0]
	for _, v := range p[1:] {
		wmax = fmaxf(v, wmax)
	}
	var wsum float64
	for i, v := range p {
		e := expf(v - wmax)
		p[i] = e
		wsum += float64(e)
	}
	s := float32(wsum)
	for i := range p {
		p[i] /= s
	}
}

func fmaxf(a, b float32) float32 {
	if a != a {
		return b
	}
	if b != b {
		return a
	}
	if a > b {
		return a
	}
	return b
}

// argmax is common::FindMaxIndex: the first index holding the largest value.
func argmax(p []float32) int {
	best := 0
	for i, v := range p {
		if v > p[best] {
			best = i
		}
	}
	return best
}
