"""The gradio page: 相談チャット, 見極め診断, 資料, 管理.

Per-browser state lives only in one gr.State shared by the chat and the 見極め診断 tab, so a
diagnosis begun in one continues in the other. The services come from ``ctx.live`` (they
switch when a new index version is published). User and document text is shown through
render.py / markup.py only; a consultation opened by its share code is read-only until its
edit secret is given.
"""

from __future__ import annotations

import base64
import html
import time
import uuid
from pathlib import Path

import gradio as gr

from .consultations import Consultations
from .context import ADMIN_COOKIE
from .conversation import START_TRIAGE, ChatState
from .corpus import CorpusError
from .guard import QuestionError, validate_question
from .index import IndexUnavailable
from .ingest import publish_staged, stage_document
from .limits import RateLimited
from .markup import md_lines, md_text
from .proxies import client_of
from .records import RecordError, RecordsUnavailable, comment_problem
from .render import (
    answer_markdown,
    clause_panel,
    progress_html,
    progress_note,
    question_markdown,
    quick_replies,
    result_summary,
    tree_markdown,
    user_message,
)
from .runtime import rebuild_index
from .triage import TriageError, TriageResult, TriageState
from .triage import excel as triage_excel
from .triage import report as triage_report
from .triage.flow import FORMS, UNKNOWN, forms_in
from .triage.model import PROGRESS_LABELS
from .triage.result import validate_answers
from .triage.session import TriageSession

EXAMPLES = [
    "うちは社員10人の町工場です。何から始めればいいですか？",
    "取引先から預かった図面はどう管理すればいい？",
    "初めて取り組む中小企業に、認証機関は何を示すべき？",
    "第4の2の一には何と書いてある？",
]
HISTORY_TURNS = 6
UPLOAD_TYPES = [".pdf", ".txt", ".md"]
GRID_COLUMNS = ["情報", "秘密保持の義務", "法令上の管理対象", "公開済み・再現容易", "競争力の源泉", "漏えい時の損害", "態様", "保管場所", "利用できる人", "社外に渡す"]
GRID_FIELDS = [None, "confidential_obligation", "legal_control", "public", "competitive", "damage", "forms", "location", "access", "goes_outside"]
PROGRESS_CHOICES = [(label, key) for key, label in PROGRESS_LABELS.items()]


def _new_session() -> dict:
    # No id yet: gradio copies this initial value into every browser session, so an id drawn here
    # would be the same for all of them (#19). Each session draws its own on first use (_sid).
    return {"id": None, "triage": None, "code": None, "secret": None, "readonly": False, "previous_code": None,
            "chat_active": False, "previous_intent": None, "secret_shown": False}


def _sid(sess: dict) -> str:
    """This browser session's id (for its limits and its downloads), drawn on first use; every handler
    that draws it returns the session state, so it stays."""
    if not sess.get("id"):
        sess["id"] = uuid.uuid4().hex
    return sess["id"]


def download_link(url: str | None, label: str, elem_id: str) -> str:
    """A download as a plain link to the app's own /download/ route (the file is made when it is fetched)."""
    if not url:
        return ""
    return f'<a class="download-link" id="{elem_id}" href="{html.escape(url)}" download>{html.escape(label)}</a>'


def chart_html(png: bytes) -> str:
    """The chart inline (counts only), so no image file is left in a folder or in gradio's cache."""
    return f'<img alt="御社の現状（判定ごとの情報の数、計画の費用の内訳、進み具合）" style="max-width: 100%" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def capped_messages(messages: list | None, limits) -> list:
    """The chat as the page sent it back, cut to what the app itself could have shown: the last messages only,
    none longer than any answer the app writes (a client may send anything here)."""
    kept = [m for m in list(messages or []) if isinstance(m, dict) and len(str(m.get("content", ""))) <= limits.chat_message_chars]
    return kept[-limits.chat_messages:]


# -- the shared diagnosis ------------------------------------------------------------------------------------
def consultations(ctx, request: gr.Request | None, via: str = "") -> Consultations:
    """The consultation service for this request's client (RecordsUnavailable when there are no records)."""
    return Consultations(ctx.require_records(), ctx.live.current().triage, client_of(request), via=via)


def triage_session(ctx, sess: dict) -> TriageSession:
    state = TriageState.from_dict(sess["triage"]) if sess.get("triage") else TriageState()
    if ctx.records is None:
        return TriageSession(ctx.live.current().triage, state, sess.get("code"))
    return consultations(ctx, None).session(state, sess.get("code"), sess.get("previous_code"))


def persist(ctx, sess: dict, session: TriageSession, request: gr.Request | None) -> tuple[dict, str]:
    """Save the consultation (create it on its first answer); returns (session state, a note for the user)."""
    sess = dict(sess, triage=session.state.to_dict())
    if sess.get("readonly") or not session.started:
        return sess, ""
    try:
        saved = consultations(ctx, request).save(session, ctx.live.current().corpus.version, sess.get("code"), sess.get("secret"))
        sess.update(code=saved.code, secret=saved.secret)
        return sess, ""
    except RecordsUnavailable as exc:
        return sess, f"⚠️ 記録を保存できません（{exc}）。診断は続けられますが、この画面を閉じると失われます。"
    except RecordError as exc:
        return sess, f"⚠️ {exc}"


def code_note(sess: dict) -> str:
    if not sess.get("code"):
        return ""
    note = f"相談コード **{md_text(sess['code'])}**（`?code={md_text(sess['code'])}` 付きのリンクで、誰でも**閲覧だけ**できます）。"
    if sess.get("secret"):
        note += f" 編集用の合言葉: **{md_text(sess['secret'])}**（控えておいてください。変更や削除に必要です。共有しないでください）"
    elif sess.get("readonly"):
        note += " いまは閲覧専用です。変更するには、編集用の合言葉を入力して開き直してください。"
    return note


