"""Load test on loopback: N concurrent simulated users ask questions through the real app.

Usage: python bench/load.py [--users 20] [--questions 5] [--json OUT]
Starts app.py on a free 127.0.0.1 port with a temporary ASSISTANT_HOME (or the one given),
sends a bounded number of requests (users × questions, 600 s at most), then stops it.
Reports throughput, latency p50/p95 (as users see it, queueing included) and failures.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [json.loads(line)["question"] for line in (ROOT / "eval" / "cases" / "guideline.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
TIME_LIMIT_S = 600


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(home: Path, extra_env: dict | None = None, port: int | None = None, log: Path | None = None) -> tuple[subprocess.Popen, str]:
    """app.py on a free loopback port; returns once /healthz says the index is loaded (or raises)."""
    port = port or free_port()
    env = dict(os.environ, ASSISTANT_HOME=str(home), ASSISTANT_PORT=str(port), GRADIO_ANALYTICS_ENABLED="False", **(extra_env or {}))
    out = open(log, "ab") if log else subprocess.DEVNULL
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    if wait_ready(url, proc, 240):
        return proc, url
    proc.kill()
    raise RuntimeError(f"app did not start (see {log})" if log else "app did not start")


def wait_ready(url: str, proc: subprocess.Popen | None = None, timeout_s: float = 240) -> bool:
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url + "healthz", timeout=2) as r:
                if r.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.5)
    return False


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))] if ordered else 0.0


def run(url: str, users: int, questions: int) -> dict:
    from gradio_client import Client

    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(users)
    deadline = time.time() + TIME_LIMIT_S

    def user(n: int) -> None:
        try:
            client = Client(url, verbose=False)
        except Exception as exc:  # the report counts it; the run goes on
            with lock:
                failures.append(f"user {n}: connect: {exc}")
            barrier.abort()
            return
        try:
            barrier.wait(timeout=120)
        except threading.BrokenBarrierError:
            pass
        for i in range(questions):
            if time.time() > deadline:
                return
            q = QUESTIONS[(n * questions + i) % len(QUESTIONS)]
            start = time.perf_counter()
            try:
                messages = client.predict(q, [], api_name="/ask")[0]
                ok = messages and messages[-1]["role"] == "assistant"
            except Exception as exc:
                ok, messages = False, str(exc)
            elapsed = (time.perf_counter() - start) * 1000
            with lock:
                latencies.append(elapsed)
                if not ok:
                    failures.append(f"user {n} q{i}: {str(messages)[:200]}")

    threads = [threading.Thread(target=user, args=(n,)) for n in range(users)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    try:
        server = Client(url, verbose=False).predict(api_name="/server_stats")
    except Exception as exc:
        server = {"error": str(exc)[:200]}
    return {
        "server_answer_p50_ms": server.get("p50_ms"),
        "server_answer_p95_ms": server.get("p95_ms"),
        "users": users,
        "requests": len(latencies),
        "failures": len(failures),
        "failure_samples": failures[:5],
        "wall_s": round(wall, 2),
        "throughput_rps": round(len(latencies) / wall, 2) if wall else 0.0,
        "latency_p50_ms": round(pct(latencies, 50), 1),
        "latency_p95_ms": round(pct(latencies, 95), 1),
        "latency_max_ms": round(max(latencies, default=0.0), 1),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--questions", type=int, default=5)
    ap.add_argument("--home", type=Path)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = args.home or Path(tmp)
        proc, url = start_app(home)
        try:
            result = run(url, args.users, args.questions)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    for k, v in result.items():
        print(f"{k:18} {v}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0 if result["failures"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
