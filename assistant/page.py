"""The page's handlers as plain functions: (context, session, inputs) -> a typed view.

web.py lays out the components and has one adapter per tab that turns a view into component
updates; nothing here imports gradio, so a handler is read and tested without a browser. A view
says what the page shows, not how: the adapters render it (render.py, markup.py), so user and
document text still reaches the page only as text.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Literal

from . import grid
from .answer import Answer
from .consultations import Consultations
from .context import AppContext
from .conversation import ChatInput, ChatState, Turn
from .guard import QuestionError, validate_question
from .index import IndexUnavailable
from .limits import RateLimited
from .markup import md_lines, md_text
from .records import RecordError, RecordsUnavailable, comment_problem
from .render import (
    answer_markdown,
    progress_note,
    question_markdown,
    quick_replies,
    result_summary,
    user_message,
)
from .textnorm import nfkc
from .triage import TriageError, TriageResult, TriageState
from .triage import excel as triage_excel
from .triage import report as triage_report
from .triage.dates import parse_full_date
from .triage.flow import UNKNOWN, Question
from .triage.model import PROGRESS_LABELS, PlanMeasure, Progress
from .triage.session import TriageSession
from .triage.templates import Templates

HISTORY_TURNS = 6  # the turns a follow-up is read against
# The plan table: progress marked in the plan itself; ID and 対策 are the plan's own, the rest is edited
PLAN_COLUMNS = ("ID", "対策", "状態", "担当", "期限", "メモ")
SHOW_ALL, SHOW_TODO, SHOW_OVERDUE, SHOW_OWNER = "すべて", "未着手", "期限切れ", "担当: "  # what the table can show
STATUS_OF_LABEL = {label: key for key, label in PROGRESS_LABELS.items()}


# -- the browser session --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WebSession:
    """What one browser remembers, shared by the chat and the 見極め診断 tab (a diagnosis begun in
    one goes on in the other). ``id`` is drawn on first use (``with_id``): gradio copies the initial
    value into every browser session, so an id drawn up front would be the same for all (#19)."""

    id: str | None = None
    triage: dict | None = None  # TriageState.to_dict()
    code: str | None = None  # the saved consultation
    secret: str | None = None  # its edit secret (None: opened read-only, or not saved yet)
    readonly: bool = False
    previous_code: str | None = None  # the consultation this one re-assesses
    chat_active: bool = False  # the diagnosis is running in the chat
    previous_intent: str | None = None  # the chat's last intent, for follow-ups
    firm: tuple[tuple[str, object], ...] = ()  # what the owner said of the firm in the chat (ChatState.firm), as pairs
    shown: str | None = None  # what the 見極め tab last drew (``diagnosis_key``): a tab switch redraws only when it changed

    def with_id(self) -> WebSession:
        return self if self.id else replace(self, id=uuid.uuid4().hex)

    def fresh(self, **changes) -> WebSession:
        """A new, empty session for the same browser (its limits and downloads stay its own)."""
        return WebSession(id=self.with_id().id, **changes)

    @property
    def firm_profile(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.firm}

    @property
    def diagnosis_key(self) -> str:
        """The diagnosis as the 見極め tab draws it; equal keys draw the same view."""
        drawn = (self.triage, self.code, self.secret is not None, self.readonly, self.previous_code)
        return hashlib.sha1(json.dumps(drawn, ensure_ascii=False, sort_keys=True, default=str).encode()).hexdigest()

    def drawn(self) -> WebSession:
        """The session as the tab has just drawn it."""
        return replace(self, shown=self.diagnosis_key)

    @property
    def triage_state(self) -> TriageState:
        return TriageState.from_dict(self.triage) if self.triage else TriageState()


@dataclass(frozen=True)
class Links:
    """The download links of one finished diagnosis (each file is made when it is fetched)."""

    md: str
    pdf: str
    xlsx: str
    templates: tuple[TemplateLink, ...] = ()  # the product's templates the plan's measures point to


@dataclass(frozen=True)
class TemplateLink:
    id: str
    label: str  # 「基本方針（1枚）（Word）」
    measures: tuple[str, ...]  # the plan's measures it serves
    url: str


# -- shared by both tabs --------------------------------------------------------------------------------------------
def consultations(ctx: AppContext, client: str, via: str = "") -> Consultations:
    """The consultation service for this client (RecordsUnavailable when there are no records)."""
    return Consultations(ctx.require_records(), ctx.live.current().triage, client, via=via)


def triage_session(ctx: AppContext, s: WebSession) -> TriageSession:
    if ctx.records is None:
        return TriageSession(ctx.live.current().triage, s.triage_state, s.code)
    return Consultations(ctx.records, ctx.live.current().triage, "").session(s.triage_state, s.code, s.previous_code)


def persist(ctx: AppContext, s: WebSession, session: TriageSession, client: str) -> tuple[WebSession, str]:
    """Save the consultation (created on its first answer); returns the session and a note for the user."""
    s = replace(s, triage=session.state.to_dict())
    if s.readonly or not session.started:
        return s, ""
    try:
        saved = consultations(ctx, client).save(session, ctx.live.current().corpus.version, s.code, s.secret)
    except RecordsUnavailable as exc:
        return s, f"⚠️ 記録を保存できません（{exc}）。診断は続けられますが、この画面を閉じると失われます。"
    except RecordError as exc:
        return s, f"⚠️ {exc}"
    return replace(s, code=saved.code, secret=saved.secret), ""


def export_links(ctx: AppContext, s: WebSession, result: TriageResult) -> Links:
    """Links to the Markdown, PDF and Excel of a result, for this browser session only; the links
    go when the record is deleted."""
    sid = s.with_id().id
    name = result.code or "未保存"
    return Links(
        ctx.downloads.offer(sid, f"見極め診断_{name}.md", lambda: triage_report.markdown(result), result.code),
        ctx.downloads.offer(sid, f"見極め診断_{name}.pdf", lambda: triage_report.pdf(result, triage_report.standing_chart(result)), result.code),
        ctx.downloads.offer(sid, f"見極め診断_{name}.xlsx", lambda: triage_excel.workbook(result), result.code),
        template_links(ctx, sid, result),
    )


def template_links(ctx: AppContext, sid: str, result: TriageResult) -> tuple[TemplateLink, ...]:
    """The templates for this plan, filled with the firm's name and items when fetched."""
    shelf, planned = Templates.load(), {m.id for m in result.measures}
    return tuple(
        TemplateLink(t.id, t.label, tuple(m for m in t.measures if m in planned),
                     ctx.downloads.offer(sid, t.filename(result.code), lambda t=t: shelf.make(t, result), result.code))
        for t in shelf.for_plan(result))


def code_note(s: WebSession) -> str:
    """The share code and edit secret, as Markdown (both are the app's own characters, escaped anyway)."""
    if not s.code:
        return ""
    note = f"相談コード **{md_text(s.code)}**（`?code={md_text(s.code)}` 付きのリンクで、誰でも**閲覧だけ**できます）。"
    if s.secret:
        note += f" 編集用の合言葉: **{md_text(s.secret)}**（控えておいてください。変更や削除に必要です。共有しないでください）"
    elif s.readonly:
        note += " いまは閲覧専用です。変更するには、編集用の合言葉を入力して開き直してください。"
    return note


# -- 相談チャット ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Chat:
    """The chat as the page holds it: the messages shown, the turns a follow-up reads, the answers kept."""

    messages: list[dict] = field(default_factory=list)
    turns: list[dict] = field(default_factory=list)
    answers: list[dict] = field(default_factory=list)  # Answer.to_json(), for feedback and the export


@dataclass(frozen=True)
class ChatView:
    session: WebSession
    chat: Chat
    sources: tuple[str, ...] | None = None  # the last answer's clause ids; None leaves them as they were
    question: str | None = None  # the question box: None leaves it, "" clears it
    export: str | None = None  # the conversation's download link; None leaves it
    result: Links | None = None  # the diagnosis finished in this turn


def capped_messages(messages: list | None, limits) -> list:
    """The chat as the page sent it back, cut to what the app itself could have shown: the last messages only,
    none longer than any answer the app writes (a client may send anything here)."""
    kept = [m for m in list(messages or []) if isinstance(m, dict) and len(str(m.get("content", ""))) <= limits.chat_message_chars]
    return kept[-limits.chat_messages:]


def chat_turn(ctx: AppContext, s: WebSession, said: ChatInput, chat: Chat, client: str) -> Iterator[ChatView]:
    """One chat turn: a question, a quick reply or the diagnosis button. Yields the words of a language
    model as they come (marked unverified), then the turn's view."""
    chat = replace(chat, messages=capped_messages(chat.messages, ctx.limits))
    s = s.with_id()
    try:
        ctx.limiter.hit("ask", s.id, ctx.limits.asks_per_minute, what="質問")
        conv = ctx.live.current().conversation
    except (RateLimited, IndexUnavailable) as exc:
        yield _failed(s, chat, said, f"⚠️ {md_text(exc)}")
        return
    state = ChatState(s.triage, s.chat_active, s.previous_intent, s.firm_profile)
    started = time.perf_counter()
    try:
        if said.action == "say" and not state.triage_active and conv.s.answerer.streams:
            turn = yield from _streamed(conv, s, said, chat, state, ctx)
        else:
            turn = conv.reply(said, chat.turns[-HISTORY_TURNS:], state, triage_session(ctx, s))
    except QuestionError as exc:
        yield replace(_failed(s, chat, said, f"⚠️ {md_text(exc)}"), sources=(), question=said.text)
        return
    except Exception as exc:  # the user gets a message and keeps the chat; the error is counted
        ctx.metrics.errors.labels("chat").inc()
        yield _failed(s, chat, said, f"⚠️ 回答中にエラーが起きました（{type(exc).__name__}）。もう一度お試しください。")
        return
    if turn.answer is not None:
        _count_answer(ctx, turn.answer, time.perf_counter() - started)
    yield _after(ctx, s, said, chat, turn, client)


def _failed(s: WebSession, chat: Chat, said: ChatInput, why: str) -> ChatView:
    messages = chat.messages + [{"role": "user", "content": user_message(said.text)}, {"role": "assistant", "content": why}]
    return ChatView(s, replace(chat, messages=messages))


def _streamed(conv, s: WebSession, said: ChatInput, chat: Chat, state: ChatState, ctx: AppContext):
    """A language model's words as they come, then the verified answer's turn (a diagnosis request is
    answered by the conversation, which starts it)."""
    q = validate_question(said.text, ctx.cfg.max_question_chars)
    history = chat.turns[-HISTORY_TURNS:]
    routing = conv.decide(q, history, state.previous_intent)
    if routing.intent == "triage":
        return conv.reply(said, history, state, triage_session(ctx, s))
    partial, answer = "", None
    shown = chat.messages + [{"role": "user", "content": user_message(q)}]
    for event in conv.stream(q, history, state.previous_intent, routing):
        if event.kind == "token":
            partial += event.text
            yield ChatView(s, replace(chat, messages=shown + [{"role": "assistant", "content": md_lines(partial) + "\n\n（生成中・未検証）"}]))
        else:
            answer = event.answer
    return Turn(replace(state, previous_intent=answer.intent), answer=answer)


def _count_answer(ctx: AppContext, answer: Answer, seconds: float) -> None:
    ctx.record_answer_time(seconds)
    ctx.metrics.answers.labels(answer.intent, "chat").inc()
    if answer.refused:
        ctx.metrics.refusals.labels(answer.refusal_reason or "").inc()


def _after(ctx: AppContext, s: WebSession, said: ChatInput, chat: Chat, turn: Turn, client: str) -> ChatView:
    """The turn shown: the answer, what the diagnosis says next, the saved record, the download links."""
    messages, turns, answers = chat.messages + [{"role": "user", "content": user_message(said.text)}], chat.turns, chat.answers
    if (a := turn.answer) is not None:
        reply = {"role": "assistant", "content": answer_markdown(a)}
        if turn.notice and turn.question is None:
            # What the turn learned of the firm goes with the answer: the chat shows the quick replies
            # of its last message only, and the answer's offer must stay clickable.
            reply["content"] += "\n\n" + md_text(turn.notice)
            turn = replace(turn, notice="")
        if a.offer == "triage":
            reply["options"] = [{"label": ChatInput.START_LABEL, "value": ChatInput.START_VALUE}]
        messages.append(reply)
        # A turn is data: a follow-up reads the clauses it cited, not its rendered text.
        turns = turns + [{"role": "user", "content": a.question},
                         {"role": "assistant", "content": a.answer, "citations": [c.clause_id for c in a.citations],
                          "measures": [x.measure_id for x in a.advice]}]
        answers = answers + [a.to_json()]
    s = replace(s, chat_active=turn.state.triage_active, previous_intent=turn.state.previous_intent,
                firm=tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in turn.state.firm.items()))
    if turn.session is not None and turn.session.state.to_dict() != s.triage_state.to_dict():
        s, note = persist(ctx, s, turn.session, client)
        if note:
            messages.append({"role": "assistant", "content": note})
    if turn.notice:
        messages.append({"role": "assistant", "content": md_text(turn.notice)})
    links = None
    if turn.finished and turn.session is not None:
        result = replace(turn.session.result(), code=s.code)
        ctx.metrics.triage_completions.labels("chat").inc()
        links = export_links(ctx, s, result)
        messages.append({"role": "assistant", "content": result_summary(result) + "\n\n" + code_note(s)})
    elif turn.question is not None:
        asked, left = turn.session.progress()
        messages.append({"role": "assistant", "content": question_markdown(turn.question) + "\n\n" + progress_note(asked, left),
                         "options": quick_replies(turn.question)})
    kept = list(answers)  # the download always gives the conversation so far: one click saves it
    export = ctx.downloads.offer(s.id, "相談の記録.md", lambda: conversation_markdown(kept), s.code)
    sources = tuple(c["clause_id"] for c in answers[-1]["citations"]) if turn.answer is not None else ()
    return ChatView(s, Chat(messages[-ctx.limits.chat_messages:], turns, answers), sources, "", export, links)


