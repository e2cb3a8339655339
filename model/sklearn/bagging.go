package sklearn

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/model"
	"github.com/mlbatch/mlbatch/model/pickle"
)

// BaggingClassifier and BaggingRegressor: each estimator sees the columns
// estimators_features_ gives it. The classifier adds the estimators'
// predict_proba (or, for an estimator without one, a vote for the class it
// predicts) and divides by n_estimators; the regressor averages predict. The
// estimators are fitted on the encoded classes 0..K-1. As in scikit-learn,
// the sums run per joblib job (n_jobs of the pickle, None being one job) and
// the job totals are then added: with a positive n_jobs the order of
// additions is the one Python uses.

func init() {
	for _, m := range []string{"sklearn.ensemble._bagging", "sklearn.ensemble.bagging"} {
		register(m+".BaggingClassifier", buildBagging)
		register(m+".BaggingRegressor", buildBagging)
	}
}

type baggingCore struct {
	metaBase
	members []*member
	feats   [][]int
	starts  []int // job boundaries over members
	nEst    float64
	cls     *classes
	enc     [][]int // per member: class index -> encoded class
	vote    []bool  // member has no predict_proba: it votes
}

func buildBagging(obj *pickle.Object) (Estimator, error) {
	members, err := membersOf(obj, "estimators_", false)
	if err != nil {
		return nil, err
	}
	fv, err := obj.Items("estimators_features_")
	if err != nil {
		return nil, fmt.Errorf("not fitted: %w", err)
	}
	if len(fv) != len(members) {
		return nil, fmt.Errorf("%d estimators_features_ for %d estimators", len(fv), len(members))
	}
	c := &baggingCore{members: members, nEst: float64(len(members))}
	nFeat, hasN := intAttr(obj, "n_features_in_")
	if !hasN {
		nFeat, hasN = intAttr(obj, "n_features_")
	}
	for i, v := range fv {
		f, err := intsOf(v, fmt.Sprintf("estimators_features_[%d]", i))
		if err != nil {
			return nil, err
		}
		for _, j := range f {
			if j < 0 || hasN && j >= nFeat {
				return nil, fmt.Errorf("estimators_features_[%d] holds feature %d of %d", i, j, nFeat)
			}
		}
		if n := members[i].est.NumFeatures(); n >= 0 && n != len(f) {
			return nil, fmt.Errorf("estimators_[%d] was fitted on %d features, estimators_features_ gives it %d", i, n, len(f))
		}
		c.feats = append(c.feats, f)
	}
	if !hasN {
		return nil, fmt.Errorf("n_features_in_ is missing")
	}
	if n, ok := intAttr(obj, "n_estimators"); ok && n > 0 {
		c.nEst = float64(n)
	}
	// _partition_estimators(n_estimators, n_jobs)
	jobs := 1
	if n, ok := intAttr(obj, "n_jobs"); ok && n > 1 {
		jobs = n
	}
	jobs = min(jobs, len(members))
	c.starts = []int{0}
	for j := range jobs {
		per := len(members) / jobs
		if j < len(members)%jobs {
			per++
		}
		c.starts = append(c.starts, c.starts[j]+per)
	}
	if !isClassifierClass(obj.Name) {
		for _, m := range members {
			if !m.has(capRegress) {
				return nil, fmt.Errorf("%s is not a regressor", m.who)
			}
		}
		return newMetaEst(obj, c)
	}
	if c.cls, err = classesOf(obj, "classes_"); err != nil {
		return nil, err
	}
	for _, m := range members {
		if !m.has(capLabels) {
			return nil, fmt.Errorf("%s is not a single-output classifier", m.who)
		}
		enc, err := encodedIndex(m.labels(), c.cls.len(), m.who)
		if err != nil {
			return nil, err
		}
		c.enc = append(c.enc, enc)
		c.vote = append(c.vote, !m.has(capProba))
	}
	return newMetaEst(obj, c)
}

