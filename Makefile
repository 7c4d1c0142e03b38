# The two set-up commands (README): `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed-stamp
ISSUE  ?= issues/2011-q1

.PHONY: demo test lint bench preview clean bytecode

# Creates the virtual environment and installs everything (system packages too).
$(STAMP): pyproject.toml scripts/system-deps.sh
	sh scripts/system-deps.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# Our own modules' bytecode, as pip writes it for an installed package (an editable install
# leaves it to the first run, which cannot write it where PYTHONDONTWRITEBYTECODE is set:
# then every command compiles the pipeline's modules again, about 0.1 s). Quick when current.
bytecode: $(STAMP)
	$(BIN)/python -m compileall -q src

demo: $(STAMP) bytecode  ## build the sample issue into build/2011-q1/
	$(BIN)/newsletter build $(ISSUE)

test: $(STAMP) bytecode  ## the whole test suite (the browser test must run, not skip)
	sh scripts/test-deps.sh
	NEWSLETTER_REQUIRE_BROWSER=1 $(BIN)/pytest -q -n 2 --dist loadgroup

lint: $(STAMP)     ## ruff, configured in pyproject.toml
	$(BIN)/ruff check src tests scripts

bench: $(STAMP) bytecode  ## speed and memory as ratios to the yardstick (see scripts/bench.py)
	$(BIN)/python scripts/bench.py

preview: demo      ## README thumbnails: docs/pages.png from the sample's PDF
	$(BIN)/python scripts/preview.py build/2011-q1 docs/pages.png

clean:
	rm -rf build .pytest_cache