def conversation_markdown(answers: list[dict]) -> str:
    out = ["# 相談の記録（TICS Assistant）", "", f"作成日時: {time.strftime('%Y-%m-%d %H:%M')}", ""]
    for a in answers:
        out += [f"## 質問: {md_text(a['question'])}", "", md_lines(a["answer"]), ""]
        out.append(f"文書バージョン: {md_text(a['corpus_version'])}\n")
    return "\n".join(out)


# -- 見極め診断 ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TriageView:
    """The diagnosis as the tab shows it: the next question, or the finished result with its files."""

    session: WebSession
    notice: str = ""
    unavailable: bool = False  # no index: only the notice changes
    asked: int = 0
    left: int | None = None
    items: tuple[dict, ...] = ()  # the information named so far (the grid's rows, the items question's ticks)
    question: Question | None = None
    result: TriageResult | None = None
    links: Links | None = None
    refused: bool = False  # the step was refused: nothing changed (the notice says why and what to do)
    keep_grid: bool = False  # the grid keeps what the adviser typed (a refused grid is shown as it was sent)
    keep_plan: bool = False  # the plan table keeps what the adviser typed (a refused save changes nothing)
    notice_by: Literal["page", "plan"] = "page"  # where the notice is shown: atop the tab, or beside the plan table's button
    plan_show: str = SHOW_ALL  # the plan table's filter
    saved_card: str = ""  # the measure a card just saved (its card says so, where the thumb is)

    @property
    def editable(self) -> bool:
        return not self.session.readonly


