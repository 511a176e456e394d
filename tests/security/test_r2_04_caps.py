"""#19-4: the request caps could be bypassed. A chunked body without Content-Length over 64 KB was
accepted and saved (300 of them grew the DB and WAL from 5 MB to 173 MB); a 200 MB body with
Content-Length got 413 only after it was read and parsed; the page's chat accepted a 100 MB
history and echoed it back."""

import http.client
import json
import socket
from urllib.parse import urlsplit

from gradio_client import Client

from helpers import http as request


def chunked_post(url: str, path: str, body: bytes, headers: dict | None = None) -> tuple[int, bytes]:
    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)

    def chunks():
        for i in range(0, len(body), 8192):
            yield body[i : i + 8192]

    conn.request("POST", path, body=chunks(), headers={"Content-Type": "application/json", **(headers or {})}, encode_chunked=True)
    r = conn.getresponse()
    return r.status, r.read()


def db_bytes(home) -> int:
    return sum(p.stat().st_size for p in home.glob("records.sqlite3*"))


def test_a_chunked_body_over_the_cap_is_refused_before_it_is_parsed_or_saved(keyed_app):
    records = keyed_app.records()
    before = len(records.list_consultations(10_000))
    answers = {"answers": {"items": [{"name": "チャンク工業の図面"}]}, "save": True, "pad": "y" * 100_000}
    status, body = chunked_post(keyed_app.url, "/api/v1/triage", json.dumps(answers, ensure_ascii=False).encode())
    assert status == 413 and "大きすぎます" in json.loads(body)["error"]
    assert len(records.list_consultations(10_000)) == before  # nothing was saved
    small = dict(answers, pad="")
    status, body = chunked_post(keyed_app.url, "/api/v1/triage", json.dumps(small, ensure_ascii=False).encode(), {"X-Forwarded-For": "192.0.2.41"})
    assert status == 200 and json.loads(body)["code"]  # a chunked body under the cap is read as usual


def test_a_declared_200_mb_body_is_refused_without_being_read(keyed_app):
    u = urlsplit(keyed_app.url)
    with socket.create_connection((u.hostname, u.port), timeout=30) as s:
        s.sendall(b"POST /api/v1/triage HTTP/1.1\r\nHost: " + u.netloc.encode() + b"\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 209715200\r\n\r\n" + b"{" + b" " * 1023)
        reply = s.recv(4096)  # 1 KB of the 200 MB sent: the answer comes without the rest
    assert reply.startswith(b"HTTP/1.1 413"), reply[:80]


def test_the_pages_routes_have_a_cap_too(keyed_app):
    big = json.dumps({"data": ["x" * (2 * 1024 * 1024)], "fn_index": 0, "session_hash": "abcdefgh"}).encode()
    status, _, body = request("POST", keyed_app.url + "gradio_api/queue/join", raw=big, headers={"Content-Type": "application/json"})
    assert status == 413 and "大きすぎます" in json.loads(body)["detail"]
    status, body = chunked_post(keyed_app.url, "/gradio_api/queue/join", big)
    assert status == 413


def test_the_chat_history_a_page_sends_back_is_capped_on_the_server(keyed_app):
    client = Client(keyed_app.url, verbose=False)
    def message(role, text):
        return {"role": role, "content": [{"type": "text", "text": text}]}

    history = [message("user" if n % 2 == 0 else "assistant", f"過去の発言 {n}") for n in range(300)]
    history.append(message("assistant", "長" * 50_000))  # longer than any answer the app writes
    messages = client.predict("保険や準備金は必要？", history, api_name="/ask")[0]
    assert len(messages) <= 80
    assert all(len(str(m["content"])) < 50_000 for m in messages)
    assert messages[-1]["role"] == "assistant" and "過去の発言 0" not in json.dumps(messages, ensure_ascii=False)
