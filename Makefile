# Two entry points: `make demo` (the example pipeline, twice) and `make test` (everything).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_HOME := $(CURDIR)/.demo/airflow
DEMO_ENV := AIRFLOW_HOME=$(DEMO_HOME) AIRFLOW__CORE__DAGS_FOLDER=$(CURDIR)/dags \
	AIRFLOW__CORE__LOAD_EXAMPLES=False AIRFLOW__LOGGING__LOGGING_LEVEL=WARNING PYTHONWARNINGS=ignore \
	AIRFLOW_CONN_SAMPLES='{"conn_type": "mldatastore", "host": "file://$(CURDIR)/dags/wine/data"}' \
	AIRFLOW_CONN_GPU='{"conn_type": "mlcomputelocal"}'

.PHONY: demo test lint env compiled ui screenshots constraints

# pyproject.toml declares lower bounds only; constraints.txt pins the test environment.
$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@

env: $(BIN)/.installed

# The editable checkout's byte code, as pip writes it for an installed wheel: where
# PYTHONDONTWRITEBYTECODE is set, every Airflow process (each task's too) would otherwise
# compile the provider from source. A stale file is only ignored (its source is newer).
compiled: $(BIN)/.installed
	$(BIN)/python -m compileall -q airflow_ml_provider > /dev/null

constraints: $(BIN)/.installed
	{ sed -n '1,2p' constraints.txt; $(BIN)/uv pip compile --quiet --upgrade --python-version 3.11 \
		--extra dev --no-annotate --no-header -c constraints-upper.txt pyproject.toml; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

demo: compiled
	rm -rf $(CURDIR)/.demo
	$(DEMO_ENV) $(BIN)/airflow db migrate > /dev/null
	@echo "== first run: every step runs =="
	$(DEMO_ENV) $(BIN)/airflow-ml run wine_classifier
	@echo "== second run: nothing changed =="
	$(DEMO_ENV) $(BIN)/airflow-ml run wine_classifier

# The UI plugin's bundle (committed as package data); `make test` checks it matches src/.
ui:
	bash scripts/ui_bundle.sh build

# The screenshots in docs/ui, taken by the UI tests in a real api-server and Chromium.
screenshots: $(BIN)/.installed
	AML_UI_SCREENSHOTS=$(CURDIR)/docs/ui $(BIN)/python -m pytest tests/ui -q

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: compiled
	$(BIN)/python -m pytest
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