@dataclass(frozen=True)
class TriageForm:
    """What the conversation mode's inputs hold when 次へ is pressed."""

    choice: str | None = None
    multi: tuple[str, ...] = ()
    free: str = ""


@dataclass(frozen=True)
class ProgressForm:
    measure: str | None
    status: str = "todo"
    owner: str = ""
    due: str = ""
    note: str = ""


def triage_view(ctx: AppContext, s: WebSession, msg: str = "") -> TriageView:
    try:
        session = triage_session(ctx, s)
    except IndexUnavailable as exc:
        return TriageView(s, f"⚠️ {md_text(exc)}", unavailable=True)
    notice = (f"⚠️ 記録を使えません: {md_text(ctx.records_error)}。診断はできますが保存されません。\n\n" if ctx.records is None else "") + msg
    asked, left = session.progress()
    view = TriageView(s, notice, asked=asked, left=left, items=tuple(session.state.items), question=session.question)
    if session.question is not None:
        return view
    result = replace(session.result(), code=s.code)
    return replace(view, result=result, links=export_links(ctx, s, result))


def triage_revisited(ctx: AppContext, s: WebSession) -> TriageView | None:
    """The 見極め tab opened again: its view only when the diagnosis changed since the tab drew it (the
    chat may have moved it on). Redrawing an unchanged question would empty the answer box, and a
    redraw that arrives late, after the owner began typing, erased what they typed (seen on CI)."""
    return None if s.shown == s.diagnosis_key else triage_view(ctx, s)


