"""The consultation record: Markdown and PDF (Japanese text, IPAexGothic), plus a standing chart."""

from __future__ import annotations

import io

from ..fonts import japanese_font
from .rules import COST_TIERS, STATUS_LABELS

FORM_LABEL = {"whole": "全体", "lead": "柱書き"}
ANSWER_LABELS = {
    "forms": "態様", "location": "保管場所", "access": "利用できる人", "goes_outside": "社外に渡す",
    "competitive": "競争力の源泉", "damage": "漏えい時の損害", "public": "公開済み・再現容易",
    "confidential_obligation": "秘密保持の義務", "legal_control": "法令上の管理対象",
}


def _cell(text) -> str:
    return str(text).replace("|", "｜").replace("\n", " ")


def markdown(result: dict, state: dict, code: str | None = None) -> str:
    firm = result["firm"]
    out = ["# 見極め診断の記録（技術情報管理認証制度）", ""]
    if code:
        out.append(f"- 相談コード: `{code}`（この記録を再開・共有するためのコード）")
    out += [
        f"- 作成日時: {result['generated_at']}",
        f"- 会社: {firm.get('name') or '（未記入）'} ／ 業種: {firm.get('industry')} ／ 規模: {firm.get('size')} ／ 他社との関係: {'、'.join(firm.get('collaboration', []))}",
        "- 文書の版: " + "、".join(f"{d} {v}" for d, v in result["documents"].items()),
        "",
        f"> {result['advice_label']}",
        "",
        "## 1. 確実に守るべき技術等情報の見極め（製品の助言）",
        "",
        "| 情報 | 判定 | 理由 | 判定の規則 | 態様 |",
        "|---|---|---|---|---|",
    ]
    for it in result["items"]:
        out.append(f"| {_cell(it['item'])} | {it['status_label']} | {_cell(it['reason'])} | {' → '.join(it['rule_path'])} | {'・'.join(it['forms']) or 'わからない'} |")
    if not result["items"]:
        out.append("| （なし） | | | | |")
    ms = result["minimum_set"]
    out += ["", "## 2. 必要最低限の措置（指針第4の2の一）", "", f"指針は次のように定めています: 「{ms['citation']['quote']}」（{ms['citation']['clause_id']}）", ""]
    out.append(f"御社の情報の態様: {'・'.join(ms['forms']) or '（守るべき情報がないため該当なし）'}")
    out.append("")
    if ms["clauses"]:
        out.append(f"読み込まれている基準（版 {ms.get('version')}）の該当条文:")
        out.append("")
        for c in ms["clauses"]:
            out.append(f"- **{c['clause_id']}**（{FORM_LABEL[c['scope']]}）: {_cell(c['text'])}")
    elif "structure" in ms:
        for s in ms["structure"]:
            extra = f"（御社の態様: {'・'.join(s['forms']) or 'なし'}）" if "forms" in s else ""
            out.append(f"- 基準の{s['part']}{extra}")
    for n in ms["notes"]:
        out += ["", f"※ {n}"]
    out += ["", "## 3. 費用の低い順の具体的な対策（製品の助言）", ""]
    if result["measures"]:
        out += ["| 順 | ID | 対策 | 何をするか | 費用 | 手間 | 対応する態様／リスク |", "|---|---|---|---|---|---|---|"]
        for i, m in enumerate(result["measures"], start=1):
            out.append(f"| {i} | {m['id']} | {_cell(m['title'])} | {_cell(m['what'])} | {m['cost_tier']} | {m['effort']} | {_cell('、'.join(m['covers']))} |")
    else:
        out.append("守るべき情報が見つからなかったため、対策の提案はありません。")
    out += ["", "## 4. 回答の記録", ""]
    for item in state.get("items", []):
        answers = "、".join(f"{ANSWER_LABELS[k]}: {'・'.join(v) if isinstance(v, list) else v}" for k, v in item.items() if k in ANSWER_LABELS)
        out.append(f"- **{item['name']}** — {answers}")
    if result["notes"]:
        out += ["", "## 注記", ""] + [f"- {n}" for n in result["notes"]]
    out += ["", "---", "出典: 指針の引用は原文のまま。判定の規則と対策カタログは TICS Assistant の製品独自の助言です。", ""]
    return "\n".join(out)


