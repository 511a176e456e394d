"""The consultation record, rendered from the typed result (model.py): Markdown, PDF and a chart.

User text (the firm's name, item names, places, owners, notes) is always data: in Markdown
every ASCII punctuation mark of it is escaped and line breaks are folded, so it cannot make a
heading, a table row, a quote, a link or an image; the PDF is laid out from the model, never
by re-reading the Markdown.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable

from ..clause_refs import cite
from ..fonts import japanese_font
from ..linebreak import lines
from ..markup import md_text, plain
from .catalogue import COST_TIERS, GROUP_LABELS, GROUPS
from .flow import ANSWER_LABELS
from .model import PROGRESS_LABELS, Standing, TriageResult
from .rules import STATUS_LABELS

SCOPE_LABEL = {"whole": "全体", "lead": "柱書き"}
def _join(values) -> str:
    return "・".join(values) if isinstance(values, list) else str(values)


def _firm_lines(r: TriageResult) -> list[tuple[str, str]]:
    f = r.firm
    return [
        ("会社", f.get("name") or "（未記入）"), ("業種", f.get("industry", "")), ("規模", f.get("size", "")),
        ("他社や社外の人との関わり", "、".join(f.get("collaboration", []) or [])),
    ]


def late_note(r: TriageResult, today: dt.date | None = None) -> str:
    """「。期限切れ 1 件: M05」 after the progress counts, when a measure is past its due date."""
    late = r.overdue(today or dt.date.today())
    return f"。期限切れ {len(late)} 件: " + "、".join(m.id for m, _ in late) if late else ""


def change_lines(r: TriageResult, text: Callable[[str], str], today: dt.date | None = None) -> list[str]:
    """A re-assessment's changes in words, before its table: verdicts that changed, items added or
    left out, measures newly done, and measures now overdue. ``text`` renders user text (names)."""
    if not r.comparison:
        return []
    c, lines = r.comparison, []
    if c.items:
        lines.append("判定が変わった情報: " + "、".join(f"「{text(i.name)}」{i.change}" for i in c.items))
    done = [row for row in c.rows if row.newly_done]
    if done:
        lines.append("前回から完了した対策: " + "、".join(f"{row.measure_id} {text(row.title)}" for row in done))
    late = r.overdue(today or dt.date.today())
    if late:
        lines.append("期限を過ぎた対策: " + "、".join(f"{m.id} {text(m.title)}（期限 {p.due}" + (f"、担当 {text(p.owner)}" if p.owner else "") + "）" for m, p in late))
    return lines


def markdown(r: TriageResult, include_answers: bool = True) -> str:
    out = ["# 見極め診断の記録（技術情報管理認証制度）", ""]
    if r.code:
        out.append(f"- 相談コード: {md_text(r.code)}")
    out.append(f"- 作成日時: {md_text(r.generated_at)}")
    out += [f"- {label}: {md_text(value)}" for label, value in _firm_lines(r)]
    out += [
        "- 文書の版: " + md_text("、".join(f"{d} {v}" for d, v in r.documents.items())),
        f"- 質問の数: {r.questions_asked} 問",
        "", f"> {r.advice_label}", "",
    ]
    number = iter(range(1, 10))  # sections numbered as they appear (the comparison is only there on a re-assessment)
    out += [f"## {next(number)}. 確実に守るべき技術等情報の見極め（製品の助言）", ""]
    if r.nothing_to_protect:
        out += [r.nothing_to_protect_note or "技術情報が挙げられていないため、見極めの対象がありません。", ""]
    if r.items:
        out += ["| 情報 | 判定 | 理由 | 態様 |", "|---|---|---|---|"]
        for it in r.items:
            out.append(f"| {md_text(it.name)} | {it.status_label} | {md_text(it.reason_text)} | {md_text('・'.join(it.forms) or 'わからない')} |")
    opened = [(it, q) for it in r.items for q in it.open_questions]
    if opened:
        out += ["", "### 「わからない」のままの質問と、確かめること", ""]
        for it, q in opened:
            effect = "判定が変わる可能性あり" if q.matters else "判定には影響しません"
            out.append(f"- {md_text(it.name)} — {md_text(q.label)}（{effect}）: {md_text(q.find_out)}")
    ms = r.minimum_set
    out += ["", f"## {next(number)}. 必要最低限の措置（指針第4の2の一）", "",
            "指針は次のように定めています: " + cite(md_text(ms.citation['quote']), md_text(ms.citation['clause_id'])), "",
            f"御社の情報の態様: {md_text('・'.join(ms.forms)) or '（守るべき情報がないため該当なし）'}", ""]
    if ms.clauses:
        out += [f"読み込まれている基準（版 {md_text(ms.version)}）の該当条文:", ""]
        out += [f"- {md_text(c['clause_id'])}（{SCOPE_LABEL[c['scope']]}）: {md_text(c['text'])}" for c in ms.clauses]
    for s in ms.structure:
        extra = f"（御社の態様: {md_text('・'.join(s['forms'])) or 'なし'}）" if "forms" in s else ""
        out.append(f"- 基準の{md_text(s['part'])}{extra}")
    out += [f"\n※ {md_text(n)}" for n in ms.notes]
    out += ["", f"## {next(number)}. 最初の計画と進み具合（製品の助言）", ""]
    if not r.measures:
        out.append("守るべき情報が見つからなかったため、対策の提案はありません。")
    else:
        counts = r.progress_summary()
        out.append("進み具合: " + "、".join(f"{PROGRESS_LABELS[k]} {v}" for k, v in counts.items()) + f"（全 {len(r.measures)} 件）" + late_note(r))
        n = 0
        for group in GROUPS:
            rows = [m for m in r.measures if m.group == group]
            if not rows:
                continue
            out += ["", f"### {GROUP_LABELS[group]}", "", "| 順 | ID | 対策 | 対象の情報 | 費用 | 手間 | 状態 | 担当 | 期限 | 関連する基準の条項 |", "|---|---|---|---|---|---|---|---|---|---|"]
            for m in rows:
                n += 1
                p = r.progress_of(m.id)
                out.append(
                    f"| {n} | {m.id} | {md_text(m.title)} | {md_text('、'.join(m.serves))} | {m.cost_tier} | {m.effort} | {p.label} "
                    f"| {md_text(p.owner)} | {md_text(p.due)} | {md_text('、'.join(m.standard_clauses)) or '—'} |"
                )
        out += ["", "### 対策の進め方", ""]
        for m in r.measures:
            p = r.progress_of(m.id)
            out.append(f"- {m.id} {md_text(m.title)}: {md_text(m.what)} {m.tip_label}: {md_text(m.how_small)}" + (f" メモ: {md_text(p.note)}" if p.note else ""))
    if r.comparison:
        c = r.comparison
        s = c.summary
        out += ["", f"## {next(number)}. 前回の計画からの進み具合", "",
                f"前回の相談コード {md_text(c.previous_code)}（{md_text(c.previous_date)}）の計画 {s['earlier_measures']} 件のうち、前回完了 {s['done_before']} 件 → 今回完了 {s['done_now']} 件。"
                f"新しく加わった対策 {s['new_measures']} 件、計画から外れた対策 {s['dropped_measures']} 件。", ""]
        changes = change_lines(r, md_text)
        out += [f"- {line}" for line in changes] + ([""] if changes else [])
        head, groups = group_progress(r)
        out += ["分類ごとの完了した対策（評価のたび。対象外の対策は数えない）:", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        out += ["| " + " | ".join(row) + " |" for row in groups] + [""]
        out += ["| ID | 対策 | 前回 | 今回 | 変化 |", "|---|---|---|---|---|"]
        for row in c.rows:
            out.append(f"| {row.measure_id} | {md_text(row.title)} | {PROGRESS_LABELS.get(row.before, '（計画になし）')} | {PROGRESS_LABELS.get(row.now, '（計画から外れた）')} | {row.change} |")
    if include_answers:
        out += ["", f"## {next(number)}. 回答の記録", ""]
        for it in r.items:
            answers = "、".join(f"{ANSWER_LABELS[k]}: {md_text(_join(v))}" for k, v in it.answers.items() if k in ANSWER_LABELS)
            out.append(f"- {md_text(it.name)} — {answers or '（回答なし）'}")
            for s in it.skipped:
                out.append(f"    - 聞かなかった質問「{md_text(s.label)}」: {md_text(s.reason)}")
    if r.notes:
        out += ["", "## 注記", ""] + [f"- {md_text(n)}" for n in r.notes]
    out += ["", "---", "出典: 指針の引用は原文のまま。判定の規則と対策カタログは TICS Assistant の製品独自の助言です。", ""]
    return "\n".join(out)


def _japanese_prop():
    """matplotlib's font properties for the embedded Japanese font (both charts draw kana and kanji with it)."""
    from matplotlib import font_manager

    font = japanese_font()
    font_manager.fontManager.addfont(str(font))
    return font_manager.FontProperties(fname=str(font))


