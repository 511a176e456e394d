"""The web app as a served page: started as a real process, queried over HTTP on loopback."""

import urllib.request

import pytest

from conftest import serve_app


@pytest.fixture(scope="module")
def server(home, assistant):
    yield from serve_app(home)


def test_page_is_served_in_japanese(server):
    with urllib.request.urlopen(server, timeout=10) as r:
        html = r.read().decode()
    assert "TICS Assistant" in html


def test_chat_answers_with_citations_and_opens_a_clause(server):
    from gradio_client import Client

    client = Client(server, verbose=False)
    messages, sources, cleared, export = client.predict("保険や準備金は必要？", [], api_name="/ask")
    answer = messages[-1]["content"][0]["text"]
    assert "（指針第3の3）" in answer and "保険、準備金等により備える" in answer
    assert sources["choices"][0][0] == "指針第3の3" and cleared == ""
    panel = client.predict("指針第3の3", api_name="/clause")
    assert "保険、準備金等により備える対応をしていること。" in panel and "seed-40f4958d" in panel


def test_bad_question_is_a_message_not_an_error(server):
    from gradio_client import Client

    client = Client(server, verbose=False)
    messages, _, _, _ = client.predict("   ", [], api_name="/ask")
    assert "質問が空です" in messages[-1]["content"][0]["text"]