def refused(ctx: AppContext, s: WebSession, why: str) -> TriageView:
    """The view unchanged, with why the step was refused (Markdown: escape user text before)."""
    return replace(triage_view(ctx, s, f"⚠️ {why}"), refused=True)


def triage_step(ctx: AppContext, s: WebSession, client: str, change: Callable[[TriageSession], TriageSession]) -> TriageView:
    """Apply a change to the diagnosis (an answer, going back…), save it, and show the next view."""
    if s.readonly:
        return refused(ctx, s, "閲覧専用です。変更するには、相談コードと編集用の合言葉を入力して開き直してください。")
    s = s.with_id()
    try:
        ctx.limiter.hit("triage", s.id, ctx.limits.triage_steps_per_minute, what="診断の操作")
        before = triage_session(ctx, s)
        session = change(before)
    except (TriageError, RateLimited, IndexUnavailable) as exc:
        return refused(ctx, s, md_text(exc))
    was_finished = bool(s.triage) and before.finished
    s, note = persist(ctx, replace(s, chat_active=s.chat_active and not session.finished), session, client)
    if session.finished and not was_finished:
        ctx.metrics.triage_completions.labels("tab").inc()
    return triage_view(ctx, s, note)


def triage_next(ctx: AppContext, s: WebSession, form: TriageForm, client: str) -> TriageView:
    """次へ: the inputs read as the answer the current question asks for."""
    try:
        q = triage_session(ctx, s).question
    except IndexUnavailable as exc:
        return refused(ctx, s, md_text(exc))
    if q is None:
        return triage_view(ctx, s)
    value = answer_of(q, form)
    if q.kind in ("choice", "multi", "batch", "forms") and not value:
        return refused(ctx, s, "選択肢を選ぶか、自由記述で答えてください（「わからない」も選べます）。")
    return triage_step(ctx, s, client, lambda x: x.answer(value))


def answer_of(q: Question, form: TriageForm):
    """The answer a question's inputs give, by the question's kind."""
    free, multi = form.free or "", list(form.multi or [])
    if q.kind == "items":
        return multi + [n for n in free.replace("、", ",").split(",") if n.strip()]
    if q.kind == "forms":
        return {"forms": multi, "location": free} if multi else free
    if q.kind in ("multi", "batch"):
        return multi or free
    if q.kind == "choice":
        return form.choice or free
    return free


