"""The templates (ひな形) the plan points to (#22), opened as the firm opens them: Word with python-docx,
Excel with openpyxl. What they should hold is what an adviser hands over: the firm's name and its
must-protect information filled in, the product-advice label on every file, lists and dates an
adviser can type into, and nothing that a crafted name could turn into a formula or a crash."""

import datetime as dt
import io

import pytest
from docx import Document
from openpyxl import load_workbook

from assistant.config import SHIPPED_CORPUS
from assistant.corpus import load_corpus
from assistant.prompts import PromptError
from assistant.texts import render
from assistant.triage.session import TriageServices, TriageSession
from assistant.triage.templates import Templates

CORPUS = load_corpus([SHIPPED_CORPUS])
SHELF = Templates.load()
DRAWINGS = {"name": "顧客支給図面", "forms": ["書面", "電子データ"], "damage": "大", "confidential_obligation": "はい"}
KNOWHOW = {"name": "焼き入れのコツ", "forms": ["人の知識・ノウハウ"], "confidential_obligation": "いいえ", "competitive": "はい", "damage": "大"}
PRICES = {"name": "見積単価表", "forms": ["電子データ"], "confidential_obligation": "いいえ", "legal_control": "いいえ", "public": "いいえ",
          "competitive": "いいえ", "damage": "小"}


def result(name="架空精工", collaboration=("下請け・受託",), items=(DRAWINGS, KNOWHOW, PRICES)):
    answers = {"firm": {"name": name, "industry": "金属加工", "size": "6〜20人", "collaboration": list(collaboration)}, "items": [dict(i) for i in items]}
    return TriageSession(TriageServices.load(lambda: CORPUS)).from_answers(answers).result()


def text_of(doc) -> str:
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def test_the_plan_offers_the_templates_its_measures_need():
    ids = {t.id for t in SHELF.for_plan(result())}
    # Every plan has a responsible person and policy, pledges, and an inspection; customer drawings bring the ledger
    assert {"policy", "pledge_join", "inspection", "ledger"} <= ids
    assert "visitors" not in ids  # no visitors said: no visitor record
    assert "visitors" in {t.id for t in SHELF.for_plan(result(collaboration=("下請け・受託", "来客・見学がある")))}


def test_a_template_comes_only_with_a_measure_in_the_plan():
    r = result()
    planned = {m.id for m in r.measures}
    for t in SHELF.for_plan(r):
        assert planned.intersection(t.measures), t.id


def test_the_word_templates_are_filled_in_and_labelled_as_product_advice():
    r = result()
    for t in (t for t in SHELF.for_plan(r) if t.format == "docx"):
        doc = Document(io.BytesIO(SHELF.make(t, r)))
        text = text_of(doc)
        assert "架空精工" in text and "顧客支給図面" in text and "焼き入れのコツ" in text, t.id
        assert "見積単価表" not in text  # low priority: not named as secret
        assert doc.paragraphs[0].text.startswith("【製品の助言】") and "公式の様式ではなく" in doc.paragraphs[0].text
        assert doc.sections[0].footer.paragraphs[0].text.startswith("【製品の助言】")  # on every printed page
        assert "{{" not in text and "指針第" not in text  # every value filled; no clause presented as the source
        rfonts = doc.styles["Normal"].element.rPr.rFonts
        assert rfonts.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia") == "游ゴシック"
        assert round(doc.sections[0].page_width.mm) == 210 and round(doc.sections[0].page_height.mm) == 297  # A4


def test_the_leaving_pledge_has_a_return_checklist():
    r = result()
    doc = Document(io.BytesIO(SHELF.make(SHELF.get("pledge_leave"), r)))
    header = [c.text for c in doc.tables[0].rows[0].cells]
    assert header == ["返却したもの", "返却日", "確認した人"] and len(doc.tables[0].rows) > 3


