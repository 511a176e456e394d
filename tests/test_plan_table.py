"""The plan table (#22): progress marked in the plan itself, read back from the cells the adviser
edited, and filtered the way an adviser asks (what has not started, what is overdue, one person's).
Pure functions over a real result; the save through the page's handler is in test_page.py."""

import datetime as dt

import pytest

from assistant.config import SHIPPED_CORPUS
from assistant.corpus import load_corpus
from assistant.page import SHOW_ALL, SHOW_OVERDUE, SHOW_TODO, plan_edits, plan_filters, plan_rows
from assistant.triage import TriageError
from assistant.triage.model import Progress
from assistant.triage.session import TriageServices, TriageSession

CORPUS = load_corpus([SHIPPED_CORPUS])
ANSWERS = {"firm": {"name": "架空表工業", "size": "6〜20人"},
           "items": [{"name": "顧客図面", "forms": ["書面", "電子データ"], "damage": "大", "confidential_obligation": "はい"}]}
TODAY = dt.date(2027, 3, 10)


def session() -> TriageSession:
    return TriageSession(TriageServices.load(lambda: CORPUS)).from_answers(ANSWERS)


def marked():
    s = session()
    first, second, third = (m.id for m in s.result().measures[:3])
    s = s.set_progress(first, "done", "山田", "2027-01-31", today=TODAY)
    s = s.set_progress(second, "planned", "佐藤", "2027-02-28", "見積待ち", today=TODAY)  # past due on TODAY
    s = s.set_progress(third, "todo", "山田", "2027-04-30", today=TODAY)
    return s.result(), (first, second, third)


def test_the_table_is_the_plan_with_its_progress():
    r, (first, second, _) = marked()
    rows = plan_rows(r, SHOW_ALL, TODAY)
    assert [row[0] for row in rows] == [m.id for m in r.measures]
    assert rows[0] == [first, r.measures[0].title, "完了", "山田", "2027-01-31", ""]
    assert rows[1][2:] == ["予定", "佐藤", "2027-02-28", "見積待ち"]


def test_the_filters_show_what_has_not_started_what_is_overdue_and_one_persons():
    r, (first, second, third) = marked()
    todo = [row[0] for row in plan_rows(r, SHOW_TODO, TODAY)]
    assert first not in todo and second not in todo and third in todo and len(todo) == len(r.measures) - 2
    assert [row[0] for row in plan_rows(r, SHOW_OVERDUE, TODAY)] == [second]  # done on time is not overdue; April is not yet
    assert [row[0] for row in plan_rows(r, "担当: 山田", TODAY)] == [first, third]
    assert plan_filters(r) == [SHOW_ALL, SHOW_TODO, SHOW_OVERDUE, "担当: 佐藤", "担当: 山田"]


def test_overdue_needs_a_real_date_and_an_open_measure():
    assert Progress("planned", due="2027-03-09").overdue(TODAY) and Progress("todo", due="2027-03-09").overdue(TODAY)
    assert not Progress("done", due="2027-03-09").overdue(TODAY) and not Progress("not_applicable", due="2027-03-09").overdue(TODAY)
    assert not Progress("todo", due="2027-03-10").overdue(TODAY)  # due today: not yet late
    assert not Progress("todo", due="3月末").overdue(TODAY) and not Progress("todo").overdue(TODAY)  # an older record's free text


def test_only_the_rows_changed_are_read_back():
    r, (first, second, third) = marked()
    rows = plan_rows(r, SHOW_ALL, TODAY)
    assert plan_edits(r, rows) == []
    rows[2][2], rows[2][4] = "完了", "来月末"
    rows[5][3] = "  鈴木 "
    edits = plan_edits(r, rows)
    assert [(e.measure, e.status, e.owner, e.due) for e in edits] == [(third, "done", "山田", "来月末"), (rows[5][0], "todo", "鈴木", "")]


def test_a_status_that_is_not_one_of_the_four_names_its_measure_and_column():
    r, (first, _, _) = marked()
    rows = plan_rows(r, SHOW_ALL, TODAY)
    rows[0][2] = "済み"
    with pytest.raises(TriageError, match=f"{first} の「状態」は 未着手・予定・完了・対象外 のどれか"):
        plan_edits(r, rows)


def test_a_row_that_is_not_in_the_plan_is_not_saved():
    r, _ = marked()
    rows = plan_rows(r, SHOW_ALL, TODAY) + [["M99", "勝手な行", "完了", "", "", ""]]
    assert plan_edits(r, rows) == []
