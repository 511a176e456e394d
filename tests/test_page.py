"""The page's handlers (page.py) called as plain functions, on a real context (the session's index,
SQLite records): no browser and no gradio, the same code the page runs."""

from dataclasses import replace

import pytest
from helpers import TRIAGE_STEPS

from assistant.context import AppContext
from assistant.conversation import ChatInput
from assistant.page import (
    Chat,
    GridForm,
    ProgressForm,
    TriageForm,
    WebSession,
    admin_pdf,
    chat_turn,
    feedback,
    triage_card,
    triage_delete,
    triage_grid,
    triage_next,
    triage_open,
    triage_plan_save,
    plan_cards,
    plan_rows,
    plan_show,
    triage_progress,
    triage_revisited,
    triage_view,
)

CLIENT = "192.0.2.10"


@pytest.fixture()
def ctx(cfg, assistant, tmp_path):
    c = AppContext.open(replace(cfg, database_url=f"sqlite:///{tmp_path / 'records.db'}"), notify=lambda *_: None)  # records of its own
    c.live.check()
    return c


def finish(ctx, firm: str = "架空ページ工業", item: str = "試作図面") -> WebSession:
    s = WebSession()
    for choice, multi, free in TRIAGE_STEPS:
        view = triage_next(ctx, s, TriageForm(choice, tuple(multi or ()), (free or "").format(firm=firm, item=item)), CLIENT)
        assert not view.notice.startswith("⚠️"), view.notice
        s = view.session
    return s


def test_each_browser_session_draws_its_own_id():
    a, b = WebSession().with_id(), WebSession().with_id()
    assert a.id and b.id and a.id != b.id
    assert a.with_id() is a and a.fresh().id == a.id and a.fresh(code="X").triage is None


def test_a_diagnosis_through_the_handlers_is_saved_opened_read_only_and_deleted(ctx):
    s = finish(ctx)
    view = triage_view(ctx, s)
    assert view.question is None and view.result is not None and s.code and s.secret
    assert view.result.code == s.code and "試作図面" in view.result.must_protect
    assert ctx.downloads.get(view.links.pdf.rsplit("/", 1)[1]).body().startswith(b"%PDF")

    shared = triage_open(ctx, WebSession(), s.code, "", CLIENT)  # the share link: the code only
    assert shared.session.readonly and shared.session.secret is None and shared.result is not None
    measure = shared.result.measures[0].id
    refused = triage_progress(ctx, shared.session, ProgressForm(measure, "done"), CLIENT)
    assert "閲覧専用" in refused.notice and refused.result.progress_of(measure).status == "todo"

    done = triage_progress(ctx, s, ProgressForm(measure, "done", "山田", "2027/1/31"), CLIENT)
    p = done.result.progress_of(measure)
    assert (p.status, p.owner, p.due) == ("done", "山田", "2027-01-31")  # the date as typed, stored as a date
    assert "保存しました" in done.notice and "完了" in done.notice and "2027-01-31" in done.notice
    bad = triage_progress(ctx, done.session, ProgressForm(measure, "done", "山田", "そのうち"), CLIENT)
    assert bad.refused and "来月末" in bad.notice and bad.result.progress_of(measure).due == "2027-01-31"  # kept
    assert triage_open(ctx, WebSession(), s.code, "", CLIENT).result.progress_of(measure).status == "done"  # saved

    assert "チェック" in triage_delete(ctx, done.session, False, CLIENT).notice  # not confirmed: kept
    gone = triage_delete(ctx, done.session, True, CLIENT)
    assert "削除しました" in gone.notice and gone.session.code is None and gone.session.id == done.session.id
    assert ctx.downloads.get(view.links.pdf.rsplit("/", 1)[1]) is None  # its links went with it
    assert triage_open(ctx, WebSession(), s.code, "", CLIENT).notice.startswith("⚠️")


