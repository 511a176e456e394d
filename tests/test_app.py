"""The web app as a served process: the page, the gradio API, the REST API, health and metrics."""

import json
import urllib.error
import urllib.request

import pytest

from conftest import serve_app


@pytest.fixture(scope="module")
def server(home, assistant):
    yield from serve_app(home)


def get(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def post(url, data, headers=None):
    body = json.dumps(data, ensure_ascii=False).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json", **(headers or {})}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def test_page_is_served_in_japanese_with_security_headers(server):
    status, headers, html = get(server)
    assert status == 200 and "TICS Assistant" in html.decode()
    assert "img-src 'self' data: blob:" in headers["content-security-policy"] and headers["x-frame-options"] == "DENY"
    assert headers["x-request-id"]


def test_chat_answers_with_citations_and_opens_a_clause(server):
    from gradio_client import Client

    client = Client(server, verbose=False)
    out = client.predict("保険や準備金は必要？", [], api_name="/ask")
    messages, sources = out[0], out[1]  # the gradio API leaves out the State outputs
    answer = messages[-1]["content"][0]["text"]
    assert "（指針第3の3）" in answer and "保険、準備金等により備える" in answer
    assert sources["choices"][0][0] == "指針第3の3"
    panel = client.predict("指針第3の3", api_name="/clause")
    assert "保険、準備金等により備える対応をしていること。" in panel and "seed" in panel


def test_bad_question_is_a_message_not_an_error(server):
    from gradio_client import Client

    messages = Client(server, verbose=False).predict("   ", [], api_name="/ask")[0]
    assert "質問が空です" in messages[-1]["content"][0]["text"]


def test_rest_ask_returns_the_same_json_as_ask_json(server):
    status, out = post(server + "api/v1/ask", {"question": "取引先から預かった図面はどう管理すればいい？"})
    assert status == 200 and out["intent"] == "action" and out["offer"] == "triage" and out["advice"]
    assert list(out)[:6] == ["question", "answer", "refused", "citations", "retrieved", "corpus_version"]
    status, out = post(server + "api/v1/ask", {"question": ""})
    assert status == 400 and "空" in out["error"]


def test_rest_triage_returns_the_result_and_saves_it_on_request(server):
    answers = {"items": [{"name": "顧客図面", "forms": ["書面"], "confidential_obligation": "はい"}]}
    status, out = post(server + "api/v1/triage", {"answers": answers, "save": True})
    assert status == 200 and out["must_protect"] == ["顧客図面"] and out["code"] and out["edit_secret"] and out["measures"]
    status, out = post(server + "api/v1/triage", {"answers": {"items": [{"name": "x", "damage": "huge"}]}})
    assert status == 400 and "items[0].damage" in out["error"]


def test_openapi_docs_are_served_without_anything_from_outside(server):
    status, _, body = get(server + "api/openapi.json")
    spec = json.loads(body)
    assert status == 200 and "/api/v1/ask" in spec["paths"] and "/api/v1/triage" in spec["paths"]
    status, _, page = get(server + "api/docs")
    assert status == 200 and "/api/v1/ask" in page.decode() and "<script" not in page.decode() and "https://" not in page.decode()


def test_health_and_metrics(server):
    status, _, body = get(server + "healthz")
    health = json.loads(body)
    assert status == 200 and health["status"] == "ready" and health["index_version"]
    post(server + "api/v1/ask", {"question": "明日の天気は？"})
    status, _, text = get(server + "metrics")
    text = text.decode()
    assert status == 200 and "tics_answers_total" in text and 'tics_refusals_total{reason="' in text
    assert "tics_answer_seconds_bucket" in text and f'tics_index_version_info{{version="{health["index_version"]}"}} 1.0' in text
