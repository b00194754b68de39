# The README's two commands: `make run` (execute every notebook, quick profile) and `make test`.
# Each one creates or refreshes .venv from requirements.txt first, so a fresh clone needs nothing else.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
# Linux + NVIDIA GPU: make run REQUIREMENTS=requirements-gpu.txt (in a fresh .venv: never both TF wheels)
REQUIREMENTS ?= requirements.txt
STAMP  := $(VENV)/.udl-installed-$(basename $(notdir $(REQUIREMENTS)))
NBVAL  := --nbval-lax --nbval-current-env --nbval-cell-timeout=600 -p no:cacheprovider

# make run / make test use the quick profile unless told otherwise (make run UDL_PROFILE=full).
export UDL_PROFILE ?= quick
# oneDNN's banner and TF's C++ INFO lines are noise for students; warnings and errors still show.
export TF_CPP_MIN_LOG_LEVEL ?= 1

.PHONY: venv vendor run test test-notebooks smoke-full student slides site test-site colab-check benchmarks clean

venv: $(STAMP)

$(STAMP): $(REQUIREMENTS) pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "udl needs Python >= 3.11; found " + sys.version.split()[0] + " at " + sys.executable + " (set PYTHON=/path/to/python3.11)")'
	@for other in $(VENV)/.udl-installed-*; do [ ! -e "$$other" ] || [ "$$other" = "$(STAMP)" ] || \
	  { echo "$(VENV) was built from $${other##*installed-}.txt, not $(REQUIREMENTS): rm -rf $(VENV) first, or pass REQUIREMENTS=$${other##*installed-}.txt" >&2; exit 1; }; done
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r $(REQUIREMENTS) -e .
	touch $(STAMP)

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

# Slides and site are made from executed notebooks (executing any without an up-to-date copy in build/notebooks
# first): build/slides/, and build/index.html with build/html/, build/student/ and build/assets/.
slides: venv vendor
	$(BIN)/udl notebooks slides

site: venv vendor
	$(BIN)/udl notebooks site

# Open the site in headless Chromium: every link, every slide (needs `apt-get install chromium`).
test-site: venv
	UDL_SITE=build UDL_REQUIRE_BROWSER=1 $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_browser.py

# Install udl into a fresh venv holding a real TensorFlow and an older Keras, as on Colab (minutes, ~600 MB).
colab-check: venv
	UDL_COLAB_CHECK=1 $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_install.py

benchmarks: venv
	@for b in benchmarks/[!_]*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf build .pytest_cache
