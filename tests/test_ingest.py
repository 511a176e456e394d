"""Adding operator-supplied documents, on a clearly fictional notice (text and a PDF made here)."""

import importlib.util
import json
from pathlib import Path

import pytest

from assistant.config import Config
from assistant.corpus import load_corpus
from assistant.ingest import MAX_FILE_BYTES, IngestError, add_document, remove_document
from assistant.minimum import MinimumSetError, minimum_set

FIXTURE = Path(__file__).parent / "fixtures" / "fictional_standard.txt"
EXPECTED_IDS = [
    "基準Ⅰ", "基準Ⅰの第一", "基準Ⅰの第二", "基準Ⅰの第三", "基準Ⅰの第四", "基準Ⅰの第四の一", "基準Ⅰの第四の二",
    "基準Ⅰの第五", "基準Ⅰの第五の一", "基準Ⅰの第五の二", "基準Ⅰの第六", "基準Ⅰの第六の一",
    "基準Ⅱ", "基準Ⅱの第一", "基準Ⅱの第二",
    "基準Ⅲ", "基準Ⅲの第一", "基準Ⅲの第二", "基準Ⅲの第二の（一）", "基準Ⅲの第二の（二）",
    "基準Ⅳ", "基準Ⅳの第一",
    "基準Ⅴ", "基準Ⅴの第一", "基準Ⅴの第一の①", "基準Ⅴの第一の①のイ",
]


def ipaex_font() -> Path:
    spec = importlib.util.find_spec("japanize_matplotlib")
    return Path(spec.submodule_search_locations[0]) / "fonts" / "ipaexg.ttf"