def triage_open(ctx: AppContext, s: WebSession, code: str, secret: str, client: str) -> TriageView:
    """Open a saved consultation by its code (read-only) or its code and edit secret."""
    try:
        ctx.limiter.hit("lookup", client, ctx.limits.lookups_per_minute, what="記録の照会")
        opened = consultations(ctx, client).open(code, secret)
    except (RateLimited, RecordError) as exc:
        return refused(ctx, s, md_text(exc))
    state = opened.session.state
    s = replace(s, triage=state.to_dict(), code=opened.code, secret=opened.secret, readonly=opened.readonly,
                previous_code=state.previous, chat_active=False)
    return triage_view(ctx, s, "記録を開きました（閲覧専用）。" if opened.readonly else "記録を開きました。続きから回答でき、計画の進み具合も記録できます。")


def triage_progress(ctx: AppContext, s: WebSession, form: ProgressForm, client: str) -> TriageView:
    if not form.measure:
        return refused(ctx, s, "進み具合を記録する対策を選んでください。")
    view = triage_step(ctx, s, client, lambda x: x.set_progress(form.measure, form.status or "todo", form.owner or "", form.due or "", form.note or ""))
    if view.refused or view.result is None:
        return view
    p, title = view.result.progress_of(form.measure), next((m.title for m in view.result.measures if m.id == form.measure), "")
    # The owner is the user's text (escaped); the label and the normalised date are the app's own.
    said = "、".join(x for x in (p.label, p.owner and f"担当 {md_text(p.owner)}", p.due and f"期限 {p.due}") if x)
    return replace(view, notice=(view.notice + "\n\n" if view.notice else "") + f"✅ 保存しました: {md_text(form.measure)} {md_text(title)}（{said}）")


# -- the plan table: progress marked in the plan itself ---------------------------------------------------------------
def plan_filters(result: TriageResult) -> list[str]:
    """What the plan table can show: everything, what has not started, what is overdue, one owner's."""
    owners = sorted({p.owner for m in result.measures if (p := result.progress_of(m.id)).owner})
    return [SHOW_ALL, SHOW_TODO, SHOW_OVERDUE] + [SHOW_OWNER + o for o in owners]


def _plan_shown(result: TriageResult, show: str, today: dt.date) -> list[tuple[PlanMeasure, Progress]]:
    """The plan's measures that a filter shows, with their progress, in the plan's order."""
    def shows(p: Progress) -> bool:
        if show == SHOW_TODO:
            return p.status == "todo"
        if show == SHOW_OVERDUE:
            return p.overdue(today)
        if show.startswith(SHOW_OWNER):
            return p.owner == show.removeprefix(SHOW_OWNER)
        return True

    return [(m, p) for m in result.measures if shows(p := result.progress_of(m.id))]


def plan_rows(result: TriageResult, show: str = SHOW_ALL, today: dt.date | None = None) -> list[list[str]]:
    """The plan as the table shows it, filtered; a row is a measure with its progress."""
    return [[m.id, m.title, p.label, p.owner, p.due, p.note] for m, p in _plan_shown(result, show, today or dt.date.today())]


@dataclass(frozen=True)
class PlanCard:
    """One measure as a phone shows it: a card with its state, owner and due date (owner and note
    are the user's text: the renderer escapes them)."""

    measure: str
    title: str
    status: str
    owner: str
    due: str
    note: str
    overdue: bool


def plan_cards(result: TriageResult, show: str = SHOW_ALL, today: dt.date | None = None) -> list[PlanCard]:
    """The plan as cards, with the table's filter."""
    today = today or dt.date.today()
    return [PlanCard(m.id, m.title, p.status, p.owner, p.due, p.note, p.overdue(today)) for m, p in _plan_shown(result, show, today)]


def triage_card(ctx: AppContext, s: WebSession, measure: str, status: str, show: str, client: str) -> TriageView:
    """A card's state tapped on a phone: that measure's state saved at once (its owner, due date and
    note kept). The tap comes from the page's script, so both values are checked here."""
    if s.readonly:
        return replace(refused(ctx, s, "閲覧専用の記録は変更できません。"), notice_by="plan")
    if status not in PROGRESS_LABELS:
        return replace(refused(ctx, s, "状態は " + "・".join(PROGRESS_LABELS.values()) + " から選んでください。"), notice_by="plan")
    try:
        current = triage_session(ctx, s)
        result = current.result() if current.finished else None
    except IndexUnavailable as exc:
        return refused(ctx, s, md_text(exc))
    if result is None or measure not in {m.id for m in result.measures}:
        return replace(refused(ctx, s, "この計画にない対策です。ページを読み込み直してください。"), notice_by="plan")
    p = result.progress_of(measure)
    view = triage_step(ctx, s, client, lambda x: x.set_progress(measure, status, p.owner, p.due, p.note))
    view = replace(view, notice_by="plan", plan_show=show or SHOW_ALL)
    if view.refused or view.result is None:
        return view
    title = next(m.title for m in view.result.measures if m.id == measure)
    return replace(view, saved_card=measure,
                   notice=(view.notice + "\n\n" if view.notice else "") + f"✅ 保存しました: {md_text(measure)} {md_text(title)}（{PROGRESS_LABELS[status]}）")


@dataclass(frozen=True)
class PlanEdit:
    measure: str
    status: str
    owner: str
    due: str
    note: str


