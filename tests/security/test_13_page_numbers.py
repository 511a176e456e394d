"""#13: ingest kept full-width page numbers such as 「－３－」, as separate clauses or inside a sentence."""

from assistant.config import Config
from assistant.corpus import load_corpus
from assistant.ingest import add_document
from helpers import FIXTURE


def test_full_width_page_numbers_are_removed(tmp_path):
    lines = FIXTURE.read_text(encoding="utf-8").splitlines()
    lines.insert(5, "－２－")  # a page number on a line of its own
    lines.insert(9, "　－ ３ －　")
    text = "\n".join(lines).replace("架空の台帳に記録すること。", "架空の台帳に記－４－録すること。")  # and one caught mid-sentence
    doc = tmp_path / "notice.txt"
    doc.write_text(text, encoding="utf-8")
    cfg = Config(home=tmp_path / "home")
    add_document(cfg, doc, "基準", version="pn")
    clauses = load_corpus(cfg.corpus_dirs).docs["基準"].clauses
    joined = "".join(c.text for c in clauses)
    assert "－" not in joined and "２－" not in joined and "３" not in joined.replace("第三", "")
    assert any("架空の台帳に記録すること。" in c.text for c in clauses)
    assert not any(c.text.strip("－ 　0123456789０１２３４５６７８９") == "" for c in clauses)