def make_pdf(path: Path, text: str) -> None:
    """A multi-page PDF with a running header, page numbers, narrow lines and a sentence cut by a page break."""
    from fpdf import FPDF

    pdf = FPDF(format=(148, 210))
    pdf.add_font("ipaex", fname=str(ipaex_font()))
    pdf.set_auto_page_break(False)
    lines = []
    for raw in text.splitlines():
        while len(raw) > 24:  # wrap like a printed page does
            lines.append(raw[:24])
            raw = raw[24:]
        if raw:
            lines.append(raw)
    per_page = 12
    for start in range(0, len(lines), per_page):
        pdf.add_page()
        pdf.set_font("ipaex", size=9)
        pdf.cell(0, 6, "架空措置基準（テスト用） 社外秘ではない架空資料", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("ipaex", size=11)
        for line in lines[start : start + per_page]:
            pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(-15)
        pdf.set_font("ipaex", size=9)
        pdf.cell(0, 6, f"- {start // per_page + 1} -", align="C")
    pdf.output(str(path))


@pytest.fixture()
def cfg(tmp_path) -> Config:
    return Config(home=tmp_path / "home")


def test_text_notice_is_read_back_exactly(cfg):
    report = add_document(cfg, FIXTURE, "基準", version="fx1")
    corpus = load_corpus(cfg.corpus_dirs)
    doc = corpus.docs["基準"]
    assert [c.id for c in doc.clauses] == EXPECTED_IDS
    assert corpus.resolve("基準Ⅱの柱書き").text == "架空の事業者は、態様にかかわらず、次に掲げる架空の共通措置を講ずること。"
    assert corpus.resolve("基準Ⅲの第二").is_lead
    assert report.forms == {"Ⅲ": ["電子データ"], "Ⅳ": ["書面"], "Ⅴ": ["物品"]}
    assert "条項の木" in report.text() and report.warnings == []
    stored = Path(report.folder)
    assert (stored / "original.txt").read_bytes() == FIXTURE.read_bytes()


def test_pdf_notice_recovers_every_clause_without_page_furniture(cfg, tmp_path):
    pdf = tmp_path / "notice.pdf"
    make_pdf(pdf, FIXTURE.read_text(encoding="utf-8"))
    add_document(cfg, pdf, "基準", version="pdf1")
    doc = load_corpus(cfg.corpus_dirs).docs["基準"]
    assert [c.id for c in doc.clauses] == EXPECTED_IDS
    by_id = {c.id: c for c in doc.clauses}
    assert by_id["基準Ⅲ"].text == "架空の事業者は、電子データとして保有する架空の情報について、次に掲げる措置を講ずること。"
    all_text = "".join(c.text for c in doc.clauses)
    assert "社外秘ではない架空資料" not in all_text and "- 2 -" not in all_text
    assert all(c.text.endswith("。") for c in doc.clauses if c.kind != "heading")


def test_minimum_set_for_each_combination_of_forms(cfg):
    add_document(cfg, FIXTURE, "基準", version="fx1")
    corpus = load_corpus(cfg.corpus_dirs)
    base = [("基準Ⅰの第一", "whole"), ("基準Ⅰの第二", "whole"), ("基準Ⅰの第三", "whole"),
            ("基準Ⅰの第四", "lead"), ("基準Ⅰの第五", "lead"), ("基準Ⅰの第六", "lead"), ("基準Ⅱ", "lead")]
    part = {"電子データ": "基準Ⅲ", "書面": "基準Ⅳ", "物品": "基準Ⅴ"}
    import itertools

    for n in range(0, 4):
        for forms in itertools.combinations(["電子データ", "書面", "物品"], n):
            result = minimum_set(corpus, "基準", list(forms))
            got = [(c["clause_id"], c["scope"]) for c in result.clauses]
            expected = base + [(part[f], "lead") for f in ["電子データ", "書面", "物品"] if f in forms]
            assert got == expected, forms
    js = minimum_set(corpus, "基準", ["電子データ"]).to_json()
    assert list(js) == ["doc", "version", "forms", "clauses"] and js["version"] == "fx1"
    assert js["clauses"][3]["text"] == "架空の事業者は、次に掲げる架空の教育を行うこと。"  # lead text only
    with pytest.raises(MinimumSetError, match="使える態様"):
        minimum_set(corpus, "基準", ["口頭"])


def test_minimum_set_without_the_standard_says_how_to_load_it(cfg):
    with pytest.raises(MinimumSetError, match="corpus add"):
        minimum_set(load_corpus(cfg.corpus_dirs), "基準", ["電子データ"])


def test_same_file_twice_changes_nothing_and_versions_coexist(cfg, tmp_path):
    add_document(cfg, FIXTURE, "基準", version="fx1")
    again = add_document(cfg, FIXTURE, "基準", version="other")
    assert again.unchanged
    changed = tmp_path / "v2.txt"
    changed.write_text(FIXTURE.read_text(encoding="utf-8").replace("年に一回見直す", "年に二回見直す"), encoding="utf-8")
    add_document(cfg, changed, "基準", version="fx2")
    corpus = load_corpus(cfg.corpus_dirs)
    # "other" was the same bytes as fx1, so it stored nothing; versions are listed in folder-name order (…-fx1 before …-fx2).
    assert [d.manifest.version for d in corpus.versions("基準")] == ["fx1", "fx2"]
    assert corpus.docs["基準"].manifest.version == "fx2"
    assert "二回" in corpus.resolve("基準Ⅰの第六の一").text
    assert "一回" in corpus.resolve_in("基準Ⅰの第六の一", "基準", "fx1").text  # old records still resolve
    assert remove_document(cfg, "基準", "fx2") == ["基準@fx2"]
    assert load_corpus(cfg.corpus_dirs).docs["基準"].manifest.version == "fx1"


def test_shift_jis_and_markdown(cfg, tmp_path):
    sj = tmp_path / "sjis.txt"
    sj.write_bytes(FIXTURE.read_text(encoding="utf-8").encode("cp932"))
    add_document(cfg, sj, "基準", version="sj")
    assert [c.id for c in load_corpus(cfg.corpus_dirs).docs["基準"].clauses] == EXPECTED_IDS
    md = tmp_path / "notice.md"
    md.write_text("# " + FIXTURE.read_text(encoding="utf-8").replace("\nⅡ ", "\n## Ⅱ "), encoding="utf-8")
    add_document(cfg, md, "架空", version="md")
    assert "架空Ⅱの第一" in load_corpus(cfg.corpus_dirs).by_id


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("empty.txt", b"", "空です"),
        ("garbled.txt", "架空措置基準\nⅠ 架空\n第一 ".encode() + "縺薙ｌ縺ｯ譁�ｭ怜喧縺代〒縺吶".encode("utf-8") * 20, "正しく読み取れない"),
        ("replacement.txt", ("Ⅰ 見出し\n第一 " + "\ufffd" * 50 + "。\n第二 本文。").encode(), r"U\+FFFD"),
        ("binary.txt", bytes(range(256)) * 10, "バイナリ"),
        ("fake.pdf", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "PDF ではない"),
        ("notes.docx", b"PK\x03\x04", "対応していない形式"),
        ("plain.txt", "ただの文章です。番号はありません。\n".encode() * 5, "条項の番号"),
    ],
)
def test_bad_files_are_refused_and_change_nothing(cfg, tmp_path, name, content, message):
    add_document(cfg, FIXTURE, "基準", version="fx1")
    before = sorted(p.name for p in cfg.documents_dir.iterdir())
    bad = tmp_path / name
    bad.write_bytes(content)
    with pytest.raises(IngestError, match=message):
        add_document(cfg, bad, "基準", version="bad")
    assert sorted(p.name for p in cfg.documents_dir.iterdir()) == before
    assert load_corpus(cfg.corpus_dirs).docs["基準"].manifest.version == "fx1"


