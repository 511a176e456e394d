"""md_text: user and document text inside Markdown stays text, rendered by a real CommonMark parser
(markdown-it, with GFM tables and strikethrough), and reads without backslashes where no mark is."""

import html
import re

import pytest
from markdown_it import MarkdownIt

from assistant.markup import md_lines, md_text

HOSTILE = [
    "# 見出しにしたい", "## 2. 必要最低限の措置", "- 箇条書き", "+ 箇条", "* 箇条", "1. 番号", "12) 番号", "> 引用",
    "---", "***", "___", "===", "| 会社 | 偽 | 行 |", "**太字** と _斜体_", "`code`", "```", "[リンク](https://evil.example)",
    "![画像](x.png)", "<script>alert(1)</script>", "<b>太字</b>", "&lt;b&gt;", "~~取り消し~~", "$x^2$", "\\# バックスラッシュ",
    "[^1]", "<https://evil.example>", "2026-12-02 05:06", "株式会社(テスト)・加工No.3", "a:b [x]: /y",
]
md = MarkdownIt("commonmark").enable(["table", "strikethrough"])


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_renders_as_one_paragraph_of_the_same_text(text):
    out = md.render(md_text(text)).strip()
    assert out.startswith("<p>") and out.endswith("</p>") and out.count("<p>") == 1, out
    assert html.unescape(out[3:-4]) == text, out  # no tag of its own: exactly the text typed


@pytest.mark.parametrize("text", ["https://evil.example/x", "HTTP://evil.example", "www.evil.example", "evil@example.jp"])
def test_urls_and_addresses_are_not_made_links(text):
    escaped = md_text(text)
    assert not re.search(r"[A-Za-z]://|www\.|[^\\]@", escaped, re.IGNORECASE), escaped  # each is broken by a backslash


@pytest.mark.parametrize(("text", "kept"), [
    ("2026-12-02 05:06", "2026-12-02 05:06"),
    ("株式会社(テスト)", "株式会社(テスト)"),
    ("期限: 2027/1/31、担当: 山田", "期限: 2027/1/31、担当: 山田"),
    ("見積単価表.xlsx", "見積単価表.xlsx"),
])
def test_ordinary_text_has_no_backslashes(text, kept):
    assert md_text(text) == kept


def test_each_line_is_made_safe_on_its_own():
    out = md.render(md_lines("一行目\n# 二行目\n- 三行目"))
    assert "<h1>" not in out and "<li>" not in out and "二行目" in out and "三行目" in out
