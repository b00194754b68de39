# The README's two commands: `make run` (execute every notebook, quick profile) and `make test`.
# Each one creates or refreshes .venv first, so a fresh clone needs nothing else: from requirements.lock (every
# package at one exact version, with hashes) on CPython 3.11 + Linux x86-64, which the lock is made for; from the
# ranges in requirements.txt elsewhere or with LOCKED=0. `make lock` remakes the locks after requirements.txt,
# requirements-gpu.txt or pyproject.toml's dependencies change (tests/test_lock.py fails until it is run).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
# Linux + NVIDIA GPU: make run REQUIREMENTS=requirements-gpu.txt (in a fresh .venv: never both TF wheels)
REQUIREMENTS ?= requirements.txt
STAMP  := $(VENV)/.udl-installed-$(basename $(notdir $(REQUIREMENTS)))
LOCK   := $(REQUIREMENTS:.txt=.lock)
# 1 where the lock applies (the interpreter make would use is CPython 3.11 on Linux x86-64), else 0.
LOCKED ?= $(shell $(PYTHON) -c 'import platform, sys; print(int(sys.platform == "linux" and platform.machine() == "x86_64" and sys.implementation.name == "cpython" and sys.version_info[:2] == (3, 11)))' 2>/dev/null || echo 0)
UV_VERSION := $(shell sed -n 's/^UV_VERSION = "\([^"]*\)".*/\1/p' tools/lock.py)
NBVAL  := --nbval-lax --nbval-current-env --nbval-cell-timeout=600 -p no:cacheprovider

# make run / make test use the quick profile unless told otherwise (make run UDL_PROFILE=full).
export UDL_PROFILE ?= quick
# oneDNN's banner and TF's C++ INFO lines are noise for students; warnings and errors still show.
export TF_CPP_MIN_LOG_LEVEL ?= 1

.PHONY: venv lock vendor hub-proxy run test test-notebooks smoke-full student slides site test-site colab-check benchmarks clean

venv: $(STAMP)

$(STAMP): $(REQUIREMENTS) $(if $(filter 1,$(LOCKED)),$(LOCK)) pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "udl needs Python >= 3.11; found " + sys.version.split()[0] + " at " + sys.executable + " (set PYTHON=/path/to/python3.11)")'
	@for other in $(VENV)/.udl-installed-*; do [ ! -e "$$other" ] || [ "$$other" = "$(STAMP)" ] || \
	  { echo "$(VENV) was built from $${other##*installed-}.txt, not $(REQUIREMENTS): rm -rf $(VENV) first, or pass REQUIREMENTS=$${other##*installed-}.txt" >&2; exit 1; }; done
ifeq ($(LOCKED),1)
	@$(PYTHON) tools/lock.py --check $(REQUIREMENTS) >/dev/null || { $(PYTHON) tools/lock.py --check $(REQUIREMENTS) >&2; exit 1; }
endif
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
ifeq ($(LOCKED),1)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
else
	@echo "Installing from the version ranges in $(REQUIREMENTS): $(LOCK) is made for CPython 3.11 on Linux x86-64 (LOCKED=$(LOCKED))."
	$(BIN)/python -m pip install --quiet -r $(REQUIREMENTS) -e .
endif
	touch $(STAMP)

# Remake requirements.lock and requirements-gpu.lock (exact versions + hashes, as PyPI stood on the date each
# records; seconds, with uv). A new semester's pin: make lock LOCK_DATE=2027-01-15, then commit both locks.
lock:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m uv --version 2>/dev/null | grep -qE '^uv $(UV_VERSION)( |$$)' || $(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	$(BIN)/python tools/lock.py $(if $(LOCK_DATE),--date $(LOCK_DATE))

run: venv
	$(BIN)/udl notebooks run

# UDL_SAVE_EXECUTED=build keeps each notebook as nbval ran it in build/notebooks/, so slides and site need no
# second run (CI does this).
SAVE := $(if $(UDL_SAVE_EXECUTED),-p udl.nbval_save)

test: venv
	$(BIN)/python -m pytest -q tests notebooks $(NBVAL) $(SAVE)

test-notebooks: venv
	$(BIN)/python -m pytest -q notebooks $(NBVAL) $(SAVE)

# The full profile end to end (issue 17): every notebook with UDL_PROFILE=full, each dataset downloaded into an empty
# cache from a loopback server that serves the canonical archives, built from the mirror ($$UDL_DATA_DIR, else
# ../shared/data) at the canonical sizes; training cut to a few timed steps (UDL_MAX_STEPS). Prints the estimated
# uncapped CPU time per notebook; results in build/smoke-full/results (see tests/smoke_full.py).
smoke-full: venv
	$(BIN)/python tests/smoke_full.py

student: venv
	$(BIN)/udl notebooks student

# What slides and site load (reveal.js, jQuery, RequireJS, MathJax), pinned in vendor/package-lock.json and
# installed once with npm, so that they present with no network.
VENDOR_STAMP := vendor/node_modules/.package-lock.json
vendor: $(VENDOR_STAMP)

$(VENDOR_STAMP): vendor/package.json vendor/package-lock.json
	npm ci --prefix vendor --no-audit --no-fund --loglevel=error

# JupyterHub's proxy (configurable-http-proxy), pinned in deploy/jupyterhub/package-lock.json: the class recipe in
# deploy/jupyterhub/ and its live test (tests/test_hub.py) use it.
HUB_PROXY_STAMP := deploy/jupyterhub/node_modules/.package-lock.json
hub-proxy: $(HUB_PROXY_STAMP)

$(HUB_PROXY_STAMP): deploy/jupyterhub/package.json deploy/jupyterhub/package-lock.json
	npm ci --prefix deploy/jupyterhub --no-audit --no-fund --loglevel=error

# Slides and site are made from executed notebooks (executing any without an up-to-date copy in build/notebooks
# first): build/slides/, and build/index.html with build/html/, build/student/ and build/assets/.
slides: venv vendor
	$(BIN)/udl notebooks slides

site: venv vendor
	$(BIN)/udl notebooks site

# Open the site in headless Chromium (every link, every slide; needs `apt-get install chromium`), and fetch every
# link of every page over loopback HTTP as the class hub serves it.
test-site: venv
	UDL_SITE=build UDL_REQUIRE_BROWSER=1 $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_browser.py tests/test_static_site.py

# Install udl into a fresh venv holding a real TensorFlow and an older Keras, as on Colab (minutes, ~600 MB).
colab-check: venv
	UDL_COLAB_CHECK=1 $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_install.py

benchmarks: venv
	@for b in benchmarks/[!_]*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf build .pytest_cache