def export_links(ctx, sess: dict, result: TriageResult) -> tuple[str, str, str]:
    """Links to the Markdown, PDF and Excel of a result, for this browser session only; each file is
    rendered from the result when it is downloaded, and the links go when the record is deleted."""
    sid = _sid(sess)
    name = result.code or "未保存"
    return (
        ctx.downloads.offer(sid, f"見極め診断_{name}.md", lambda: triage_report.markdown(result), result.code),
        ctx.downloads.offer(sid, f"見極め診断_{name}.pdf", lambda: triage_report.pdf(result, triage_report.standing_chart(result)), result.code),
        ctx.downloads.offer(sid, f"見極め診断_{name}.xlsx", lambda: triage_excel.workbook(result), result.code),
    )


# -- the page ------------------------------------------------------------------------------------------------------
def build(ctx) -> gr.Blocks:
    with gr.Blocks(title="TICS Assistant — 技術情報管理認証制度の相談", delete_cache=(600, 3600)) as demo:
        sess = gr.State(_new_session())
        gr.Markdown(
            "## TICS Assistant（技術情報管理認証制度）\n"
            "指針（技術等情報漏えい防止措置の実施の促進に関する指針）に**条項を示して原文を引用して**答えます。"
            "根拠がない質問には、推測せずにその旨をお答えします。<span class='official'>公式文書の引用</span>と"
            "<span class='advice'>製品の助言</span>は区別して表示します。"
        )
        with gr.Tabs(elem_id="tabs") as tabs:
            chat = chat_tab(ctx, sess)
            triage = triage_tab(ctx, sess, demo, tabs)
            docs_pick, docs_panel = docs_tab(ctx, demo)
            admin_tab(ctx, demo)

        def on_load(request: gr.Request):
            params = request.query_params if request else {}
            clause = params.get("clause")
            try:
                corpus = ctx.live.current().corpus
            except IndexUnavailable:
                return gr.Tabs(), gr.update(), gr.update()
            if clause and corpus.resolve(clause):
                cid = corpus.resolve(clause).id
                return gr.Tabs(selected="docs"), gr.update(value=cid), clause_panel(corpus, cid)
            return gr.Tabs(), gr.update(), gr.update()  # a share link (?code=) is opened by the 見極め tab's own load

        demo.load(on_load, None, [tabs, docs_pick, docs_panel], api_name=False)
    return demo


