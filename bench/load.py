"""Load test on loopback: N concurrent simulated users ask questions through the real app.

Usage: python bench/load.py [--users 20] [--questions 5] [--mode page|gradio|rest|both] [--cluster] [--json OUT]
Starts app.py on a free 127.0.0.1 port with a temporary ASSISTANT_HOME (or the one given),
sends a bounded number of requests (users × questions, 600 s at most), then stops it.
Reports throughput, latency p50/p95 (as users see it, queueing included), failures, and the
server time per answer each app measured. ``--cluster`` runs the same against deploy/cluster.py:
PostgreSQL, a Chroma server, two replicas and HAProxy.

Modes: ``page`` speaks what the browser's page speaks (gradio's queue protocol: the page's config
once per user, then a join and its event stream per question) with the standard library, so the
users cost the two cores little; ``gradio`` drives the same endpoint through the gradio_client
library, which on this machine spends about as much CPU per question as the server (reported apart,
as it was measured before); ``rest`` is /api/v1/ask. ``both`` runs page then rest.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from assistant.scoring import percentile as pct  # noqa: E402  one formula for every percentile
# Guideline questions and owners' questions. Each mode of a run starts further along this list, so
# that the second mode does not find its questions in the embedder's query cache from the first.
QUESTIONS = [json.loads(line)["question"] for name in ("cases/guideline.jsonl", "guide/guide.jsonl", "guide2/guide_dev2.jsonl")
             for line in (ROOT / "eval" / name).read_text(encoding="utf-8").splitlines() if line.strip()]
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


def _gradio_user(url: str, headers: dict):
    from gradio_client import Client

    client = Client(url, verbose=False, headers=headers)

    def ask(q: str) -> tuple[bool, str]:
        messages = client.predict(q, [], api_name="/ask")[0]
        return bool(messages) and messages[-1]["role"] == "assistant", str(messages)[-200:]

    return ask


def _page_user(url: str, headers: dict):
    """One browser's page: its config once (the page load), then per question the ask event joined to
    the queue and its events read until it completes, as the page's JavaScript client does."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    conn.request("GET", "/config", headers=headers)
    response = conn.getresponse()
    body = response.read()
    if response.status != 200:
        raise RuntimeError(f"config: HTTP {response.status}")
    config = json.loads(body)
    prefix = config.get("api_prefix", "/gradio_api")
    dep = next(d for d in config["dependencies"] if d.get("api_name") == "ask")
    kinds = {c["id"]: c["type"] for c in config["components"]}
    session = uuid.uuid4().hex[:11]
    stream = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)

    def ask(q: str) -> tuple[bool, str]:
        # The page sends the question, the chat so far (empty, as the gradio mode sends it) and nothing
        # for the State inputs (they live on the server, per session).
        data = [q if kinds[i] == "textbox" else ([] if kinds[i] == "chatbot" else None) for i in dep["inputs"]]
        body = json.dumps({"data": data, "fn_index": dep["id"], "trigger_id": dep["targets"][0][0], "session_hash": session,
                           "event_data": None}, ensure_ascii=False).encode()
        conn.request("POST", f"{prefix}/queue/join", body=body, headers={"Content-Type": "application/json", **headers})
        joined = conn.getresponse()
        event_id = json.loads(joined.read()).get("event_id")
        if joined.status != 200 or not event_id:
            return False, f"join: HTTP {joined.status}"
        stream.request("GET", f"{prefix}/queue/data?session_hash={session}", headers={"Accept": "text/event-stream", **headers})
        events = stream.getresponse()
        result = None
        # The stream carries the session's events and closes when none is pending: read it to its end,
        # so that the connection can be used again for the next question.
        for raw in events:
            line = raw.decode("utf-8").strip()
            if not line.startswith("data:"):
                continue
            msg = json.loads(line[5:])
            if msg.get("event_id") == event_id and msg.get("msg") == "process_completed":
                out = msg.get("output") or {}
                messages = (out.get("data") or [None])[0] if msg.get("success") else None
                result = (bool(messages) and messages[-1].get("role") == "assistant", str(out)[-200:])
            if msg.get("msg") == "close_stream":
                break
        events.read()
        if result is not None:
            return result
        return False, "the event stream ended before the answer"

    return ask


