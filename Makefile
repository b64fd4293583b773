# Safeguard. `make demo` and `make test` are the quick start; see README.md.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
EMULATOR := scripts/emulator.sh run
CLI := target/debug/safeguard
FUNCTIONS := $(notdir $(wildcard functions/*))
ARCH ?= arm64

# replay
EVENT ?= events
MODE ?=
FORMAT ?= text
TARGET ?= emulator
SEED ?=

.PHONY: help demo test replay build invoke deploy template docs lint check emulator emulator-stop venv venv-build venv-lint build-check bench bench-zips fuzz soak clean

help:
	@echo "make demo      misconfigure the local emulator, replay every sample event, show the alerts"
	@echo "make test      the whole test suite (unit, emulator integration, template lint)"
	@echo "make replay EVENT=<file|dir> [MODE=remediate|dry-run] [FORMAT=text|json] [TARGET=emulator|aws] [SEED=1]"
	@echo "make build [ARCH=arm64|x86_64]   release zips of every function (target/lambda/<fn>/bootstrap.zip)"
	@echo "make invoke FN=<function> EVENT=<file>   the real Lambda runtime loop (cargo lambda watch + invoke)"
	@echo "make deploy    sam build && sam deploy --guided"
	@echo "make template  regenerate infra/template.yaml and infra/member.yaml from the controls' declarations"
	@echo "make docs      regenerate the README's tables of controls and settings"
	@echo "make emulator  start the emulator and print the variables to export; make emulator-stop"
	@echo "make soak [SOAK_EVENTS=10000]   burst with injected faults: every event accounted for, none fixed twice"
	@echo "make fuzz [FUZZ_SECONDS=60]   cargo fuzz each target (event parsing, bucket policies) for a bounded time"
	@echo "make bench [RUNS=10] [EVENTS=1000] [C7N_EVENTS=1000] [ZIPS=1]   Safeguard vs Cloud Custodian -> target/bench/report.md"

venv: $(VENV)/.dev-installed
$(VENV)/.dev-installed: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# checkov pins an older boto3 than moto needs: it lives in a venv of its own.
CHECKOV_VENV := $(VENV)/checkov
venv-lint: $(CHECKOV_VENV)/.installed
$(CHECKOV_VENV)/.installed: requirements-lint.txt | $(VENV)/.dev-installed
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-lint.txt
	touch $@

venv-build: $(VENV)/.build-installed
$(VENV)/.build-installed: requirements-build.txt | $(VENV)/.dev-installed
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-build.txt
	touch $@

$(CLI): FORCE
	cargo build --quiet -p safeguard-cli
FORCE:

demo: venv $(CLI)
	$(EMULATOR) $(CLI) demo

test: venv lint
	@mkdir -p .emulator
	$(EMULATOR) cargo test --workspace 2>&1 | tee .emulator/test.log
	@awk '/^test result:/ { p += $$4; f += $$6 } END { printf "%d passed, %d failed\n", p, f }' .emulator/test.log

lint: venv venv-lint
	$(VENV)/bin/cfn-lint infra/template.yaml infra/member.yaml
	@# --skip-download and BC_SKIP_MAPPING: no calls home, the scan is local.
	BC_SKIP_MAPPING=TRUE $(CHECKOV_VENV)/bin/checkov -d infra --framework cloudformation --skip-download --compact --quiet
	cargo run --quiet -p safeguard-cli -- template --check
	cargo run --quiet -p safeguard-cli -- docs --check
	@# What `make fuzz` links: the core without the AWS SDK must keep building.
	cargo check --quiet -p safeguard --no-default-features

check: test
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings

replay: $(CLI)
ifeq ($(TARGET),aws)
	$(CLI) replay "$(EVENT)" --target aws --format "$(FORMAT)" $(if $(MODE),--mode "$(MODE)")
else
	@$(MAKE) --no-print-directory venv
	$(EMULATOR) $(CLI) replay "$(EVENT)" --target emulator --format "$(FORMAT)" $(if $(MODE),--mode "$(MODE)") $(if $(SEED),--seed)
endif

template:
	cargo run --quiet -p safeguard-cli -- template

docs:
	cargo run --quiet -p safeguard-cli -- docs

build: venv-build
	@arch_flag=$$([ "$(ARCH)" = x86_64 ] && echo --x86-64 || echo --arm64); \
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" cargo lambda build --release $$arch_flag --output-format zip \
	  $(foreach f,$(FUNCTIONS),--bin $(f))
	@for f in $(FUNCTIONS); do ls -l target/lambda/$$f/bootstrap.zip; done

# CI's check of the release path: one function, x86_64, zipped and inspected.
build-check: venv-build
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" cargo lambda build --release --x86-64 --output-format zip --bin access-control
	$(VENV)/bin/python scripts/check_zip.py target/lambda/access-control/bootstrap.zip

# Side by side with Cloud Custodian (its venv: .venv/c7n). Timings are
# reported, never asserted: this machine is shared and noisy.
RUNS ?= 10
EVENTS ?= 1000
C7N_EVENTS ?= 1000
ZIPS ?= 1
bench: venv $(if $(filter 1,$(ZIPS)),bench-zips)
	$(VENV)/bin/python bench/bench.py --runs $(RUNS) --events $(EVENTS) --c7n-events $(C7N_EVENTS)

# Every function's release zip for both architectures, kept per architecture.
bench-zips: venv-build
	@for arch in arm64 x86_64; do \
	  $(MAKE) --no-print-directory build ARCH=$$arch; \
	  mkdir -p target/bench/zips/$$arch; \
	  for f in $(FUNCTIONS); do cp target/lambda/$$f/bootstrap.zip target/bench/zips/$$arch/$$f.zip; done; \
	done

# The 10,000-event burst with ~5% faults; exits non-zero on a lost or doubled event.
SOAK_EVENTS ?= 10000
soak: venv
	SOAK_EVENTS=$(SOAK_EVENTS) $(EMULATOR) cargo run --quiet -p safeguard-tests --bin soak

# Coverage-guided fuzzing (nightly toolchain): each target for FUZZ_SECONDS.
# Crashes land in fuzz/artifacts/<target>/; add each to tests/corpus/hostile/.
# The targets link safeguard without its `aws` feature: an instrumented
# build of the AWS SDK crates does not fit in 24 GiB.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := event_parse bucket_policy
CARGO_FUZZ := target/tools/bin/cargo-fuzz
$(CARGO_FUZZ):
	cargo install --quiet --root target/tools cargo-fuzz --version 0.13.1 --locked
fuzz: $(CARGO_FUZZ)
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p fuzz/corpus/$$t; \
	  echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
	  seeds=$$(if [ $$t = event_parse ]; then echo "events tests/corpus/hostile"; fi); \
	  PATH="$(CURDIR)/target/tools/bin:$$PATH" cargo +nightly fuzz run $$t --fuzz-dir fuzz fuzz/corpus/$$t $$seeds -- \
	    -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=4096 || exit 1; \
	done

invoke: venv-build $(CLI)
	@test -n "$(FN)" -a -n "$(EVENT)" || { echo "usage: make invoke FN=<function> EVENT=<file>"; exit 2; }
	$(EMULATOR) scripts/invoke.sh "$(FN)" "$(EVENT)"

deploy:
	sam build --template infra/template.yaml
	sam deploy --guided

emulator: venv
	@scripts/emulator.sh start

emulator-stop:
	@scripts/emulator.sh stop

clean:
	cargo clean
	rm -rf $(VENV) .emulator
