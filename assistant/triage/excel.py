"""The consultation record as an Excel workbook (.xlsx), the format Japanese SMEs and METI's
self-check list work in. Rendered from the typed result, like the Markdown and the PDF.

Every cell written from user or document text is stored as text (never as a formula), so a
firm name such as ``=HYPERLINK(…)`` stays a name. The only formulas are the product's own: the
summary's counts, read from the plan sheet, so they follow the adviser's edits there.

An adviser keeps the plan up to date in Excel and prints it for the firm: due dates are date cells,
the state column accepts only the four states, every table has an autofilter, and each sheet prints
on A4 fitted to the page width with its header row repeated and 「n / N」 page numbers.
"""

from __future__ import annotations

import datetime as dt
import io
import re

from ..markup import plain
from .model import PROGRESS_LABELS, TriageResult
from .report import ANSWER_LABELS, standing_labels

HEAD_FILL = "DCE6F2"
STATUS_FILL = {"must": "F8D7DA", "confirm": "FFF3CD", "not_required": "EEEEEE"}
# The font Japanese Office installs by default; Calibri has no kana and falls back cell by cell.
FONT = "游ゴシック"
DATE_FORMAT = "yyyy/mm/dd"
PLAN_SHEET = "計画と進み具合"
STATE_COLUMN, DUE_COLUMN, GROUP_COLUMN = "J", "L", "C"
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?$")


def _date_value(text: str) -> dt.date | dt.datetime | str:
    """A stored date (YYYY-MM-DD) or time stamp as a real Excel date; anything else (an older record's
    free text) stays as it was typed."""
    if _ISO_DATE.match(text or ""):
        return dt.date.fromisoformat(text)
    if _STAMP.match(text or ""):
        return dt.datetime.fromisoformat(text)
    return text or ""


