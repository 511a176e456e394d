# The README's two commands: `make run` (the web app on the embedded defaults) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export ASSISTANT_HOME ?= $(CURDIR)/.assistant-data
export GRADIO_ANALYTICS_ENABLED := False
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test setup index eval bench clean

$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.lock
	$(PY) -m pip install -q --no-deps -e .
	touch $@

setup: $(VENV)/.installed

index: setup
	$(PY) -m assistant index

run: setup index
	$(PY) app.py

test: setup
	$(PY) -m pytest -q

eval: setup
	$(PY) -m eval --cases eval/cases/*.jsonl --triage eval/triage/*.jsonl --md artifacts/eval/report.md --json artifacts/eval/report.json

bench: setup
	$(PY) bench/bench.py

clean:
	rm -rf $(VENV) .assistant-data artifacts
