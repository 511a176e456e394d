"""The gradio page: 相談チャット, 見極め診断, 資料, 管理.

This module lays the components out; the handlers are page.py's plain functions, which take the
context, the browser's ``WebSession`` and typed inputs, and return a typed view that one adapter per
tab (``shown``) turns into component updates. Per-browser state lives only in one gr.State (the
WebSession) shared by the chat and the 見極め診断 tab, so a diagnosis begun in one continues in the other. The services come from ``ctx.live`` (they
switch when a new index version is published). User and document text is shown through
render.py / markup.py only; a consultation opened by its share code is read-only until its
edit secret is given.
"""

from __future__ import annotations

import base64
import html
from dataclasses import replace
from pathlib import Path

import gradio as gr

from . import grid
from .context import ADMIN_COOKIE
from .conversation import ChatInput
from .corpus import CorpusError
from .feedback_cases import drafts_jsonl
from .index import IndexUnavailable
from .ingest import publish_staged, stage_document
from .markup import md_text
from .page import (
    ADMIN_STATUS,
    PLAN_COLUMNS,
    RecordFilter,
    SHOW_ALL,
    SHOW_OVERDUE,
    SHOW_TODO,
    AdminRecords,
    Chat,
    ChatView,
    GridForm,
    ProgressForm,
    TriageForm,
    TriageView,
    WebSession,
    admin_delete,
    admin_pdf,
    admin_records,
    audit_row,
    chat_turn,
    code_note,
    consultation_row,
    feedback,
    feedback_row,
    plan_cards,
    plan_filters,
    plan_rows,
    plan_show,
    progress_of,
    triage_card,
    triage_delete,
    triage_grid,
    triage_next,
    triage_open,
    triage_progress,
    triage_reassess,
    triage_plan_save,
    triage_revisited,
    triage_step,
    triage_view,
)
from .proxies import client_of
from .records import RecordError
from .render import clause_panel, progress_html, question_markdown, tree_markdown
from .runtime import rebuild_index
from .triage import TriageError
from .triage import report as triage_report
from .triage.flow import UNKNOWN, Flow
from .triage.model import PROGRESS_LABELS
from .triage.replies import BACK_LABEL

EXAMPLES = [
    "うちは社員10人の町工場です。何から始めればいいですか？",
    "取引先から預かった図面はどう管理すればいい？",
    "初めて取り組む中小企業に、認証機関は何を示すべき？",
    "第4の2の一には何と書いてある？",
]
UPLOAD_TYPES = [".pdf", ".txt", ".md"]
FIRM_OPTIONS = {q["field"]: list(q.get("options") or []) for q in Flow.load().firm_questions}  # the grid offers what the conversation asks
PROGRESS_CHOICES = [(label, key) for key, label in PROGRESS_LABELS.items()]


def _client(request: gr.Request | None) -> str:
    return client_of(request)


def download_link(url: str | None, label: str, elem_id: str) -> str:
    """A download as a plain link to the app's own /download/ route (the file is made when it is fetched)."""
    if not url:
        return ""
    return f'<a class="download-link" id="{elem_id}" href="{html.escape(url)}" download>{html.escape(label)}</a>'


def templates_html(links) -> str:
    """The templates the plan points to, as download links (labels and ids are the product's own, escaped anyway)."""
    if not links:
        return ""
    rows = "".join(f'<li>{download_link(t.url, t.label, "template-" + t.id)}<span class="template-for">（対策 {html.escape("・".join(t.measures))}）</span></li>'
                   for t in links)
    return ('<div class="templates"><p><strong>ひな形（製品の参考例）</strong>: 計画の対策で使う文書と記録簿です。御社の名前と守るべき情報を入れてあります。'
            '公式の様式ではありません。</p><ul>' + rows + "</ul></div>")


# A tap on a card's state sends (measure, state) to the server; 「担当・期限・メモ」 picks the measure in
# the form below and scrolls to it. One listener on the component, so a redrawn card list keeps it.
CARDS_JS = """
element.addEventListener('click', (event) => {
  const button = event.target.closest('button[data-measure]');
  if (!button || !element.contains(button)) return;
  if (button.dataset.edit) {
    trigger('click', {measure: button.dataset.measure, edit: true});
    document.querySelector('#progress-pick')?.scrollIntoView({block: 'center'});
    return;
  }
  button.closest('.plan-card').querySelectorAll('button[data-status]').forEach((b) => { b.disabled = true; });
  trigger('click', {measure: button.dataset.measure, status: button.dataset.status});
});
"""