def plan_edits(result: TriageResult, rows) -> list[PlanEdit]:
    """The rows the adviser changed, read back; a value that cannot be read names its measure and column."""
    known = {m.id for m in result.measures}
    edits = []
    for row in grid.rows_of(rows):  # strings, stripped
        measure, _, status_label, owner, due, note = (row + [""] * len(PLAN_COLUMNS))[: len(PLAN_COLUMNS)]
        if measure not in known:
            continue  # not a row of this plan (an edited ID): nothing of it is saved
        if status_label not in STATUS_OF_LABEL:
            raise TriageError(f"{measure} の「状態」は {'・'.join(PROGRESS_LABELS.values())} のどれかを入力してください（入力: 「{status_label[:20]}」）。")
        p = result.progress_of(measure)
        if (STATUS_OF_LABEL[status_label], owner, due, note) != (p.status, p.owner, p.due, p.note):
            edits.append(PlanEdit(measure, STATUS_OF_LABEL[status_label], owner, due, note))
    return edits


def triage_plan_save(ctx: AppContext, s: WebSession, rows, show: str, client: str) -> TriageView:
    """表の変更を保存: every changed row at once, in one save. A row that cannot be read refuses the
    whole save and the table keeps what was typed, so one wrong date loses nothing."""
    return replace(_plan_save(ctx, s, rows, client), notice_by="plan", plan_show=show or SHOW_ALL)


def _plan_save(ctx: AppContext, s: WebSession, rows, client: str) -> TriageView:
    try:
        current = triage_session(ctx, s)
        edits = plan_edits(current.result(), rows) if current.finished else []
    except TriageError as exc:
        return replace(refused(ctx, s, md_text(exc)), keep_plan=True)
    except IndexUnavailable as exc:
        return refused(ctx, s, md_text(exc))
    if not edits:
        return replace(triage_view(ctx, s, "変更はありません。表の「状態」「担当」「期限」「メモ」を直してから保存してください。"), keep_plan=True)

    def apply(x: TriageSession) -> TriageSession:
        for e in edits:
            try:
                x = x.set_progress(e.measure, e.status, e.owner, e.due, e.note)
            except TriageError as exc:
                raise TriageError(f"{e.measure}: {exc}") from exc
        return x

    view = triage_step(ctx, s, client, apply)
    if view.refused or view.result is None:
        return replace(view, keep_plan=True)
    said = []
    for e in edits:  # the owner is the user's text (escaped); the label and the normalised date are the app's own
        p = view.result.progress_of(e.measure)
        said.append(md_text(e.measure) + "（" + "、".join(x for x in (p.label, p.owner and f"担当 {md_text(p.owner)}", p.due and f"期限 {p.due}") if x) + "）")
    return replace(view, notice=(view.notice + "\n\n" if view.notice else "") + f"✅ {len(edits)} 件を保存しました: " + "、".join(said))


@dataclass(frozen=True)
class PlanShown:
    """The plan for another filter, as table rows and as cards; rows is None (and nothing changes)
    while the table holds changes not yet saved, and why says so."""

    rows: list[list[str]] | None
    cards: list[PlanCard]
    why: str = ""


def plan_show(ctx: AppContext, s: WebSession, show: str, rows) -> PlanShown:
    try:
        session = triage_session(ctx, s)
        if not session.finished:
            return PlanShown([], [])
        result = session.result()
        if plan_edits(result, rows):
            return PlanShown(None, [], "⚠️ 保存していない変更があります。「表の変更を保存」を押してから表示を切り替えてください。")
    except TriageError:
        return PlanShown(None, [], "⚠️ 表に読み取れない値があります。直して保存してから表示を切り替えてください。")
    except IndexUnavailable as exc:
        return PlanShown(None, [], f"⚠️ {md_text(exc)}")
    shown = plan_rows(result, show)
    return PlanShown(shown, plan_cards(result, show), "" if shown else f"「{md_text(show)}」の対策はありません。")


def triage_reassess(ctx: AppContext, s: WebSession, client: str) -> TriageView:
    """Start a new diagnosis with this plan as the previous one (its progress is carried)."""
    if not s.code or s.readonly:
        return refused(ctx, s, "再診断は、保存した記録を編集できる状態で開いてから行えます。")
    try:
        session = triage_session(ctx, s).reassess()
    except TriageError as exc:
        return refused(ctx, s, md_text(exc))
    fresh, note = persist(ctx, s.fresh(previous_code=s.code), session, client)
    return triage_view(ctx, fresh, "前回の計画をもとに再診断を始めました。回答を一覧表か「戻る」で直すと、前回からの進み具合が結果に表示されます。" + (f" {note}" if note else ""))


