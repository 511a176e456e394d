"""The web app as a served page: started as a real process, queried over HTTP on loopback."""

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from conftest import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(home, assistant):
    port = free_port()
    env = dict(os.environ, ASSISTANT_HOME=str(home), ASSISTANT_PORT=str(port), GRADIO_ANALYTICS_ENABLED="False")
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("app did not start: " + proc.stdout.read().decode(errors="replace")[-2000:])
    yield url
    proc.terminate()
    proc.wait(timeout=20)


def test_page_is_served_in_japanese(server):
    with urllib.request.urlopen(server, timeout=10) as r:
        html = r.read().decode()
    assert "TICS Assistant" in html


def test_chat_answers_with_citations_and_opens_a_clause(server):
    from gradio_client import Client

    client = Client(server, verbose=False)
    messages, sources, cleared = client.predict("保険や準備金は必要？", [], api_name="/ask")
    answer = messages[-1]["content"][0]["text"]
    assert "（指針第3の3）" in answer and "保険、準備金等により備える" in answer
    assert sources["choices"][0][0] == "指針第3の3" and cleared == ""
    panel = client.predict("指針第3の3", api_name="/clause")
    assert "保険、準備金等により備える対応をしていること。" in panel and "seed-40f4958d" in panel


def test_bad_question_is_a_message_not_an_error(server):
    from gradio_client import Client

    client = Client(server, verbose=False)
    messages, _, _ = client.predict("   ", [], api_name="/ask")
    assert "質問が空です" in messages[-1]["content"][0]["text"]