def test_oversized_file_is_refused(cfg, tmp_path):
    big = tmp_path / "big.txt"
    with open(big, "wb") as fh:
        fh.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(IngestError, match="大きすぎます"):
        add_document(cfg, big, "基準")
    assert sorted(p.name for p in cfg.documents_dir.glob("*")) == []  # nothing stored, not even a staged folder


@pytest.mark.slow  # builds a real index
def test_answers_cite_the_added_document_verbatim(cfg):
    from assistant.runtime import open_assistant
    from assistant.textnorm import is_verbatim

    add_document(cfg, FIXTURE, "基準", version="fx1")
    a = open_assistant(cfg)
    for question, clause_id in [
        ("基準Ⅲの第二には何と書いてある？", "基準Ⅲの第二"),
        ("架空のパスワードはどう管理すればいい？", "基準Ⅲの第一"),
        ("書庫の施錠について教えて", "基準Ⅳの第一"),
    ]:
        ans = a.ask(question)
        assert not ans.refused and ans.citations[0].clause_id == clause_id, ans.answer
        for c in ans.citations:
            assert is_verbatim(c.quote, a.corpus.resolve(c.clause_id).text)
        assert "基準 fx1" in ans.answer  # the answer names the version it cites
    assert "基準@fx1" in a.corpus.version


@pytest.mark.slow  # builds a real index
def test_eval_harness_runs_on_a_corpus_with_an_added_document(cfg, tmp_path):
    import os
    import subprocess
    import sys

    from conftest import ROOT

    add_document(cfg, FIXTURE, "基準", version="fx1")
    cases = tmp_path / "fx.jsonl"
    rows = [
        {"id": "fx-1", "question": "架空の通信の暗号化について教えて", "gold_clauses": ["基準Ⅲの第二"], "must_include": ["暗号化"], "expect_refusal": False},
        {"id": "fx-2", "question": "基準Ⅳの第一は？", "gold_clauses": ["基準Ⅳの第一"], "must_include": ["書庫"], "expect_refusal": False},
        {"id": "fx-3", "question": "明日の天気は？", "gold_clauses": [], "must_include": [], "expect_refusal": True},
    ]
    cases.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    env = dict(os.environ, ASSISTANT_HOME=str(cfg.home))
    p = subprocess.run([sys.executable, "-m", "eval", "--cases", str(cases), "--no-gate", "--json", str(tmp_path / "r.json"), "--quiet"],
                       cwd=ROOT, env=env, capture_output=True, timeout=600)
    assert p.returncode == 0, p.stderr.decode()
    s = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["configs"]["hybrid"]["summary"]
    assert s["recall_at_1"] == 1.0 and s["quote_fidelity"] == 1.0 and s["correct_refusal_rate"] == 1.0
