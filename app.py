"""The web app (gradio): a Japanese chat that answers from the guideline with cited clauses.

Run with ``make run`` (or ``python app.py``). Binds to 127.0.0.1, no share link, analytics off.
Per-user state lives only in ``gr.State``; the index is opened once and only read.
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import gradio as gr  # noqa: E402

from assistant.answer import Answer, Assistant  # noqa: E402
from assistant.config import Config  # noqa: E402
from assistant.guard import QuestionError  # noqa: E402
from assistant.runtime import open_assistant  # noqa: E402

EXAMPLES = [
    "うちみたいな小さな会社が初めて対策するとき、最低限なにをやればいいの？",
    "認証機関として認定されるには、どんな条件がありますか？",
    "取引先の大企業には、どんな配慮が求められていますか？",
    "第4の2の一には何と書いてある？",
]
HISTORY_TURNS = 6  # turns kept for follow-up questions


def clause_panel(assistant: Assistant, clause_id: str) -> str:
    """Markdown for the side panel: verbatim text, heading path and document version."""
    clause = assistant.corpus.resolve(clause_id)
    if clause is None:
        return f"条項 {clause_id} は見つかりません。"
    doc = assistant.corpus.docs[clause.doc]
    path = " › ".join(clause.heading_path) or "（最上位）"
    kind = "公式文書" if doc.manifest.kind == "official" else "製品の助言"
    return (
        f"### {clause.id}\n\n**{kind}**：{doc.title}（版 `{doc.manifest.version}`）\n\n"
        f"**見出し**：{path}\n\n> {clause.text}\n"
    )


def render_answer(a: Answer) -> str:
    if a.refused:
        return "⚠️ " + a.answer
    return a.answer


def build(assistant: Assistant) -> gr.Blocks:
    with gr.Blocks(title="TICS Assistant — 技術情報管理認証制度の相談") as demo:
        gr.Markdown(
            "## TICS Assistant\n技術情報管理認証制度の指針（技術等情報漏えい防止措置の実施の促進に関する指針）に、"
            "**条項を示して原文を引用して**答えます。文書に根拠がない質問には、推測せずにその旨をお答えします。"
        )
        history = gr.State([])
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(label="相談チャット", height=480, elem_id="chat")
                question = gr.Textbox(label="質問", placeholder="例：初めて取り組む中小企業が最低限やるべきことは？", max_length=assistant.cfg.max_question_chars, elem_id="question")
                with gr.Row():
                    send = gr.Button("送信", variant="primary", elem_id="send")
                    clear = gr.Button("会話をリセット")
                gr.Examples(EXAMPLES, inputs=question, label="質問の例")
            with gr.Column(scale=2):
                sources = gr.Radio(choices=[], label="出典（クリックで原文を表示）", elem_id="sources")
                panel = gr.Markdown("回答の出典をクリックすると、条項の原文・見出し・文書の版がここに表示されます。", elem_id="panel")
                gr.Markdown(f"<small>文書バージョン: `{assistant.corpus.version}`</small>")

        def on_ask(q: str, turns: list[dict], messages: list):
            messages = list(messages or [])
            try:
                a = assistant.ask(q, turns[-HISTORY_TURNS:])
            except QuestionError as exc:
                messages.append({"role": "user", "content": q or "（空の質問）"})
                messages.append({"role": "assistant", "content": f"⚠️ {exc}"})
                return messages, turns, gr.update(choices=[], value=None), q
            messages.append({"role": "user", "content": q})
            messages.append({"role": "assistant", "content": render_answer(a)})
            turns = turns + [{"role": "user", "content": q}, {"role": "assistant", "content": a.answer}]
            choices = [c.clause_id for c in a.citations]
            return messages, turns, gr.update(choices=choices, value=None), ""

        def on_source(cid: str | None):
            return clause_panel(assistant, cid) if cid else gr.update()

        send.click(on_ask, [question, history, chat], [chat, history, sources, question], api_name="ask", concurrency_limit=8)
        question.submit(on_ask, [question, history, chat], [chat, history, sources, question], api_name="ask_submit", concurrency_limit=8)
        sources.change(on_source, sources, panel, api_name="clause")
        clear.click(lambda: ([], [], gr.update(choices=[], value=None)), None, [chat, history, sources], api_name="reset")
    return demo


def main() -> None:
    cfg = Config.from_env()
    assistant = open_assistant(cfg, lambda s: print(s, flush=True))
    demo = build(assistant)
    demo.queue(default_concurrency_limit=8)
    port = int(os.environ.get("ASSISTANT_PORT", "7860"))
    print(f"TICS Assistant: http://127.0.0.1:{port}/ を開いてください", flush=True)
    demo.launch(server_name=os.environ.get("ASSISTANT_HOST", "127.0.0.1"), server_port=port, share=False, show_error=False)


if __name__ == "__main__":
    main()