def triage_delete(ctx: AppContext, s: WebSession, confirmed: bool, client: str) -> TriageView:
    if not confirmed:
        return refused(ctx, s, "削除するには「この記録を削除してよい」にチェックを入れてください。")
    if not s.code or s.readonly:
        return refused(ctx, s, "削除には編集用の合言葉が必要です。")
    try:
        consultations(ctx, client).delete(s.code, s.secret)
        ctx.withdraw_record(s.code)
    except RecordError as exc:
        return refused(ctx, s, md_text(exc))
    return triage_view(ctx, s.fresh(), f"相談コード {md_text(s.code)} の記録を削除しました。")


def progress_of(s: WebSession, measure_id: str | None) -> ProgressForm | None:
    """The recorded progress of one measure (None: nothing picked, or no diagnosis)."""
    if not measure_id or not s.triage:
        return None
    p = s.triage_state.progress.get(measure_id, {})
    return ProgressForm(measure_id, p.get("status", "todo"), p.get("owner", ""), p.get("due", ""), p.get("note", ""))


@dataclass(frozen=True)
class GridForm:
    """The grid mode's inputs: the firm, and one row per piece of information."""

    name: str = ""
    industry: str = UNKNOWN
    size: str = UNKNOWN
    collaboration: tuple[str, ...] = ()
    rows: list = field(default_factory=list)


def triage_grid(ctx: AppContext, s: WebSession, form: GridForm, client: str) -> TriageView:
    """一覧表から結果を出す: the grid read as an answers file, taken in the conversation's order. A grid
    that cannot be read is refused with every cell kept, so the adviser corrects one cell, not twenty."""
    rows = grid.rows_of(form.rows)
    if not rows:
        return replace(refused(ctx, s, "一覧表に情報がありません。「情報の名前」を入力して「表を作る」を押し、表を埋めてから結果を出してください。"), keep_grid=True)
    try:
        answers = grid.answers_of(form.name, form.industry, form.size, form.collaboration, rows)
    except TriageError as exc:
        return replace(refused(ctx, s, md_text(exc)), keep_grid=True)
    view = triage_step(ctx, s, client, lambda x: x.from_answers(answers))
    return replace(view, keep_grid=True) if view.refused else view


def feedback(ctx: AppContext, s: WebSession, rating: str, comment: str, answers: list[dict]) -> tuple[str, str]:
    """A rating of the last answer; returns (the message shown, what stays in the comment box)."""
    if not answers:
        return "まだ回答がありません。質問してから評価してください。", comment
    last = answers[-1]
    if (problem := comment_problem(comment)) is not None:  # the records refuse it too; said here before it counts against the limit
        return f"⚠️ {md_text(problem)}", comment
    try:
        ctx.limiter.hit("feedback", s.with_id().id, ctx.limits.feedback_per_minute, what="評価の送信")
        ctx.require_records().add_feedback(last["question"], last["answer"], rating, comment, [c["clause_id"] for c in last["citations"]],
                                           last["corpus_version"], code=s.code)
    except RateLimited as exc:
        return f"⚠️ {md_text(exc)}", comment
    except RecordError as exc:
        return f"⚠️ 評価を保存できません（{md_text(exc)}）。", comment
    return "評価を保存しました。ありがとうございます（評価は評価用データの改善に使います）。", ""


# -- 管理: the tables in words -------------------------------------------------------------------------------------
# The audit log and the feedback keep short English keys (stable for scripts); the admin reads them in Japanese.
AUDIT_EVENTS = {
    "admin_login": "管理者のログイン", "admin_logout": "管理者のログアウト", "create": "相談の作成", "delete": "相談の削除",
    "lookup": "相談の照会", "export": "記録の書き出し", "download": "ダウンロード", "upload": "文書の読み込み",
    "publish": "文書の公開", "purge": "保存期間による削除", "feedback_cases": "評価ケースの下書き",
}
AUDIT_DETAILS = {
    "wrong password": "パスワードの誤り", "locked": "試行回数の超過で一時停止", "not found": "見つからない",
    "wrong secret": "合言葉の誤り", "view": "閲覧", "edit": "編集", "api": "REST API", "cli": "コマンド", "admin": "管理画面",
    "admin pdf": "管理画面（PDF）", "export": "書き出し", "": "画面",
}
RATINGS = {"good": "役に立った", "bad": "役に立たなかった"}


def audit_row(entry: dict) -> list[str]:
    """One audit entry as the admin reads it (an unknown key is shown as it is)."""
    event = entry["event"]
    detail = entry["detail"] or ""
    shown = AUDIT_DETAILS.get(detail, detail) if event in ("create", "delete", "lookup", "export", "admin_login") else detail
    return [time.strftime("%Y-%m-%d %H:%M", time.localtime(entry["at"])), AUDIT_EVENTS.get(event, event), entry["code"] or "",
            "○" if entry["ok"] else "×", entry["actor"], shown]


def feedback_row(f: dict) -> list[str]:
    return [str(f["id"]), f["created_at"], f["question"], RATINGS.get(f["rating"], f["rating"]), f["comment"], "、".join(f["citations"])]


# -- 管理: saved consultations -------------------------------------------------------------------------------------
ADMIN_STATUS = {"すべて": None, "診断が終わったもの": True, "途中のもの": False}


