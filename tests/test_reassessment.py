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


def test_progress_per_plan_group_is_kept_across_assessments():
    """An adviser reviewing a firm every quarter wants to see each plan group move from one
    assessment to the next, not only the last two."""
    r, ids = first_and_again()
    first, second = r.standings()[0], r.standings()[-1]
    assert len(r.standings()) == 2 and first.code == "AB23CD45"
    done_first = {g.group: g.done for g in first.groups}
    done_now = {g.group: g.done for g in second.groups}
    assert sum(done_first.values()) == 1 and sum(done_now.values()) == 2  # measure 1 done then; measure 2 done since
    # A third assessment keeps the first two as history: the chain grows, oldest first.
    from dataclasses import replace
    third_previous = replace(r, code="EF67GH89")
    from assistant.triage.result import compare
    comparison = compare(third_previous, r.progress, r.measures, r.items)
    assert [s.code for s in comparison.history] == ["AB23CD45", "EF67GH89"]
    # Saved and opened again, the history survives; a record made before it opens with none.
    again = TriageResult.from_dict(replace(r, comparison=comparison).to_dict())
    assert [s.code for s in again.comparison.history] == ["AB23CD45", "EF67GH89"]
    d = r.to_dict()
    del d["comparison"]["history"]
    assert TriageResult.from_dict(d).standings()[-1].groups  # only this assessment: still a chart of one


def test_the_group_progress_reads_as_numbers_in_the_record_and_as_a_chart_in_the_pdf():
    r, ids = first_and_again()
    head, rows = report.group_progress(r)
    assert head[0] == "分類" and head[1].startswith("1回目 ") and head[-1] == "今回（2回目）"
    for row in rows:  # every cell is 「完了/計画（割合）」 or 「—」, and the shares agree with the counts
        for cell in row[1:]:
            if cell != "—":
                done, total = map(int, cell.split("（")[0].split("/"))
                assert 0 <= done <= total and cell.endswith(f"（{round(100 * done / total)}%）")
    md = report.markdown(r)
    assert "| 分類 | 1回目 " in md and "今回（2回目） |" in md
    png = report.progress_chart(r)
    assert png.startswith(b"\x89PNG")
    assert report.progress_chart(TriageResult.from_dict({**r.to_dict(), "comparison": None})) is None  # a first assessment has no chart
    from pypdf import PdfReader
    pages = PdfReader(io.BytesIO(report.pdf(r))).pages
    text = "".join(p.extract_text() for p in pages)
    assert "今回（2回目）" in text
    assert sum(len(p.images) for p in pages) == 2  # the standing chart and the progress chart


def test_the_excel_counts_this_assessments_group_progress_from_the_plan_sheet():
    r, ids = first_and_again()
    wb = load_workbook(io.BytesIO(excel.workbook(r)))
    ws = wb["分類ごとの進み具合"]
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert values[0] == ["評価", "分類", "完了", "計画（対象外を除く）", "完了の割合"] and ws.auto_filter.ref
    earlier = [v for v in values[1:] if v[0].startswith("1回目")]
    now = [v for v in values[1:] if v[0] == "今回（2回目）"]
    assert earlier and all(isinstance(v[2], int) for v in earlier)  # as saved then
    assert now and all(str(v[2]).startswith("=COUNTIFS('計画と進み具合'!$C$2:$C$") and "'計画と進み具合'!$J$2:$J$" in v[2]
                       for v in now)  # counted from the plan sheet's 区分 and 状態 columns, which the adviser edits
    # Evaluate this assessment's formulas by hand over the plan sheet: they agree with the model
    plan = [[c.value for c in row] for row in wb["計画と進み具合"].iter_rows(min_row=2)]
    for v in now:
        group_rows = [p for p in plan if p[2] == v[1]]
        expected = next(g for g in r.standings()[-1].groups if g.label == v[1])
        assert sum(p[9] == "完了" for p in group_rows) == expected.done
        assert sum(p[9] != "対象外" for p in group_rows) == expected.total