# -- 相談チャット ----------------------------------------------------------------------------------------------------------
def chat_tab(ctx, sess: gr.State):
    with gr.Tab("相談チャット", id="chat") as tab:
        turns = gr.State([])
        answers = gr.State([])
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(label="相談チャット", height=480, elem_id="chat", sanitize_html=True, render_markdown=True, buttons=[])
                question = gr.Textbox(label="質問", placeholder="例：うちは町工場です。何から始めればいいですか？", max_length=ctx.cfg.max_question_chars, elem_id="question")
                with gr.Row():
                    send = gr.Button("送信", variant="primary", elem_id="send")
                    start = gr.Button(START_TRIAGE, elem_id="chat-start-triage")
                    reset = gr.Button("会話をリセット", elem_id="reset")
                    export = gr.HTML(elem_id="export-chat-box")
                with gr.Row(visible=False, elem_id="chat-result-files") as files_row:
                    md_file = gr.HTML(elem_id="chat-download-md-box")
                    pdf_file = gr.HTML(elem_id="chat-download-pdf-box")
                    xlsx_file = gr.HTML(elem_id="chat-download-xlsx-box")
                gr.Examples(EXAMPLES, inputs=question, label="質問の例")
                with gr.Accordion("この回答を評価する", open=False, elem_id="feedback"):
                    comment = gr.Textbox(label="コメント（任意）", max_length=1000, elem_id="feedback-comment")
                    with gr.Row():
                        good = gr.Button("👍 役に立った", elem_id="good")
                        bad = gr.Button("👎 役に立たなかった", elem_id="bad")
                    feedback_msg = gr.Markdown(elem_id="feedback-msg")
            with gr.Column(scale=2):
                sources = gr.Radio(choices=[], label="出典（クリックで原文を表示）", elem_id="sources")
                panel = gr.Markdown("出典をクリックすると、条項の原文・見出し・文書の版がここに表示されます。", elem_id="panel")

        outs = [chat, turns, answers, sources, question, export, sess, files_row, md_file, pdf_file, xlsx_file]

        def respond(message: str, chosen: bool, turns_: list, answers_: list, messages: list, sess_: dict, request: gr.Request | None):
            messages = capped_messages(messages, ctx.limits)
            sess_ = dict(sess_)
            keep = (gr.update(),) * 4
            try:
                ctx.limiter.hit("ask", _sid(sess_), ctx.limits.asks_per_minute, what="質問")
                bundle = ctx.live.current()
            except (RateLimited, IndexUnavailable) as exc:
                messages += [{"role": "user", "content": user_message(message)}, {"role": "assistant", "content": f"⚠️ {md_text(exc)}"}]
                yield messages, turns_, answers_, gr.update(), gr.update(), gr.update(), sess_, *keep
                return
            conv = bundle.conversation
            state = ChatState(sess_.get("triage"), bool(sess_.get("chat_active")), sess_.get("previous_intent"))
            session = triage_session(ctx, sess_)
            started = time.perf_counter()
            try:
                if not chosen and not state.triage_active and message.strip() != START_TRIAGE and conv.s.answerer.streams:
                    # With a language model: stream its words, marked unverified, then the verified answer.
                    q = validate_question(message, bundle.assistant.cfg.max_question_chars)
                    routing = conv.decide(q, turns_[-HISTORY_TURNS:], state.previous_intent)
                    if routing.intent != "triage":
                        partial = ""
                        answer = None
                        for event in conv.stream(q, turns_[-HISTORY_TURNS:], state.previous_intent, routing):
                            if event.kind == "token":
                                partial += event.text
                                yield messages + [{"role": "user", "content": user_message(q)}, {"role": "assistant", "content": md_lines(partial) + "\n\n（生成中・未検証）"}], turns_, answers_, gr.update(), gr.update(), gr.update(), sess_, *keep
                            else:
                                answer = event.answer
                        turn = None
                    else:
                        turn = conv.reply(message, turns_[-HISTORY_TURNS:], state, session, chosen)
                        answer = None
                else:
                    turn = conv.reply(message, turns_[-HISTORY_TURNS:], state, session, chosen)
                    answer = turn.answer
            except QuestionError as exc:
                messages += [{"role": "user", "content": user_message(message)}, {"role": "assistant", "content": f"⚠️ {md_text(exc)}"}]
                yield messages, turns_, answers_, gr.update(choices=[], value=None), message, gr.update(), sess_, *keep
                return
            except Exception as exc:
                ctx.metrics.errors.labels("chat").inc()
                messages += [{"role": "user", "content": user_message(message)},
                             {"role": "assistant", "content": f"⚠️ 回答中にエラーが起きました（{type(exc).__name__}）。もう一度お試しください。"}]
                yield messages, turns_, answers_, gr.update(), gr.update(), gr.update(), sess_, *keep
                return
            messages.append({"role": "user", "content": user_message(message)})
            files = keep
            if answer is not None:
                ctx.record_answer_time(time.perf_counter() - started)
                ctx.metrics.answers.labels(answer.intent, "chat").inc()
                if answer.refused:
                    ctx.metrics.refusals.labels(answer.refusal_reason or "").inc()
                reply = {"role": "assistant", "content": answer_markdown(answer)}
                if answer.offer == "triage":
                    reply["options"] = [{"label": START_TRIAGE, "value": START_TRIAGE}]
                messages.append(reply)
                turns_ = turns_ + [{"role": "user", "content": answer.question}, {"role": "assistant", "content": answer.answer}]
                answers_ = answers_ + [answer.to_json()]
            if turn is not None:
                sess_.update(chat_active=turn.state.triage_active, previous_intent=turn.state.previous_intent)
                if turn.session is not None and turn.session.state.to_dict() != (TriageState.from_dict(sess_["triage"]).to_dict() if sess_.get("triage") else TriageState().to_dict()):
                    sess_, saved_note = persist(ctx, sess_, turn.session, request)
                    if saved_note:
                        messages.append({"role": "assistant", "content": saved_note})
                if turn.notice:
                    messages.append({"role": "assistant", "content": md_text(turn.notice)})
                if turn.finished and turn.session is not None:
                    result = turn.session.result()
                    result.code = sess_.get("code")
                    ctx.metrics.triage_completions.labels("chat").inc()
                    md, pdf, xlsx = export_links(ctx, sess_, result)
                    messages.append({"role": "assistant", "content": result_summary(result) + "\n\n" + code_note(sess_)})
                    files = (gr.update(visible=True), download_link(md, "記録（Markdown）", "chat-download-md"),
                             download_link(pdf, "記録（PDF）", "chat-download-pdf"), download_link(xlsx, "記録（Excel）", "chat-download-xlsx"))
                elif turn.question is not None:
                    asked, left = turn.session.progress()
                    text = question_markdown(turn.question) + "\n\n" + progress_note(asked, left)
                    messages.append({"role": "assistant", "content": text, "options": quick_replies(turn.question)})
            # The download link always gives the conversation so far: one click saves it.
            saved_answers = list(answers_)
            url = ctx.downloads.offer(_sid(sess_), "相談の記録.md", lambda: conversation_markdown(saved_answers), sess_.get("code"))
            path = download_link(url, "会話を Markdown で保存", "export-chat")
            messages = messages[-ctx.limits.chat_messages:]
            cites = [c["clause_id"] for a in answers_[-1:] for c in a["citations"]] if answer is not None else []
            yield messages, turns_, answers_, gr.update(choices=cites, value=None), "", path, sess_, *files

        def on_send(message, turns_, answers_, messages, sess_, request: gr.Request):
            yield from respond(message, False, turns_, answers_, messages, sess_, request)

        def on_option(evt: gr.SelectData, turns_, answers_, messages, sess_, request: gr.Request):
            value = evt.value.get("value") if isinstance(evt.value, dict) else evt.value
            yield from respond(str(value), True, turns_, answers_, messages, sess_, request)

        def on_start(turns_, answers_, messages, sess_, request: gr.Request):
            yield from respond(START_TRIAGE, True, turns_, answers_, messages, sess_, request)

        ins = [question, turns, answers, chat, sess]
        send.click(on_send, ins, outs, api_name="ask", concurrency_limit=2, concurrency_id="ask")
        question.submit(on_send, ins, outs, api_name=False, concurrency_limit=2, concurrency_id="ask")
        chat.option_select(on_option, [turns, answers, chat, sess], outs, api_name=False, concurrency_limit=2, concurrency_id="ask")
        start.click(on_start, [turns, answers, chat, sess], outs, api_name=False)

        def on_clause(cid):
            try:
                return clause_panel(ctx.live.current().corpus, cid)
            except IndexUnavailable as exc:
                return md_text(exc)

        sources.change(on_clause, sources, panel, api_name="clause")

        def on_reset(sess_):
            sess_ = dict(sess_, chat_active=False, previous_intent=None)
            ctx.downloads.withdraw(owner=_sid(sess_))
            return [], [], [], gr.update(choices=[], value=None), clause_panel(None, None), "", sess_

        reset.click(on_reset, sess, [chat, turns, answers, sources, panel, export, sess], api_name=False)

        def on_feedback(rating: str, comment_: str, answers_: list[dict], sess_: dict):
            if not answers_:
                return "まだ回答がありません。質問してから評価してください。", comment_
            last = answers_[-1]
            if (problem := comment_problem(comment_ or "")) is not None:  # the records refuse it too; said here before it counts against the limit
                return f"⚠️ {md_text(problem)}", comment_
            try:
                ctx.limiter.hit("feedback", _sid(sess_), ctx.limits.feedback_per_minute, what="評価の送信")
                ctx.require_records().add_feedback(last["question"], last["answer"], rating, comment_ or "", [c["clause_id"] for c in last["citations"]],
                                                   last["corpus_version"], code=sess_.get("code"))
            except RateLimited as exc:
                return f"⚠️ {md_text(exc)}", comment_
            except RecordError as exc:
                return f"⚠️ 評価を保存できません（{md_text(exc)}）。", comment_
            return "評価を保存しました。ありがとうございます（評価は評価用データの改善に使います）。", ""

        good.click(lambda c, a, s: on_feedback("good", c, a, s), [comment, answers, sess], [feedback_msg, comment], api_name="feedback_good")
        bad.click(lambda c, a, s: on_feedback("bad", c, a, s), [comment, answers, sess], [feedback_msg, comment], api_name="feedback_bad")
    return tab


