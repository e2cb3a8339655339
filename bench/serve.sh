#!/bin/sh
# bench/serve.sh: load benchmark of `mlbatch serve` against a minimal Python server
# doing what `mlflow models serve` does per request (bench/serve_baseline.py: Flask +
# pandas + scikit-learn predict under gunicorn, one sync worker, MLflow's default).
#
# Both serve the seed-style demo model (testdata/demo: a LinearRegression on the 10
# diabetes columns, with a column signature) on loopback, and wrk sends the same
# dataframe_split bodies: one row over CONNS connections, one row over one
# connection (latency), and 100 rows over CONNS connections. Reported per case:
# requests/s, wrk's p50 and p99 latency, and the server's CPU time per request
# (from /proc; steadier than requests/s on a shared machine). Every case runs
# RUNS times and the median run (by requests/s) is printed, then the ratios.
#
# Needs Debian's wrk, Flask, gunicorn, scikit-learn and pandas:
#     apt-get install -y wrk python3-flask gunicorn python3-sklearn python3-pandas
#
# Knobs (environment): DURATION (wrk -d, default 10s), CONNS (wrk -c, default 8),
# THREADS (wrk -t, default 1), RUNS (default 3), PORT (default 18080; the
# baseline takes PORT+1), MLBATCH (a built binary; default: build one), PIN=1
# (servers on CPU 0 and wrk on CPU 1, so that the load generator does not
# compete with the server for a core: the latency tail then shows the server's,
# not the scheduler's; mlbatch then runs with GOMAXPROCS=1).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
DURATION=${DURATION:-10s}
CONNS=${CONNS:-8}
THREADS=${THREADS:-1}
RUNS=${RUNS:-3}
PORT=${PORT:-18080}
BPORT=$((PORT + 1))
MODEL=testdata/demo/mlruns/0/d050509c3eccff80e45131fc149d7535/artifacts/model
PY=/usr/bin/python3

for tool in wrk gunicorn; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "bench/serve.sh: $tool is missing: apt-get install -y wrk python3-flask gunicorn python3-sklearn python3-pandas" >&2
		exit 2
	fi
done
if ! $PY -c 'import flask, pandas, sklearn' 2>/dev/null; then
	echo "bench/serve.sh: $PY lacks flask, pandas or sklearn: apt-get install -y python3-flask python3-sklearn python3-pandas" >&2
	exit 2
fi

WORK=$(mktemp -d)
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	for p in $PIDS; do wait "$p" 2>/dev/null || true; done
	rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

if [ -z "${MLBATCH:-}" ]; then
	CGO_ENABLED=0 go build -trimpath -o "$WORK/mlbatch" ./cmd/mlbatch
	MLBATCH="$WORK/mlbatch"
fi

# Request bodies: the first row, and the first 100 rows, of the demo data.
awk -F, -v n=1 'NR==1{printf "{\"dataframe_split\": {\"columns\": [\"%s\"", $1; for(i=2;i<=NF;i++) printf ", \"%s\"", $i; printf "], \"data\": ["} NR>1 && NR<=n+1 {if(NR>2) printf ", "; printf "[%s", $1; for(i=2;i<=NF;i++) printf ", %s", $i; printf "]"} END{print "]}}"}' \
	testdata/demo/diabetes.csv >"$WORK/row1.json"
awk -F, -v n=100 'NR==1{printf "{\"dataframe_split\": {\"columns\": [\"%s\"", $1; for(i=2;i<=NF;i++) printf ", \"%s\"", $i; printf "], \"data\": ["} NR>1 && NR<=n+1 {if(NR>2) printf ", "; printf "[%s", $1; for(i=2;i<=NF;i++) printf ", %s", $i; printf "]"} END{print "]}}"}' \
	testdata/demo/diabetes.csv >"$WORK/row100.json"
cat >"$WORK/post.lua" <<'EOF'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = assert(io.open(os.getenv("BODY"), "rb"))
wrk.body = f:read("*a")
f:close()
EOF

SRV="" LOAD="" GMP=""
if [ "${PIN:-0}" = 1 ]; then
	SRV="taskset -c 0" LOAD="taskset -c 1" GMP="GOMAXPROCS=1"
fi

env $GMP $SRV "$MLBATCH" serve --model "$MODEL" --host 127.0.0.1 --port "$PORT" 2>"$WORK/mlbatch.log" &
MPID=$!
PIDS="$PIDS $MPID"
MODEL_DIR="$ROOT/$MODEL" $SRV gunicorn --timeout 60 -w 1 -b "127.0.0.1:$BPORT" --chdir "$ROOT/bench" \
	--log-level warning serve_baseline:app 2>"$WORK/baseline.log" &
GPID=$!
PIDS="$PIDS $GPID"