def _rest_user(url: str, headers: dict):
    def ask(q: str) -> tuple[bool, str]:
        req = urllib.request.Request(url + "api/v1/ask", data=json.dumps({"question": q}, ensure_ascii=False).encode(),
                                     headers={"Content-Type": "application/json", **headers}, method="POST")
        with urllib.request.urlopen(req, timeout=120) as r:
            body = json.loads(r.read())
        return r.status == 200 and "answer" in body, body.get("answer", "")[:200]

    return ask


def run(url: str, users: int, questions: int, mode: str = "gradio", replicas: int = 0, offset: int = 0) -> dict:
    """N users, each asking ``questions`` questions, all starting together. ``replicas`` > 0 pins
    user n to replica n % replicas through HAProxy's cookie (gradio's queue needs one replica)."""
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(users)
    deadline = time.time() + TIME_LIMIT_S
    make = {"page": _page_user, "gradio": _gradio_user, "rest": _rest_user}[mode]

    def user(n: int) -> None:
        headers = {"Cookie": f"TICSSERVER=r{n % replicas + 1}"} if replicas else {}
        try:
            ask = make(url, headers)
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
            q = QUESTIONS[(offset + n * questions + i) % len(QUESTIONS)]
            start = time.perf_counter()
            try:
                ok, detail = ask(q)
            except Exception as exc:
                ok, detail = False, f"{type(exc).__name__}: {exc}"
            elapsed = (time.perf_counter() - start) * 1000
            with lock:
                latencies.append(elapsed)
                if not ok:
                    failures.append(f"user {n} q{i}: {detail[:200]}")

    threads = [threading.Thread(target=user, args=(n,)) for n in range(users)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return {
        "mode": mode,
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


STATS_PASSWORD = "load-test-" + os.urandom(8).hex()  # the app's admin password for this run: the stats are for the admin only


def server_stats(urls: list[str], headers: dict | None = None) -> dict:
    """Server time per answer, as each app measured it (p50/p95 of each replica), read as the admin."""
    from http.cookiejar import CookieJar

    out = {}
    for u in urls:
        try:
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
            login = urllib.request.Request(u + "admin/login", data=json.dumps({"password": STATS_PASSWORD}).encode(),
                                           headers={"Content-Type": "application/json", **(headers or {})}, method="POST")
            opener.open(login, timeout=30).read()
            with opener.open(urllib.request.Request(u + "internal/stats", headers=headers or {}), timeout=30) as r:
                out[u] = json.loads(r.read())
        except Exception as exc:
            out[u] = {"error": str(exc)[:200]}
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--questions", type=int, default=5)
    ap.add_argument("--mode", choices=["page", "gradio", "rest", "both"], default="both",
                    help="the page's protocol, the same through gradio_client, the REST API, or page and REST in turn")
    ap.add_argument("--cluster", action="store_true", help="start the cluster (deploy/cluster.py) and load it through HAProxy")
    ap.add_argument("--home", type=Path)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    modes = ["page", "rest"] if args.mode == "both" else [args.mode]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.cluster:
            sys.path.insert(0, str(ROOT / "deploy"))
            from cluster import Cluster

            with Cluster(Path(tmp) / "cluster", 2, extra_env={"ASSISTANT_ASKS_PER_MINUTE": "100000", "ASSISTANT_ADMIN_PASSWORD": STATS_PASSWORD}) as c:
                for n, mode in enumerate(modes):
                    r = run(c.url, args.users, args.questions, mode, replicas=2, offset=n * args.users * args.questions)
                    r["server"] = server_stats([c.replica_url(1), c.replica_url(2)])
                    results.append(r)
        else:
            home = args.home or Path(tmp)
            proc, url = start_app(home, {"ASSISTANT_ASKS_PER_MINUTE": "100000", "ASSISTANT_ADMIN_PASSWORD": STATS_PASSWORD})
            try:
                for n, mode in enumerate(modes):
                    r = run(url, args.users, args.questions, mode, offset=n * args.users * args.questions)
                    r["server"] = server_stats([url])
                    results.append(r)
            finally:
                proc.terminate()
                proc.wait(timeout=30)
    for r in results:
        print(f"== {r['mode']}{'（クラスター: HAProxy + 2 レプリカ）' if args.cluster else ''}")
        for k, v in r.items():
            print(f"  {k:18} {v}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0 if all(r["failures"] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
