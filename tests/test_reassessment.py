"""A re-assessment that shows what changed (#22): the adviser sees, before any table, which verdicts
changed, which information was added or left out, which measures were done since, and which are
late. Expectations are an adviser's: a price list that became a competitive asset must be named
with both verdicts; a measure marked done since is listed; one past its due date is flagged."""

import datetime as dt
import io

from openpyxl import load_workbook

from assistant.config import SHIPPED_CORPUS
from assistant.corpus import load_corpus
from assistant.triage import excel, report
from assistant.triage.model import TriageResult
from assistant.triage.session import TriageServices, TriageSession

CORPUS = load_corpus([SHIPPED_CORPUS])
DRAWINGS = {"name": "顧客図面", "forms": ["書面"], "damage": "大", "confidential_obligation": "はい"}
PRICES = {"name": "見積単価表", "forms": ["電子データ"], "confidential_obligation": "いいえ", "legal_control": "いいえ", "public": "いいえ",
          "competitive": "いいえ", "damage": "小"}
FIRM = {"name": "架空再診工業", "industry": "金属加工", "size": "6〜20人", "collaboration": ["下請け・受託"]}


def first_and_again(today=dt.date(2027, 6, 1)):
    first = TriageSession(TriageServices.load(lambda: CORPUS)).from_answers({"firm": FIRM, "items": [DRAWINGS, PRICES]})
    ids = [m.id for m in first.result().measures]
    first = first.set_progress(ids[0], "done", "山田", today=today)
    first = first.set_progress(ids[1], "planned", "佐藤", "2027-03-31", today=today)
    first = replace_code(first, "AB23CD45")
    again = first.reassess()
    # Since then: measure 2 was done, the price list became a competitive asset, a recipe was named, measure 3 has a past due date
    again = again.from_answers({"firm": FIRM, "items": [DRAWINGS, {**PRICES, "competitive": "はい", "damage": "大"},
                                                        {"name": "焼き入れ条件", "forms": ["人の知識・ノウハウ"], "confidential_obligation": "いいえ", "legal_control": "いいえ",
                                                         "public": "いいえ", "competitive": "はい", "damage": "大"}],
                                "progress": {**again.state.progress}})
    again = again.set_progress(ids[1], "done", "佐藤", "2027-03-31", today=today)
    again = again.set_progress(ids[2], "planned", "鈴木", "2020-01-31", today=today)
    return again.result(), ids


def replace_code(s, code):
    from dataclasses import replace
    return replace(s, code=code)


def test_a_verdict_that_changed_is_named_with_both_verdicts():
    r, _ = first_and_again()
    changes = {c.name: c.change for c in r.comparison.items}
    assert changes["見積単価表"] == "優先度は低い → 確実に守るべき"
    assert changes["焼き入れ条件"].startswith("新しく挙げた情報（確実に守るべき")
    assert "顧客図面" not in changes  # unchanged: not listed as a change


def test_the_record_leads_with_what_changed_before_the_table():
    r, ids = first_and_again()
    md = report.markdown(r)
    section = md.split("前回の計画からの進み具合", 1)[1]
    before_table = section.split("| ID |", 1)[0]
    assert "判定が変わった情報: 「見積単価表」優先度は低い → 確実に守るべき、「焼き入れ条件」新しく挙げた情報（確実に守るべき）" in before_table
    assert f"前回から完了した対策: {ids[1]}" in before_table and ids[0] not in before_table.split("前回から完了した対策")[1].split("\n")[0]
    assert f"期限を過ぎた対策: {ids[2]}" in before_table and "期限 2020-01-31、担当 鈴木" in before_table
    assert f"（全 {len(r.measures)} 件）。期限切れ 1 件: {ids[2]}" in md  # the plan's own progress line says it too
    row = next(line for line in section.splitlines() if line.startswith(f"| {ids[1]} |"))
    assert row.endswith("| 予定 | 完了 | 新しく完了 |")


def test_the_change_survives_the_record_and_reaches_the_excel_and_the_pdf():
    r, ids = first_and_again()
    again = TriageResult.from_dict(r.to_dict())  # saved and opened again
    assert [c.name for c in again.comparison.items] == [c.name for c in r.comparison.items]
    ws = load_workbook(io.BytesIO(excel.workbook(again)))["前回からの進み具合"]
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert ["ID", "対策", "前回", "今回", "変化"] == values[0][:5]
    assert any(v[0] == "見積単価表" and v[1] == "優先度は低い → 確実に守るべき" for v in values)
    from pypdf import PdfReader
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(report.pdf(again))).pages)
    assert "判定が変わった情報" in text and "見積単価表" in text


def test_a_record_made_before_the_item_changes_still_opens():
    r, _ = first_and_again()
    d = r.to_dict()
    del d["comparison"]["items"]
    old = TriageResult.from_dict(d)
    assert old.comparison.items == [] and "判定が変わった情報" not in report.markdown(old)