wait_ready() {
	i=0
	until curl -sf "http://127.0.0.1:$1/ping" >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt 300 ]; then
			echo "bench/serve.sh: the server on port $1 did not start" >&2
			cat "$WORK"/*.log >&2
			exit 1
		fi
		sleep 0.1
	done
}
wait_ready "$PORT"
wait_ready "$BPORT"
BPID=$(pgrep -P "$GPID" | head -n 1) # gunicorn's worker: the one that scores

# Both must answer the same predictions (to 1e-9 relative: BLAS may sum in
# another order than mlbatch) before they are timed.
for body in row1 row100; do
	a=$(curl -sf -H 'Content-Type: application/json' --data-binary @"$WORK/$body.json" "http://127.0.0.1:$PORT/invocations")
	b=$(curl -sf -H 'Content-Type: application/json' --data-binary @"$WORK/$body.json" "http://127.0.0.1:$BPORT/invocations")
	if ! A="$a" B="$b" $PY -c 'import json, os, sys
a, b = json.loads(os.environ["A"])["predictions"], json.loads(os.environ["B"])["predictions"]
sys.exit(len(a) != len(b) or any(abs(x - y) > 1e-9 * abs(y) for x, y in zip(a, b)))'; then
		echo "bench/serve.sh: the servers disagree on $body (beyond 1e-9 relative):" >&2
		echo "  mlbatch:  $(echo "$a" | cut -c1-200)" >&2
		echo "  baseline: $(echo "$b" | cut -c1-200)" >&2
		exit 1
	fi
done

# to_ms: wrk latency text (123.45us, 1.23ms, 1.02s) to milliseconds.
to_ms() {
	echo "$1" | awk '/us$/{sub(/us$/,""); printf "%.3f", $0/1000; next} /ms$/{sub(/ms$/,""); printf "%.3f", $0; next} /s$/{sub(/s$/,""); printf "%.3f", $0*1000; next} {print $0}'
}

# cpu_ticks PID: user+system CPU time of a process, in clock ticks.
cpu_ticks() {
	awk '{print $14 + $15}' "/proc/$1/stat"
}

# run PORT BODY PID CONNS: one wrk run; prints "req/s p50ms p99ms cpu_us", cpu_us being
# the server's CPU time per request (steadier than req/s on a shared machine).
run() {
	t0=$(cpu_ticks "$3")
	out=$(BODY="$WORK/$2.json" $LOAD wrk -t"$THREADS" -c"$4" -d"$DURATION" --latency -s "$WORK/post.lua" "http://127.0.0.1:$1/invocations")
	if echo "$out" | grep -q "Non-2xx"; then
		echo "bench/serve.sh: non-2xx answers on port $1:" >&2
		echo "$out" >&2
		exit 1
	fi
	rps=$(echo "$out" | awk '/^Requests\/sec/{print $2}')
	p50=$(to_ms "$(echo "$out" | awk '$1=="50%"{print $2}')")
	p99=$(to_ms "$(echo "$out" | awk '$1=="99%"{print $2}')")
	t1=$(cpu_ticks "$3")
	n=$(echo "$out" | awk '/requests in/{print $1}')
	cpu=$(awk -v a="$t0" -v b="$t1" -v n="$n" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.0f", (b - a) / hz * 1e6 / n}')
	echo "$rps $p50 $p99 $cpu"
}

# median PORT BODY PID CONNS: RUNS runs, the one with the median req/s.
median() {
	: >"$WORK/runs"
	i=0
	while [ $i -lt "$RUNS" ]; do
		run "$1" "$2" "$3" "$4" >>"$WORK/runs"
		i=$((i + 1))
	done
	sort -n "$WORK/runs" | awk -v n="$RUNS" 'NR==int((n+1)/2)'
}

pinned=""
if [ "${PIN:-0}" = 1 ]; then pinned=", servers pinned to CPU 0 and wrk to CPU 1"; fi
echo "mlbatch serve vs MLflow-style Flask+pandas+sklearn (gunicorn, 1 worker); wrk -t$THREADS -d$DURATION, median of $RUNS runs; $(nproc) CPUs$pinned"
printf '%-14s %-9s %12s %10s %10s %14s\n' case server "req/s" "p50 ms" "p99 ms" "CPU us/req"
for c in "row1 $CONNS" "row1 1" "row100 $CONNS"; do
	set -- $c
	body=$1 conns=$2
	name="$body c=$conns"
	set -- $(median "$PORT" "$body" "$MPID" "$conns")
	m_rps=$1 m_p50=$2 m_p99=$3 m_cpu=$4
	printf '%-14s %-9s %12s %10s %10s %14s\n' "$name" mlbatch "$m_rps" "$m_p50" "$m_p99" "$m_cpu"
	set -- $(median "$BPORT" "$body" "$BPID" "$conns")
	b_rps=$1 b_p50=$2 b_p99=$3 b_cpu=$4
	printf '%-14s %-9s %12s %10s %10s %14s\n' "$name" baseline "$b_rps" "$b_p50" "$b_p99" "$b_cpu"
	echo "$name: mlbatch/baseline req/s = $(awk -v a="$m_rps" -v b="$b_rps" 'BEGIN{printf "%.1fx", a/b}'), CPU per request $(awk -v a="$m_cpu" -v b="$b_cpu" 'BEGIN{printf "%.1fx", b/a}') less, p99 $m_p99 ms vs $b_p99 ms" >>"$WORK/ratios"
done
cat "$WORK/ratios"
