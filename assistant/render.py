"""What the web page shows, rendered from typed data: answers, clauses, the document tree, the
diagnosis' questions and results. Every piece of user or document text goes through
``markup.md_text`` (it can only be text); the Markdown around it is the product's own.
"""

from __future__ import annotations

from urllib.parse import quote

from .answer import Answer
from .conversation import ChatInput
from .corpus import Corpus
from .markup import md_lines, md_text
from .triage.flow import UNKNOWN, Question
from .triage.model import TriageResult
from .triage.replies import BACK_LABEL


def user_message(text: str) -> str:
    return md_lines(text) or "（空の質問）"


def answer_markdown(a: Answer) -> str:
    """An answer as the chat shows it: its text, line by line, as text; refusals marked."""
    body = md_lines(a.answer)
    if a.refused:
        body = "⚠️ " + body
    if a.generator == "llm":
        body += "\n\n✅ 検証済み（引用と条項IDを原文と照合しました）"
    elif a.fallback_reason:
        body += "\n\nℹ️ 抽出型の回答に切り替えました: " + md_text(a.fallback_reason)
    return body


def clause_panel(corpus: Corpus, clause_id: str | None) -> str:
    if not clause_id:
        return "出典をクリックすると、条項の原文・見出し・文書の版がここに表示されます。"
    clause = corpus.resolve(clause_id)
    if clause is None:
        return f"条項 {md_text(clause_id)} は見つかりません。"
    doc = corpus.docs[clause.doc]
    path = " › ".join(clause.heading_path) or "（最上位）"
    kind = "公式文書" if doc.manifest.kind == "official" else "製品の助言"
    title = f"{clause.label} {clause.title}" if clause.title else clause.id
    return (
        f"### {md_text(clause.id)}\n\n**{kind}**：{md_text(doc.title)}（版 {md_text(doc.manifest.version)}）\n\n"
        f"**見出し**：{md_text(path)} › {md_text(title)}\n\n{md_text(clause.text)}\n\n[この条項へのリンク](?clause={quote(clause.id)})"
    )


def tree_markdown(corpus: Corpus, query: str = "") -> str:
    q = (query or "").strip()
    out = []
    for d in corpus.documents:
        kind = "公式文書" if d.manifest.kind == "official" else "製品の助言"
        out.append(f"#### {md_text(d.title)}（{md_text(d.doc)}・{kind}・版 {md_text(d.manifest.version)}）")
        for c in d.clauses:
            if q and q not in c.text and q not in c.id and q not in c.title:
                continue
            indent = "&nbsp;&nbsp;&nbsp;&nbsp;" * len(c.heading_path)
            label = f"{md_text(c.title)} " if c.title else ""
            text = c.text if len(c.text) <= 60 else c.text[:60] + "…"
            out.append(f"{indent}[**{md_text(c.id)}**](?clause={quote(c.id)}) {label}{md_text(text)}  ")
    return "\n".join(out) if out else "該当する条項はありません。"


def question_markdown(q: Question) -> str:
    head = f"### {md_text(q.text)}"
    if q.kind == "batch":
        head += "\n\n" + "、".join(md_text(q.options[i]) for i in range(len(q.items)))
    if q.help:
        head += f"\n\n<small>{md_text(q.help)}</small>"
    return head


def progress_note(asked: int, left: int | None) -> str:
    """The chat's small line under a diagnosis question (the tab shows ``progress_html`` instead)."""
    return f"<small>{asked} 問に回答済み" + (f"、残り最大 {left} 問" if left is not None else "") + "</small>"


def quick_replies(q: Question) -> list[dict]:
    """Options shown under a question in the chat: the choices, 「わからない」 and 「戻る」."""
    values = list(q.options) if q.kind != "items" else list(q.options)[:8]
    replies = [{"label": v, "value": v} for v in values]  # an answer's value is its text
    if q.unknown_allowed:
        replies.append({"label": UNKNOWN, "value": ChatInput.UNKNOWN_VALUE})
    return replies + [{"label": BACK_LABEL, "value": ChatInput.BACK_VALUE}]


def progress_html(asked: int, left: int | None) -> str:
    if left is None:
        return f"<div>進み具合: {asked} 問に回答（情報を挙げると、残りの質問数を表示します）</div>"
    total = asked + left
    pct = int(100 * asked / total) if total else 100
    return (f"<div>進み具合: {asked} 問に回答、残り最大 {left} 問（答えに応じて減ります）</div>"
            f"<div class='progress-outer'><div class='progress-inner' style='width:{pct}%'></div></div>")


def result_summary(r: TriageResult) -> str:
    """The finished diagnosis, short, for the chat."""
    lines = ["### 見極め診断の結果（製品の助言）"]
    if r.nothing_to_protect:
        lines.append(md_text(r.nothing_to_protect_note or "確実に守るべき情報は見つかりませんでした。"))
    for it in r.items:
        lines.append(f"- {md_text(it.name)}: **{it.status_label}** — {md_text(it.reason_text)}")
    if r.measures:
        lines.append(f"\n最初の計画: {len(r.measures)} 件の対策（組織の基本から、費用の低い順）。最初の 3 件:")
        lines += [f"{n}. {md_text(m.title)}（{md_text(m.cost_tier)}）" for n, m in enumerate(r.measures[:3], start=1)]
    lines.append(f"\n質問の数: {r.questions_asked} 問。記録は下のボタンから保存でき、「見極め診断」タブで計画の進み具合を記録できます。")
    return "\n".join(lines)