def cards_html(cards, saved: str = "") -> str:
    """The plan as cards (a phone's view of the table): title, state as four buttons (one tap saves),
    owner, due date and note. Owner and note are the user's text, escaped; so is everything else."""
    if not cards:
        return '<p class="plan-cards-empty">表示する対策はありません。</p>'
    out = []
    for c in cards:
        states = "".join(
            f'<button type="button" class="plan-state" data-measure="{html.escape(c.measure)}" data-status="{key}" '
            f'aria-pressed="{"true" if key == c.status else "false"}">{label}</button>' for key, label in PROGRESS_LABELS.items())
        facts = "".join(f"<dt>{k}</dt><dd>{html.escape(v) or '—'}</dd>" for k, v in (("担当", c.owner), ("期限", c.due)))
        late = '<span class="plan-late">期限切れ</span>' if c.overdue else ""
        note = f'<p class="plan-note">メモ: {html.escape(c.note)}</p>' if c.note else ""
        done = f'<p class="plan-saved" role="status">✅ 保存しました（{PROGRESS_LABELS.get(c.status, "")}）</p>' if c.measure == saved else ""
        out.append(f'<li class="plan-card" id="card-{html.escape(c.measure)}"><p class="plan-title"><strong>{html.escape(c.measure)}</strong> '
                   f'{html.escape(c.title)} {late}</p><div class="plan-states" role="group" aria-label="{html.escape(c.measure)} の状態">{states}</div>'
                   f'<dl class="plan-facts">{facts}</dl>{note}{done}<button type="button" class="plan-edit" data-measure="{html.escape(c.measure)}" '
                   f'data-edit="1">担当・期限・メモを入力</button></li>')
    return '<ul class="plan-cards" aria-label="計画の対策">' + "".join(out) + "</ul>"


def chart_html(png: bytes, progress: bytes | None = None) -> str:
    """The charts inline (counts only), so no image file is left in a folder or in gradio's cache: the
    firm's standing, and on a re-assessment its progress per plan group across assessments (the
    same numbers are a table in the record above, for a reader who does not see the image)."""
    def img(data: bytes, alt: str, elem: str) -> str:
        return f'<img id="{elem}" alt="{alt}" style="max-width: 100%" src="data:image/png;base64,{base64.b64encode(data).decode()}">'

    html = img(png, "御社の現状（判定ごとの情報の数、計画の費用の内訳、進み具合）", "chart-standing")
    if progress:
        html += img(progress, "分類ごとの完了した対策の割合（評価のたび。数は記録の表にもあります）", "chart-progress")
    return html


