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

.PHONY: venv run test test-notebooks student slides benchmarks clean

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

test: venv
	$(BIN)/python -m pytest -q tests notebooks $(NBVAL)

test-notebooks: venv
	$(BIN)/python -m pytest -q notebooks $(NBVAL)

student: venv
	$(BIN)/udl notebooks student

# Slides are made from executed notebooks (executing any without an up-to-date copy in build/notebooks first).
# To present offline: npm install --prefix build/slides reveal.js@4.0.2 jquery@2 requirejs@2 (once, online),
# then make slides SLIDE_ASSETS=build/slides/node_modules
slides: venv
	$(BIN)/udl notebooks slides $(if $(SLIDE_ASSETS),--assets $(SLIDE_ASSETS))

benchmarks: venv
	@for b in benchmarks/[!_]*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf build .pytest_cache
