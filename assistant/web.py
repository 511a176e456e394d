"""The gradio page: 相談チャット, 見極め診断, 資料, 管理.

Per-user state lives only in gr.State (each browser tab its own); the services in
``AppContext`` are shared and only read, except that an operator's document upload swaps
in a freshly opened assistant as a whole.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from collections import deque
from pathlib import Path
from urllib.parse import quote

import gradio as gr

from .answer import Answer, Assistant
from .config import Config
from .corpus import CorpusError
from .guard import QuestionError
from .records import RecordError, Records
from .runtime import open_answerer
from .triage import Flow, TriageError, TriageState, answer, back, build_result, next_question, progress
from .triage import report as triage_report

EXAMPLES = [
    "うちみたいな小さな会社が初めて対策するとき、最低限なにをやればいいの？",
    "認証機関として認定されるには、どんな条件がありますか？",
    "取引先の大企業には、どんな配慮が求められていますか？",
    "第4の2の一には何と書いてある？",
]
HISTORY_TURNS = 6
UPLOAD_TYPES = [".pdf", ".txt", ".md"]
CSS = """
.progress-outer { background: #eaeef2; border-radius: 6px; height: 12px; }
.progress-inner { background: #1f6feb; border-radius: 6px; height: 12px; }
.official { border-left: 4px solid #1f6feb; padding-left: 8px; }
.advice { border-left: 4px solid #d29922; padding-left: 8px; }
"""


class AppContext:
    """Services shared by all sessions. ``assistant`` is replaced whole, never mutated."""

    def __init__(self, cfg: Config, notify=print):
        self.cfg = cfg
        self.answerer = open_answerer(cfg, notify)
        self.assistant: Assistant = getattr(self.answerer, "assistant", self.answerer)
        self.records = Records(cfg.records_path)
        self.flow = Flow.load()
        self.admin_password = os.environ.get("ASSISTANT_ADMIN_PASSWORD", "")
        self._reload_lock = threading.Lock()
        self.exports = Path(tempfile.mkdtemp(prefix="tics-exports-"))
        self.answer_ms: deque[float] = deque(maxlen=5000)  # server time per answer, for the load report

    def server_stats(self) -> dict:
        """Server-side time per answer (ms), p50/p95 over the recent answers."""
        values = sorted(self.answer_ms)
        if not values:
            return {"answers": 0, "p50_ms": 0.0, "p95_ms": 0.0}

        def pct(p: float) -> float:
            return round(values[min(len(values) - 1, max(0, int(p / 100 * len(values) + 0.5) - 1))], 1)

        return {"answers": len(values), "p50_ms": pct(50), "p95_ms": pct(95)}

    def reload(self) -> None:
        with self._reload_lock:
            answerer = open_answerer(self.cfg)
            self.answerer, self.assistant = answerer, getattr(answerer, "assistant", answerer)

    def triage_reader(self):
        """The language model's reader for free-text triage answers, when one is configured."""
        model = getattr(self.answerer, "model", None)
        if model is None:
            return None
        from .generate import read_triage_answer

        return lambda q, text: read_triage_answer(model, q, text, self.cfg.llm.timeout_s)

    def export_path(self, name: str) -> Path:
        folder = self.exports / f"{time.time_ns()}"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / name


# -- chat --------------------------------------------------------------------------------
def clause_panel(assistant: Assistant, clause_id: str | None) -> str:
    if not clause_id:
        return "出典をクリックすると、条項の原文・見出し・文書の版がここに表示されます。"
    clause = assistant.corpus.resolve(clause_id)
    if clause is None:
        return f"条項 {clause_id} は見つかりません。"
    doc = assistant.corpus.docs[clause.doc]
    path = " › ".join(clause.heading_path) or "（最上位）"
    kind = "公式文書" if doc.manifest.kind == "official" else "製品の助言"
    title = f"{clause.label} {clause.title}" if clause.title else clause.id
    return (
        f"### {clause.id}\n\n**{kind}**：{doc.title}（版 `{doc.manifest.version}`）\n\n**見出し**：{path} › {title}\n\n"
        f"> {clause.text}\n\n[この条項へのリンク](?clause={quote(clause.id)})"
    )


def conversation_markdown(answers: list[dict]) -> str:
    out = ["# 相談の記録（TICS Assistant）", "", f"作成日時: {time.strftime('%Y-%m-%d %H:%M')}", ""]
    for a in answers:
        out += [f"## 質問: {a['question']}", "", a["answer"], ""]
        if a["citations"]:
            out.append("出典:")
            out += [f"- {c['clause_id']}: 「{c['quote']}」" for c in a["citations"]]
            out.append("")
        out.append(f"文書バージョン: `{a['corpus_version']}`\n")
    return "\n".join(out)


def build(ctx: AppContext) -> gr.Blocks:
    cfg = ctx.cfg
    with gr.Blocks(title="TICS Assistant — 技術情報管理認証制度の相談") as demo:
        gr.Markdown(
            "## TICS Assistant（技術情報管理認証制度）\n"
            "指針（技術等情報漏えい防止措置の実施の促進に関する指針）に**条項を示して原文を引用して**答えます。"
            "根拠がない質問には、推測せずにその旨をお答えします。<span class='official'>公式文書の引用</span>と"
            "<span class='advice'>製品の助言</span>は区別して表示します。"
        )
        with gr.Tabs(elem_id="tabs") as tabs:
            chat_tab(ctx, cfg)
            triage_tab(ctx, demo)
            docs_components = docs_tab(ctx)
            admin_tab(ctx)

        def on_load(request: gr.Request):
            clause = request.query_params.get("clause") if request else None
            if clause and ctx.assistant.corpus.resolve(clause):
                cid = ctx.assistant.corpus.resolve(clause).id
                return gr.Tabs(selected="docs"), gr.update(value=cid), clause_panel(ctx.assistant, cid)
            if request and request.query_params.get("code"):
                return gr.Tabs(selected="triage"), gr.update(), gr.update()  # a link to a saved consultation
            return gr.Tabs(), gr.update(), gr.update()

        demo.load(on_load, None, [tabs, docs_components[0], docs_components[1]], api_name=False)
        gr.api(ctx.server_stats, api_name="server_stats", api_visibility="undocumented")
    return demo


def chat_tab(ctx: AppContext, cfg: Config) -> None:
    with gr.Tab("相談チャット", id="chat"):
        turns = gr.State([])
        answers = gr.State([])
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(label="相談チャット", height=460, elem_id="chat")
                question = gr.Textbox(label="質問", placeholder="例：初めて取り組む中小企業が最低限やるべきことは？", max_length=cfg.max_question_chars, elem_id="question")
                with gr.Row():
                    send = gr.Button("送信", variant="primary", elem_id="send")
                    reset = gr.Button("会話をリセット", elem_id="reset")
                    export = gr.DownloadButton("会話を Markdown で保存", elem_id="export-chat")
                gr.Examples(EXAMPLES, inputs=question, label="質問の例")
                with gr.Accordion("この回答を評価する", open=False, elem_id="feedback"):
                    comment = gr.Textbox(label="コメント（任意）", max_length=1000, elem_id="feedback-comment")
                    with gr.Row():
                        good = gr.Button("👍 役に立った", elem_id="good")
                        bad = gr.Button("👎 役に立たなかった", elem_id="bad")
                    feedback_msg = gr.Markdown(elem_id="feedback-msg")
            with gr.Column(scale=2):
                sources = gr.Radio(choices=[], label="出典（クリックで原文を表示）", elem_id="sources")
                panel = gr.Markdown(clause_panel(ctx.assistant, None), elem_id="panel")
                gr.Markdown(f"<small>文書バージョン: `{ctx.assistant.corpus.version}`</small>")

        def on_ask(q: str, turns_: list[dict], answers_: list[dict], messages: list):
            messages = list(messages or [])
            answerer = ctx.answerer
            started = time.perf_counter()
            try:
                if hasattr(answerer, "stream"):
                    # With a language model: show its words as they come, marked unverified,
                    # and replace them by the verified (or extractive) answer at the end.
                    a = None
                    partial = ""
                    for event in answerer.stream(q, turns_[-HISTORY_TURNS:]):
                        if event.kind == "token":
                            partial += event.text
                            yield messages + [{"role": "user", "content": q}, {"role": "assistant", "content": partial + "\n\n（生成中・未検証）"}], turns_, answers_, gr.update(), gr.update(), gr.update()
                        else:
                            a = event.answer
                else:
                    a = answerer.ask(q, turns_[-HISTORY_TURNS:])
            except QuestionError as exc:
                messages += [{"role": "user", "content": q or "（空の質問）"}, {"role": "assistant", "content": f"⚠️ {exc}"}]
                yield messages, turns_, answers_, gr.update(choices=[], value=None), q, gr.update()
                return
            ctx.answer_ms.append((time.perf_counter() - started) * 1000)
            text = ("⚠️ " + a.answer) if a.refused else a.answer
            if a.generator == "llm":
                text += "\n\n✅ 検証済み（引用と条項IDを原文と照合しました）"
            elif a.fallback_reason:
                text += f"\n\nℹ️ 抽出型の回答に切り替えました: {a.fallback_reason}"
            messages += [{"role": "user", "content": q}, {"role": "assistant", "content": text}]
            turns_ = turns_ + [{"role": "user", "content": a.question}, {"role": "assistant", "content": a.answer}]
            answers_ = answers_ + [a.to_json()]
            # The download button always holds the conversation so far: one click saves it.
            path = ctx.export_path("相談の記録.md")
            path.write_text(conversation_markdown(answers_), encoding="utf-8")
            yield messages, turns_, answers_, gr.update(choices=[c.clause_id for c in a.citations], value=None), "", str(path)

        outs = [chat, turns, answers, sources, question, export]
        send.click(on_ask, [question, turns, answers, chat], outs, api_name="ask", concurrency_limit=2, concurrency_id="ask")
        question.submit(on_ask, [question, turns, answers, chat], outs, api_name=False, concurrency_limit=2, concurrency_id="ask")
        sources.change(lambda cid: clause_panel(ctx.assistant, cid), sources, panel, api_name="clause")
        reset.click(lambda: ([], [], [], gr.update(choices=[], value=None), clause_panel(ctx.assistant, None), None), None, [chat, turns, answers, sources, panel, export], api_name=False)

        def on_feedback(rating: str, comment_: str, answers_: list[dict]):
            if not answers_:
                return "まだ回答がありません。質問してから評価してください。", comment_
            last = answers_[-1]
            ctx.records.add_feedback(last["question"], last["answer"], rating, comment_ or "", [c["clause_id"] for c in last["citations"]], last["corpus_version"])
            return "評価を保存しました。ありがとうございます（評価は評価用データの改善に使います）。", ""

        good.click(lambda c, a: on_feedback("good", c, a), [comment, answers], [feedback_msg, comment], api_name=False)
        bad.click(lambda c, a: on_feedback("bad", c, a), [comment, answers], [feedback_msg, comment], api_name=False)


# -- triage ------------------------------------------------------------------------------
def progress_html(state: TriageState, flow: Flow) -> str:
    done, total = progress(state, flow)
    pct = int(100 * done / total) if total else 0
    return f"<div>進み具合: {done} / {total} 問（{pct}%）</div><div class='progress-outer'><div class='progress-inner' style='width:{pct}%'></div></div>"


def result_markdown(result: dict) -> str:
    """The result view: must-protect list, minimum-set checklist, measures table."""
    return triage_report.markdown(result, {"items": []}, result.get("code")).split("## 4. 回答の記録")[0]


def triage_tab(ctx: AppContext, demo: gr.Blocks) -> None:
    flow = ctx.flow
    with gr.Tab("見極め診断", id="triage"):
        st = gr.State(TriageState().to_dict())
        code = gr.State(None)
        gr.Markdown(
            "確実に守るべき技術情報を見極め、指針第4の2の一の**必要最低限の措置**と、**費用の低い具体的な対策**を示します（約15分）。"
            "判定の基準と対策は<span class='advice'>製品の助言</span>です。どの質問でも「わからない」を選べ、「戻る」で回答を変更できます。"
        )
        with gr.Row():
            resume_code = gr.Textbox(label="相談コードで再開", placeholder="例: AB23CD45", scale=3, elem_id="resume-code")
            resume_btn = gr.Button("再開", scale=1, elem_id="resume")
            restart_btn = gr.Button("最初からやり直す", scale=1, elem_id="restart")
        bar = gr.HTML(progress_html(TriageState(), flow), elem_id="triage-progress")
        question_md = gr.Markdown(elem_id="triage-question")
        choice = gr.Radio(choices=[], label="選択肢", visible=False, elem_id="triage-choice")
        multi = gr.CheckboxGroup(choices=[], label="選択肢（複数選択可）", visible=False, elem_id="triage-multi")
        free = gr.Textbox(label="自由記述（選択肢にない答えや、御社独自の情報の名前）", max_length=300, elem_id="triage-free")
        with gr.Row():
            next_btn = gr.Button("次へ", variant="primary", elem_id="triage-next")
            unknown_btn = gr.Button("わからない", elem_id="triage-unknown")
            back_btn = gr.Button("戻る", elem_id="triage-back")
        message = gr.Markdown(elem_id="triage-message")
        with gr.Column(visible=False, elem_id="triage-result") as result_box:
            result_md = gr.Markdown(elem_id="triage-result-md")
            chart = gr.Image(label="御社の現状", type="filepath", elem_id="triage-chart", interactive=False)
            with gr.Row():
                md_file = gr.DownloadButton("記録を Markdown で保存", elem_id="download-md")
                pdf_file = gr.DownloadButton("記録を PDF で保存", elem_id="download-pdf")

        def view(state_d: dict, code_: str | None, msg: str = ""):
            state = TriageState.from_dict(state_d)
            q = next_question(state, flow)
            if q is None:
                result = build_result(state, ctx.assistant.corpus)
                code_ = ctx.records.save_consultation(code_, state.to_dict(), result, ctx.assistant.corpus.version)
                result["code"] = code_
                md_path = ctx.export_path(f"見極め診断_{code_}.md")
                md_path.write_text(triage_report.markdown(result, state.to_dict(), code_), encoding="utf-8")
                chart_png = triage_report.standing_chart(result)
                chart_path = ctx.export_path("chart.png")
                chart_path.write_bytes(chart_png)
                pdf_path = ctx.export_path(f"見極め診断_{code_}.pdf")
                pdf_path.write_bytes(triage_report.pdf(result, state.to_dict(), code_, chart_png))
                head = (f"### 診断が完了しました\n相談コード **{code_}**（このコードか `?code={code_}` 付きのリンクで、いつでも結果を開けます）。"
                        "回答を変えるときは「戻る」を押してください。")
                return (state.to_dict(), code_, progress_html(state, flow), head, gr.update(visible=False, value=None), gr.update(visible=False, value=[]),
                        gr.update(value="", visible=False), msg, gr.update(visible=True), result_markdown(result), str(chart_path), str(md_path), str(pdf_path),
                        gr.update(visible=False), gr.update(visible=False))
            if state.log:  # an untouched wizard (every page load) is not worth a record
                code_ = ctx.records.save_consultation(code_, state.to_dict(), None, ctx.assistant.corpus.version)
            saved = f"\n\n<small>相談コード: {code_}（途中で保存されます）</small>" if code_ else ""
            text = f"### {q.text}\n" + (f"<small>{q.help}</small>" if q.help else "") + saved
            opts = list(q.options) + (["わからない"] if q.kind in ("choice", "multi") else [])
            if q.kind == "choice":
                c_upd, m_upd = gr.update(choices=opts, value=None, visible=True), gr.update(visible=False, value=[])
            elif q.kind in ("multi", "items"):
                current = [it["name"] for it in state.items] if q.kind == "items" else []  # back into the inventory
                c_upd, m_upd = gr.update(visible=False, value=None), gr.update(choices=opts + [n for n in current if n not in opts], value=current, visible=True)
            else:
                c_upd, m_upd = gr.update(visible=False, value=None), gr.update(visible=False, value=[])
            return (state.to_dict(), code_, progress_html(state, flow), text, c_upd, m_upd, gr.update(value="", visible=True), msg,
                    gr.update(visible=False), "", None, None, None, gr.update(visible=True), gr.update(visible=True))

        outs = [st, code, bar, question_md, choice, multi, free, message, result_box, result_md, chart, md_file, pdf_file, next_btn, unknown_btn]

        def on_next(state_d, code_, choice_v, multi_v, free_v):
            state = TriageState.from_dict(state_d)
            q = next_question(state, flow)
            if q is None:
                return view(state_d, code_)
            if q.kind == "items":
                extra = [s for s in (free_v or "").replace("、", ",").split(",") if s.strip()]
                value = list(multi_v or []) + extra
            elif q.kind == "multi":
                value = list(multi_v or []) or (free_v or "")
            elif q.kind == "choice":
                value = choice_v or free_v
            else:
                value = free_v
            if q.kind in ("choice", "multi") and not value:
                return view(state_d, code_, "⚠️ 選択肢を選ぶか、自由記述で答えてください（「わからない」も選べます）。")
            try:
                state = answer(state, flow, value, ctx.triage_reader())
            except TriageError as exc:
                return view(state_d, code_, f"⚠️ {exc}")
            return view(state.to_dict(), code_)

        def on_unknown(state_d, code_):
            state = TriageState.from_dict(state_d)
            q = next_question(state, flow)
            if q is None:
                return view(state_d, code_)
            return view(answer(state, flow, "わからない" if q.kind != "items" else []).to_dict(), code_)

        def on_resume(code_text: str):
            try:
                saved = ctx.records.load_consultation(code_text)
            except RecordError as exc:
                return view(TriageState().to_dict(), None, f"⚠️ {exc}")
            return view(saved["state"], saved["code"], "保存した診断を再開しました。")

        next_btn.click(on_next, [st, code, choice, multi, free], outs, api_name="triage_next")
        free.submit(on_next, [st, code, choice, multi, free], outs, api_name=False)
        unknown_btn.click(on_unknown, [st, code], outs, api_name="triage_unknown")
        back_btn.click(lambda s, c: view(back(TriageState.from_dict(s)).to_dict(), c), [st, code], outs, api_name="triage_back")
        resume_btn.click(on_resume, [resume_code], outs, api_name="triage_resume")
        restart_btn.click(lambda: view(TriageState().to_dict(), None), None, outs, api_name=False)

        def on_load(request: gr.Request):
            code_param = request.query_params.get("code") if request else None
            if code_param:
                return on_resume(code_param)
            return view(TriageState().to_dict(), None)

        demo.load(on_load, None, outs, api_name=False)


# -- documents ---------------------------------------------------------------------------
def tree_markdown(assistant: Assistant, query: str = "") -> str:
    q = (query or "").strip()
    out = []
    for d in assistant.corpus.documents:
        kind = "公式文書" if d.manifest.kind == "official" else "製品の助言"
        out.append(f"#### {d.title}（{d.doc}・{kind}・版 {d.manifest.version}）")
        for c in d.clauses:
            if q and q not in c.text and q not in c.id and q not in c.title:
                continue
            indent = "&nbsp;&nbsp;&nbsp;&nbsp;" * len(c.heading_path)
            label = f"{c.title} " if c.title else ""
            text = c.text if len(c.text) <= 60 else c.text[:60] + "…"
            out.append(f"{indent}[**{c.id}**](?clause={quote(c.id)}) {label}{text}  ")
    return "\n".join(out) if out else "該当する条項はありません。"


def docs_tab(ctx: AppContext):
    with gr.Tab("資料", id="docs"):
        gr.Markdown("読み込まれている文書を条項の木で表示します。条項IDをクリックするか選ぶと原文を表示します。")
        with gr.Row():
            with gr.Column(scale=3):
                search = gr.Textbox(label="検索（条項ID や語句）", elem_id="docs-search")
                tree = gr.Markdown(tree_markdown(ctx.assistant), elem_id="docs-tree")
            with gr.Column(scale=2):
                pick = gr.Dropdown(choices=[c.id for c in ctx.assistant.corpus.clauses()], label="条項を選ぶ", elem_id="docs-pick")
                shown = gr.Markdown(clause_panel(ctx.assistant, None), elem_id="docs-panel")
        search.change(lambda q: tree_markdown(ctx.assistant, q), search, tree, api_name=False)
        pick.change(lambda cid: clause_panel(ctx.assistant, cid), pick, shown, api_name="docs_clause")
    return pick, shown


# -- admin -------------------------------------------------------------------------------
def admin_tab(ctx: AppContext) -> None:
    with gr.Tab("管理", id="admin"):
        ok = gr.State(False)
        if not ctx.admin_password:
            gr.Markdown("管理ページは無効です。運用者は環境変数 `ASSISTANT_ADMIN_PASSWORD` を設定して起動してください。")
            return
        with gr.Row():
            password = gr.Textbox(label="管理者パスワード", type="password", elem_id="admin-password")
            login = gr.Button("ログイン", elem_id="admin-login")
        login_msg = gr.Markdown(elem_id="admin-login-msg")
        with gr.Column(visible=False) as area:
            gr.Markdown("### 公式文書の追加（告示の PDF・テキスト・Markdown、20 MB まで）")
            upload = gr.File(label="ファイル", file_types=UPLOAD_TYPES, type="filepath", elem_id="admin-upload")
            with gr.Row():
                doc = gr.Textbox(label="短縮名（条項IDの先頭）", value="基準")
                version = gr.Textbox(label="版（省略可）")
                title = gr.Textbox(label="正式な題名（省略可）")
            add = gr.Button("読み込んで確認する", variant="primary", elem_id="admin-add")
            readback = gr.Textbox(label="読み取り結果", lines=14, interactive=False, elem_id="admin-readback")
            gr.Markdown("### 利用者の評価")
            feedback = gr.Dataframe(headers=["id", "日時", "質問", "評価", "コメント", "引用"], interactive=False)
            gr.Markdown("### 保存された相談")
            consultations = gr.Dataframe(headers=["相談コード", "更新", "会社", "完了"], interactive=False)
            with gr.Row():
                export_code = gr.Textbox(label="相談コード（入力して Enter で PDF を用意）")
                export_btn = gr.DownloadButton("PDF を保存")
            refresh = gr.Button("一覧を更新")

        def tables():
            fb = [[f["id"], f["created_at"], f["question"], f["rating"], f["comment"], "、".join(f["citations"])] for f in ctx.records.list_feedback()]
            cs = [[c["code"], c["updated_at"], c["firm"], "○" if c["finished"] else ""] for c in ctx.records.list_consultations()]
            return fb, cs

        def on_login(pw: str):
            if pw and pw == ctx.admin_password:
                fb, cs = tables()
                return True, "ログインしました。", gr.update(visible=True), fb, cs
            return False, "⚠️ パスワードが違います。", gr.update(visible=False), [], []

        login.click(on_login, password, [ok, login_msg, area, feedback, consultations], api_name=False)

        def on_add(ok_: bool, path: str | None, doc_: str, version_: str, title_: str, progress_=gr.Progress()):
            if not ok_:
                return "⚠️ ログインしてください。"
            if not path:
                return "⚠️ ファイルを選んでください。"
            from .ingest import add_document
            from .runtime import rebuild_index

            try:
                progress_(0.1, desc="ファイルを読み取っています")
                rb = add_document(ctx.cfg, Path(path), doc_.strip(), title_.strip() or None, "official", version_.strip() or None)
                if rb.unchanged:
                    return rb.text()
                progress_(0.4, desc="索引を更新しています")
                rebuild_index(ctx.cfg)
                progress_(0.8, desc="回答に反映しています")
                ctx.reload()
            except CorpusError as exc:
                return f"⚠️ {exc}"
            return rb.text() + "\n\n索引を更新し、回答に反映しました。"

        add.click(on_add, [ok, upload, doc, version, title], readback, api_name=False, concurrency_limit=1)
        refresh.click(lambda o: tables() if o else ([], []), ok, [feedback, consultations], api_name=False)

        def on_export(o: bool, code_: str):
            if not o:
                return None
            try:
                saved = ctx.records.load_consultation(code_)
            except RecordError:
                return None
            result = saved["result"] or build_result(TriageState.from_dict(saved["state"]), ctx.assistant.corpus)
            path = ctx.export_path(f"見極め診断_{saved['code']}.pdf")
            path.write_bytes(triage_report.pdf(result, saved["state"], saved["code"]))
            return str(path)

        export_code.submit(on_export, [ok, export_code], export_btn, api_name=False)


def launch(ctx: AppContext, port: int, host: str = "127.0.0.1") -> None:
    from .fonts import japanese_font

    demo = build(ctx)
    demo.queue(default_concurrency_limit=8, max_size=200)
    # The Japanese font is served by the app itself: the page looks the same on machines
    # without CJK fonts, and the browser never fetches a font from the internet.
    font = japanese_font()
    css = f"@font-face {{ font-family: 'IPAexGothic'; src: url('/gradio_api/file={font}') format('truetype'); }}\n" + CSS
    theme = gr.themes.Default(font=["IPAexGothic", "ui-sans-serif", "system-ui", "sans-serif"], font_mono=["ui-monospace", "IPAexGothic", "monospace"])
    demo.launch(
        server_name=host, server_port=port, share=False, show_error=False, max_file_size="20mb",
        allowed_paths=[str(ctx.exports), str(font.parent)], theme=theme, css=css,
    )