def conversation_markdown(answers: list[dict]) -> str:
    out = ["# 相談の記録（TICS Assistant）", "", f"作成日時: {time.strftime('%Y-%m-%d %H:%M')}", ""]
    for a in answers:
        out += [f"## 質問: {md_text(a['question'])}", "", md_lines(a["answer"]), ""]
        out.append(f"文書バージョン: {md_text(a['corpus_version'])}\n")
    return "\n".join(out)


# -- 見極め診断 ---------------------------------------------------------------------------------------------------------------
def triage_tab(ctx, sess: gr.State, demo: gr.Blocks, tabs: gr.Tabs):
    with gr.Tab("見極め診断", id="triage") as tab:
        gr.Markdown(
            "確実に守るべき技術情報を見極め、指針第4の2の一の**必要最低限の措置**と、**最初の計画**（組織の基本、情報の形ごとの基本の管理、会社の状況に応じた対策）を示します。"
            "答えで結果が変わらない質問は聞きません。判定の基準と対策は<span class='advice'>製品の助言</span>です。どの質問でも「わからない」を選べ、「戻る」で回答を変更できます。"
        )
        with gr.Row():
            open_code = gr.Textbox(label="相談コードで開く", placeholder="例: AB23CD45", scale=2, elem_id="resume-code")
            open_secret = gr.Textbox(label="編集用の合言葉（変更するときだけ）", type="password", scale=2, elem_id="resume-secret")
            open_btn = gr.Button("開く", scale=1, elem_id="resume")
            restart_btn = gr.Button("最初からやり直す", scale=1, elem_id="restart")
        code_md = gr.Markdown(elem_id="triage-code")
        message = gr.Markdown(elem_id="triage-message")
        with gr.Tabs(elem_id="triage-modes"):
            with gr.Tab("会話で進める", id="conversation"):
                with gr.Column(elem_id="triage-conversation") as conv_box:
                    bar = gr.HTML(elem_id="triage-progress")
                    question_md = gr.Markdown(elem_id="triage-question")
                    choice = gr.Radio(choices=[], label="選択肢", visible=False, elem_id="triage-choice")
                    multi = gr.CheckboxGroup(choices=[], label="選択肢（複数選択可）", visible=False, elem_id="triage-multi")
                    free = gr.Textbox(label="自由記述（選択肢にない答え、保管場所、御社独自の情報の名前）", max_length=ctx.limits.text_chars + 100, elem_id="triage-free")
                    with gr.Row():
                        next_btn = gr.Button("次へ", variant="primary", elem_id="triage-next")
                        unknown_btn = gr.Button("わからない", elem_id="triage-unknown")
                        back_btn = gr.Button("戻る", elem_id="triage-back")
            with gr.Tab("一覧表で入力する（アドバイザー向け）", id="grid"):
                gr.Markdown("会社と情報を一覧で入力します。会話と同じ順に質問をたどるので、結果と記録は会話と同じになります。"
                            "空欄は「わからない」です。値は 秘密保持・法令・公開・競争力・社外: はい／いいえ／わからない、損害: 大／中／小／わからない、"
                            "態様: 電子データ・書面・物品・人の知識・ノウハウ（「・」区切り）、利用できる人: 限られた担当者／部署内／社員全員／社外の人も。")
                with gr.Row():
                    grid_name = gr.Textbox(label="会社名（任意）", elem_id="grid-name")
                    grid_industry = gr.Dropdown(label="業種", choices=["金属加工", "食品製造", "ソフトウェア開発", "化学", "電子部品", "繊維・アパレル", "建設・設計", "その他", UNKNOWN], value=UNKNOWN, elem_id="grid-industry")
                    grid_size = gr.Dropdown(label="従業員", choices=["〜5人", "6〜20人", "21〜50人", "51〜300人", UNKNOWN], value=UNKNOWN, elem_id="grid-size")
                grid_collab = gr.CheckboxGroup(label="他社や社外の人との関わり", choices=["下請け・受託", "自社製品", "共同研究開発", "顧客と情報を共有", "来客・見学がある"], elem_id="grid-collab")
                with gr.Row():
                    grid_items = gr.Textbox(label="情報の名前（カンマ区切り）", placeholder="例: 顧客支給図面, 加工ノウハウ, 見積単価表", scale=4, elem_id="grid-items")
                    grid_make = gr.Button("表を作る", scale=1, elem_id="grid-make")
                grid = gr.Dataframe(headers=GRID_COLUMNS, datatype="str", column_count=len(GRID_COLUMNS), interactive=True, static_columns=[0],
                                    elem_id="grid", label="情報ごとの回答（セルをクリックして入力）", wrap=True)
                grid_submit = gr.Button("一覧表から結果を出す", variant="primary", elem_id="grid-submit")
        with gr.Column(visible=False, elem_id="triage-result") as result_box:
            result_md = gr.Markdown(elem_id="triage-result-md")
            chart = gr.HTML(label="御社の現状", elem_id="triage-chart")
            with gr.Row():
                md_file = gr.HTML(elem_id="download-md-box")
                pdf_file = gr.HTML(elem_id="download-pdf-box")
                xlsx_file = gr.HTML(elem_id="download-xlsx-box")
            with gr.Group(elem_id="progress-editor") as progress_box:
                gr.Markdown("#### 計画の進み具合を記録する（アドバイザー・担当者向け）")
                with gr.Row():
                    pick = gr.Dropdown(label="対策", choices=[], elem_id="progress-pick", scale=3)
                    status = gr.Radio(label="状態", choices=PROGRESS_CHOICES, value="todo", elem_id="progress-status", scale=3)
                with gr.Row():
                    owner = gr.Textbox(label="担当者", max_length=60, elem_id="progress-owner")
                    due = gr.Textbox(label="期限（YYYY-MM-DD）", max_length=10, elem_id="progress-due")
                    note = gr.Textbox(label="メモ", max_length=500, elem_id="progress-note")
                save_progress = gr.Button("進み具合を保存", elem_id="progress-save")
                with gr.Row():
                    reassess_btn = gr.Button("この計画を前回として再診断する", elem_id="reassess")
                    confirm_delete = gr.Checkbox(label="この記録を削除してよい", elem_id="delete-confirm")
                    delete_btn = gr.Button("記録を削除", variant="stop", elem_id="delete")

        outs = [sess, code_md, message, bar, question_md, choice, multi, free, next_btn, unknown_btn, back_btn, result_box, result_md, chart,
                md_file, pdf_file, xlsx_file, pick, progress_box, grid]

        def view(sess_: dict, msg: str = ""):
            sess_ = dict(sess_)
            try:
                session = triage_session(ctx, sess_)
            except IndexUnavailable as exc:
                return {message: f"⚠️ {md_text(exc)}"}
            readonly = bool(sess_.get("readonly"))
            notice = (f"⚠️ 記録を使えません: {md_text(ctx.records_error)}。診断はできますが保存されません。\n\n" if ctx.records is None else "") + msg
            q = session.question
            asked, left = session.progress()
            base = {sess: sess_, code_md: code_note(sess_), message: notice, bar: progress_html(asked, left), grid: grid_rows(session.state)}
            if q is None:
                result = session.result()
                result.code = sess_.get("code")
                md, pdf, xlsx = export_links(ctx, sess_, result)
                head = "### 診断が完了しました\n回答を変えるときは「戻る」を押すか、一覧表で直してください。\n\n"
                return {**base, question_md: head, choice: gr.update(visible=False, value=None), multi: gr.update(visible=False, value=[]),
                        free: gr.update(value="", visible=False), next_btn: gr.update(visible=False), unknown_btn: gr.update(visible=False),
                        back_btn: gr.update(visible=not readonly), result_box: gr.update(visible=True),
                        result_md: triage_report.markdown(result, include_answers=False), chart: chart_html(triage_report.standing_chart(result)),
                        md_file: download_link(md, "記録を Markdown で保存", "download-md"), pdf_file: download_link(pdf, "記録を PDF で保存", "download-pdf"),
                        xlsx_file: download_link(xlsx, "記録を Excel で保存", "download-xlsx"),
                        pick: gr.update(choices=[(f"{m.id} {m.title}（{result.progress_of(m.id).label}）", m.id) for m in result.measures], value=None),
                        progress_box: gr.update(visible=not readonly)}
            text = question_markdown(q)
            options = list(q.options) + ([UNKNOWN] if q.kind in ("choice",) else [])
            if q.kind == "choice":
                c_upd, m_upd = gr.update(choices=options, value=None, visible=True), gr.update(visible=False, value=[])
            elif q.kind in ("multi", "items", "batch", "forms"):
                current = [it["name"] for it in session.state.items] if q.kind == "items" else []
                m_upd = gr.update(choices=list(q.options) + [n for n in current if n not in q.options], value=current, visible=True)
                c_upd = gr.update(visible=False, value=None)
            else:
                c_upd, m_upd = gr.update(visible=False, value=None), gr.update(visible=False, value=[])
            editable = not readonly
            return {**base, question_md: text, choice: c_upd, multi: m_upd, free: gr.update(value="", visible=editable),
                    next_btn: gr.update(visible=editable), unknown_btn: gr.update(visible=editable), back_btn: gr.update(visible=editable),
                    result_box: gr.update(visible=False), result_md: "", chart: "", md_file: "", pdf_file: "", xlsx_file: "",
                    pick: gr.update(choices=[], value=None), progress_box: gr.update(visible=False)}

        def step(sess_: dict, request: gr.Request | None, change) -> dict:
            """Apply a change to the diagnosis (an answer, going back…), save it, and show the next view."""
            if sess_.get("readonly"):
                return view(sess_, "⚠️ 閲覧専用です。変更するには、相談コードと編集用の合言葉を入力して開き直してください。")
            try:
                ctx.limiter.hit("triage", _sid(sess_), ctx.limits.triage_steps_per_minute, what="診断の操作")
                session = change(triage_session(ctx, sess_))
            except (TriageError, RateLimited) as exc:
                return view(sess_, f"⚠️ {md_text(exc)}")
            except IndexUnavailable as exc:
                return view(sess_, f"⚠️ {md_text(exc)}")
            was_finished = triage_session(ctx, sess_).finished if sess_.get("triage") else False
            sess_, note = persist(ctx, dict(sess_, chat_active=sess_.get("chat_active") and not session.finished), session, request)
            if session.finished and not was_finished:
                ctx.metrics.triage_completions.labels("tab").inc()
            return view(sess_, note)

        def on_next(sess_, choice_v, multi_v, free_v, request: gr.Request):
            try:
                q = triage_session(ctx, sess_).question
            except IndexUnavailable as exc:
                return view(sess_, f"⚠️ {md_text(exc)}")
            if q is None:
                return view(sess_)
            if q.kind == "items":
                extra = [s for s in (free_v or "").replace("、", ",").split(",") if s.strip()]
                value = list(multi_v or []) + extra
            elif q.kind == "forms":
                value = {"forms": list(multi_v or []) or [UNKNOWN], "location": free_v or ""} if multi_v else (free_v or "")
            elif q.kind in ("multi", "batch"):
                value = list(multi_v or []) or (free_v or "")
            elif q.kind == "choice":
                value = choice_v or free_v
            else:
                value = free_v
            if q.kind in ("choice", "multi", "batch", "forms") and not value:
                return view(sess_, "⚠️ 選択肢を選ぶか、自由記述で答えてください（「わからない」も選べます）。")
            return step(sess_, request, lambda s: s.answer(value))

        next_btn.click(on_next, [sess, choice, multi, free], outs, api_name="triage_next")
        free.submit(on_next, [sess, choice, multi, free], outs, api_name=False)
        unknown_btn.click(lambda s, request: step(s, request, lambda x: x.unknown()), sess, outs, api_name="triage_unknown")
        back_btn.click(lambda s, request: step(s, request, lambda x: x.back()), sess, outs, api_name="triage_back")

        def on_restart(sess_):
            return view(dict(_new_session(), id=_sid(dict(sess_))))

        restart_btn.click(on_restart, sess, outs, api_name=False)

        def on_open(code_text: str, secret_text: str, sess_: dict, request: gr.Request):
            sess_ = dict(sess_)
            try:
                ctx.limiter.hit("lookup", client_of(request), ctx.limits.lookups_per_minute, what="記録の照会")
                opened = consultations(ctx, request).open(code_text, secret_text)
            except (RateLimited, RecordError) as exc:
                return view(sess_, f"⚠️ {md_text(exc)}")
            state = opened.session.state
            sess_.update(triage=state.to_dict(), code=opened.code, secret=opened.secret, readonly=opened.readonly,
                         previous_code=state.previous, chat_active=False)
            return view(sess_, "記録を開きました（閲覧専用）。" if opened.readonly else "記録を開きました。続きから回答でき、計画の進み具合も記録できます。")

        open_btn.click(on_open, [open_code, open_secret, sess], outs, api_name="triage_resume")

        def on_save_progress(sess_, measure_id, status_v, owner_v, due_v, note_v, request: gr.Request):
            if not measure_id:
                return view(sess_, "⚠️ 進み具合を記録する対策を選んでください。")
            return step(sess_, request, lambda s: s.set_progress(measure_id, status_v or "todo", owner_v or "", due_v or "", note_v or ""))

        save_progress.click(on_save_progress, [sess, pick, status, owner, due, note], outs, api_name=False)

        def on_pick(sess_, measure_id):
            if not measure_id or not sess_.get("triage"):
                return gr.update(), gr.update(), gr.update(), gr.update()
            p = TriageState.from_dict(sess_["triage"]).progress.get(measure_id, {})
            return p.get("status", "todo"), p.get("owner", ""), p.get("due", ""), p.get("note", "")

        pick.change(on_pick, [sess, pick], [status, owner, due, note], api_name=False)

        def on_reassess(sess_, request: gr.Request):
            if not sess_.get("code") or sess_.get("readonly"):
                return view(sess_, "⚠️ 再診断は、保存した記録を編集できる状態で開いてから行えます。")
            try:
                session = triage_session(ctx, sess_).reassess()
            except TriageError as exc:
                return view(sess_, f"⚠️ {md_text(exc)}")
            fresh = dict(_new_session(), id=_sid(dict(sess_)), previous_code=sess_["code"])
            fresh, note = persist(ctx, fresh, session, request)
            return view(fresh, "前回の計画をもとに再診断を始めました。回答を一覧表か「戻る」で直すと、前回からの進み具合が結果に表示されます。" + (f" {note}" if note else ""))

        reassess_btn.click(on_reassess, sess, outs, api_name=False)

        def on_delete(sess_, confirmed, request: gr.Request):
            if not confirmed:
                return view(sess_, "⚠️ 削除するには「この記録を削除してよい」にチェックを入れてください。")
            if not sess_.get("code") or sess_.get("readonly"):
                return view(sess_, "⚠️ 削除には編集用の合言葉が必要です。")
            try:
                consultations(ctx, request).delete(sess_["code"], sess_.get("secret"))
                ctx.withdraw_record(sess_["code"])
            except RecordError as exc:
                return view(sess_, f"⚠️ {md_text(exc)}")
            return view(dict(_new_session(), id=_sid(dict(sess_))), f"相談コード {md_text(sess_['code'])} の記録を削除しました。")

        delete_btn.click(on_delete, [sess, confirm_delete], outs, api_name="triage_delete")

        def on_grid_make(items_text: str, rows):
            names = [n.strip() for n in (items_text or "").replace("、", ",").split(",") if n.strip()]
            if len(names) > ctx.limits.items:
                return gr.update(), f"⚠️ 情報は {ctx.limits.items} 件までです。"
            old = {r[0]: r for r in _rows(rows)}
            return [old.get(n) or [n] + [""] * (len(GRID_COLUMNS) - 1) for n in names], ""

        grid_make.click(on_grid_make, [grid_items, grid], [grid, message], api_name=False)

        def on_grid_submit(sess_, name, industry, size, collab, rows, request: gr.Request):
            try:
                answers = grid_answers(name, industry, size, collab, _rows(rows))
            except TriageError as exc:
                return view(sess_, f"⚠️ {md_text(exc)}")
            return step(sess_, request, lambda s: s.from_answers(answers))

        grid_submit.click(on_grid_submit, [sess, grid_name, grid_industry, grid_size, grid_collab, grid], outs, api_name="triage_grid")

        def on_load(sess_, request: gr.Request):
            # One handler opens the record and switches to this tab: when the tab switch came from a
            # second load event, the tab's select (below) could render the session before the record
            # was in it, and overwrite the opened record with an empty view (seen on CI).
            code_param = request.query_params.get("code") if request else None
            if code_param:
                return {**on_open(code_param, "", sess_, request), tabs: gr.Tabs(selected="triage")}
            return view(sess_)

        demo.load(on_load, sess, [*outs, tabs], api_name=False)
        tab.select(lambda s: view(s), sess, outs, api_name=False)  # the chat may have moved the diagnosis on
    return tab