func (c *baggingCore) subsetsFeatures() {}
func (c *baggingCore) parts() []*member { return c.members }
func (c *baggingCore) labels() *classes { return c.cls }

func (c *baggingCore) can(k capability) bool {
	if c.cls == nil {
		return k == capRegress
	}
	switch k {
	case capLabels, capProba:
		return true
	case capDecision:
		return c.members[0].has(capDecision)
	}
	return false
}

func (c *baggingCore) outputs(opts model.LoadOptions) []model.Column {
	if c.cls == nil {
		return regressorOutputsOf(c)
	}
	return classifierOutputsOf(c, opts)
}

func (c *baggingCore) predictIn(in *input, opts model.LoadOptions, mem memory.Allocator) ([]arrow.Array, error) {
	if c.cls == nil {
		return regressorPredictIn(c, in, mem)
	}
	p, err := c.probaIn(in)
	if err != nil {
		return nil, err
	}
	return probaResult(c.cls, p, in.rows(), opts, mem), nil
}

// jobSums adds each job's per-member contributions (from zero), then the job
// totals, as sum(all_proba) does.
func (c *baggingCore) jobSums(width int, rows int, add func(e int, acc []float64) error) ([]float64, error) {
	total := make([]float64, rows*width)
	job := make([]float64, rows*width)
	for j := 0; j+1 < len(c.starts); j++ {
		clear(job)
		for e := c.starts[j]; e < c.starts[j+1]; e++ {
			if err := add(e, job); err != nil {
				return nil, err
			}
		}
		for i, v := range job {
			total[i] += v
		}
	}
	return total, nil
}

func (c *baggingCore) probaIn(in *input) ([]float64, error) {
	rows, K := in.rows(), c.cls.len()
	p, err := c.jobSums(K, rows, func(e int, acc []float64) error {
		sub := in.columns(c.feats[e])
		m := c.members[e]
		enc := c.enc[e]
		if c.vote[e] {
			idx, err := m.index(sub)
			if err != nil {
				return err
			}
			for i, k := range idx {
				acc[i*K+enc[k]]++
			}
			return nil
		}
		pe, err := m.proba(sub)
		if err != nil {
			return err
		}
		ke := len(enc)
		for i := range rows {
			for k := range ke {
				acc[i*K+enc[k]] += pe[i*ke+k]
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i := range p {
		p[i] /= c.nEst
	}
	return p, nil
}

func (c *baggingCore) indexIn(in *input) ([]int, error) {
	p, err := c.probaIn(in)
	if err != nil {
		return nil, err
	}
	return argmaxRows(p, in.rows(), c.cls.len()), nil
}

func (c *baggingCore) decideIn(in *input) ([]float64, int, error) {
	rows := in.rows()
	cols, width := -1, c.cls.len()
	if width == 2 {
		width = 1
	}
	d, err := c.jobSums(width, rows, func(e int, acc []float64) error {
		v, n, err := c.members[e].decide(in.columns(c.feats[e]))
		if err != nil {
			return err
		}
		if cols >= 0 && n != cols || len(v) != len(acc) {
			return fmt.Errorf("%s gives %d decision columns, the others %d", c.members[e].who, n, cols)
		}
		cols = n
		for i, x := range v {
			acc[i] += x
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	for i := range d {
		d[i] /= c.nEst
	}
	return d, width, nil
}

func (c *baggingCore) regressIn(in *input) ([]float64, error) {
	rows := in.rows()
	p, err := c.jobSums(1, rows, func(e int, acc []float64) error {
		v, err := c.members[e].regress(in.columns(c.feats[e]))
		if err != nil {
			return err
		}
		if len(v) != rows {
			return fmt.Errorf("%s predicts %d values for %d rows (one target is supported)", c.members[e].who, len(v), rows)
		}
		for i, x := range v {
			acc[i] += x
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i := range p {
		p[i] /= c.nEst
	}
	return p, nil
}
