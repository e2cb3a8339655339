#!/bin/bash
# make bench: mlbatch side by side with its peers on the same generated data.
# Generates bench/out/ (gitignored) on first use: 1M and 10M rows x 13 float64
# (seed 1) as CSV, Parquet and raw float64; the models, fitted by Debian's
# scikit-learn and xgboost; DuckDB from npm into bench/node_modules (not committed).
# Extra arguments go to `tool run` (e.g. -runs 7, -only RandomForest, -big=false).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=bench/out
GO=${GO:-go}
PYTHON=${PYTHON:-/usr/bin/python3}
mkdir -p "$OUT"

# MLBATCH_BIN / BENCH_TOOL: use prebuilt binaries instead of building this tree.
MLBATCH_BIN=${MLBATCH_BIN:-}
BENCH_TOOL=${BENCH_TOOL:-}
if [ -z "$MLBATCH_BIN" ]; then
	MLBATCH_BIN=$OUT/mlbatch
	CGO_ENABLED=0 $GO build -trimpath -o "$MLBATCH_BIN" ./cmd/mlbatch
fi
if [ -z "$BENCH_TOOL" ]; then
	BENCH_TOOL=$OUT/tool
	CGO_ENABLED=0 $GO build -o "$BENCH_TOOL" ./bench/tool
fi

if [ ! -f "$OUT/1m/.done" ]; then
	"$BENCH_TOOL" gen -rows 1000000 -seed 1 -dir "$OUT/1m" && touch "$OUT/1m/.done"
fi
if [ ! -f "$OUT/10m/.done" ]; then
	"$BENCH_TOOL" gen -rows 10000000 -seed 1 -raw=false -dir "$OUT/10m" && touch "$OUT/10m/.done"
fi
if [ ! -f "$OUT/models/.done" ]; then
	"$PYTHON" bench/models.py "$OUT" && touch "$OUT/models/.done"
fi
duck=true
if [ ! -d bench/node_modules/@duckdb/node-api ]; then
	if ! (cd bench && npm install --no-audit --no-fund); then
		echo "bench: npm could not install @duckdb/node-api; the DuckDB rows are left out" >&2
		duck=false
	fi
fi
exec "$BENCH_TOOL" run -dir "$OUT" -mlbatch "$MLBATCH_BIN" -tool "$BENCH_TOOL" -python "$PYTHON" -duckdb=$duck "$@"
