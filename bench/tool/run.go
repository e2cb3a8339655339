package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// A command the driver times: wall-clock time of the process, or the SECONDS= line
// it prints when it times its own predict-only section, and its peak RSS.
type command struct {
	label    string
	argv     []string
	env      []string
	reported bool
}

type sample struct {
	secs  float64
	rssMB float64
}

// A comparison: a (mlbatch) against b (the peer), run alternately.
type comparison struct {
	workload, peer string
	a, b           command
	// kind: "time" compares seconds a/b against max; "speedup" compares b/a
	// (a = 2 workers, b = 1) against min; "rss" compares peak RSS a/b against max,
	// and a's RSS against capMB.
	kind     string
	max, min float64
	capMB    float64
	target   string
}

var secondsRE = regexp.MustCompile(`SECONDS=([0-9.eE+-]+)`)

func runOnce(c command) (sample, error) {
	cmd := exec.Command(c.argv[0], c.argv[1:]...)
	cmd.Env = append(os.Environ(), c.env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	t0 := time.Now()
	err := cmd.Run()
	wall := time.Since(t0).Seconds()
	if err != nil {
		return sample{}, fmt.Errorf("%s: %v\n%s%s", strings.Join(c.argv, " "), err, out.String(), errb.String())
	}
	s := sample{secs: wall}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		s.rssMB = float64(ru.Maxrss) / 1024 // Linux: KiB
	}
	if c.reported {
		m := secondsRE.FindSubmatch(out.Bytes())
		if m == nil {
			return sample{}, fmt.Errorf("%s printed no SECONDS=: %s", c.label, out.String())
		}
		s.secs, _ = strconv.ParseFloat(string(m[1]), 64)
	}
	return s, nil
}

func median(xs []float64) float64 {
	ys := slices.Clone(xs)
	slices.Sort(ys)
	n := len(ys)
	if n%2 == 1 {
		return ys[n/2]
	}
	return (ys[n/2-1] + ys[n/2]) / 2
}

type row struct {
	c            comparison
	aSecs, bSecs float64
	aRSS, bRSS   float64
	ratio        float64
	met          bool
	n            int
}

