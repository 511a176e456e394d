"""#19-2: every browser session had the same session id (``gr.State(_new_session())`` ran once):
one user's 30 questions blocked every other user's chat, 125 「戻る」 clicks blocked every
diagnosis, and all exports shared one folder."""

import re

from gradio_client import Client

from conftest import serve_app
from helpers import finish_triage, private_home, texts_of


def last_reply(outputs) -> str:
    content = outputs[0][-1]["content"]
    return "".join(part.get("text", "") for part in content) if isinstance(content, list) else str(content)


def test_one_session_at_its_limit_does_not_block_another(home, assistant, tmp_path):
    own = private_home(home, tmp_path / "home")
    for url in serve_app(own, ASSISTANT_ASKS_PER_MINUTE="3"):
        a, b = Client(url, verbose=False), Client(url, verbose=False)
        replies = [last_reply(a.predict("保険や準備金は必要？", [], api_name="/ask")) for _ in range(4)]
        assert "多すぎます" not in "".join(replies[:3]) and "多すぎます" in replies[3], replies[3]
        assert "多すぎます" not in last_reply(b.predict("保険や準備金は必要？", [], api_name="/ask"))  # b has its own limit
        for _ in range(125):  # a presses 「戻る」 past its 120 diagnosis steps a minute
            out = a.predict(api_name="/triage_back")
        assert any("多すぎます" in t for t in texts_of(out))
        out = b.predict(None, [], "架空工業", api_name="/triage_next")
        assert not any("多すぎます" in t for t in texts_of(out))  # b's diagnosis goes on


def test_each_session_gets_its_own_download_links(keyed_app):
    a, b = Client(keyed_app.url, verbose=False), Client(keyed_app.url, verbose=False)
    ra, rb = finish_triage(a, "一番工業", "図面甲"), finish_triage(b, "二番工業", "図面乙")
    assert ra["code"] != rb["code"]
    assert len(ra["record_links"]) == 3 and len(ra["links"]) > 3 and not set(ra["links"]) & set(rb["links"])  # the record and its templates
    assert all(re.fullmatch(r"/download/[A-Za-z0-9_-]{32}", link) for link in ra["links"] + rb["links"])
