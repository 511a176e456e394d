"""Fault test: remove and add documents from the CLI while a load runs against the app.

Zero failed answers, and every answer cites only documents of the index version it reports,
a version that was live while the answer was being made (readers switch within a few seconds)."""

import json
import threading
import time

from conftest import serve_app
from helpers import FIXTURE, cli, http, private_home

QUESTIONS = ["基準Ⅲの第二には何と書いてある？", "保険や準備金は必要？", "必要最低限の措置とは何ですか？", "取引先から預かった図面はどう管理すればいい？"]
SWITCH_GRACE_S = 10.0


def test_documents_change_under_load_without_a_failed_answer(home, assistant, tmp_path):
    own = private_home(home, tmp_path / "home")
    assert cli(own, "corpus", "add", str(FIXTURE), "--doc", "基準", "--version", "fx1").returncode == 0
    results, stop = [], threading.Event()
    for url in serve_app(own, ASSISTANT_ASKS_PER_MINUTE="100000"):
        def worker(n: int) -> None:
            i = n
            while not stop.is_set():
                t0 = time.time()
                status, _, body = http("POST", url + "api/v1/ask", {"question": QUESTIONS[i % len(QUESTIONS)]})
                results.append((t0, time.time(), status, json.loads(body) if status == 200 else body.decode()[:200]))
                i += 1

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        try:
            for step in (("remove", "基準"), ("add", str(FIXTURE), "--doc", "基準", "--version", "fx2"), ("remove", "基準"),
                         ("add", str(FIXTURE), "--doc", "基準", "--version", "fx3")):
                time.sleep(3)
                p = cli(own, "corpus", *step)
                assert p.returncode == 0, p.stderr.decode()
            time.sleep(4)
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=60)
    assert len(results) > 40
    failed = [r for r in results if r[2] != 200]
    assert failed == [], failed[:3]
    versions = sorted((json.loads(p.read_text(encoding="utf-8")) for p in (own / "index" / "versions").glob("*.json")), key=lambda v: v["created_at"])
    windows: dict[str, list[tuple[float, float]]] = {}  # corpus version → when an index version of it was live
    for v, nxt in zip(versions, versions[1:] + [None]):
        windows.setdefault(v["corpus_version"], []).append((v["created_at"], nxt["created_at"] + SWITCH_GRACE_S if nxt else float("inf")))
    seen = set()
    for t0, t1, _, answer in results:
        cv = answer["corpus_version"]
        seen.add(cv)
        assert any(start <= t1 and end >= t0 for start, end in windows.get(cv, [])), (cv, t0, t1, windows.get(cv))
        for c in answer["citations"]:
            assert f"{c['doc']}@" in cv, (c, cv)  # the cited document is in the version the answer used
    assert len(seen) >= 3  # the app really moved through the versions while answering
