"""The consultation record as an Excel workbook (.xlsx), the format Japanese SMEs and METI's
self-check list work in. Rendered from the typed result, like the Markdown and the PDF.

Every cell written from user or document text is stored as text (never as a formula), so a
firm name such as ``=HYPERLINK(…)`` stays a name.
"""

from __future__ import annotations

import io

from .model import PROGRESS_LABELS, TriageResult
from ..markup import plain
from .report import ANSWER_LABELS

HEAD_FILL = "DCE6F2"
STATUS_FILL = {"must": "F8D7DA", "confirm": "FFF3CD", "not_required": "EEEEEE"}


def workbook(r: TriageResult) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")

    def put(ws, row: int, col: int, value, fill: str | None = None):
        cell = ws.cell(row=row, column=col)
        if isinstance(value, (int, float)):
            cell.value = value
        else:
            cell.value = plain(value)
            cell.data_type = "s"  # text, even when it starts with "=": no formula from user text
        cell.alignment = wrap
        if fill:
            cell.fill = PatternFill("solid", fgColor=fill)
        return cell

    def header(ws, row: int, names: list[str], widths: list[int]) -> None:
        for col, (name, w) in enumerate(zip(names, widths), start=1):
            put(ws, row, col, name, HEAD_FILL).font = bold
            ws.column_dimensions[ws.cell(row=row, column=col).column_letter].width = w
        ws.freeze_panes = ws.cell(row=row + 1, column=1)

    ws = wb.active
    ws.title = "概要"
    rows = [
        ("見極め診断の記録（技術情報管理認証制度）", ""), ("相談コード", r.code or ""), ("作成日時", r.generated_at),
        ("会社", r.firm.get("name") or "（未記入）"), ("業種", r.firm.get("industry", "")), ("規模", r.firm.get("size", "")),
        ("他社や社外の人との関わり", "、".join(r.firm.get("collaboration", []) or [])),
        ("確実に守るべき情報", "、".join(r.must_protect) or "なし"), ("要確認の情報", "、".join(r.confirm) or "なし"),
        ("守るべき情報がない", "はい" if r.nothing_to_protect else "いいえ"), ("質問の数", r.questions_asked),
        ("計画の対策の数", len(r.measures)),
        *((f"進み具合: {PROGRESS_LABELS[k]}", v) for k, v in r.progress_summary().items()),
        ("文書の版", "、".join(f"{d} {v}" for d, v in r.documents.items())), ("注意", r.advice_label),
    ]
    for i, (k, v) in enumerate(rows, start=1):
        put(ws, i, 1, k).font = bold
        put(ws, i, 2, v)
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 90

    ws = wb.create_sheet("守るべき情報")
    header(ws, 1, ["情報", "判定", "理由", "態様", "わからないままの質問と確かめること"], [24, 14, 60, 22, 60])
    for i, it in enumerate(r.items, start=2):
        put(ws, i, 1, it.name)
        put(ws, i, 2, it.status_label, STATUS_FILL.get(it.status))
        put(ws, i, 3, it.reason_text)
        put(ws, i, 4, "・".join(it.forms) or "わからない")
        put(ws, i, 5, " ".join(f"{q.label}: {q.find_out}" for q in it.open_questions))

    ws = wb.create_sheet("計画と進み具合")
    names = ["順", "ID", "区分", "対策", "何をするか", "小さな会社では", "対象の情報", "費用", "手間", "状態", "担当", "期限", "メモ", "関連する基準の条項"]
    header(ws, 1, names, [5, 7, 16, 36, 60, 50, 24, 9, 6, 9, 12, 12, 30, 20])
    for i, m in enumerate(r.measures, start=2):
        p = r.progress_of(m.id)
        for col, value in enumerate([i - 1, m.id, m.group_label, m.title, m.what, m.how_small, "、".join(m.serves), m.cost_tier, m.effort,
                                     p.label, p.owner, p.due, p.note, "、".join(m.standard_clauses)], start=1):
            put(ws, i, col, value)
    if r.measures:
        # Advisers keep the state up to date in Excel: the column offers the four states.
        dv = DataValidation(type="list", formula1='"' + ",".join(PROGRESS_LABELS.values()) + '"', allow_blank=True)
        ws.add_data_validation(dv)
        dv.add(f"J2:J{len(r.measures) + 1}")

    if r.comparison:
        ws = wb.create_sheet("前回からの進み具合")
        header(ws, 1, ["ID", "対策", "前回", "今回"], [8, 60, 16, 16])
        for i, row in enumerate(r.comparison.rows, start=2):
            for col, value in enumerate([row.measure_id, row.title, PROGRESS_LABELS.get(row.before, "（計画になし）"),
                                         PROGRESS_LABELS.get(row.now, "（計画から外れた）")], start=1):
                put(ws, i, col, value)

    ws = wb.create_sheet("回答の記録")
    fields = list(ANSWER_LABELS)
    header(ws, 1, ["情報", *ANSWER_LABELS.values(), "聞かなかった質問と理由"], [24] + [14] * len(fields) + [60])
    for i, it in enumerate(r.items, start=2):
        put(ws, i, 1, it.name)
        for col, f in enumerate(fields, start=2):
            v = it.answers.get(f, "")
            put(ws, i, col, "・".join(v) if isinstance(v, list) else v)
        put(ws, i, len(fields) + 2, " ".join(f"{s.label}: {s.reason}" for s in it.skipped))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
