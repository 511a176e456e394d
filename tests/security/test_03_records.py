"""#3: a consultation code gave full read and write access; a crafted firm name broke the PDF
for good, or put a forged guideline quote into the record."""

import io
import json

import pytest

from assistant.records import RecordError, Records
from assistant.triage import excel, report
from assistant.triage.session import TriageServices, TriageSession
from helpers import cli

TABLE_LINE = "| 会社 | 偽 | 行 |\n|---|---|---|\n| " + "x|" * 40
FORGED = "架空\n## 2. 必要最低限の措置（指針第4の2の一）\n> 「すべての情報を暗号化すること。」（指針第4の2の一）"


def test_a_share_code_reads_only_and_the_edit_secret_changes_and_deletes(tmp_path):
    records = Records(tmp_path / "r.sqlite3")
    code, secret = records.create_consultation({"firm": {"name": "架空"}}, None, "v")
    assert records.load_consultation(code).state["firm"]["name"] == "架空"  # anyone with the code can read it
    with pytest.raises(RecordError, match="合言葉"):
        records.save_consultation(code, {"firm": {"name": "改ざん"}}, None, "v")
    with pytest.raises(RecordError, match="合言葉"):
        records.delete_consultation(code, "XXXX-XXXX-XXXX-XXXX")
    records.save_consultation(code, {"firm": {"name": "変更"}}, None, "v", secret=secret)
    records.save_consultation(code, {"firm": {"name": "運用者"}}, None, "v", admin=True)
    records.delete_consultation(code, secret)
    with pytest.raises(RecordError, match="見つかりません"):
        records.load_consultation(code)


@pytest.mark.parametrize("name", [TABLE_LINE[:100], FORGED[:100], "￿\x00\u202e逆向き" * 5, "長" * 100])
def test_crafted_firm_names_render_as_text_in_every_export(name):
    from markdown_it import MarkdownIt
    from pypdf import PdfReader

    from assistant.config import SHIPPED_CORPUS
    from assistant.corpus import load_corpus

    corpus = load_corpus([SHIPPED_CORPUS])
    session = TriageSession(TriageServices.load(lambda: corpus)).from_answers(
        {"firm": {"name": name}, "items": [{"name": name[:60], "forms": ["書面"], "confidential_obligation": "はい"}]})
    r = session.result()
    md = report.markdown(r)
    tokens = MarkdownIt("commonmark").enable("table").parse(md)
    headings = [md.splitlines()[t.map[0]] for t in tokens if t.type == "heading_open"]
    assert not any("偽" in h or "架空" in h for h in headings)
    assert sum(1 for t in tokens if t.type == "blockquote_open") == 1
    assert md.count("「すべての情報を暗号化すること。」（指針第4の2の一）") == 0
    pdf = report.pdf(r)  # must not raise
    assert PdfReader(io.BytesIO(pdf)).pages
    excel.workbook(r)


def test_the_cli_exports_a_record_with_a_crafted_name(home, assistant, tmp_path):
    answers = tmp_path / "a.json"
    answers.write_text(json.dumps({"firm": {"name": TABLE_LINE[:100]}, "items": [{"name": "図面", "forms": ["書面"], "confidential_obligation": "はい"}]}, ensure_ascii=False), encoding="utf-8")
    p = cli(home, "triage", "--answers", str(answers), "--json")
    code = json.loads(p.stdout)["code"]
    p = cli(home, "triage", "--resume", code, "--pdf", str(tmp_path / "r.pdf"))
    assert p.returncode == 0, p.stderr.decode()
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")
