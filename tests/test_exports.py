"""The diagnosis record as a firm receives it (#22): read as the Markdown file, opened in an editor."""

import re

from assistant.config import SHIPPED_CORPUS
from assistant.corpus import load_corpus
from assistant.triage import report
from assistant.triage.session import TriageServices, TriageSession

CORPUS = load_corpus([SHIPPED_CORPUS])
ANSWERS = {"firm": {"name": "株式会社テスト(本社)・第2工場", "size": "6〜20人"},
           "items": [{"name": "顧客図面 No.3", "forms": ["書面"], "damage": "大", "confidential_obligation": "はい"}]}


def session() -> TriageSession:
    return TriageSession(TriageServices.load(lambda: CORPUS)).from_answers(ANSWERS)


def sections(md: str) -> list[int]:
    return [int(m) for m in re.findall(r"^## (\d+)\. ", md, re.MULTILINE)]


def test_the_markdown_reads_as_plain_japanese():
    md = report.markdown(session().result())
    assert "\\" not in md  # no backslash before the - : ( ) . of dates, times and names
    assert "株式会社テスト(本社)・第2工場" in md and "顧客図面 No.3" in md
    assert re.search(r"作成日時: \d{4}-\d{2}-\d{2} \d{2}:\d{2}", md)
    assert "assistant corpus" not in md  # the firm's record names no operator command


def test_sections_are_numbered_without_gaps_with_and_without_a_comparison():
    first = session()
    first = first.set_progress(first.result().measures[0].id, "done")
    assert sections(report.markdown(first.result())) == [1, 2, 3, 4]  # no comparison: the answers are 4th
    again = TriageSession(first.services, first.state, "AB23CD45").reassess().from_answers(ANSWERS)
    assert sections(report.markdown(again.result())) == [1, 2, 3, 4, 5]
    assert sections(report.markdown(again.result(), include_answers=False)) == [1, 2, 3, 4]