def standing_chart(result: dict) -> bytes:
    """PNG: items per judgement, and recommended measures per cost tier."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib import pyplot as plt

    font = japanese_font()
    font_manager.fontManager.addfont(str(font))
    prop = font_manager.FontProperties(fname=str(font))
    fig, (a, b) = plt.subplots(1, 2, figsize=(8, 3), dpi=110)
    statuses = list(STATUS_LABELS)
    counts = [sum(1 for it in result["items"] if it["status"] == s) for s in statuses]
    a.bar([STATUS_LABELS[s] for s in statuses], counts, color=["#cf222e", "#d29922", "#8c959f"])
    a.set_title("情報の判定", fontproperties=prop)
    costs = [sum(1 for m in result["measures"] if m["cost_tier"] == t) for t in COST_TIERS]
    b.bar(list(COST_TIERS), costs, color="#1f6feb")
    b.set_title("提案した対策の費用", fontproperties=prop)
    for ax in (a, b):
        for label in ax.get_xticklabels():
            label.set_fontproperties(prop)
        ax.yaxis.get_major_locator().set_params(integer=True)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def pdf(result: dict, state: dict, code: str | None = None, chart: bytes | None = None) -> bytes:
    """The same record as a PDF with embedded Japanese font and the standing chart
    (``chart``: the PNG from standing_chart, when the caller already rendered it)."""
    from fpdf import FPDF

    md = markdown(result, state, code)
    doc = FPDF(format="A4")
    doc.add_font("ipaex", fname=str(japanese_font()))
    doc.set_margins(15, 15, 15)
    doc.add_page()
    width = doc.w - doc.l_margin - doc.r_margin
    chart_done = False
    table: list[list[str]] = []

    def flush_table() -> None:
        if not table:
            return
        doc.set_font("ipaex", size=8)
        from fpdf.fonts import FontFace

        # Only the regular face of the Japanese font is embedded: headings are shaded, not bold.
        heading = FontFace(emphasis="", fill_color=(230, 236, 244))
        # Columns as wide as their typical content: long explanations get room, numbers do not.
        ncol = len(table[0])
        widths = [max(6.0, min(40.0, sum(len(r[i]) for r in table if i < len(r)) / len(table))) for i in range(ncol)]
        with doc.table(text_align="LEFT", line_height=4.5, first_row_as_headings=True, headings_style=heading, col_widths=widths) as t:
            for cells in table:
                row = t.row()
                for cell in cells:
                    row.cell(cell)
        doc.ln(2)
        table.clear()

    for line in md.splitlines():
        if line.startswith("|"):
            if not line.startswith("|---"):
                table.append([c.strip().replace("`", "") for c in line.strip().strip("|").split("|")])
            continue
        flush_table()
        if line.startswith("# "):
            doc.set_font("ipaex", size=16)
            doc.multi_cell(width, 9, line[2:], new_x="LMARGIN", new_y="NEXT")
            continue
        if line.startswith("## "):
            if not chart_done and line.startswith("## 2."):
                doc.image(io.BytesIO(chart or standing_chart(result)), w=width * 0.85)
                chart_done = True
            doc.ln(2)
            doc.set_font("ipaex", size=13)
            doc.multi_cell(width, 8, line[3:], new_x="LMARGIN", new_y="NEXT")
            continue
        doc.set_font("ipaex", size=9.5)
        doc.multi_cell(width, 5.5, line.replace("**", "").replace("`", "") or " ", new_x="LMARGIN", new_y="NEXT", align="L")
    flush_table()
    return bytes(doc.output())