def test_the_admin_pdf_of_a_saved_consultation(ctx):
    """The admin's 「相談コード → PDF」 (it called a table instead of the consultation service before)."""
    s = finish(ctx)
    offered = admin_pdf(ctx, s.code, CLIENT, "admin-test")
    assert not offered.error and ctx.downloads.get(offered.url.rsplit("/", 1)[1]).body().startswith(b"%PDF")
    assert admin_pdf(ctx, "ZZZZZZZZ", CLIENT, "admin-test").error  # an unknown code says so


def test_a_bad_grid_cell_names_its_row_and_column_and_keeps_the_session(ctx):
    s = WebSession()
    view = triage_grid(ctx, s, GridForm("架空工業", rows=[["顧客図面", "たぶん"] + [""] * 8]), CLIENT)
    assert view.refused and view.keep_grid and "一覧表の 1 行目「秘密保持の義務」" in view.notice and "回答ファイル" not in view.notice
    assert view.session.code is None  # nothing saved
    empty = triage_grid(ctx, s, GridForm("架空工業", rows=[]), CLIENT)
    assert empty.refused and empty.keep_grid and "情報がありません" in empty.notice and empty.session.code is None
    good = triage_grid(ctx, s, GridForm("架空工業", rows=[["顧客図面", "はい"] + [""] * 8]), CLIENT)
    assert not good.refused and not good.keep_grid and good.result is not None and good.session.code  # saved


def test_a_chat_question_and_its_feedback(ctx):
    views = list(chat_turn(ctx, WebSession(), ChatInput("保険や準備金は必要？"), Chat(), CLIENT))
    v = views[-1]
    assert v.chat.messages[-2]["role"] == "user" and v.chat.messages[-1]["role"] == "assistant"
    assert v.sources and v.sources[0].startswith("指針") and v.question == "" and v.export.startswith("/download/")
    assert len(v.chat.answers) == 1 and v.chat.turns[-1]["role"] == "assistant"
    assert v.chat.turns[-1]["citations"] == list(v.sources)  # the turn is data for the follow-up
    said, kept = feedback(ctx, v.session, "good", "わかりやすい", v.chat.answers)
    assert "保存しました" in said and kept == ""
    assert ctx.records.list_feedback()[0]["rating"] == "good"


def test_the_diagnosis_button_in_the_chat_asks_the_first_question(ctx):
    v = list(chat_turn(ctx, WebSession(), ChatInput.option(ChatInput.START_VALUE), Chat(), CLIENT))[-1]
    options = v.chat.messages[-1]["options"]
    assert v.session.chat_active and any(o["value"] == ChatInput.BACK_VALUE for o in options)
    assert v.chat.messages[-3]["content"] == ChatInput.START_LABEL  # the user's turn shows what they pressed


def test_an_empty_question_keeps_what_was_typed(ctx):
    v = list(chat_turn(ctx, WebSession(), ChatInput("   "), Chat(), CLIENT))[-1]
    assert "質問が空です" in v.chat.messages[-1]["content"] and v.question == "   " and v.sources == ()


def test_the_diagnosis_tab_redraws_only_when_the_diagnosis_changed(ctx):
    drawn = triage_view(ctx, WebSession()).session.drawn()  # the tab drew the first question
    assert triage_revisited(ctx, drawn) is None  # opened again unchanged: nothing is redrawn (what was typed stays)
    moved = list(chat_turn(ctx, drawn, ChatInput.option(ChatInput.START_VALUE), Chat(), CLIENT))[-1].session
    answered = list(chat_turn(ctx, moved, ChatInput("架空タブ工業"), Chat(), CLIENT))[-1].session  # the chat answered the first question
    again = triage_revisited(ctx, answered)
    assert again is not None and again.question is not None and "会社名" not in again.question.text
    assert triage_revisited(ctx, again.session.drawn()) is None