def test_the_ledger_starts_with_the_drawings_held_for_customers():
    r = result()
    ws = load_workbook(io.BytesIO(SHELF.make(SHELF.get("ledger"), r))).active
    column = [c.value for c in ws["C"]]
    assert "顧客支給図面" in column  # held under a confidentiality obligation
    assert "焼き入れのコツ" not in column  # the firm's own know-how was not entrusted to it
    assert ws["A1"].value.startswith("架空精工") and ws["A2"].value.startswith("【製品の助言】")


def test_the_excel_ledgers_take_dates_and_lists_and_print_on_a4():
    r = result(collaboration=("来客・見学がある",))
    for t in (t for t in SHELF.for_plan(r) if t.format == "xlsx"):
        ws = load_workbook(io.BytesIO(SHELF.make(t, r))).active
        header = [c.value for c in ws[5]][: len(t.columns)]
        assert header == list(t.columns), t.id
        rules = {str(v.sqref).split(":")[0][0]: v for v in ws.data_validations.dataValidation}
        for name in t.dates:
            col = "ABCDEFGHIJ"[t.columns.index(name)]
            assert rules[col].type == "date" and ws[f"{col}6"].number_format == "yyyy/mm/dd", (t.id, name)
        for name, options in t.choices.items():
            col = "ABCDEFGHIJ"[t.columns.index(name)]
            assert rules[col].type == "list" and rules[col].formula1 == '"' + ",".join(options) + '"' and rules[col].showErrorMessage
        assert ws.auto_filter.ref.startswith("A5:") and ws.print_title_rows == "$5:$5"
        assert int(ws.page_setup.paperSize) == 9 and ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.oddFooter.center.text == "&P / &N" and ws["A5"].font.name == "游ゴシック"  # A4 is paper size 9


def test_the_inspection_checks_each_must_protect_item():
    r = result()
    ws = load_workbook(io.BytesIO(SHELF.make(SHELF.get("inspection"), r))).active
    checks = [c.value or "" for c in ws["A"]][5:]
    assert any("顧客支給図面" in c for c in checks) and any("焼き入れのコツ" in c for c in checks)
    assert any("誓約書" in c for c in checks) and any("アカウント" in c for c in checks)


def test_a_crafted_firm_name_stays_text_in_every_template():
    name = '=HYPERLINK("http://example.invalid","x")\uffff\x00\u202e架空'
    r = result(name=name, collaboration=("来客・見学がある",), items=({**DRAWINGS, "name": "=1+1 図面\ufffe"}, KNOWHOW))
    for t in SHELF.for_plan(r):
        data = SHELF.make(t, r)  # no code point that XML cannot hold reaches the file
        if t.format == "xlsx":
            ws = load_workbook(io.BytesIO(data)).active
            assert ws["A1"].data_type == "s" and ws["A1"].value.startswith("=HYPERLINK")  # text, not a formula
            assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
        else:
            assert "=HYPERLINK" in text_of(Document(io.BytesIO(data)))


def test_an_unnamed_firm_and_no_items_leave_blanks_to_fill():
    r = result(name="", items=(PRICES,))
    doc = Document(io.BytesIO(SHELF.make(SHELF.get("policy"), r)))
    text = text_of(doc)
    assert "（会社名）" in text and SHELF.no_items in text and "見積単価表" not in text


def test_template_texts_are_filled_strictly():
    assert render("{{ firm }} の台帳", "ひな形", False, firm="架空", items="図面") == "架空 の台帳"
    with pytest.raises(PromptError):
        render("{{ firm }} {{ owner }}", "ひな形", False, firm="架空")  # a value the text needs and nobody gave
    with pytest.raises(PromptError):
        render("{{ firm }}", "定型文", True, firm="架空", items="図面")  # strict: no value left unused


def test_every_template_in_the_shelf_renders():
    r = result(collaboration=("来客・見学がある", "共同研究開発"))
    assert {t.id for t in SHELF.templates} == {"policy", "pledge_join", "pledge_leave", "ledger", "carry_out", "visitors", "inspection"}
    for t in SHELF.templates:
        assert SHELF.make(t, r)[:2] == b"PK", t.id  # a zip: .docx and .xlsx
    assert dt.date.fromisoformat(SHELF.version)
