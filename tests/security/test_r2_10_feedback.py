"""#19-10: feedback had no rate limit (300 posts in 11 s) and no server-side length cap (5,000
characters stored as 2,000 where the page allows 1,000)."""

import pytest
from gradio_client import Client

from assistant.records import RecordError, Records
from helpers import texts_of


def test_the_records_refuse_a_comment_over_the_pages_cap(tmp_path):
    records = Records(tmp_path / "r.sqlite3")
    with pytest.raises(RecordError, match="1,000 文字まで"):
        records.add_feedback("質問", "答え", "bad", "長" * 5000, [], "v")
    assert records.list_feedback() == []
    records.add_feedback("質問", "答え", "bad", "長" * 1000, [], "v")
    assert len(records.list_feedback()[0]["comment"]) == 1000


def test_feedback_from_the_page_is_rate_limited_and_capped(keyed_app):
    page = Client(keyed_app.url, verbose=False)
    page.predict("保険や準備金は必要？", [], api_name="/ask")
    before = len(keyed_app.records().list_feedback(1000))
    msg, kept = page.predict("長" * 5000, api_name="/feedback_bad")
    assert "1,000 文字まで" in msg.replace("\\", "") and kept == "長" * 5000  # refused, and the comment is kept in the box
    replies = [texts_of(page.predict("よかった", api_name="/feedback_good"))[0] for _ in range(12)]
    assert all("保存しました" in r for r in replies[:10]) and all("多すぎます" in r for r in replies[10:]), replies[-1]
    assert len(keyed_app.records().list_feedback(1000)) == before + 10
