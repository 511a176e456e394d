"""#19-13: bidi overrides and zero-width characters were stored and shown raw; ``{"question": NaN}``
and a lone surrogate with ``save: true`` gave 500 and multi-line tracebacks that broke the
one-JSON-per-line log; request logs carried full share codes in download paths; the
``server_stats`` endpoint answered anonymously."""

import json

from urllib.parse import quote

from gradio_client import Client

from helpers import admin_cookie, finish_triage, http

CRAFTED = "\u202eFDP.exe 社会式株\u200b\u2066"


def test_invisible_controls_are_removed_from_stored_names(keyed_app):
    answers = {"firm": {"name": CRAFTED}, "items": [{"name": "図面\u200d\u202e甲"}]}
    status, _, body = http("POST", keyed_app.url + "api/v1/triage", {"answers": answers, "save": True}, {"X-Forwarded-For": "192.0.2.131"})
    assert status == 200
    out = json.loads(body)
    echoed = json.dumps(out, ensure_ascii=False)
    assert "\u202e" not in echoed and "\u200b" not in echoed and "\u200d" not in echoed and "\u2066" not in echoed
    assert out["items"][0]["item"] == "図面甲"
    firms = [c["firm"] for c in keyed_app.records().list_consultations(1000)]
    assert "FDP.exe 社会式株" in firms and not any("\u202e" in f for f in firms)


def test_nan_infinity_and_lone_surrogates_are_refused_with_a_message(keyed_app):
    for raw in (b'{"question": NaN}', b'{"question": "a", "history": [], "x": Infinity}', b'{"question": -Infinity}'):
        status, _, body = http("POST", keyed_app.url + "api/v1/ask", raw=raw, headers={"Content-Type": "application/json"})
        assert status == 400 and "JSON" in json.loads(body)["error"]
    surrogate = b'{"answers": {"items": [{"name": "\\ud800\xe5\x9b\xb3"}]}, "save": true}'
    status, _, body = http("POST", keyed_app.url + "api/v1/triage", raw=surrogate, headers={"Content-Type": "application/json"})
    assert status == 400 and "サロゲート" in json.loads(body)["error"]


def test_the_log_is_one_json_object_per_line_with_codes_masked(keyed_app):
    page = Client(keyed_app.url, verbose=False)
    r = finish_triage(page, "ログ確認工業", "図面丁")
    for link in r["links"]:
        http("GET", keyed_app.url + link.lstrip("/"))
    http("GET", keyed_app.url + quote(f"gradio_api/file=/nonexistent/見極め診断_{r['code']}.pdf"))
    http("POST", keyed_app.url + "api/v1/ask", raw=b'{"question": NaN}', headers={"Content-Type": "application/json"})
    log = (keyed_app.home / "app.log").read_text(encoding="utf-8")
    lines = [line for line in log.splitlines() if line.strip()]
    json_lines = [line for line in lines if line.startswith("{")]
    for line in json_lines:
        json.loads(line)  # every log line the app writes is one JSON object
    assert not [line for line in lines if line.startswith(("Traceback", "  File "))]
    assert r["code"] not in log and r["secret"] not in log
    assert not any(link.removeprefix("/download/") in log for link in r["links"])


def test_the_server_stats_are_not_anonymous(keyed_app):
    assert http("GET", keyed_app.url + "internal/stats")[0] == 403
    status, _, body = http("GET", keyed_app.url + "internal/stats", headers={"Cookie": admin_cookie(keyed_app.url)})
    assert status == 200 and "p95_ms" in json.loads(body)
    page = Client(keyed_app.url, verbose=False)
    assert "server_stats" not in json.dumps(page.view_api(print_info=False, return_format="dict"))