def _groups_in(standings: list[Standing]) -> list[str]:
    """The plan groups any of the assessments had measures in, in the catalogue's order."""
    return [g for g in GROUPS if any(s.count(g) for s in standings)]


def standing_chart(r: TriageResult) -> bytes:
    """PNG: items per judgement, the plan per cost tier, and progress on the plan."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    prop = _japanese_prop()
    fig, (a, b, c) = plt.subplots(1, 3, figsize=(10, 3), dpi=110)
    statuses = list(STATUS_LABELS)
    a.bar([STATUS_LABELS[s] for s in statuses], [sum(1 for it in r.items if it.status == s) for s in statuses], color=["#cf222e", "#d29922", "#8c959f"])
    a.set_title("情報の判定", fontproperties=prop)
    b.bar(list(COST_TIERS), [sum(1 for m in r.measures if m.cost_tier == t) for t in COST_TIERS], color="#1f6feb")
    b.set_title("計画の対策の費用", fontproperties=prop)
    counts = r.progress_summary()
    c.bar([PROGRESS_LABELS[k] for k in counts], list(counts.values()), color=["#8c959f", "#d29922", "#2da44e", "#c9d1d9"])
    c.set_title("計画の進み具合", fontproperties=prop)
    for ax in (a, b, c):
        for label in ax.get_xticklabels():
            label.set_fontproperties(prop)
        ax.yaxis.get_major_locator().set_params(integer=True)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def standing_labels(standings: list[Standing]) -> list[str]:
    """「1回目 2026-01-15」 … 「今回（3回目）」: numbered, because two assessments may share a date."""
    last = len(standings)
    return [f"{n}回目 {s.date[:10]}" if n < last else f"今回（{n}回目）" for n, s in enumerate(standings, start=1)]


def group_progress(r: TriageResult) -> tuple[list[str], list[list[str]]]:
    """The re-assessment's progress per plan group as a table (header, rows): the chart's numbers in
    words, for the Markdown, the PDF and a reader who does not see the chart. A group that an
    assessment had no measures in reads 「—」."""
    standings = r.standings()
    rows = [[GROUP_LABELS[g], *(f"{c.done}/{c.total}（{round(100 * c.share)}%）" if (c := s.count(g)) else "—" for s in standings)]
            for g in _groups_in(standings)]
    return ["分類", *standing_labels(standings)], rows


def progress_chart(r: TriageResult) -> bytes | None:
    """PNG, on a re-assessment only: the share of each plan group's measures done, one bar per
    assessment (oldest first, this one last and in green), each bar labelled 「完了/計画」."""
    if not r.comparison:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    prop = _japanese_prop()
    standings = r.standings()
    labels = standing_labels(standings)
    groups = _groups_in(standings)
    fig, ax = plt.subplots(figsize=(10, min(8.0, 1.4 + 0.28 * max(1, len(groups)) * len(standings))), dpi=110)
    height = 0.8 / len(standings)
    for n, (s, label) in enumerate(zip(standings, labels)):
        counts = [s.count(g) for g in groups]
        ys = [i - 0.4 + height / 2 + n * height for i in range(len(groups))]  # the oldest on top in each group
        values = [100 * c.share if c else 0 for c in counts]
        colour = "#2da44e" if n == len(standings) - 1 else ("#afb8c1", "#6e7781")[n % 2]
        ax.barh(ys, values, height=height * 0.9, color=colour, label=label)
        for y, v, c in zip(ys, values, counts):
            if c:
                ax.text(v + 1, y, f"{c.done}/{c.total}", va="center", fontsize=8, fontproperties=prop)
    ax.set_yticks(range(len(groups)))
    ax.set_yticklabels([GROUP_LABELS[g] for g in groups], fontproperties=prop)
    ax.invert_yaxis()
    ax.set_xlim(0, 110)
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.set_xticklabels(["0%", "25%", "50%", "75%", "100%"])
    ax.set_title("分類ごとの完了した対策の割合（評価のたび）", fontproperties=prop)
    ax.legend(prop=prop, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)  # beside the bars, never over one
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def pdf(r: TriageResult, chart: bytes | None = None) -> bytes:
    """The same record as a PDF (embedded Japanese font, the chart), laid out from the model."""
    from fpdf import FPDF
    from fpdf.enums import WrapMode
    from fpdf.fonts import FontFace

    class Record(FPDF):
        def footer(self) -> None:  # 「n / N」 on every page; {nb} is the page count, filled in at the end
            self.set_y(-12)
            self.set_font("ipaex", size=8)
            self.cell(0, 6, f"{self.page_no()} / {{nb}}", align="C")

    doc = Record(format="A4")
    doc.add_font("ipaex", fname=str(japanese_font()))
    doc.set_margins(15, 15, 15)
    doc.set_auto_page_break(True, margin=18)
    doc.add_page()
    width = doc.w - doc.l_margin - doc.r_margin
    # Only the regular face of the Japanese font is embedded: headings are shaded, not bold.
    heading_style = FontFace(emphasis="", fill_color=(230, 236, 244))

    def title(text: str, size: float, keep: float = 30) -> None:
        # A heading stays with what follows it: when less than ``keep`` mm is left, it opens the next page.
        if doc.will_page_break(keep + size * 0.6):
            doc.add_page()
        doc.ln(2)
        doc.set_font("ipaex", size=size)
        doc.multi_cell(width, size * 0.6, text, new_x="LMARGIN", new_y="NEXT")

    def para(text: str, size: float = 9.5) -> None:
        # Broken by Japanese rules (linebreak.lines): a hanging 。 may pass the edge, so each line is a cell.
        doc.set_font("ipaex", size=size)
        for line in lines(plain(text) or " ", width, doc.get_string_width):
            doc.cell(width, 5.5, line or " ", new_x="LMARGIN", new_y="NEXT")

    def table(head: list[str], rows: list[list[str]], widths: list[float]) -> None:
        doc.set_font("ipaex", size=8)
        # Each cell's text is broken beforehand to its column's width (less the cell margins), so fpdf
        # never breaks it itself: no 。 opens a line, no date splits.
        inner = [w / sum(widths) * width - 2 * doc.c_margin - 0.4 for w in widths]
        with doc.table(text_align="LEFT", line_height=4.5, first_row_as_headings=True, headings_style=heading_style,
                       col_widths=widths, wrapmode=WrapMode.CHAR) as t:
            for cells in [head, *rows]:
                row = t.row()
                for cell, w in zip(cells, inner):
                    row.cell("\n".join(lines(plain(cell) or " ", w, doc.get_string_width, hang=False)))
        doc.ln(2)

    title("見極め診断の記録（技術情報管理認証制度）", 16)
    if r.code:
        para(f"相談コード: {r.code}")
    para(f"作成日時: {r.generated_at} ／ 質問の数: {r.questions_asked} 問")
    for label, value in _firm_lines(r):
        para(f"{label}: {plain(value)}")
    para("文書の版: " + "、".join(f"{d} {v}" for d, v in r.documents.items()))
    para(r.advice_label, 9)
    doc.image(io.BytesIO(chart or standing_chart(r)), w=width)

    number = iter(range(1, 10))  # numbered as they appear, like the Markdown
    title(f"{next(number)}. 確実に守るべき技術等情報の見極め（製品の助言）", 13)
    if r.nothing_to_protect:
        para(r.nothing_to_protect_note or "技術情報が挙げられていないため、見極めの対象がありません。")
    if r.items:
        table(["情報", "判定", "理由", "態様"], [[it.name, it.status_label, it.reason_text, "・".join(it.forms) or "わからない"] for it in r.items], [30, 20, 100, 30])
    opened = [[it.name, q.label, "あり" if q.matters else "なし", q.find_out] for it in r.items for q in it.open_questions]
    if opened:
        title("「わからない」のままの質問と、確かめること", 11)
        table(["情報", "質問", "判定への影響", "確かめること"], opened, [30, 30, 20, 100])

    ms = r.minimum_set
    title(f"{next(number)}. 必要最低限の措置（指針第4の2の一）", 13)
    para("指針は次のように定めています: " + cite(ms.citation['quote'], ms.citation['clause_id']))
    para(f"御社の情報の態様: {'・'.join(ms.forms) or '（守るべき情報がないため該当なし）'}")
    if ms.clauses:
        table(["条項", "範囲", "本文"], [[c["clause_id"], SCOPE_LABEL[c["scope"]], c["text"]] for c in ms.clauses], [30, 15, 135])
    for s in ms.structure:
        para(f"・基準の{s['part']}" + (f"（御社の態様: {'・'.join(s['forms']) or 'なし'}）" if "forms" in s else ""))
    for n in ms.notes:
        para(f"※ {n}", 8.5)

    title(f"{next(number)}. 最初の計画と進み具合（製品の助言）", 13)
    if not r.measures:
        para("守るべき情報が見つからなかったため、対策の提案はありません。")
    else:
        counts = r.progress_summary()
        para("進み具合: " + "、".join(f"{PROGRESS_LABELS[k]} {v}" for k, v in counts.items()) + f"（全 {len(r.measures)} 件）" + late_note(r))
        rows = []
        for n, m in enumerate(r.measures, start=1):
            p = r.progress_of(m.id)
            rows.append([str(n), m.id, f"{m.title}（{m.group_label}）", "、".join(m.serves), f"{m.cost_tier}／{m.effort}", p.label, p.owner, p.due])
        table(["順", "ID", "対策", "対象の情報", "費用／手間", "状態", "担当", "期限"], rows, [8, 12, 58, 33, 20, 13, 17, 24])
        title("対策の進め方", 11)
        for m in r.measures:
            note = r.progress_of(m.id).note
            para(f"{m.id} {m.title}: {m.what} {m.tip_label}: {m.how_small}" + (f" メモ: {note}" if note else "") + (f" 関連する基準の条項: {'、'.join(m.standard_clauses)}" if m.standard_clauses else ""), 8.5)
    if r.comparison:
        c, s = r.comparison, r.comparison.summary
        title(f"{next(number)}. 前回の計画からの進み具合", 13)
        para(f"前回の相談コード {c.previous_code}（{c.previous_date}）: 計画 {s['earlier_measures']} 件、前回完了 {s['done_before']} 件 → 今回完了 {s['done_now']} 件。"
             f"新しい対策 {s['new_measures']} 件、外れた対策 {s['dropped_measures']} 件。")
        for line in change_lines(r, str):
            para(f"・{line}")
        head, groups = group_progress(r)
        png = progress_chart(r)
        from PIL import Image

        w_px, h_px = Image.open(io.BytesIO(png)).size
        if doc.will_page_break(width * h_px / w_px + 6 * (len(groups) + 1) + 4):  # the chart and its table on one page
            doc.add_page()
        doc.image(io.BytesIO(png), w=width)
        table(head, groups, [45] + [round(135 / (len(head) - 1))] * (len(head) - 1))
        table(["ID", "対策", "前回", "今回", "変化"], [[x.measure_id, x.title, PROGRESS_LABELS.get(x.before, "（なし）"), PROGRESS_LABELS.get(x.now, "（外れた）"), x.change]
                                                for x in c.rows], [15, 90, 22, 22, 31])
    title(f"{next(number)}. 回答の記録", 13)
    for it in r.items:
        answers = "、".join(f"{ANSWER_LABELS[k]}: {_join(v)}" for k, v in it.answers.items() if k in ANSWER_LABELS)
        para(f"{it.name} — {answers or '（回答なし）'}", 8.5)
        for sk in it.skipped:
            para(f"　聞かなかった質問「{sk.label}」: {sk.reason}", 8)
    if r.notes:
        title("注記", 11)
        for n in r.notes:
            para(f"・{n}", 8.5)
    para("出典: 指針の引用は原文のまま。判定の規則と対策カタログは TICS Assistant の製品独自の助言です。", 8)
    return bytes(doc.output())
