# Two commands do all set-up: `make demo` and `make test` (see README.md).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
PHANTOM := data/01_raw/phantom
DEMO_PIPELINES := ingest segment train_dino train_wsdino embed integrate evaluate profile sweep

export KEDRO_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := 1

.PHONY: install demo test app viz benchmarks clean-data

install: $(INSTALLED)

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	# stardist only for its bundled real annotated nuclei image (a segmentation test); no deps needed
	$(BIN)/python -m pip install --quiet --no-deps stardist==0.9.2
	touch $@

# remade (--overwrite) when the presets change, e.g. a new calibration
$(PHANTOM)/phantom.json: src/cell_dino/phantom/presets.py | $(INSTALLED)
	$(BIN)/cell-dino phantom $(PHANTOM) --preset demo --seed 0 --overwrite

demo: $(INSTALLED) $(PHANTOM)/phantom.json
	for p in $(DEMO_PIPELINES); do $(BIN)/kedro run --pipelines $$p || exit 1; done

# one pytest-xdist worker per core, each torch at one thread, whole files to a worker (tests/conftest.py)
TEST_WORKERS ?= 2
test: $(INSTALLED)
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

app: $(INSTALLED)
	$(BIN)/streamlit run app/main.py

viz: $(INSTALLED)
	$(BIN)/kedro viz run

benchmarks: $(INSTALLED)
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/segment.py
	$(BIN)/python -m pip install --quiet "lightly>=1.5"
	$(BIN)/python benchmarks/train_step.py
	$(BIN)/python benchmarks/embed.py
	$(BIN)/python benchmarks/evaluate.py
	$(BIN)/python benchmarks/classifier.py

clean-data:
	rm -rf data/0[1-8]_* data/test
