"""Benchmark: index build time, cold start to first answer, warm chat latency, peak RSS.

Usage: python bench/bench.py [--json OUT] [--rounds N]
Each measurement runs in a fresh process so that caches and RSS belong to that step alone.
Targets on the 2-core machine (issues 2, 11): warm chat p95 < 150 ms, cold start < 5 s, peak RSS < 1 GB.
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from assistant.scoring import percentile as pct  # noqa: E402  one formula for percentiles

ROOT = Path(__file__).resolve().parent.parent
# The chat's warm path is measured on both kinds of question it gets: the guideline questions and
# the owners' questions (actions, triage requests, out-of-scope, misuse) of the guide set.
QUESTIONS = [json.loads(line)["question"] for name in ("cases/guideline.jsonl", "guide/guide.jsonl")
             for line in (ROOT / "eval" / name).read_text(encoding="utf-8").splitlines() if line.strip()]

BUILD = """
import json, resource, sys, time
t = time.perf_counter()
from assistant.config import Config
from assistant.runtime import rebuild_index
r = rebuild_index(Config.from_env())
print(json.dumps({"seconds": time.perf_counter() - t, "embedded": r.embedded,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

COLD = """
import json, resource, time
t = time.perf_counter()
from assistant.config import Config
from assistant.runtime import open_conversation
c = open_conversation(Config.from_env())
c.ask("必要最低限の措置とは何ですか？")
print(json.dumps({"seconds": time.perf_counter() - t, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

# Every warm answer goes through the whole chat turn: intent, retrieval, answerability, the
# catalogue for action questions. Triage steps (one answer to the diagnosis) are timed apart.
WARM = """
import json, resource, sys, time
from assistant.config import Config
from assistant.conversation import ChatInput, ChatState
from assistant.runtime import open_conversation
qs = json.loads(sys.stdin.read())
c = open_conversation(Config.from_env())
c.ask(qs[0])
lat = []
for q in qs:
    t = time.perf_counter()
    c.ask(q)
    lat.append((time.perf_counter() - t) * 1000)
steps = []
for _ in range(5):
    turn = c.reply("見極め診断を始めたい", [], ChatState())
    for _ in range(8):
        if turn.question is None:
            break
        options = turn.question.options
        t = time.perf_counter()
        turn = c.reply(ChatInput(options[0], "choose") if options else ChatInput("顧客図面、加工ノウハウ"), [], turn.state, turn.session)
        steps.append((time.perf_counter() - t) * 1000)
print(json.dumps({"latencies_ms": lat, "triage_steps_ms": steps,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _run(code: str, home: Path, stdin: str | None = None) -> dict:
    env = dict(os.environ, ASSISTANT_HOME=str(home), PYTHONPATH=str(ROOT))
    p = subprocess.run([sys.executable, "-c", code], env=env, input=stdin, capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(p.stdout.strip().splitlines()[-1])


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
        print(f"ウォーム時のチャット応答を計測中（{len(QUESTIONS) * args.rounds} 問）…", file=sys.stderr)
        warm = _run(WARM, home, json.dumps(QUESTIONS * args.rounds, ensure_ascii=False))
    lat = warm["latencies_ms"]
    result = {
        "machine": f"{os.cpu_count()} cores",
        "index_build_s": round(build["seconds"], 2),
        "index_entries": build["embedded"],
        "cold_start_to_first_answer_s": round(sorted(c["seconds"] for c in colds)[1], 2),
        "warm_chat_p50_ms": round(pct(lat, 50), 1),
        "warm_chat_p95_ms": round(pct(lat, 95), 1),
        "warm_chat_max_ms": round(max(lat), 1),
        "questions": len(lat),
        "triage_step_p95_ms": round(pct(warm["triage_steps_ms"], 95), 1) if warm["triage_steps_ms"] else None,
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
