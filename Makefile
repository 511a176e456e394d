# The README's two commands: `make run` (the web app on the embedded defaults) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export ASSISTANT_HOME ?= $(CURDIR)/.assistant-data
export GRADIO_ANALYTICS_ENABLED := False
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test setup index eval bench load browser clean

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

# The browser tests drive Debian's chromium; install it when this machine lacks it (CI runs as root).
browser:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -q && apt-get install -y -q chromium) || echo "chromium を入れられませんでした: ブラウザのテストは理由を表示してスキップされます"

test: setup browser
	$(PY) -m pytest -q

eval: setup
	$(PY) -m eval --cases eval/cases/*.jsonl --triage eval/triage/*.jsonl --md artifacts/eval/report.md --json artifacts/eval/report.json

bench: setup
	$(PY) bench/bench.py

load: setup
	$(PY) bench/load.py --users 20 --questions 5

clean:
	rm -rf $(VENV) .assistant-data artifacts
