"""Benchmark: index build time, cold start to first answer, warm ask latency, peak RSS.

Usage: python bench/bench.py [--json OUT] [--rounds N]
Each measurement runs in a fresh process so that caches and RSS belong to that step alone.
Targets on the 2-core machine (issue 2): warm ask p95 < 150 ms, cold start < 5 s, peak RSS < 1 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [json.loads(line)["question"] for line in (ROOT / "eval" / "cases" / "guideline.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]

BUILD = """
import json, resource, sys, time
t = time.perf_counter()
from assistant.config import Config
from assistant.corpus import load_corpus
from assistant.embed import make_embedder
from assistant.index import build_index
from assistant.tokens import Tokenizer
cfg = Config.from_env()
r = build_index(cfg, load_corpus(cfg.corpus_dirs), make_embedder(cfg.embedder), Tokenizer())
print(json.dumps({"seconds": time.perf_counter() - t, "embedded": r.embedded,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

COLD = """
import json, resource, time
t = time.perf_counter()
from assistant.config import Config
from assistant.runtime import open_assistant
a = open_assistant(Config.from_env())
a.ask("必要最低限の措置とは何ですか？")
print(json.dumps({"seconds": time.perf_counter() - t, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

WARM = """
import json, resource, sys, time
from assistant.config import Config
from assistant.runtime import open_assistant
qs = json.loads(sys.stdin.read())
a = open_assistant(Config.from_env())
a.ask(qs[0])
lat = []
for q in qs:
    t = time.perf_counter()
    a.ask(q)
    lat.append((time.perf_counter() - t) * 1000)
print(json.dumps({"latencies_ms": lat, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _run(code: str, home: Path, stdin: str | None = None) -> dict:
    env = dict(os.environ, ASSISTANT_HOME=str(home), PYTHONPATH=str(ROOT))
    p = subprocess.run([sys.executable, "-c", code], env=env, input=stdin, capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(p.stdout.strip().splitlines()[-1])


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(round(p / 100 * len(ordered) + 0.5)) - 1)]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", type=Path)
    ap.add_argument("--rounds", type=int, default=2, help="passes over the question set for warm latency")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        print("索引を作成中…", file=sys.stderr)
        build = _run(BUILD, home)
        print("コールドスタートを計測中…", file=sys.stderr)
        colds = [_run(COLD, home) for _ in range(3)]
        print(f"ウォーム時の ask を計測中（{len(QUESTIONS) * args.rounds} 問）…", file=sys.stderr)
        warm = _run(WARM, home, json.dumps(QUESTIONS * args.rounds, ensure_ascii=False))
    lat = warm["latencies_ms"]
    result = {
        "machine": f"{os.cpu_count()} cores",
        "index_build_s": round(build["seconds"], 2),
        "index_entries": build["embedded"],
        "cold_start_to_first_answer_s": round(sorted(c["seconds"] for c in colds)[1], 2),
        "warm_ask_p50_ms": round(pct(lat, 50), 1),
        "warm_ask_p95_ms": round(pct(lat, 95), 1),
        "warm_ask_max_ms": round(max(lat), 1),
        "questions": len(lat),
        "peak_rss_mb": round(max(build["rss_mb"], warm["rss_mb"], *(c["rss_mb"] for c in colds)), 1),
    }
    width = max(len(k) for k in result)
    for k, v in result.items():
        print(f"{k.ljust(width)}  {v}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