# -- the page ------------------------------------------------------------------------------------------------------
def build(ctx) -> gr.Blocks:
    with gr.Blocks(title="TICS Assistant — 技術情報管理認証制度の相談", delete_cache=(600, 3600)) as demo:
        sess = gr.State(WebSession())
        gr.Markdown(
            "## TICS Assistant（技術情報管理認証制度）\n"
            "指針（技術等情報漏えい防止措置の実施の促進に関する指針）に**条項を示して原文を引用して**答えます。"
            "根拠がない質問には、推測せずにその旨をお答えします。<span class='official'>公式文書の引用</span>と"
            "<span class='advice'>製品の助言</span>は区別して表示します。"
        )
        with gr.Tabs(elem_id="tabs") as tabs:
            chat_tab(ctx, sess)
            triage_tab(ctx, sess, demo, tabs)
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
                    start = gr.Button(ChatInput.START_LABEL, elem_id="chat-start-triage")
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

        # The order is the gradio API's (/ask): the chat first, then the sources (State outputs are left out).
        outs = [chat, turns, answers, sources, question, export, sess, files_row, md_file, pdf_file, xlsx_file]

        def shown(v: ChatView) -> dict:
            """One chat view as component updates (what it leaves as None stays as it is)."""
            out = {chat: v.chat.messages, turns: v.chat.turns, answers: v.chat.answers, sess: v.session}
            if v.sources is not None:
                out[sources] = gr.update(choices=list(v.sources), value=None)
            if v.question is not None:
                out[question] = v.question
            if v.export is not None:
                out[export] = download_link(v.export, "会話を Markdown で保存", "export-chat")
            if v.result is not None:
                out |= {files_row: gr.update(visible=True), md_file: download_link(v.result.md, "記録（Markdown）", "chat-download-md"),
                        pdf_file: download_link(v.result.pdf, "記録（PDF）", "chat-download-pdf"),
                        xlsx_file: download_link(v.result.xlsx, "記録（Excel）", "chat-download-xlsx")}
            return out

        def respond(said: ChatInput, turns_, answers_, messages, sess_, request):
            for v in chat_turn(ctx, sess_, said, Chat(messages or [], turns_ or [], answers_ or []), _client(request)):
                yield shown(v)

        def on_send(message, turns_, answers_, messages, sess_, request: gr.Request):
            yield from respond(ChatInput(message or ""), turns_, answers_, messages, sess_, request)

        def on_option(evt: gr.SelectData, turns_, answers_, messages, sess_, request: gr.Request):
            value = evt.value.get("value") if isinstance(evt.value, dict) else evt.value
            yield from respond(ChatInput.option(str(value)), turns_, answers_, messages, sess_, request)

        def on_start(turns_, answers_, messages, sess_, request: gr.Request):
            yield from respond(ChatInput(ChatInput.START_LABEL, "start_triage"), turns_, answers_, messages, sess_, request)

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

        def on_reset(sess_: WebSession):
            sess_ = replace(sess_.with_id(), chat_active=False, previous_intent=None)
            ctx.downloads.withdraw(owner=sess_.id)
            return [], [], [], gr.update(choices=[], value=None), clause_panel(None, None), "", sess_

        reset.click(on_reset, sess, [chat, turns, answers, sources, panel, export, sess], api_name=False)

        def on_feedback(rating: str, comment_: str, answers_: list[dict], sess_: WebSession):
            return feedback(ctx, sess_, rating, comment_ or "", answers_)

        good.click(lambda c, a, s: on_feedback("good", c, a, s), [comment, answers, sess], [feedback_msg, comment], api_name="feedback_good")
        bad.click(lambda c, a, s: on_feedback("bad", c, a, s), [comment, answers, sess], [feedback_msg, comment], api_name="feedback_bad")
    return tab


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
                with gr.Column(elem_id="triage-conversation"):
                    bar = gr.HTML(elem_id="triage-progress")
                    question_md = gr.Markdown(elem_id="triage-question")
                    choice = gr.Radio(choices=[], label="選択肢", visible=False, elem_id="triage-choice")
                    multi = gr.CheckboxGroup(choices=[], label="選択肢（複数選択可）", visible=False, elem_id="triage-multi")
                    free = gr.Textbox(label="自由記述（選択肢にない答え、保管場所、御社独自の情報の名前）", max_length=ctx.limits.text_chars + 100, elem_id="triage-free")
                    with gr.Row():
                        next_btn = gr.Button("次へ", variant="primary", elem_id="triage-next")
                        unknown_btn = gr.Button(UNKNOWN, elem_id="triage-unknown")
                        back_btn = gr.Button(BACK_LABEL, elem_id="triage-back")
            with gr.Tab("一覧表（アドバイザー向け）", id="grid"):
                gr.Markdown("会社と情報を一覧で入力します。会話と同じ順に質問をたどるので、結果と記録は会話と同じになります。"
                            "空欄は「わからない」です。値は 秘密保持・法令・公開・競争力・社外: はい／いいえ／わからない、損害: 大／中／小／わからない、"
                            "態様: 電子データ・書面・物品・人の知識・ノウハウ（「・」区切り）、利用できる人: 限られた担当者／部署内／社員全員／社外の人も。")
                with gr.Row():
                    grid_name = gr.Textbox(label="会社名（任意）", elem_id="grid-name")
                    grid_industry = gr.Dropdown(label="業種", choices=FIRM_OPTIONS["industry"] + [UNKNOWN], value=UNKNOWN, elem_id="grid-industry")
                    grid_size = gr.Dropdown(label="従業員", choices=FIRM_OPTIONS["size"] + [UNKNOWN], value=UNKNOWN, elem_id="grid-size")
                grid_collab = gr.CheckboxGroup(label="他社や社外の人との関わり", choices=FIRM_OPTIONS["collaboration"], elem_id="grid-collab")
                with gr.Row():
                    grid_items = gr.Textbox(label="情報の名前（カンマ区切り）", placeholder="例: 顧客支給図面, 加工ノウハウ, 見積単価表", scale=4, elem_id="grid-items")
                    grid_make = gr.Button("表を作る", scale=1, elem_id="grid-make")
                table = gr.Dataframe(headers=grid.COLUMNS, datatype="str", column_count=len(grid.COLUMNS), interactive=True, static_columns=[0],
                                     elem_id="grid", label="情報ごとの回答（セルをクリックして入力）", wrap=True)
                grid_submit = gr.Button("一覧表から結果を出す", variant="primary", elem_id="grid-submit")
                grid_note = gr.Markdown(elem_id="grid-message")  # beside the button: what is wrong in the grid
        with gr.Column(visible=False, elem_id="triage-result") as result_box:
            result_md = gr.Markdown(elem_id="triage-result-md")
            chart = gr.HTML(label="御社の現状", elem_id="triage-chart")
            with gr.Row():
                md_file = gr.HTML(elem_id="download-md-box")
                pdf_file = gr.HTML(elem_id="download-pdf-box")
                xlsx_file = gr.HTML(elem_id="download-xlsx-box")
            templates_box = gr.HTML(elem_id="templates-box")
            with gr.Group(elem_id="progress-editor") as progress_box:
                gr.Markdown("#### 計画の進み具合を記録する（アドバイザー・担当者向け）")
                plan_filter = gr.Radio(label="表示", choices=[SHOW_ALL, SHOW_TODO, SHOW_OVERDUE], value=SHOW_ALL, elem_id="plan-filter")
                plan_table = gr.Dataframe(headers=list(PLAN_COLUMNS), datatype="str", column_count=len(PLAN_COLUMNS), interactive=True,
                                          static_columns=[0, 1], wrap=True, elem_id="plan-table",
                                          label="計画: 「状態」（未着手・予定・完了・対象外）「担当」「期限」（2027-02-28、2027/2/28、2月末、来月末）「メモ」のセルを直して保存します")
                plan_cards_box = gr.HTML(elem_id="plan-cards", js_on_load=CARDS_JS)  # the table as cards, on a phone (app.css)
                with gr.Row():
                    plan_save = gr.Button("表の変更を保存", variant="primary", elem_id="plan-save", scale=1)
                    plan_note = gr.Markdown(elem_id="plan-message")  # beside the button: what was saved, or which cell to fix
                gr.Markdown("1件ずつ記録する場合は、対策を選んで入力します。")
                with gr.Row():
                    pick = gr.Dropdown(label="対策", choices=[], elem_id="progress-pick", scale=3)
                    status = gr.Radio(label="状態", choices=PROGRESS_CHOICES, value="todo", elem_id="progress-status", scale=3)
                with gr.Row():
                    owner = gr.Textbox(label="担当者", max_length=60, elem_id="progress-owner")
                    due = gr.Textbox(label="期限（例: 2027-02-28、2/28、2月末、来月末）", max_length=20, elem_id="progress-due")
                    note = gr.Textbox(label="メモ", max_length=500, elem_id="progress-note")
                save_progress = gr.Button("進み具合を保存", elem_id="progress-save")
                with gr.Row():
                    reassess_btn = gr.Button("この計画を前回として再診断する", elem_id="reassess")
                    confirm_delete = gr.Checkbox(label="この記録を削除してよい", elem_id="delete-confirm")
                    delete_btn = gr.Button("記録を削除", variant="stop", elem_id="delete")

        outs = [sess, code_md, message, bar, question_md, choice, multi, free, next_btn, unknown_btn, back_btn, result_box, result_md, chart,
                md_file, pdf_file, xlsx_file, templates_box, pick, progress_box, table, grid_note, grid_make, grid_submit,
                plan_table, plan_note, plan_filter, plan_cards_box]

        def shown(v: TriageView) -> dict:
            """One diagnosis view as component updates."""
            if v.unavailable:
                return {message: v.notice}
            by_grid, by_plan = v.keep_grid and v.refused, v.notice_by == "plan"
            base = {sess: v.session.drawn(), code_md: code_note(v.session), bar: progress_html(v.asked, v.left),
                    message: "" if by_grid or by_plan else v.notice, grid_note: v.notice if by_grid else "", plan_note: v.notice if by_plan else "",
                    # A read-only record (a share link) shows no control that would change it.
                    grid_make: gr.update(visible=v.editable), grid_submit: gr.update(visible=v.editable)}
            if not v.keep_grid:
                base[table] = grid.rows_for(v.items)
            if not v.keep_plan:
                base[plan_table] = plan_rows(v.result, v.plan_show) if v.result is not None else []
                base[plan_cards_box] = cards_html(plan_cards(v.result, v.plan_show), v.saved_card) if v.result is not None else ""
                filters = plan_filters(v.result) if v.result is not None else [SHOW_ALL]
                base[plan_filter] = gr.update(choices=filters, value=v.plan_show if v.plan_show in filters else SHOW_ALL)
            return base | (finished(v) if v.result is not None else asking(v))

        def finished(v: TriageView) -> dict:
            r, links = v.result, v.links
            head = "### 診断が完了しました\n" + ("回答を変えるときは「戻る」を押すか、一覧表で直してください。\n\n" if v.editable else "")
            return {question_md: head,
                    choice: gr.update(visible=False, value=None), multi: gr.update(visible=False, value=[]), free: gr.update(value="", visible=False),
                    next_btn: gr.update(visible=False), unknown_btn: gr.update(visible=False), back_btn: gr.update(visible=v.editable),
                    result_box: gr.update(visible=True), result_md: triage_report.markdown(r, include_answers=False),
                    chart: chart_html(triage_report.standing_chart(r), triage_report.progress_chart(r)),
                    md_file: download_link(links.md, "記録を Markdown で保存", "download-md"), pdf_file: download_link(links.pdf, "記録を PDF で保存", "download-pdf"),
                    xlsx_file: download_link(links.xlsx, "記録を Excel で保存", "download-xlsx"), templates_box: templates_html(links.templates),
                    pick: gr.update(choices=[(f"{m.id} {m.title}（{r.progress_of(m.id).label}）", m.id) for m in r.measures], value=None),
                    progress_box: gr.update(visible=v.editable)}

        def asking(v: TriageView) -> dict:
            q = v.question
            c_upd, m_upd = gr.update(visible=False, value=None), gr.update(visible=False, value=[])
            if q.kind == "choice":
                c_upd = gr.update(choices=list(q.options) + [UNKNOWN], value=None, visible=True)
            elif q.kind in ("multi", "items", "batch", "forms"):
                current = [it["name"] for it in v.items] if q.kind == "items" else []
                m_upd = gr.update(choices=list(q.options) + [n for n in current if n not in q.options], value=current, visible=True)
            return {question_md: question_markdown(q), choice: c_upd, multi: m_upd, free: gr.update(value="", visible=v.editable),
                    next_btn: gr.update(visible=v.editable), unknown_btn: gr.update(visible=v.editable), back_btn: gr.update(visible=v.editable),
                    result_box: gr.update(visible=False), result_md: "", chart: "", md_file: "", pdf_file: "", xlsx_file: "", templates_box: "",
                    pick: gr.update(choices=[], value=None), progress_box: gr.update(visible=False)}

        def on_next(s, choice_v, multi_v, free_v, request: gr.Request):
            return shown(triage_next(ctx, s, TriageForm(choice_v, tuple(multi_v or ()), free_v or ""), _client(request)))

        def on_open(code_text, secret_text, s, request: gr.Request):
            return shown(triage_open(ctx, s, code_text, secret_text, _client(request)))

        def on_progress(s, measure_id, status_v, owner_v, due_v, note_v, request: gr.Request):
            return shown(triage_progress(ctx, s, ProgressForm(measure_id, status_v, owner_v, due_v, note_v), _client(request)))

        def on_grid_submit(s, name, industry, size, collab, rows, request: gr.Request):
            return shown(triage_grid(ctx, s, GridForm(name or "", industry, size, tuple(collab or ()), rows), _client(request)))

        next_btn.click(on_next, [sess, choice, multi, free], outs, api_name="triage_next")
        free.submit(on_next, [sess, choice, multi, free], outs, api_name=False)
        unknown_btn.click(lambda s, request: shown(triage_step(ctx, s, _client(request), lambda x: x.unknown())), sess, outs, api_name="triage_unknown")
        back_btn.click(lambda s, request: shown(triage_step(ctx, s, _client(request), lambda x: x.back())), sess, outs, api_name="triage_back")
        restart_btn.click(lambda s: shown(triage_view(ctx, s.fresh())), sess, outs, api_name=False)
        open_btn.click(on_open, [open_code, open_secret, sess], outs, api_name="triage_resume")
        save_progress.click(on_progress, [sess, pick, status, owner, due, note], outs, api_name=False)
        reassess_btn.click(lambda s, request: shown(triage_reassess(ctx, s, _client(request))), sess, outs, api_name=False)
        delete_btn.click(lambda s, ok, request: shown(triage_delete(ctx, s, ok, _client(request))), [sess, confirm_delete], outs, api_name="triage_delete")
        grid_submit.click(on_grid_submit, [sess, grid_name, grid_industry, grid_size, grid_collab, table], outs, api_name="triage_grid")
        plan_save.click(lambda s, rows, show, request: shown(triage_plan_save(ctx, s, rows, show, _client(request))),
                        [sess, plan_table, plan_filter], outs, api_name=False)

        def on_plan_filter(s: WebSession, show: str, rows):
            p = plan_show(ctx, s, show, rows)
            return (gr.update(), p.why, gr.update()) if p.rows is None else (p.rows, p.why, cards_html(p.cards))

        plan_filter.input(on_plan_filter, [sess, plan_filter, plan_table], [plan_table, plan_note, plan_cards_box], api_name=False)

        def on_card(s: WebSession, show: str, evt: gr.EventData, request: gr.Request):
            data = evt._data if isinstance(getattr(evt, "_data", None), dict) else {}
            measure = str(data.get("measure") or "")[:20]
            if data.get("edit"):  # the form below, on this measure and with what is recorded for it
                p = progress_of(s, measure)
                return {} if p is None else {pick: gr.update(value=measure), status: p.status, owner: p.owner, due: p.due, note: p.note}
            return shown(triage_card(ctx, s, measure, str(data.get("status") or "")[:20], show, _client(request)))

        plan_cards_box.click(on_card, [sess, plan_filter], [*outs, status, owner, due, note], api_name=False)

        def on_pick(s: WebSession, measure_id):
            p = progress_of(s, measure_id)
            return (gr.update(),) * 4 if p is None else (p.status, p.owner, p.due, p.note)

        # .input, not .change: a card's 「担当・期限・メモを入力」 sets the measure and its values in one
        # answer, and a second answer from .change could arrive after the adviser began typing.
        pick.input(on_pick, [sess, pick], [status, owner, due, note], api_name=False)

        def on_grid_make(items_text: str, rows):
            try:
                return grid.rows_named(items_text, rows, ctx.limits.items), ""
            except TriageError as exc:
                return gr.update(), f"⚠️ {md_text(exc)}"

        grid_make.click(on_grid_make, [grid_items, table], [table, grid_note], api_name=False)

        def on_load(s: WebSession, request: gr.Request):
            # One handler opens the record and switches to this tab: when the tab switch came from a
            # second load event, the tab's select (below) could render the session before the record
            # was in it, and overwrite the opened record with an empty view (seen on CI).
            code_param = request.query_params.get("code") if request else None
            if code_param:
                return {**shown(triage_open(ctx, s, code_param, "", _client(request))), tabs: gr.Tabs(selected="triage")}
            return shown(triage_view(ctx, s))

        demo.load(on_load, sess, [*outs, tabs], api_name=False)
        def on_select(s: WebSession):
            v = triage_revisited(ctx, s)
            return {} if v is None else shown(v)  # {}: nothing on the page changes

        tab.select(on_select, sess, outs, api_name=False)
    return tab


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
            fb_table = gr.Dataframe(headers=["id", "日時", "質問", "評価", "コメント", "引用"], interactive=False, datatype="str")
            with gr.Row():
                drafts_btn = gr.Button("「役に立たなかった」回答を評価ケースの下書きにする", size="sm", elem_id="admin-feedback-cases")
                drafts_link = gr.HTML(elem_id="admin-feedback-cases-box")
            gr.Markdown("### 保存された相談")
            with gr.Row():
                find_text = gr.Textbox(label="相談コードか会社名の一部", elem_id="admin-find", scale=3)
                find_status = gr.Radio(list(ADMIN_STATUS), value="すべて", label="診断", elem_id="admin-find-status", scale=2)
                find_since = gr.Textbox(label="更新日（から）", placeholder="例: 2026-12-01", max_length=20, elem_id="admin-find-since", scale=1)
                find_until = gr.Textbox(label="更新日（まで）", placeholder="例: 2026/12/31", max_length=20, elem_id="admin-find-until", scale=1)
                find_btn = gr.Button("探す", size="sm", elem_id="admin-find-go", scale=1)
            saved = gr.Dataframe(headers=["相談コード", "更新", "会社", "完了"], interactive=False, datatype="str", elem_id="admin-saved")
            with gr.Row():
                delete_code = gr.Textbox(label="削除する相談の相談コード", elem_id="admin-delete-code", scale=3)
                delete_btn = gr.Button("この相談を削除する", size="sm", variant="stop", elem_id="admin-delete", scale=1)
                confirm_btn = gr.Button("削除を確定する", size="sm", variant="stop", visible=False, elem_id="admin-delete-confirm", scale=1)
            records_msg = gr.Markdown(elem_id="admin-records-msg")
            pending = gr.State("")
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
            fb = [feedback_row(f) for f in records.list_feedback()]
            cs = [consultation_row(c) for c in records.list_consultations()]
            au = [audit_row(a) for a in records.audit_log(100)]
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
        login.click(None, password, [login_msg, password], js=login_js, api_name=False).then(check, None, [area, login, logout, fb_table, saved, audit], api_name=False)
        logout.click(None, None, login_msg, js=logout_js, api_name=False).then(check, None, [area, login, logout, fb_table, saved, audit], api_name=False)
        demo.load(check, None, [area, login, logout, fb_table, saved, audit], api_name=False)

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
        refresh.click(check, None, [area, login, logout, fb_table, saved, audit], api_name=False)

        def on_export(code_: str, request: gr.Request):
            if not is_admin(request):
                return "⚠️ ログインしてください。"
            offered = admin_pdf(ctx, code_, _client(request), f"admin-{request.session_hash}")
            return f"⚠️ {html.escape(offered.error)}" if offered.error else download_link(offered.url, "PDF を保存", "admin-export")

        export_code.submit(on_export, export_code, export_btn, api_name=False)

        def shown_records(v: AdminRecords):
            return v.rows, v.message, v.confirm, gr.update(visible=bool(v.confirm))

        records_outs = [saved, records_msg, pending, confirm_btn]
        logged_out = shown_records(AdminRecords([], "⚠️ ログインしてください。"))

        def on_find(text_: str, status_: str, since_: str, until_: str, request: gr.Request):
            return shown_records(admin_records(ctx, RecordFilter(text_ or "", status_, since_ or "", until_ or ""))) if is_admin(request) else logged_out

        def on_delete(code_: str, text_: str, status_: str, since_: str, until_: str, request: gr.Request):
            f = RecordFilter(text_ or "", status_, since_ or "", until_ or "")
            return shown_records(admin_delete(ctx, code_, "", _client(request), f)) if is_admin(request) else logged_out

        def on_confirm(code_: str, pending_: str, text_: str, status_: str, since_: str, until_: str, request: gr.Request):
            # A code changed after the first step does not match the one confirmed: admin_delete asks again.
            f = RecordFilter(text_ or "", status_, since_ or "", until_ or "")
            return shown_records(admin_delete(ctx, code_, pending_, _client(request), f)) if is_admin(request) else logged_out

        filters = [find_text, find_status, find_since, find_until]
        find_btn.click(on_find, filters, records_outs, api_name=False)
        for box in (find_text, find_since, find_until):
            box.submit(on_find, filters, records_outs, api_name=False)
        delete_btn.click(on_delete, [delete_code, *filters], records_outs, api_name=False)
        confirm_btn.click(on_confirm, [delete_code, pending, *filters], records_outs, api_name=False)

        def on_drafts(request: gr.Request):
            """👎 answers as draft eval cases (JSONL) for an evaluator to review (#22)."""
            if not is_admin(request):
                return "⚠️ ログインしてください。"
            try:
                records = ctx.require_records()
                rows = records.list_feedback(1000, rating="bad", with_answer=True)
            except RecordError as exc:
                return f"⚠️ {html.escape(str(exc))}"
            if not rows:
                return "「役に立たなかった」の評価はまだありません。"
            records.log("feedback_cases", None, True, _client(request), f"{len(rows)} 件")
            url = ctx.downloads.offer(f"admin-{request.session_hash}", "評価ケースの下書き.jsonl", lambda: drafts_jsonl(rows))
            return (download_link(url, f"下書き {len(rows)} 件（JSONL）を保存", "admin-feedback-cases-link")
                    + "<p>gold_clauses（答える条項ID）を書くか、文書に答えがない場合は expect_refusal を true にしてから、評価セットに加えてください。</p>")

        drafts_btn.click(on_drafts, None, drafts_link, api_name=False)