def test_the_plan_table_saves_every_changed_row_at_once_and_refuses_a_bad_cell_whole(ctx):
    s = finish(ctx)
    view = triage_view(ctx, s)
    rows = plan_rows(view.result)
    rows[0][2:5] = ["完了", "山田", "2027/1/31"]
    rows[1][2:6] = ["予定", "佐藤", "", "見積待ち"]
    saved = triage_plan_save(ctx, s, rows, "すべて", CLIENT)
    assert not saved.refused and saved.notice_by == "plan" and saved.notice.startswith("✅ 2 件を保存しました"), saved.notice
    assert "期限 2027-01-31" in saved.notice  # the date as stored, whatever form it was typed in
    first, second = saved.result.progress_of(rows[0][0]), saved.result.progress_of(rows[1][0])
    assert (first.status, first.owner, first.due) == ("done", "山田", "2027-01-31") and (second.status, second.note) == ("planned", "見積待ち")
    reopened = triage_open(ctx, WebSession(), s.code, s.secret, CLIENT)  # saved in the record, not only in the page
    assert reopened.result.progress_of(rows[0][0]).status == "done"

    again = plan_rows(saved.result)
    again[2][2], again[3][4] = "完了", "2月30日"  # a good change and an impossible date
    refused = triage_plan_save(ctx, saved.session, again, "すべて", CLIENT)
    assert refused.refused and refused.keep_plan and refused.notice_by == "plan"
    assert again[3][0] in refused.notice and "日付はありません" in refused.notice, refused.notice
    assert triage_view(ctx, saved.session).result.progress_of(again[2][0]).status == "todo"  # nothing of the refused save was kept
    assert plan_show(ctx, saved.session, "未着手", again).rows is None  # switching the filter would lose the typed cells

    unchanged = triage_plan_save(ctx, saved.session, plan_rows(saved.result), "すべて", CLIENT)
    assert "変更はありません" in unchanged.notice and unchanged.keep_plan
    shown = plan_show(ctx, saved.session, "担当: 山田", plan_rows(saved.result)).rows
    assert [r[0] for r in shown] == [rows[0][0]]


def test_a_read_only_record_refuses_the_plan_table(ctx):
    s = finish(ctx)
    shared = triage_open(ctx, WebSession(), s.code, "", CLIENT)
    rows = plan_rows(shared.result)
    rows[0][2] = "完了"
    v = triage_plan_save(ctx, shared.session, rows, "すべて", CLIENT)
    assert v.refused and "閲覧専用" in v.notice


def test_a_cards_state_is_saved_by_one_tap_and_keeps_the_owner_and_date(ctx):
    """On a phone the plan is cards: one tap on a state saves that measure, and what was recorded
    for it before (owner, due date, note) stays."""
    s = finish(ctx)
    first = plan_rows(triage_view(ctx, s).result)[0][0]
    before = triage_progress(ctx, s, ProgressForm(first, "planned", "山田", "2027-01-31", "見積待ち"), CLIENT)
    tapped = triage_card(ctx, before.session, first, "done", "すべて", CLIENT)
    assert not tapped.refused and tapped.saved_card == first and tapped.notice_by == "plan" and "完了" in tapped.notice
    p = triage_open(ctx, WebSession(), s.code, s.secret, CLIENT).result.progress_of(first)  # in the record
    assert (p.status, p.owner, p.due, p.note) == ("done", "山田", "2027-01-31", "見積待ち")
    cards = plan_cards(tapped.result)
    assert cards[0].measure == first and cards[0].status == "done" and cards[0].owner == "山田"
    assert [c.measure for c in plan_cards(tapped.result, "未着手")] == [r[0] for r in plan_rows(tapped.result, "未着手")]
    # What the page's script sends is checked: no other state, no measure outside the plan, no change to a shared record
    for measure, status in ((first, "finished"), ("M999", "done"), ("", "done")):
        v = triage_card(ctx, tapped.session, measure, status, "すべて", CLIENT)
        assert v.refused and v.notice_by == "plan", (measure, status)
    shared = triage_open(ctx, WebSession(), s.code, "", CLIENT)
    v = triage_card(ctx, shared.session, first, "todo", "すべて", CLIENT)
    assert v.refused and "閲覧専用" in v.notice
    assert triage_open(ctx, WebSession(), s.code, s.secret, CLIENT).result.progress_of(first).status == "done"