@dataclass(frozen=True)
class AdminRecords:
    """The admin's table of saved consultations, and what to say above it."""

    rows: list[list[str]]
    message: str = ""
    confirm: str = ""  # the code a deletion waits to be confirmed for ("" when none waits)


def consultation_row(c: dict) -> list[str]:
    """One saved consultation as the admin's table shows it."""
    return [c["code"], c["updated_at"], c["firm"], "○" if c["finished"] else ""]


@dataclass(frozen=True)
class RecordFilter:
    """What the admin searches the saved consultations by, as typed: a part of the code or firm, the
    diagnosis' status, and the days it was last updated (both ends included)."""

    text: str = ""
    status: str = "すべて"
    since: str = ""
    until: str = ""

    def days(self) -> tuple[dt.date | None, dt.date | None]:
        """The two dates, read as 2026-12-01 or 2026/12/1; a date that cannot be read raises TriageError."""
        return _admin_date(self.since, "から"), _admin_date(self.until, "まで")


def _admin_date(text: str, which: str) -> dt.date | None:
    try:
        return parse_full_date(text)
    except ValueError:  # not a date, or no such day (2026/2/30)
        raise TriageError(f"更新日（{which}）「{nfkc(text).strip()[:20]}」を日付として読めません。2026-12-01 や 2026/12/1 のように入力してください。") from None


def admin_records(ctx: AppContext, f: RecordFilter = RecordFilter(), message: str = "") -> AdminRecords:
    """Saved consultations found by a part of their code or firm name, by whether the diagnosis finished,
    and by the days they were last updated."""
    try:
        since, until = f.days()
    except TriageError as exc:
        return AdminRecords([], f"⚠️ {md_text(exc)}")
    if since and until and until < since:
        return AdminRecords([], "⚠️ 更新日の「まで」が「から」より前です。日付を入れ替えてください。")
    epoch = lambda d: time.mktime(d.timetuple())  # noqa: E731 — local midnight, as the table shows local times
    try:
        found = ctx.require_records().list_consultations(100, text=f.text or "", finished=ADMIN_STATUS.get(f.status),
                                                         since=epoch(since) if since else None,
                                                         until=epoch(until + dt.timedelta(days=1)) if until else None)
    except RecordError as exc:
        return AdminRecords([], f"⚠️ {md_text(exc)}")
    rows = [consultation_row(c) for c in found]
    if not message and ((f.text or "").strip() or since or until):
        what = "、".join(x for x in (f"「{md_text(f.text.strip())}」を含む" if (f.text or "").strip() else "",
                                     f"{since or ''}〜{until or ''} に更新された" if since or until else "") if x)
        message = f"{what}相談: {len(rows)} 件" if rows else f"{what}相談は見つかりませんでした。"
    return AdminRecords(rows, message)


def admin_delete(ctx: AppContext, code: str, confirmed: str, client: str, f: RecordFilter = RecordFilter()) -> AdminRecords:
    """Delete a saved consultation for the admin, in two steps: the first names the record and waits; the
    second (the same code confirmed) deletes it, withdraws its downloads and writes the audit log."""
    code = (code or "").strip().upper()
    if not code:
        return replace(admin_records(ctx, f), message="⚠️ 削除する相談の相談コードを入力してください。")
    try:
        found = [c for c in ctx.require_records().list_consultations(5, text=code) if c["code"].upper() == code]
        if not found:
            return replace(admin_records(ctx, f), message=f"⚠️ 相談コード {md_text(code)} の記録は見つかりません。")
        if confirmed != code:
            firm = found[0]["firm"] or "（会社名なし）"
            return replace(admin_records(ctx, f), confirm=code,
                           message=f"「{md_text(firm)}」（相談コード {md_text(code)}）の記録を削除します。元に戻せません。よければ「削除を確定する」を押してください。")
        service = Consultations(ctx.require_records(), ctx.live.current().triage, client, admin=True, via="admin")
        service.delete(code, None)
        ctx.withdraw_record(code)
    except RecordError as exc:
        return replace(admin_records(ctx, f), message=f"⚠️ {md_text(exc)}")
    return admin_records(ctx, f, f"相談コード {md_text(code)} の記録を削除しました（操作の記録に残ります）。")


@dataclass(frozen=True)
class Offered:
    """A download offered, or why not."""

    url: str | None = None
    error: str = ""


def admin_pdf(ctx: AppContext, code: str, client: str, owner: str) -> Offered:
    """The PDF of a saved consultation for the admin (the lookup is limited and audited)."""
    try:
        ctx.limiter.hit("lookup", client, ctx.limits.lookups_per_minute, what="記録の照会")
        result = consultations(ctx, client, via="admin pdf").result_of(code)
    except (RateLimited, RecordError) as exc:
        return Offered(error=str(exc))
    if result is None:
        return Offered(error="この相談はまだ診断が終わっていません。")
    return Offered(ctx.downloads.offer(owner, f"見極め診断_{result.code}.pdf", lambda: triage_report.pdf(result), result.code))
