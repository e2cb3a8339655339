package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/readers"
	"github.com/mlbatch/mlbatch/writers"
)

// The demo: a scikit-learn LinearRegression over the diabetes data, with the
// predictions scikit-learn itself made (testdata/demo/expected.csv).
var demoModel = []string{"--tracking-uri", filepath.Join(testdata, "demo", "mlruns"), "--model", "runs:/d050509c3eccff80e45131fc149d7535/model"}

// diabetes reads the demo input with an id column (the row's place, 0-based)
// in front.
func diabetes(t *testing.T) arrow.RecordBatch {
	t.Helper()
	r, err := readers.Open(filepath.Join(testdata, "demo", "diabetes.csv"), readers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rec, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	ib := array.NewInt64Builder(memory.DefaultAllocator)
	defer ib.Release()
	for i := range rec.NumRows() {
		ib.Append(i)
	}
	ids := ib.NewArray()
	defer ids.Release()
	fields := append([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}}, rec.Schema().Fields()...)
	return array.NewRecordBatch(arrow.NewSchema(fields, nil), append([]arrow.Array{ids}, rec.Columns()...), rec.NumRows())
}

// expectedPredictions are scikit-learn's predictions for the demo rows.
func expectedPredictions(t *testing.T) []float64 {
	t.Helper()
	tb := readTable(t, filepath.Join(testdata, "demo", "expected.csv"))
	var out []float64
	for _, s := range tb.cols["prediction"] {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

// writeHiveDataset writes the demo rows as a 20-file Hive-partitioned Parquet
// dataset, date=2024-01-DD/hour=H/part-K.parquet with row groups of 5 rows, plus
// files a dataset reader must skip.
func writeHiveDataset(t *testing.T, dir string) {
	t.Helper()
	rec := diabetes(t)
	defer rec.Release()
	n := rec.NumRows()
	const files = 20
	for k := range files {
		lo, hi := n*int64(k)/files, n*int64(k+1)/files
		sub := filepath.Join(dir, fmt.Sprintf("date=2024-01-%02d", 1+k/2), fmt.Sprintf("hour=%d", k%2))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		w, err := writers.Create(filepath.Join(sub, fmt.Sprintf("part-%d.parquet", k)), rec.Schema(), writers.Options{RowGroupRows: 5})
		if err != nil {
			t.Fatal(err)
		}
		s := rec.NewSlice(lo, hi)
		if err := w.Write(s); err != nil {
			t.Fatal(err)
		}
		s.Release()
		if err := w.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	for _, junk := range []string{"_SUCCESS", ".part-0.parquet.crc", "_temporary/0/part-9.parquet", "date=2024-01-01/.hidden/x.parquet"} {
		p := filepath.Join(dir, junk)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("not data"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// readFolder reads a folder output's parts in name order as one table.
func readFolder(t *testing.T, dir string) table {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "part-") {
			parts = append(parts, e.Name())
		}
	}
	sort.Strings(parts)
	var out table
	for i, p := range parts {
		tb := readTable(t, filepath.Join(dir, p))
		if i == 0 {
			out = table{names: tb.names, cols: map[string][]string{}}
		}
		for _, n := range tb.names {
			out.cols[n] = append(out.cols[n], tb.cols[n]...)
		}
		out.rows += tb.rows
	}
	return out
}

func sameTable(t *testing.T, what string, got, want table) {
	t.Helper()
	if strings.Join(got.names, ",") != strings.Join(want.names, ",") || got.rows != want.rows {
		t.Fatalf("%s: columns %v with %d rows, want %v with %d rows", what, got.names, got.rows, want.names, want.rows)
	}
	for _, n := range want.names {
		for i := range want.cols[n] {
			if got.cols[n][i] != want.cols[n][i] {
				t.Fatalf("%s: column %s row %d: %s, want %s", what, n, i, got.cols[n][i], want.cols[n][i])
			}
		}
	}
}

func markers(t *testing.T, dir string) []string {
	ents, _ := os.ReadDir(dir)
	var out []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "_SUCCESS") {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestDatasetShardsProcesses scores a 20-file Hive-partitioned dataset in one
// run and as 4 shards run as 4 processes, kills a shard's re-run and runs it
// again, and pipes Arrow and JSON Lines streams through the binary.
func TestDatasetShardsProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	work := t.TempDir()
	in := filepath.Join(work, "events")
	writeHiveDataset(t, in)
	want := expectedPredictions(t)
	score := func(env []string, args ...string) *exec.Cmd {
		cmd := exec.Command(bin, append(append([]string{"score"}, demoModel...), args...)...)
		cmd.Env = append(os.Environ(), env...)
		return cmd
	}

	// One run.
	single := filepath.Join(work, "single")
	if out, err := score(nil, "--in", in, "--out", single, "--partition-columns", "--max-rows-per-file", "100", "-q").CombinedOutput(); err != nil {
		t.Fatalf("single run: %v\n%s", err, out)
	}
	one := readFolder(t, single)
	if got := strings.Join(one.names, ","); got != "id,age,sex,bmi,bp,s1,s2,s3,s4,s5,s6,date,hour,prediction" {
		t.Fatalf("columns %s", got)
	}
	if one.rows != len(want) {
		t.Fatalf("%d rows, want %d", one.rows, len(want))
	}
	var maxRel float64
	for i, w := range want {
		if one.cols["id"][i] != strconv.Itoa(i) {
			t.Fatalf("row %d has id %s: input order lost", i, one.cols["id"][i])
		}
		g, _ := strconv.ParseFloat(one.cols["prediction"][i], 64)
		maxRel = max(maxRel, math.Abs(g-w)/math.Abs(w))
	}
	if maxRel > 1e-9 {
		t.Fatalf("predictions differ from scikit-learn's by %g relative", maxRel)
	}
	t.Logf("single run: %d rows, max relative difference from scikit-learn %.3g", one.rows, maxRel)
	if d, h := one.cols["date"][0], one.cols["hour"][len(want)-1]; d != "2024-01-01" || h != "1" {
		t.Fatalf("partition values %s, %s", d, h)
	}
	if m := markers(t, single); strings.Join(m, ",") != "_SUCCESS" {
		t.Fatalf("markers %v", m)
	}

	// Four shards, four processes at once; shard 3 takes its index from
	// JOB_COMPLETION_INDEX as in a Kubernetes Indexed Job.
	sharded := filepath.Join(work, "sharded")
	var cmds []*exec.Cmd
	for i := range 4 {
		args := []string{"--in", in, "--out", sharded + "/", "--partition-columns", "--max-rows-per-file", "40", "-q"}
		var env []string
		if i == 3 {
			args = append(args, "--shard-count", "4")
			env = []string{"JOB_COMPLETION_INDEX=3"}
		} else {
			args = append(args, "--shard", fmt.Sprintf("%d/4", i))
		}
		c := score(env, args...)
		c.Stderr = &bytes.Buffer{}
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, c)
	}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("shard %d: %v\n%s", i, err, c.Stderr)
		}
	}
	sameTable(t, "4 shards", readFolder(t, sharded), one)
	if m := markers(t, sharded); len(m) != 4 || m[2] != "_SUCCESS.shard-0002-of-0004" {
		t.Fatalf("markers %v", m)
	}

	// Re-running a shard needs --overwrite.
	if out, err := score(nil, "--in", in, "--out", sharded, "--partition-columns", "--shard", "2/4", "-q").CombinedOutput(); err == nil ||
		!strings.Contains(string(out), "--overwrite") {
		t.Fatalf("re-run without --overwrite: %v\n%s", err, out)
	}

	// Kill shard 2's re-run once it has committed new parts (one row per part, so
	// it has many to write), then run it again: the union is the single run's.
	killed := false
	for attempt := 0; attempt < 3 && !killed; attempt++ {
		// The part waited for must be this attempt's (an attempt that finished
		// first left one): by the time the run commits it, it has removed the
		// shard's marker.
		os.Remove(filepath.Join(sharded, "part-00002-00005.parquet"))
		c := score(nil, "--in", in, "--out", sharded, "--partition-columns", "--shard", "2/4", "--overwrite",
			"--batch-size", "1", "--max-rows-per-file", "1", "--workers", "1", "-q")
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			if _, err := os.Stat(filepath.Join(sharded, "part-00002-00005.parquet")); err == nil {
				break
			}
			time.Sleep(time.Millisecond)
		}
		c.Process.Signal(syscall.SIGKILL)
		killed = c.Wait() != nil
	}
	if !killed {
		t.Fatal("the shard's re-run finished before it could be killed: the test proved nothing")
	}
	if m := markers(t, sharded); len(m) != 3 {
		t.Fatalf("after the kill, markers %v: shard 2's must be gone", m)
	}
	if out, err := score(nil, "--in", in, "--out", sharded, "--partition-columns", "--shard", "2/4", "--overwrite", "--max-rows-per-file", "40", "-q").CombinedOutput(); err != nil {
		t.Fatalf("re-run: %v\n%s", err, out)
	}
	sameTable(t, "4 shards after a killed and repeated shard", readFolder(t, sharded), one)
	if m := markers(t, sharded); len(m) != 4 {
		t.Fatalf("markers %v", m)
	}
	if ents, _ := filepath.Glob(filepath.Join(sharded, ".*mlbatch-tmp*")); len(ents) != 0 {
		t.Fatalf("temporary files left: %v", ents)
	}

	t.Run("plan", func(t *testing.T) {
		out, err := exec.Command(bin, "plan", "--in", in, "--shard-count", "4", "--json").Output()
		if err != nil {
			t.Fatal(err)
		}
		var p planJSON
		if err := json.Unmarshal(out, &p); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		var rows int64
		for i, s := range p.Shards {
			rows += s.Rows
			part := readFolderShard(t, sharded, i)
			if int64(part) != s.Rows {
				t.Errorf("plan says shard %d has %d rows, its parts hold %d", i, s.Rows, part)
			}
		}
		if len(p.Shards) != 4 || rows != int64(len(want)) || p.Files != 20 {
			t.Fatalf("plan: %+v", p)
		}
	})

	t.Run("arrow pipe", func(t *testing.T) {
		rec := diabetes(t)
		defer rec.Release()
		var in bytes.Buffer
		w := ipc.NewWriter(&in, ipc.WithSchema(rec.Schema()))
		for lo := int64(0); lo < rec.NumRows(); lo += 100 { // 5 batches
			s := rec.NewSlice(lo, min(lo+100, rec.NumRows()))
			if err := w.Write(s); err != nil {
				t.Fatal(err)
			}
			s.Release()
		}
		w.Close()
		c := score(nil, "--in", "-", "--in-format", "arrow", "--out", "-", "--out-format", "arrow", "--keep", "id", "--progress", "json", "--progress-interval", "1ms")
		c.Stdin = &in
		var stdout, stderr bytes.Buffer
		c.Stdout, c.Stderr = &stdout, &stderr
		if err := c.Run(); err != nil {
			t.Fatalf("%v\n%s", err, stderr.String())
		}
		r, err := ipc.NewReader(&stdout)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Release()
		if got := r.Schema().String(); !strings.Contains(got, "id: type=int64") || !strings.Contains(got, "prediction: type=float64") {
			t.Fatalf("schema %s", got)
		}
		n, batches := 0, 0
		for r.Next() {
			b := r.RecordBatch()
			ids, preds := b.Column(0).(*array.Int64), b.Column(1).(*array.Float64)
			for i := range int(b.NumRows()) {
				if ids.Value(i) != int64(n) {
					t.Fatalf("row %d has id %d", n, ids.Value(i))
				}
				if math.Abs(preds.Value(i)-want[n]) > 1e-9*math.Abs(want[n]) {
					t.Fatalf("row %d: prediction %v, scikit-learn %v", n, preds.Value(i), want[n])
				}
				n++
			}
			batches++
		}
		if r.Err() != nil || n != len(want) || batches < 2 {
			t.Fatalf("%d rows in %d batches, err %v", n, batches, r.Err())
		}
		if !strings.Contains(stderr.String(), `"event":"done"`) || !strings.Contains(stderr.String(), "rows 442 read") && !strings.Contains(stderr.String(), "442 read") {
			t.Fatalf("stderr: %s", stderr.String())
		}
	})

	t.Run("arrow pipe failure", func(t *testing.T) {
		// A bad value on line 300 of a JSON Lines stream: the batches before it
		// have gone out when the run fails; the Arrow output is cut so that a
		// reader fails too, and the exit code is 5.
		var in bytes.Buffer
		for i := range 400 {
			bmi := "0.01"
			if i == 299 {
				bmi = `"oops"`
			}
			fmt.Fprintf(&in, `{"id":%d,"age":0.01,"sex":0.02,"bmi":%s,"bp":0,"s1":0,"s2":0,"s3":0,"s4":0,"s5":0,"s6":0}`+"\n", i, bmi)
		}
		c := score(nil, "--in", "-", "--in-format", "jsonl", "--out", "-", "--out-format", "arrow", "--batch-size", "50", "--workers", "1", "-q")
		c.Stdin = &in
		var stdout, stderr bytes.Buffer
		c.Stdout, c.Stderr = &stdout, &stderr
		err := c.Run()
		if code := c.ProcessState.ExitCode(); err == nil || code != 5 || !strings.Contains(stderr.String(), "row 300") {
			t.Fatalf("exit %d (%v): %s", code, err, stderr.String())
		}
		r, err := ipc.NewReader(&stdout)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Release()
		n := 0
		for r.Next() {
			n += int(r.RecordBatch().NumRows())
		}
		if r.Err() == nil || n >= 300 {
			t.Fatalf("a reader of the cut stream got %d rows and no error", n)
		}
	})

	t.Run("jsonl pipe", func(t *testing.T) {
		rec := diabetes(t)
		defer rec.Release()
		var in bytes.Buffer
		for i := range int(rec.NumRows()) {
			row := map[string]any{}
			for j, f := range rec.Schema().Fields() {
				row[f.Name] = rec.Column(j).GetOneForMarshal(i)
			}
			line, _ := json.Marshal(row)
			in.Write(append(line, '\n'))
		}
		c := score(nil, "--in", "-", "--in-format", "jsonl", "--out", "-", "--out-format", "jsonl", "--keep", "id", "--batch-size", "64", "-q")
		c.Stdin = &in
		var stdout, stderr bytes.Buffer
		c.Stdout, c.Stderr = &stdout, &stderr
		if err := c.Run(); err != nil {
			t.Fatalf("%v\n%s", err, stderr.String())
		}
		lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
		if len(lines) != len(want) {
			t.Fatalf("%d lines", len(lines))
		}
		for i, l := range lines {
			var row struct {
				ID         int64   `json:"id"`
				Prediction float64 `json:"prediction"`
			}
			if err := json.Unmarshal([]byte(l), &row); err != nil || !strings.HasPrefix(l, `{"id":`) {
				t.Fatalf("line %d %q: %v", i, l, err)
			}
			if row.ID != int64(i) || math.Abs(row.Prediction-want[i]) > 1e-9*math.Abs(want[i]) {
				t.Fatalf("line %d: %+v, scikit-learn %v", i, row, want[i])
			}
		}
	})
}

// readFolderShard counts the rows of shard i's parts.
func readFolderShard(t *testing.T, dir string, shard int) int {
	t.Helper()
	parts, _ := filepath.Glob(filepath.Join(dir, fmt.Sprintf("part-%05d-*", shard)))
	n := 0
	for _, p := range parts {
		n += readTable(t, p).rows
	}
	return n
}
