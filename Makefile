# Two commands do all set-up on a fresh clone:
#   make compare   - the flagship paradigm comparison (Indre Østfold, three paradigms, across
#                    20 parameter draws x 2 replications at 1:10; prints the verdict first)
#   make test      - the test suite
# Both create .venv with a Python >= 3.12 found by tools/find-python.

VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
EXTRAS ?= dev,experiments,live

EXPERIMENTS ?= paradigm_comparison paradigm_uncertainty co_creation_matrix transition \
	demographic_alternatives sensitivity
SWEEP_FLAGS ?= --overwrite
# make compare: parameter draws x replications per draw, at this many agents per person
DRAWS ?= 20
REPS  ?= 2
SCALE ?= 0.1

.PHONY: compare test venv lint docs clean experiments

$(STAMP): pyproject.toml
	@PYTHON_BIN=$$(tools/find-python) || exit 1; \
	  test -x $(PY) || $$PYTHON_BIN -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[$(EXTRAS)]"
	@touch $(STAMP)

venv: $(STAMP)

compare: $(STAMP)
	$(VENV)/bin/welfare-sim compare scenarios/indre_ostfold_traditional.toml \
	  scenarios/indre_ostfold_npm.toml scenarios/indre_ostfold_network_governance.toml \
	  --uncertainty $(DRAWS) --replications $(REPS) --population-scale $(SCALE) \
	  --out results/compare_paradigms --overwrite

test: $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check sim tests experiments tools

docs: $(STAMP)
	$(VENV)/bin/welfare-sim params --markdown > docs/parameters.md
	$(VENV)/bin/welfare-sim metrics --markdown > docs/metrics.md

# every experiment in experiments/: sweep, (analyze), and the committed summary
# (experiments/results/NAME/SUMMARY.md); SWEEP_FLAGS=--resume continues an interrupted run
experiments: $(STAMP)
	set -e; for e in $(EXPERIMENTS); do \
	  $(VENV)/bin/welfare-sim sweep experiments/$$e.toml --out results/$$e $(SWEEP_FLAGS); \
	  if [ $$e = sensitivity ]; then $(VENV)/bin/welfare-sim analyze results/$$e; fi; \
	  $(VENV)/bin/welfare-sim summarize results/$$e --to experiments/results/$$e; \
	done

clean:
	rm -rf $(VENV) results .pytest_cache
