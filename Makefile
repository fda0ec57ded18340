# Two commands on a fresh machine:  `make run`  and  `make test`.
# Both create .venv and install the project into it on first use; both install the
# Debian packages they need when they can (root or password-less sudo), and otherwise
# stop with the exact apt-get command to run.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
ARGS   ?=
PYTEST_ARGS ?=

.PHONY: run test bench zoo install system-deps system-deps-test clean

run: $(STAMP) system-deps
	$(PY) app.py $(ARGS)

test: $(STAMP) system-deps-test
	xvfb-run -a -s "-screen 0 1280x1024x24" $(PY) -m pytest $(PYTEST_ARGS)

bench: $(STAMP) system-deps
	$(PY) app.py bench $(ARGS)

# Retrain the shipped zoo from the Hydrogen kits (hours on 2 CPU cores; see scripts/train_zoo.sh).
zoo: $(STAMP)
	PY=$(PY) sh scripts/train_zoo.sh all

install: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

system-deps:
	@PYTHON=$(PY) sh scripts/system-deps.sh run

system-deps-test:
	@PYTHON=$(PY) sh scripts/system-deps.sh test

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