def _rows(value) -> list[list[str]]:
    """The grid's rows as lists of strings (gradio gives a DataFrame, a list, or a dict)."""
    if value is None:
        return []
    if hasattr(value, "values") and hasattr(value, "columns"):
        rows = value.values.tolist()
    elif isinstance(value, dict):
        rows = value.get("data", [])
    else:
        rows = value
    return [["" if c is None else str(c).strip() for c in row] for row in rows if row and str(row[0] or "").strip()]


def grid_rows(state: TriageState) -> list[list[str]]:
    out = []
    for it in state.items:
        row = [it["name"]]
        for f in GRID_FIELDS[1:]:
            v = it.get(f, "")
            row.append("・".join(v) if isinstance(v, list) else (v or ""))
        out.append(row)
    return out


def grid_answers(name, industry, size, collab, rows: list[list[str]]) -> dict:
    """The adviser's grid as an answers file (the same one the CLI takes)."""
    items = []
    for n, row in enumerate(rows, start=1):
        item = {"name": row[0]}
        for col, f in enumerate(GRID_FIELDS[1:], start=1):
            v = row[col] if col < len(row) else ""
            if not v:
                continue
            if f == "forms":  # 「電子データ・書面」: the form names it contains (人の知識・ノウハウ has a ・ of its own)
                named = [form for form in FORMS if form in v] or forms_in(v) or ([UNKNOWN] if UNKNOWN in v else [])
                if not named:
                    raise TriageError(f"{n} 行目「態様」: 「{v[:20]}」を読み取れません（{'・'.join(FORMS)}、{UNKNOWN}）。")
                item[f] = named
            else:
                item[f] = v
        items.append(item)
    firm = {"name": name or "", "industry": industry or UNKNOWN, "size": size or UNKNOWN, "collaboration": list(collab or []) or [UNKNOWN]}
    answers = {"firm": firm, "items": items}

    try:
        validate_answers(answers)
    except TriageError as exc:
        # The schema names the field as items[2].damage: say which row and column of the grid that is.
        text = str(exc)
        for n in range(len(rows)):
            for col, f in enumerate(GRID_FIELDS[1:], start=1):
                text = text.replace(f"items[{n}].{f}", f"{n + 1} 行目「{GRID_COLUMNS[col]}」")
        raise TriageError(text) from exc
    return answers


