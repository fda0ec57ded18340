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
# Test processes run side by side (pytest-xdist; each with an Xvfb of its own, tests/conftest.py).
# A module's tests stay in one process (--dist loadfile), so a module's set-up runs once.
# Four on two cores: much of the suite waits (on a browser's audio clock, a window's events,
# a server), and others' work fills that time. Fresh clones on an idle 2-core machine: the
# whole suite took 1,528 s with two and 980 s with four.
JOBS   ?= 4
PARALLEL := -n $(JOBS) --dist loadfile

.PHONY: run test check test-latest lock bench zoo install system-deps system-deps-test clean

run: $(STAMP) system-deps
	$(PY) app.py $(ARGS)

test: $(STAMP) system-deps-test
	xvfb-run -a -s "-screen 0 1280x1024x24" $(PY) -m pytest $(PARALLEL) $(PYTEST_ARGS)

# The fast tier to run while working: no window, no browser, nothing marked slow, no display.
check: $(STAMP)
	env -u DISPLAY $(PY) -m pytest $(PARALLEL) -m "not gui and not browser and not slow" $(PYTEST_ARGS)

bench: $(STAMP) system-deps
	$(PY) app.py bench $(ARGS)

# Retrain the shipped zoo from the Hydrogen kits (hours on 2 CPU cores; see scripts/train_zoo.sh).
zoo: $(STAMP)
	PY=$(PY) sh scripts/train_zoo.sh all

install: $(STAMP)

# The exact versions (and hashes) in requirements.lock, then the project itself without
# resolving anything: a new machine gets what CI tested.
$(STAMP): setup.cfg pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements.lock
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# Re-resolve requirements.lock (and the container's deploy/requirements-serve.txt, at the same
# versions) from setup.cfg's bounds: the newest versions they allow, for Python 3.11 on Linux
# x86_64. Run the tests on the result before committing it.
LOCK_FLAGS := --quiet --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links
lock: $(STAMP)
	$(PY) -m pip install --quiet pip-tools
	CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/pip-compile $(LOCK_FLAGS) --upgrade --extra test -o requirements.lock setup.cfg
	cd deploy && CUSTOM_COMPILE_COMMAND="make lock" ../$(VENV)/bin/pip-compile $(LOCK_FLAGS) --upgrade -o requirements-serve.txt requirements-serve.in

# The suite on the newest versions setup.cfg allows, in a venv of its own (.venv-latest), so
# drift is found on purpose: what passes here can become the lock with `make lock`.
LATEST := .venv-latest
test-latest: system-deps-test
	test -x $(LATEST)/bin/python || $(PYTHON) -m venv $(LATEST)
	$(LATEST)/bin/python -m pip install --quiet --upgrade pip
	$(LATEST)/bin/python -m pip install --quiet --upgrade --upgrade-strategy eager -e '.[test]'
	@echo "versions that differ from requirements.lock (lock, then newest):"
	@grep -Eo '^[A-Za-z0-9_.-]+==[^ ;]+' requirements.lock | tr A-Z_ a-z- | sort > $(LATEST)/lock.txt
	@$(LATEST)/bin/python -m pip freeze --all --exclude-editable | grep -v "^pip==" | tr A-Z_ a-z- | sort > $(LATEST)/newest.txt
	@diff $(LATEST)/lock.txt $(LATEST)/newest.txt | grep '^[<>]' || echo "  none"
	xvfb-run -a -s "-screen 0 1280x1024x24" $(LATEST)/bin/python -m pytest $(PARALLEL) $(PYTEST_ARGS)

system-deps:
	@PYTHON=$(PY) sh scripts/system-deps.sh run

system-deps-test:
	@PYTHON=$(PY) sh scripts/system-deps.sh test

clean:
	rm -rf $(VENV) $(LATEST) *.egg-info .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
