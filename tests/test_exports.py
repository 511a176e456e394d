"""The diagnosis record as a firm receives it (#22): read as the Markdown file, opened in an editor."""

import re

from assistant.config import SHIPPED_CORPUS
from assistant.corpus import load_corpus
from assistant.triage import report
from assistant.triage.session import TriageServices, TriageSession

CORPUS = load_corpus([SHIPPED_CORPUS])
ANSWERS = {"firm": {"name": "株式会社テスト(本社)・第2工場", "size": "6〜20人"},
           "items": [{"name": "顧客図面 No.3", "forms": ["書面"], "damage": "大", "confidential_obligation": "はい"}]}


def session() -> TriageSession:
    return TriageSession(TriageServices.load(lambda: CORPUS)).from_answers(ANSWERS)


def sections(md: str) -> list[int]:
    return [int(m) for m in re.findall(r"^## (\d+)\. ", md, re.MULTILINE)]


def test_the_markdown_reads_as_plain_japanese():
    md = report.markdown(session().result())
    assert "\\" not in md  # no backslash before the - : ( ) . of dates, times and names
    assert "株式会社テスト(本社)・第2工場" in md and "顧客図面 No.3" in md
    assert re.search(r"作成日時: \d{4}-\d{2}-\d{2} \d{2}:\d{2}", md)
    assert "assistant corpus" not in md  # the firm's record names no operator command


def test_sections_are_numbered_without_gaps_with_and_without_a_comparison():
    first = session()
    first = first.set_progress(first.result().measures[0].id, "done")
    assert sections(report.markdown(first.result())) == [1, 2, 3, 4]  # no comparison: the answers are 4th
    again = TriageSession(first.services, first.state, "AB23CD45").reassess().from_answers(ANSWERS)
    assert sections(report.markdown(again.result())) == [1, 2, 3, 4, 5]
    assert sections(report.markdown(again.result(), include_answers=False)) == [1, 2, 3, 4]


# -- Excel: the plan an adviser keeps up to date and prints ------------------------------------------------------
def workbook_of(s: TriageSession):
    import io

    from openpyxl import load_workbook

    from assistant.triage import excel

    return load_workbook(io.BytesIO(excel.workbook(s.result())))


def planned() -> TriageSession:
    s = session()
    ms = s.result().measures
    s = s.set_progress(ms[0].id, "done", "山田", "2027/2/28")
    return s.set_progress(ms[1].id, "planned", "佐藤", "2027-03-31", "見積もり中")


def test_due_dates_and_the_record_time_are_date_cells():
    import datetime as dt

    wb = workbook_of(planned())
    plan = wb["計画と進み具合"]
    assert [plan.cell(1, c).value for c in (10, 11, 12)] == ["状態", "担当", "期限"]
    assert plan["L2"].value == dt.datetime(2027, 2, 28) and plan["L2"].is_date  # typed 2027/2/28, stored as a date
    assert plan["L3"].value == dt.datetime(2027, 3, 31) and plan["L3"].number_format == "yyyy/mm/dd"
    assert plan["L4"].value in (None, "")  # no due date: an empty cell, not the text 「」
    created = next(row[1] for row in wb["概要"].iter_rows() if row[0].value == "作成日時")
    assert created.is_date and isinstance(created.value, dt.datetime)


def count_formula(value: str, plan) -> int:
    """Evaluate the summary's COUNTIF/COUNTA over the plan sheet as Excel would (openpyxl keeps formulas only)."""
    m = re.fullmatch(r"=COUNTIF\('計画と進み具合'!\$([A-Z])\$(\d+):\$\1\$(\d+),\"(.+)\"\)", value)
    if m:
        col, lo, hi, label = m.groups()
        return sum(plan[f"{col}{r}"].value == label for r in range(int(lo), int(hi) + 1))
    m = re.fullmatch(r"=COUNTA\('計画と進み具合'!\$([A-Z])\$(\d+):\$\1\$(\d+)\)", value)
    assert m, value
    col, lo, hi = m.groups()
    return sum(plan[f"{col}{r}"].value not in (None, "") for r in range(int(lo), int(hi) + 1))


