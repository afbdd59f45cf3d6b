# The commands of the README: `make run`, `make test` and `make test-ml`. Each installs
# what it needs.
#   make run ARGS="--demo"        build release and start the live monitor (ARGS go to hopscope)
#   make test                     fmt check, clippy -D warnings, every test (debug build);
#                                 Python: numpy/scipy/librosa + light front-end references, no
#                                 torch/TF/jax (tests/python/requirements.txt, requirements-nodeps.txt)
#   make test-ml                  the ML tier: the #[ignore]d tests of tests/e2e (the exported
#                                 torch and TensorFlow snippets, the Keras one on jax and tensorflow,
#                                 the librosa one with the newest librosa in .venv-librosa-new,
#                                 the torch/TF/keras front-end references),
#                                 after adding torch and tensorflow-cpu to the venv
#                                 (tests/python/requirements-ml.txt)
#   make bench                    criterion benches (figures in the README)
ARGS ?=
CARGO ?= cargo
export HOPSCOPE_PYTHON := $(CURDIR)/.venv/bin/python
export HOPSCOPE_PYTHON_LIBROSA_NEW := $(CURDIR)/.venv-librosa-new/bin/python

.PHONY: run test test-ml deps test-deps test-ml-deps build bench

run: deps
	$(CARGO) build --release
	./target/release/hopscope $(ARGS)

build: deps
	$(CARGO) build --release

test: test-deps
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) test

test-ml: test-ml-deps
	$(CARGO) test --test e2e -- --ignored

bench: deps
	$(CARGO) bench --bench stft

deps:
	@scripts/install-deps.sh run

test-deps:
	@scripts/install-deps.sh test

test-ml-deps:
	@scripts/install-deps.sh ml