func runCmd(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	dir := fs.String("dir", "bench/out", "data, models and scratch outputs")
	runs := fs.Int("runs", 5, "runs of each side (alternating)")
	bin := fs.String("mlbatch", "bin/mlbatch", "mlbatch binary")
	tool := fs.String("tool", "bench/out/tool", "this tool's binary")
	python := fs.String("python", "/usr/bin/python3", "Debian python with sklearn, xgboost, pandas")
	md := fs.String("md", "bench/RESULTS.md", "Markdown table to write")
	only := fs.String("only", "", "run only workloads containing this text")
	big := fs.Bool("big", true, "include the 10M-row RSS runs (needs DIR/10m)")
	bigCSV := fs.Bool("bigcsv", false, "also measure peak RSS on the 10M-row CSV (2.5 GB; slow)")
	withDuck := fs.Bool("duckdb", true, "include the DuckDB peer (needs bench/node_modules)")
	fs.Parse(args)

	d1 := filepath.Join(*dir, "1m")
	d10 := filepath.Join(*dir, "10m")
	md1 := filepath.Join(*dir, "models")
	tmp := filepath.Join(*dir, "tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
	o := func(name string) string { return filepath.Join(tmp, name) }
	score := func(label, mdl, in, out string, workers int) command {
		return command{label: label, argv: []string{*bin, "score", "--model", mdl, "--in", in, "--out", out,
			"--overwrite", "-q", "--workers", strconv.Itoa(workers)}}
	}
	thr := []string{"OMP_NUM_THREADS=2", "OPENBLAS_NUM_THREADS=2", "MKL_NUM_THREADS=2"}
	py := func(label string, a ...string) command {
		return command{label: label, argv: append([]string{*python, "bench/peers.py"}, a...), env: thr}
	}
	pyRep := func(label string, a ...string) command {
		c := py(label, a...)
		c.reported = true
		return c
	}
	duck := func(label, format, in, out string) command {
		return command{label: label, argv: []string{"node", "bench/duckdb.mjs", format, filepath.Join(md1, "lr.json"), in, out}}
	}
	pred := func(label, mdl string, workers int) command {
		return command{label: label, reported: true, argv: []string{*tool, "predict", "-model", filepath.Join(md1, mdl),
			"-in", filepath.Join(d1, "data.parquet"), "-workers", strconv.Itoa(workers)}}
	}
	lr := filepath.Join(md1, "lr")
	csv1, pq1, f64 := filepath.Join(d1, "data.csv"), filepath.Join(d1, "data.parquet"), filepath.Join(d1, "data.f64")

	comps := []comparison{
		{workload: "LinearRegression CSV→CSV", peer: "pandas+sklearn", kind: "time", max: 0.1, target: "≥ 10× faster",
			a: score("mlbatch", lr, csv1, o("mlb.csv"), 2), b: py("pandas", "pandas-lr", filepath.Join(lr, "model.pkl"), csv1, o("pandas.csv"))},
		{workload: "LinearRegression CSV→CSV", peer: "DuckDB", kind: "time", max: 1.0, target: "≤ 1.0×",
			a: score("mlbatch", lr, csv1, o("mlb.csv"), 2), b: duck("duckdb", "csv", csv1, o("duck.csv"))},
		{workload: "LinearRegression Parquet→Parquet, all columns", peer: "DuckDB", kind: "time", max: 1.0, target: "≤ 1.0×",
			a: score("mlbatch", lr, pq1, o("mlb.parquet"), 2), b: duck("duckdb", "parquet", pq1, o("duck.parquet"))},
		{workload: "LinearRegression Parquet→Parquet, scoring vs copying", peer: "mlbatch copy (no model)", kind: "time", max: 1.3, target: "≤ 1.3×",
			a: score("mlbatch", lr, pq1, o("mlb.parquet"), 2), b: command{label: "copy", argv: []string{*tool, "copy", "-in", pq1, "-out", o("copy.parquet")}}},
		{workload: "LinearRegression CSV→CSV, scoring vs copying (info)", peer: "mlbatch copy (no model)", kind: "time", max: math_inf, target: "(info)",
			a: score("mlbatch", lr, csv1, o("mlb.csv"), 2), b: command{label: "copy", argv: []string{*tool, "copy", "-in", csv1, "-out", o("copy.csv")}}},
		{workload: "XGBoost 100 trees depth 6, predict only", peer: "xgboost inplace_predict", kind: "time", max: 1.0, target: "≥ 1.0× rows/s",
			a: pred("mlbatch", "xgb", 2), b: pyRep("xgboost", "predict-xgb", filepath.Join(md1, "xgb", "model.ubj"), f64, "2")},
		{workload: "RandomForest 100 trees depth 10, predict only", peer: "sklearn predict", kind: "time", max: 1.0 / 3, target: "≥ 3×",
			a: pred("mlbatch", "rf", 2), b: pyRep("sklearn", "predict-sklearn", filepath.Join(md1, "rf", "model.pkl"), f64, "2")},
		{workload: "HistGradientBoosting 100 iterations, predict only", peer: "sklearn predict", kind: "time", max: 0.5, target: "≥ 2×",
			a: pred("mlbatch", "hgb", 2), b: pyRep("sklearn", "predict-sklearn", filepath.Join(md1, "hgb", "model.pkl"), f64, "2")},
		{workload: "RandomForest, 2 workers vs 1", peer: "itself", kind: "speedup", min: 1.7, target: "≥ 1.7×",
			a: pred("2 workers", "rf", 2), b: pred("1 worker", "rf", 1)},
		{workload: "XGBoost, 2 workers vs 1", peer: "itself", kind: "speedup", min: 1.7, target: "≥ 1.7×",
			a: pred("2 workers", "xgb", 2), b: pred("1 worker", "xgb", 1)},
	}
	if *big {
		comps = append(comps,
			comparison{workload: "peak RSS, LinearRegression Parquet→Parquet, 10M vs 1M rows", peer: "itself", kind: "rss", max: 1.2, capMB: 512, target: "≤ 1.2×, < 512 MB",
				a: score("10M", lr, filepath.Join(d10, "data.parquet"), o("mlb10.parquet"), 2), b: score("1M", lr, pq1, o("mlb.parquet"), 2)},
		)
	}
	if *big && *bigCSV {
		comps = append(comps,
			comparison{workload: "peak RSS, LinearRegression CSV→CSV, 10M vs 1M rows", peer: "itself", kind: "rss", max: 1.2, capMB: 512, target: "≤ 1.2×, < 512 MB",
				a: score("10M", lr, filepath.Join(d10, "data.csv"), o("mlb10.csv"), 2), b: score("1M", lr, csv1, o("mlb.csv"), 2)},
		)
	}

	var rows []row
	for _, c := range comps {
		if !*withDuck && c.peer == "DuckDB" {
			continue
		}
		if *only != "" && !strings.Contains(c.workload, *only) {
			continue
		}
		var as, bs []sample
		for i := range *runs {
			first, second := c.a, c.b
			if i%2 == 1 {
				first, second = second, first
			}
			s1, err := runOnce(first)
			if err != nil {
				return err
			}
			s2, err := runOnce(second)
			if err != nil {
				return err
			}
			if i%2 == 1 {
				s1, s2 = s2, s1
			}
			as, bs = append(as, s1), append(bs, s2)
		}
		r := row{c: c, n: *runs}
		r.aSecs = median(pick(as, false))
		r.bSecs = median(pick(bs, false))
		r.aRSS = median(pick(as, true))
		r.bRSS = median(pick(bs, true))
		switch c.kind {
		case "time":
			r.ratio = r.aSecs / r.bSecs
			r.met = r.ratio <= c.max
		case "speedup":
			r.ratio = r.bSecs / r.aSecs
			r.met = r.ratio >= c.min
		case "rss":
			r.ratio = r.aRSS / r.bRSS
			r.met = r.ratio <= c.max && r.aRSS < c.capMB
		}
		fmt.Fprintf(os.Stderr, "%-55s %-24s %8.3fs %8.3fs ratio %.3f  rss %.0f/%.0f MB\n",
			c.workload, c.peer, r.aSecs, r.bSecs, r.ratio, r.aRSS, r.bRSS)
		rows = append(rows, r)
	}
	table := render(rows, *runs)
	fmt.Print(table)
	return os.WriteFile(*md, []byte(table), 0o644)
}

const math_inf = 1e308

func pick(ss []sample, rss bool) []float64 {
	out := make([]float64, len(ss))
	for i, s := range ss {
		if rss {
			out[i] = s.rssMB
		} else {
			out[i] = s.secs
		}
	}
	return out
}

func render(rows []row, runs int) string {
	var b strings.Builder
	host, _ := os.Hostname()
	_ = host
	fmt.Fprintf(&b, "# mlbatch benchmark\n\n")
	fmt.Fprintf(&b, "Written by `make bench` (bench/run.sh) on %s, %s/%s, %d CPUs. ", time.Now().UTC().Format("2006-01-02"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	fmt.Fprintf(&b, "1M rows × 13 float64 columns (seed 1); medians of %d alternating runs; 2 threads on every side. ", runs)
	fmt.Fprintf(&b, "Times are wall-clock seconds of the whole process, except predict-only rows, which time the predict call inside the process (data already in memory). ")
	fmt.Fprintf(&b, "Ratio is mlbatch/peer for times (lower is better), 1 worker/2 workers for speedups, 10M/1M for peak RSS.\n\n")
	b.WriteString("| workload | peer | mlbatch | peer | ratio | mlbatch peak RSS | peer peak RSS | target | met |\n")
	b.WriteString("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |\n")
	for _, r := range rows {
		met := "no"
		if r.met {
			met = "yes"
		}
		if r.c.target == "(info)" {
			met = "—"
		}
		ratio := fmt.Sprintf("%.2f×", r.ratio)
		fmt.Fprintf(&b, "| %s | %s | %.3f s | %.3f s | %s | %.0f MB | %.0f MB | %s | %s |\n",
			r.c.workload, r.c.peer, r.aSecs, r.bSecs, ratio, r.aRSS, r.bRSS, r.c.target, met)
	}
	return b.String()
}