def test_the_summary_counts_are_formulas_over_the_plan_sheet():
    s = planned()
    wb = workbook_of(s)
    summary = {row[0].value: row[1].value for row in wb["概要"].iter_rows()}
    plan = wb["計画と進み具合"]
    n = len(s.result().measures)
    assert isinstance(summary["計画の対策の数"], str) and count_formula(summary["計画の対策の数"], plan) == n
    assert count_formula(summary["進み具合: 完了"], plan) == 1
    assert count_formula(summary["進み具合: 予定"], plan) == 1
    assert count_formula(summary["進み具合: 未着手"], plan) == n - 2
    plan["J4"].value = "完了"  # the adviser marks one more in Excel: the count follows
    assert count_formula(summary["進み具合: 完了"], plan) == 2


def test_the_state_column_refuses_other_values_and_the_due_column_takes_dates():
    wb = workbook_of(planned())
    plan = wb["計画と進み具合"]
    n = plan.max_row
    by_range = {str(dv.sqref): dv for dv in plan.data_validations.dataValidation}
    state, due = by_range[f"J2:J{n}"], by_range[f"L2:L{n}"]
    assert state.type == "list" and state.formula1 == '"未着手,予定,完了,対象外"'
    assert state.showErrorMessage and state.errorStyle == "stop" and "選んでください" in state.error
    assert due.type == "date" and due.showErrorMessage and "日付" in due.error


def test_every_table_filters_and_prints_on_a4_fitted_to_width():
    wb = workbook_of(planned())
    for name in ("守るべき情報", "計画と進み具合", "回答の記録"):
        ws = wb[name]
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:"), name
        assert ws.auto_filter.ref.endswith(str(ws.max_row)), name  # every row, not only the first
        assert ws.print_title_rows == "$1:$1", name  # the header repeats on each printed page
    for ws in wb.worksheets:
        assert int(ws.page_setup.paperSize) == 9, ws.title  # 9: A4 in the OOXML paper codes
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0, ws.title
        assert ws.oddFooter.center.text == "&P / &N", ws.title
    assert wb["計画と進み具合"].page_setup.orientation == "landscape"


def test_cells_are_set_in_a_japanese_font():
    wb = workbook_of(planned())
    fonts = {c.font.name for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value not in (None, "")}
    assert fonts == {"游ゴシック"}


# -- PDF: what an adviser hands over ------------------------------------------------------------------------------
def pdf_chunks(pdf: bytes) -> list[list[str]]:
    """The text each page draws, one string per line drawn (fpdf writes each line as its own text)."""
    import io

    from pypdf import PdfReader

    pages = []
    for p in PdfReader(io.BytesIO(pdf)).pages:
        chunks: list[str] = []
        p.extract_text(visitor_text=lambda t, *_: chunks.append(t) if t.strip() else None)
        pages.append(chunks)
    return pages


def test_every_pdf_page_is_numbered_n_of_n():
    pages = pdf_chunks(report.pdf(planned().result()))
    assert len(pages) >= 2
    for i, chunks in enumerate(pages, start=1):
        assert f"{i} / {len(pages)}" in [c.strip() for c in chunks], chunks[-3:]


def test_pdf_lines_follow_japanese_line_breaking_and_dates_stay_whole():
    pages = pdf_chunks(report.pdf(planned().result()))
    drawn = [c for chunks in pages for c in chunks]
    # Closers that no text of the record opens with, so a line opening with one was broken there (a bullet 「・」
    # or a cost 「〜1万円」 may open a text).
    starts = [c for c in drawn if c.lstrip()[:1] in "。、，．）」』】"]
    assert starts == [], starts[:5]  # no line opens with 。、）」…
    assert {"2027-02-28", "2027-03-31"} <= {c.strip() for c in drawn}  # a due date is one line of its cell


def test_a_pdf_heading_is_never_the_last_thing_on_a_page():
    for chunks in pdf_chunks(report.pdf(planned().result()))[:-1]:
        body = [c for c in chunks if not re.fullmatch(r"\s*\d+ / \d+\s*", c)]
        assert not re.match(r"\d\. ", body[-1]), body[-3:]


def test_a_rendered_pdf_page_shows_its_number_at_the_foot():
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(report.pdf(planned().result()))
    image = doc[0].render(scale=1).to_pil().convert("L")
    w, h = image.size
    foot = image.crop((int(w * 0.4), int(h * 0.95), int(w * 0.6), h))  # where 「1 / N」 is drawn
    body = image.crop((0, int(h * 0.1), w, int(h * 0.5)))
    foot_ink, body_ink = foot.getextrema(), body.getextrema()  # (darkest, lightest) grey
    assert foot_ink[0] < 128  # ink: the page number
    assert body_ink[0] < 128 and body_ink[1] > 200  # text on a white page