# -- 資料 --------------------------------------------------------------------------------------------------------------------
def docs_tab(ctx, demo: gr.Blocks):
    with gr.Tab("資料", id="docs"):
        gr.Markdown("読み込まれている文書を条項の木で表示します。条項IDをクリックするか選ぶと原文を表示します。")
        with gr.Row():
            with gr.Column(scale=3):
                search = gr.Textbox(label="検索（条項ID や語句）", elem_id="docs-search")
                tree = gr.Markdown(elem_id="docs-tree")
            with gr.Column(scale=2):
                pick = gr.Dropdown(choices=[], label="条項を選ぶ", elem_id="docs-pick")
                shown = gr.Markdown(clause_panel(None, None), elem_id="docs-panel")

        def on_search(q):
            try:
                return tree_markdown(ctx.live.current().corpus, q)
            except IndexUnavailable as exc:
                return md_text(exc)

        def on_pick(cid):
            try:
                return clause_panel(ctx.live.current().corpus, cid)
            except IndexUnavailable as exc:
                return md_text(exc)

        def on_show():
            try:
                corpus = ctx.live.current().corpus
            except IndexUnavailable as exc:
                return md_text(exc), gr.update()
            return tree_markdown(corpus), gr.update(choices=[c.id for c in corpus.clauses()])

        search.change(on_search, search, tree, api_name=False)
        pick.change(on_pick, pick, shown, api_name="docs_clause")
        demo.load(on_show, None, [tree, pick], api_name=False)
    return pick, shown


