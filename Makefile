# mlbatch: build, test, demo and fixtures. Needs only Go (and, for `fixtures`,
# Debian's Python stack, which `fixtures-deps` installs).
GO      ?= go
BIN     := bin/mlbatch
DEMO_RUN := d050509c3eccff80e45131fc149d7535
PYTHON  ?= /usr/bin/python3

export CGO_ENABLED = 0

.PHONY: all build test tools vet demo fixtures fixtures-deps bench bench-go bench-peers clean

# The S3-compatible server the object-store tests start on loopback (internal/s3test),
# built from the Go module proxy into a repo-local folder (ignored by git).
VERSITYGW_VERSION := v1.8.0
TOOLS := $(CURDIR)/bin/tools

all: build

# Record the commit in the binary (mlbatch version) when building from a git
# checkout: Go's own VCS stamping is off where GOFLAGS=-buildvcs=false and never
# sees a git worktree (.git is a file there), so the commit is also passed in.
BUILDVCS := $(shell git rev-parse --is-inside-work-tree >/dev/null 2>&1 && echo true || echo false)
COMMIT  := $(shell git describe --always --dirty --abbrev=40 --match=none 2>/dev/null)

build:
	$(GO) build -trimpath -buildvcs=$(BUILDVCS) -ldflags "-s -w -X main.commit=$(COMMIT)" -o $(BIN) ./cmd/mlbatch

# The whole suite: vet, then every test (fuzz seeds included). The object-store
# tests need versitygw, which `tools` installs first (a few minutes on a cold Go
# cache, nothing once built).
test: tools
	$(GO) vet ./...
	$(GO) test -count=1 ./...

# The stamp names the version, so changing VERSITYGW_VERSION rebuilds it.
tools: $(TOOLS)/.versitygw-$(VERSITYGW_VERSION)

$(TOOLS)/.versitygw-$(VERSITYGW_VERSION):
	@mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) $(GO) install github.com/versity/versitygw/cmd/versitygw@$(VERSITYGW_VERSION)
	@touch $@

# Score the committed demo model (an MLflow run in a file store) over the committed
# diabetes data, print the summary and the first predictions.
demo: build
	@mkdir -p bin
	MLFLOW_TRACKING_URI=testdata/demo/mlruns $(BIN) score \
		--model runs:/$(DEMO_RUN)/model \
		--in testdata/demo/diabetes.csv --out bin/demo-predictions.csv --overwrite
	@head -n 6 bin/demo-predictions.csv

# Regenerate every fixture under testdata/ with Debian's scikit-learn.
fixtures:
	$(PYTHON) testdata/gen/make_fixtures.py
	$(PYTHON) testdata/layouts/gen.py
	$(PYTHON) model/pickle/testdata/gen.py
	$(PYTHON) testdata/lightgbm/gen.py
	$(PYTHON) testdata/xgboost/gen.py
	$(PYTHON) testdata/pipelines/gen.py
	$(PYTHON) testdata/longtail/mlp_decomp/gen.py
	$(PYTHON) testdata/longtail/boosters/gen.py
	$(PYTHON) testdata/longtail/neighbors/gen.py
	$(PYTHON) testdata/longtail/svm_nb/gen.py
	$(PYTHON) testdata/longtail/meta/gen.py
	$(PYTHON) testdata/inspect/gen.py
	$(PYTHON) testdata/longtail/compat/gen.py

fixtures-deps:
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y python3-sklearn python3-xgboost python3-pandas python3-cloudpickle

# Go micro-benchmarks, then the side-by-side harness (bench/run.sh: generates
# bench/out/ on first use, needs Debian's Python stack, node and npm; writes
# bench/RESULTS.md). Not part of `make test`.
bench: bench-go bench-peers bench-serve

bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./...

bench-peers:
	bench/run.sh $(BENCH_ARGS)

# mlbatch serve against an MLflow-style Flask server, with wrk on loopback
# (needs: apt-get install -y wrk python3-flask gunicorn).
bench-serve:
	bench/serve.sh

clean:
	rm -rf bin
