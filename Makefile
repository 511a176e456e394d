# The README's two commands: `make run` (the web app on the embedded defaults) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export ASSISTANT_HOME ?= $(CURDIR)/.assistant-data
export GRADIO_ANALYTICS_ENABLED := False
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test test-fast setup index eval bench load load-cluster cluster browser services clean

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

# The cluster tests start Debian's PostgreSQL and HAProxy; install them when missing.
services:
	@(test -x /usr/lib/postgresql/*/bin/initdb && command -v haproxy >/dev/null 2>&1) || (apt-get update -q && apt-get install -y -q postgresql haproxy) || echo "PostgreSQL か HAProxy を入れられませんでした: クラスターのテストは理由を表示してスキップされます"

test: setup browser services
	$(PY) -m pytest -q

# The fast tier: pure logic, records on SQLite, renderers and the security checks that need no index,
# no served app, browser, cluster or subprocess (tests/conftest.py marks the rest slow). About a minute.
test-fast: setup
	$(PY) -m pytest -q -m "not slow"

eval: setup
	$(PY) -m eval --cases eval/cases/*.jsonl --triage eval/triage/*.jsonl --md artifacts/eval/report.md --json artifacts/eval/report.json
	$(PY) -m eval --cases eval/guide/*.jsonl --gate-table guide_gate --md artifacts/eval/guide.md --json artifacts/eval/guide.json
	$(PY) -m eval --cases eval/guide2/*.jsonl --gate-table guide2_gate --md artifacts/eval/guide2.md --json artifacts/eval/guide2.json
	$(PY) -m eval --cases eval/guide3/*.jsonl --gate-table guide3_gate --md artifacts/eval/guide3.md --json artifacts/eval/guide3.json
	$(PY) -m eval.owner_eval --sets eval/owner/*_dev.jsonl --gate --json artifacts/eval/owner.json
	$(PY) -m eval --cases eval/holdout/*.jsonl --no-gate --md artifacts/eval/holdout.md --json artifacts/eval/holdout.json

bench: setup
	$(PY) bench/bench.py

load: setup
	$(PY) bench/load.py --users 20 --questions 5 --mode both

load-cluster: setup services
	$(PY) bench/load.py --cluster --users 50 --questions 2 --mode both

# PostgreSQL, a Chroma server, the index job, 2 replicas and HAProxy on this machine (Ctrl-C stops them).
cluster: setup services
	$(PY) deploy/cluster.py up --dir $(CURDIR)/.cluster

clean:
	rm -rf $(VENV) .assistant-data .cluster artifacts