# -- 管理 ----------------------------------------------------------------------------------------------------------------------
def admin_tab(ctx, demo: gr.Blocks) -> None:
    with gr.Tab("管理", id="admin"):
        if not ctx.cfg.server.admin_password:
            gr.Markdown("管理ページは無効です。運用者は環境変数 `ASSISTANT_ADMIN_PASSWORD` を設定して起動してください。")
            return
        with gr.Row():
            password = gr.Textbox(label="管理者パスワード", type="password", elem_id="admin-password")
            login = gr.Button("ログイン", elem_id="admin-login")
            logout = gr.Button("ログアウト", elem_id="admin-logout", visible=False)
        login_msg = gr.Markdown(elem_id="admin-login-msg")
        with gr.Column(visible=False) as area:
            gr.Markdown("### 公式文書の追加（告示の PDF・テキスト・Markdown、20 MB まで）\n読み取り結果と、前の版からの条項の変更を確認してから公開します。")
            upload = gr.File(label="ファイル", file_types=UPLOAD_TYPES, type="filepath", elem_id="admin-upload")
            with gr.Row():
                doc = gr.Textbox(label="短縮名（条項IDの先頭）", value="基準")
                version = gr.Textbox(label="版（省略可）")
                title = gr.Textbox(label="正式な題名（省略可）")
            add = gr.Button("読み込んで確認する", variant="primary", elem_id="admin-add")
            readback = gr.Textbox(label="読み取り結果と前の版からの変更", lines=14, interactive=False, elem_id="admin-readback")
            staged = gr.State(None)
            publish = gr.Button("この内容で公開する", elem_id="admin-publish", visible=False)
            gr.Markdown("### 利用者の評価")
            feedback = gr.Dataframe(headers=["id", "日時", "質問", "評価", "コメント", "引用"], interactive=False, datatype="str")
            gr.Markdown("### 保存された相談")
            consultations = gr.Dataframe(headers=["相談コード", "更新", "会社", "完了"], interactive=False, datatype="str")
            gr.Markdown("### 記録の照会と操作の記録（直近）")
            audit = gr.Dataframe(headers=["日時", "操作", "相談コード", "結果", "接続元", "詳細"], interactive=False, datatype="str")
            with gr.Row():
                export_code = gr.Textbox(label="相談コード（入力して Enter で PDF を用意）", elem_id="admin-export-code")
                export_btn = gr.HTML(elem_id="admin-export-box")
            refresh = gr.Button("一覧を更新")


        def is_admin(request: gr.Request | None) -> bool:
            return bool(request) and ctx.is_admin(request.cookies.get(ADMIN_COOKIE))

        def tables():
            records = ctx.require_records()
            fb = [[str(f["id"]), f["created_at"], f["question"], f["rating"], f["comment"], "、".join(f["citations"])] for f in records.list_feedback()]
            cs = [[c["code"], c["updated_at"], c["firm"], "○" if c["finished"] else ""] for c in records.list_consultations()]
            au = [[time.strftime("%Y-%m-%d %H:%M", time.localtime(a["at"])), a["event"], a["code"] or "", "○" if a["ok"] else "×", a["actor"], a["detail"]] for a in records.audit_log(100)]
            return fb, cs, au

        def check(request: gr.Request):
            if not is_admin(request):
                return gr.update(visible=False), gr.update(visible=True), gr.update(visible=False), [], [], []
            try:
                fb, cs, au = tables()
            except RecordError:
                fb, cs, au = [], [], []
            return gr.update(visible=True), gr.update(visible=False), gr.update(visible=True), fb, cs, au

        login_js = """async (pw) => {
            const r = await fetch('/admin/login', {method: 'POST', headers: {'Content-Type': 'application/json'}, credentials: 'same-origin', body: JSON.stringify({password: pw})});
            let d = {}; try { d = await r.json(); } catch (e) {}
            return [(r.ok ? '' : '⚠️ ') + (d.detail || ('ログインできません (' + r.status + ')')), ''];
        }"""
        logout_js = """async () => { await fetch('/admin/logout', {method: 'POST', credentials: 'same-origin'}); return 'ログアウトしました。'; }"""
        login.click(None, password, [login_msg, password], js=login_js, api_name=False).then(check, None, [area, login, logout, feedback, consultations, audit], api_name=False)
        logout.click(None, None, login_msg, js=logout_js, api_name=False).then(check, None, [area, login, logout, feedback, consultations, audit], api_name=False)
        demo.load(check, None, [area, login, logout, feedback, consultations, audit], api_name=False)

        def on_add(path: str | None, doc_: str, version_: str, title_: str, request: gr.Request, progress_=gr.Progress()):
            if not is_admin(request):
                return "⚠️ ログインしてください（ログインの有効期限が切れた場合も、もう一度ログインしてください）。", None, gr.update(visible=False)
            if not path:
                return "⚠️ ファイルを選んでください。", None, gr.update(visible=False)

            try:
                progress_(0.2, desc="ファイルを読み取っています")
                staged_doc = stage_document(ctx.cfg, Path(path), doc_.strip(), title_.strip() or None, "official", version_.strip() or None)
            except CorpusError as exc:
                return f"⚠️ {exc}", None, gr.update(visible=False)
            if staged_doc.unchanged:
                return staged_doc.readback.text(), None, gr.update(visible=False)
            ctx.require_records().log("upload", None, True, client_of(request), f"{staged_doc.readback.doc} {staged_doc.readback.version}")
            return staged_doc.text() + "\n\n内容を確認したら「この内容で公開する」を押してください。", staged_doc.folder, gr.update(visible=True)

        def on_publish(folder: str | None, request: gr.Request, progress_=gr.Progress()):
            if not is_admin(request):
                return "⚠️ ログインしてください。", None, gr.update(visible=False)
            if not folder:
                return "⚠️ 先に「読み込んで確認する」を押してください。", None, gr.update(visible=False)

            try:
                progress_(0.2, desc="文書を公開しています")
                name = publish_staged(ctx.cfg, Path(folder))
                progress_(0.5, desc="索引の新しい版を作っています")
                rebuild_index(ctx.cfg)
                progress_(0.9, desc="回答に反映しています")
                ctx.live.check()
            except CorpusError as exc:
                return f"⚠️ {exc}", None, gr.update(visible=False)
            ctx.require_records().log("publish", None, True, client_of(request), name)
            return f"{name} を公開しました。索引を更新し、回答に反映しました。", None, gr.update(visible=False)

        add.click(on_add, [upload, doc, version, title], [readback, staged, publish], api_name=False, concurrency_limit=1)
        publish.click(on_publish, staged, [readback, staged, publish], api_name=False, concurrency_limit=1)
        refresh.click(check, None, [area, login, logout, feedback, consultations, audit], api_name=False)

        def on_export(code_: str, request: gr.Request):
            if not is_admin(request):
                return "⚠️ ログインしてください。"
            try:
                ctx.limiter.hit("lookup", client_of(request), ctx.limits.lookups_per_minute, what="記録の照会")
                result = consultations(ctx, request, via="admin pdf").result_of(code_)
            except (RateLimited, RecordError) as exc:
                return f"⚠️ {html.escape(str(exc))}"
            if result is None:
                return "⚠️ この相談はまだ診断が終わっていません。"
            url = ctx.downloads.offer(f"admin-{request.session_hash}", f"見極め診断_{result.code}.pdf", lambda: triage_report.pdf(result), result.code)
            return download_link(url, "PDF を保存", "admin-export")

        export_code.submit(on_export, export_code, export_btn, api_name=False)