def print_setup(ws, landscape: bool = False, title_rows: str | None = "1:1") -> None:
    """A4, fitted to the page width (as many pages down as it needs), the title rows repeated, 「n / N」."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    if title_rows:
        ws.print_title_rows = title_rows
    ws.oddFooter.center.text = "&P / &N"


def workbook(r: TriageResult) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    regular, bold = Font(name=FONT, size=10), Font(name=FONT, size=10, bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")

    def put(ws, row: int, col: int, value, fill: str | None = None):
        cell = ws.cell(row=row, column=col)
        if isinstance(value, (int, float, dt.date)):
            cell.value = value
            if isinstance(value, dt.datetime):
                cell.number_format = DATE_FORMAT + " hh:mm"
            elif isinstance(value, dt.date):
                cell.number_format = DATE_FORMAT
        else:
            cell.value = plain(value)
            cell.data_type = "s"  # text, even when it starts with "=": no formula from user text
        cell.alignment = wrap
        cell.font = regular
        if fill:
            cell.fill = PatternFill("solid", fgColor=fill)
        return cell

    def formula(ws, row: int, col: int, expression: str):
        cell = ws.cell(row=row, column=col, value=expression)  # the product's own formula, never user text
        cell.font, cell.alignment = regular, Alignment(horizontal="left", vertical="top")
        return cell

    def printable(ws, landscape: bool = False, title_rows: str | None = "1:1") -> None:
        print_setup(ws, landscape, title_rows)
        ws.oddHeader.left.text = "見極め診断の記録" + (f"（{r.code}）" if r.code else "")

    def header(ws, row: int, names: list[str], widths: list[int], rows: int = 0, landscape: bool = False) -> None:
        for col, (name, w) in enumerate(zip(names, widths), start=1):
            put(ws, row, col, name, HEAD_FILL).font = bold
            ws.column_dimensions[get_column_letter(col)].width = w
        ws.freeze_panes = ws.cell(row=row + 1, column=1)
        ws.auto_filter.ref = f"A{row}:{get_column_letter(len(names))}{row + max(rows, 1)}"
        printable(ws, landscape)

    ws = wb.active
    ws.title = "概要"
    last = len(r.measures) + 1
    states = f"'{PLAN_SHEET}'!${STATE_COLUMN}$2:${STATE_COLUMN}${max(last, 2)}"
    rows = [
        ("見極め診断の記録（技術情報管理認証制度）", ""), ("相談コード", r.code or ""), ("作成日時", _date_value(r.generated_at)),
        ("会社", r.firm.get("name") or "（未記入）"), ("業種", r.firm.get("industry", "")), ("規模", r.firm.get("size", "")),
        ("他社や社外の人との関わり", "、".join(r.firm.get("collaboration", []) or [])),
        ("確実に守るべき情報", "、".join(r.must_protect) or "なし"), ("要確認の情報", "、".join(r.confirm) or "なし"),
        ("守るべき情報がない", "はい" if r.nothing_to_protect else "いいえ"), ("質問の数", r.questions_asked),
        ("計画の対策の数", f"=COUNTA('{PLAN_SHEET}'!$B$2:$B${max(last, 2)})" if r.measures else 0),
        # Counted from the plan sheet, so they follow the states the adviser changes there.
        *((f"進み具合: {label}", f'=COUNTIF({states},"{label}")' if r.measures else 0) for label in PROGRESS_LABELS.values()),
        ("文書の版", "、".join(f"{d} {v}" for d, v in r.documents.items())), ("注意", r.advice_label),
    ]
    for i, (k, v) in enumerate(rows, start=1):
        put(ws, i, 1, k).font = bold
        if isinstance(v, str) and v.startswith("=COUNT"):
            formula(ws, i, 2, v)
        else:
            put(ws, i, 2, v)
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 90
    printable(ws, title_rows=None)

    ws = wb.create_sheet("守るべき情報")
    header(ws, 1, ["情報", "判定", "理由", "態様", "わからないままの質問と確かめること"], [24, 14, 60, 22, 60], len(r.items), landscape=True)
    for i, it in enumerate(r.items, start=2):
        put(ws, i, 1, it.name)
        put(ws, i, 2, it.status_label, STATUS_FILL.get(it.status))
        put(ws, i, 3, it.reason_text)
        put(ws, i, 4, "・".join(it.forms) or "わからない")
        put(ws, i, 5, " ".join(f"{q.label}: {q.find_out}" for q in it.open_questions))

    ws = wb.create_sheet(PLAN_SHEET)
    names = ["順", "ID", "区分", "対策", "何をするか", "御社の規模での進め方", "対象の情報", "費用", "手間", "状態", "担当", "期限", "メモ", "関連する基準の条項"]
    header(ws, 1, names, [5, 7, 16, 36, 60, 50, 24, 9, 6, 9, 12, 12, 30, 20], len(r.measures), landscape=True)
    for i, m in enumerate(r.measures, start=2):
        p = r.progress_of(m.id)
        for col, value in enumerate([i - 1, m.id, m.group_label, m.title, m.what, m.how_small, "、".join(m.serves), m.cost_tier, m.effort,
                                     p.label, p.owner, _date_value(p.due), p.note, "、".join(m.standard_clauses)], start=1):
            put(ws, i, col, value)
    if r.measures:
        # Advisers keep the state up to date in Excel: the column offers the four states and refuses others
        # (a typo would drop out of the summary's counts); the due column takes dates only.
        labels = "・".join(PROGRESS_LABELS.values())
        dv = DataValidation(type="list", formula1='"' + ",".join(PROGRESS_LABELS.values()) + '"', allow_blank=True,
                            showErrorMessage=True, errorStyle="stop", errorTitle="状態", error=f"状態は {labels} から選んでください。",
                            showInputMessage=True, promptTitle="状態", prompt=f"{labels} から選びます。")
        ws.add_data_validation(dv)
        dv.add(f"{STATE_COLUMN}2:{STATE_COLUMN}{last}")
        due = DataValidation(type="date", operator="greaterThan", formula1="DATE(2000,1,1)", allow_blank=True,
                             showErrorMessage=True, errorStyle="stop", errorTitle="期限", error="期限は 2027/2/28 のように日付で入力してください。")
        ws.add_data_validation(due)
        due.add(f"{DUE_COLUMN}2:{DUE_COLUMN}{last}")

    if r.comparison:
        ws = wb.create_sheet("前回からの進み具合")
        header(ws, 1, ["ID", "対策", "前回", "今回", "変化"], [8, 60, 16, 16, 18], len(r.comparison.rows))
        for i, row in enumerate(r.comparison.rows, start=2):
            for col, value in enumerate([row.measure_id, row.title, PROGRESS_LABELS.get(row.before, "（計画になし）"),
                                         PROGRESS_LABELS.get(row.now, "（計画から外れた）"), row.change], start=1):
                put(ws, i, col, value)
        if r.comparison.items:  # the verdicts that changed, below the measures
            first = len(r.comparison.rows) + 3
            for col, value in enumerate(["情報", "判定の変化"], start=1):
                put(ws, first, col, value, HEAD_FILL).font = bold
            for i, change in enumerate(r.comparison.items, start=first + 1):
                put(ws, i, 1, change.name)
                put(ws, i, 2, change.change)

    if r.comparison:
        # One row per assessment and plan group (a long table: filter it, or chart it in Excel). This
        # assessment's rows count the plan sheet, so they follow the states the adviser changes there;
        # the earlier ones are as they were saved.
        ws = wb.create_sheet("分類ごとの進み具合")
        standings = r.standings()
        rows = [(label, g) for label, s in zip(standing_labels(standings), standings) for g in s.groups]
        header(ws, 1, ["評価", "分類", "完了", "計画（対象外を除く）", "完了の割合"], [20, 28, 10, 18, 12], len(rows))
        plan = f"'{PLAN_SHEET}'!${GROUP_COLUMN}$2:${GROUP_COLUMN}${max(last, 2)}"
        for i, (label, g) in enumerate(rows, start=2):
            put(ws, i, 1, label)
            put(ws, i, 2, g.label)
            if i - 2 >= len(rows) - len(standings[-1].groups):  # this assessment
                formula(ws, i, 3, f'=COUNTIFS({plan},B{i},{states},"{PROGRESS_LABELS["done"]}")')
                formula(ws, i, 4, f'=COUNTIF({plan},B{i})-COUNTIFS({plan},B{i},{states},"{PROGRESS_LABELS["not_applicable"]}")')
            else:
                put(ws, i, 3, g.done)
                put(ws, i, 4, g.total)
            formula(ws, i, 5, f"=IF(D{i}>0,C{i}/D{i},0)").number_format = "0%"

    ws = wb.create_sheet("回答の記録")
    fields = list(ANSWER_LABELS)
    header(ws, 1, ["情報", *ANSWER_LABELS.values(), "聞かなかった質問と理由"], [24] + [14] * len(fields) + [60], len(r.items), landscape=True)
    for i, it in enumerate(r.items, start=2):
        put(ws, i, 1, it.name)
        for col, f in enumerate(fields, start=2):
            v = it.answers.get(f, "")
            put(ws, i, col, "・".join(v) if isinstance(v, list) else v)
        put(ws, i, len(fields) + 2, " ".join(f"{s.label}: {s.reason}" for s in it.skipped))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
