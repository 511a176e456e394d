"""The product's templates (ひな形) that the plan's measures point to: a one-page policy, the pledges
signed on joining and on leaving, and the ledgers a firm keeps (entrusted drawings, items taken out,
visitors, the half-yearly inspection). Texts live in corpus/templates.json; this module fills in the
firm's name and its must-protect items, and writes documents as Word and ledgers as Excel.

Every template is product advice and says so at its top and in its footer: none is an official form,
and none quotes the guideline or the standard. The firm's name and item names reach the files only
as text (a Word run; an Excel cell stored as text), so a name such as ``=HYPERLINK(…)`` stays a name.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

from ..config import SHIPPED_CORPUS
from ..markup import plain
from ..texts import render
from .excel import DATE_FORMAT, FONT, HEAD_FILL, print_setup
from .flow import UNKNOWN
from .model import TriageResult

TemplateFormat = Literal["docx", "xlsx"]
BlockKind = Literal["p", "h", "li", "note", "table"]
DATE_ROWS = 30  # the empty rows a ledger prints with (date cells and lists already set)
MEDIA_NAMES = {"docx": "Word", "xlsx": "Excel"}


@dataclass(frozen=True)
class Template:
    id: str
    title: str
    format: TemplateFormat
    measures: tuple[str, ...]
    heading: str
    blocks: tuple[tuple, ...] = ()  # Word: (kind, text) or ("table", header, rows)
    intro: str = ""
    columns: tuple[str, ...] = ()  # Excel: the ledger's columns
    dates: tuple[str, ...] = ()  # columns that hold dates
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)  # columns limited to a list
    checks: tuple[str, ...] = ()  # an inspection's fixed rows
    item_check: str = ""  # an inspection row per must-protect item
    rows_from_items: str = ""  # the column pre-filled with the items held under a confidentiality obligation

    @property
    def label(self) -> str:
        """How the page names the download: 「基本方針（1枚）（Word）」."""
        return f"{self.title}（{MEDIA_NAMES[self.format]}）"

    def filename(self, code: str | None) -> str:
        return f"ひな形_{self.title}_{code or '未保存'}.{self.format}"


@dataclass(frozen=True)
class Templates:
    label: str  # the product-advice label every file carries
    no_items: str  # said where the diagnosis found nothing to protect yet
    version: str
    templates: tuple[Template, ...]

    @classmethod
    def load(cls, path: Path = SHIPPED_CORPUS / "templates.json") -> Templates:
        return _load(str(path))

    def for_plan(self, result: TriageResult) -> list[Template]:
        """The templates the plan's measures point to, in the catalogue's order."""
        planned = {m.id for m in result.measures}
        return [t for t in self.templates if planned.intersection(t.measures)]

    def get(self, template_id: str) -> Template:
        return next(t for t in self.templates if t.id == template_id)

    def make(self, template: Template, result: TriageResult) -> bytes:
        values = Filled.of(result, self.no_items)
        return _docx(template, values, self.label) if template.format == "docx" else _xlsx(template, values, self.label)


@lru_cache(maxsize=4)
def _load(path: str) -> Templates:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    templates = tuple(
        Template(id=t["id"], title=t["title"], format=t["format"], measures=tuple(t["measures"]), heading=t["heading"],
                 blocks=tuple(tuple(b) for b in t.get("blocks", ())), intro=t.get("intro", ""), columns=tuple(t.get("columns", ())),
                 dates=tuple(t.get("dates", ())), choices={k: tuple(v) for k, v in t.get("choices", {}).items()},
                 checks=tuple(t.get("checks", ())), item_check=t.get("item_check", ""), rows_from_items=t.get("rows_from_items", ""))
        for t in data["templates"])
    return Templates(label=data["label"], no_items=data["no_items"], version=data["version"], templates=templates)


@dataclass(frozen=True)
class Filled:
    """What a template is filled with, from one result."""

    firm: str
    items: tuple[str, ...]  # must-protect, then to-confirm
    entrusted: tuple[str, ...]  # items held under a confidentiality obligation (drawings a customer lent)
    no_items: str

    @classmethod
    def of(cls, result: TriageResult, no_items: str) -> Filled:
        name = plain(result.firm.get("name") or "")
        kept = [i for i in result.items if i.status in ("must", "confirm")]
        return cls(firm=name if name and name != UNKNOWN else "（会社名）", items=tuple(plain(i.name) for i in kept),
                   entrusted=tuple(plain(i.name) for i in kept if i.answers.get("confidential_obligation") == "はい"), no_items=no_items)

    def text(self, template: str, **more) -> str:
        return render(template, "ひな形", False, **({"firm": self.firm, "items": "、".join(self.items) or self.no_items} | more))


# -- Word ------------------------------------------------------------------------------------------------------------
def _docx(t: Template, v: Filled, label: str) -> bytes:
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = FONT, Pt(10.5)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)  # kana and kanji in the same font
    for name in ("Title", "Heading 2", "List Number"):
        style = doc.styles[name]
        style.font.name = FONT
        style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(25)
    section.footer.paragraphs[0].text = label
    doc.add_paragraph(label).runs[0].font.size = Pt(9)
    doc.add_heading(v.text(t.heading), level=0)
    for block in t.blocks:
        kind = block[0]
        if kind == "h":
            doc.add_heading(v.text(block[1]), level=2)
        elif kind == "li":
            doc.add_paragraph(v.text(block[1]), style="List Number")
        elif kind == "note":
            run = doc.add_paragraph().add_run("※ " + v.text(block[1]))
            run.font.size, run.italic = Pt(9), True
        elif kind == "table":
            header, rows = block[1], block[2]
            table = doc.add_table(rows=1, cols=len(header))
            table.style = "Table Grid"
            for cell, text in zip(table.rows[0].cells, header):
                cell.text = text
            for row in rows:
                for cell, text in zip(table.add_row().cells, row):
                    cell.text = text
        else:
            doc.add_paragraph(v.text(block[1]))
    out = io.BytesIO()
    doc.core_properties.title, doc.core_properties.comments = t.title, label
    doc.save(out)
    return out.getvalue()


# -- Excel -----------------------------------------------------------------------------------------------------------
def _xlsx(t: Template, v: Filled, label: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    ws.title = t.title[:31]
    regular, bold = Font(name=FONT, size=10), Font(name=FONT, size=12, bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")

    def text_cell(row: int, col: int, value: str, font=regular):
        cell = ws.cell(row=row, column=col)
        cell.value = plain(value)
        cell.data_type = "s"  # text, even when it starts with "=": no formula from user text
        cell.font, cell.alignment = font, wrap
        return cell

    text_cell(1, 1, v.text(t.heading), bold)
    text_cell(2, 1, label, Font(name=FONT, size=9, italic=True))
    if t.intro:
        text_cell(3, 1, v.text(t.intro))
    head = 5
    rows = _rows(t, v)
    for col, name in enumerate(t.columns, start=1):
        text_cell(head, col, name, Font(name=FONT, size=10, bold=True)).fill = PatternFill("solid", fgColor=HEAD_FILL)
        longest = max([len(name)] + [len(r.get(name, "")) for r in rows])  # full-width characters: about two units each
        ws.column_dimensions[get_column_letter(col)].width = 14 if name in t.dates else max(12, min(60, longest * 2 + 2))
    last = head + max(len(rows), DATE_ROWS)
    for r in range(head + 1, last + 1):
        values = rows[r - head - 1] if r - head - 1 < len(rows) else {}
        for col, name in enumerate(t.columns, start=1):
            cell = text_cell(r, col, values.get(name, ""))
            if name in t.dates:
                cell.number_format = DATE_FORMAT
                if not values.get(name):
                    cell.value = None  # an empty date cell: what the adviser types is read as a date
    for name in t.dates:  # a date column accepts dates only, with a Japanese message on anything else
        col = get_column_letter(t.columns.index(name) + 1)
        dv = DataValidation(type="date", operator="greaterThan", formula1="DATE(2000,1,1)", allow_blank=True, showErrorMessage=True,
                            errorTitle="日付を入力してください", error="2027/2/28 のように日付で入力してください。")
        dv.add(f"{col}{head + 1}:{col}{last}")
        ws.add_data_validation(dv)
    for name, options in t.choices.items():
        col = get_column_letter(t.columns.index(name) + 1)
        dv = DataValidation(type="list", formula1='"' + ",".join(options) + '"', allow_blank=True, showErrorMessage=True,
                            errorTitle="一覧から選んでください", error="、".join(options) + " のどれかを選んでください。")
        dv.add(f"{col}{head + 1}:{col}{last}")
        ws.add_data_validation(dv)
    ws.auto_filter.ref = f"A{head}:{get_column_letter(len(t.columns))}{last}"
    ws.freeze_panes = f"A{head + 1}"
    print_setup(ws, landscape=len(t.columns) > 6, title_rows=f"{head}:{head}")
    ws.oddFooter.left.text = "TICS Assistant のひな形（製品の助言）"
    wb.properties.title, wb.properties.created = t.title, dt.datetime.now()
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _rows(t: Template, v: Filled) -> list[dict[str, str]]:
    """The rows a ledger starts with: an inspection's checks, or the entrusted items already held."""
    if t.checks or t.item_check:
        first = t.columns[0]
        return [{first: c} for c in t.checks] + [{first: v.text(t.item_check, item=i)} for i in v.items]
    if t.rows_from_items:
        return [{t.rows_from_items: i} for i in v.entrusted]
    return []
