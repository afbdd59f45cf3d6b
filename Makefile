# The two commands of the README: `make run` and `make test`. Both install what they need.
#   make run ARGS="--demo"        build release and start the live monitor (ARGS go to hopscope)
#   make test                     fmt check, clippy -D warnings, every test (debug build)
#   make bench                    criterion benches (figures in the README)
ARGS ?=
CARGO ?= cargo
export HOPSCOPE_PYTHON := $(CURDIR)/.venv/bin/python

.PHONY: run test deps test-deps build bench

run: deps
	$(CARGO) build --release
	./target/release/hopscope $(ARGS)

build: deps
	$(CARGO) build --release

test: test-deps
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) test

bench: deps
	$(CARGO) bench --bench stft

deps:
	@scripts/install-deps.sh run

test-deps:
	@scripts/install-deps.sh test
