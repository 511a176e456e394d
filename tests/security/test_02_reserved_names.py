"""#2: an upload named like the shipped guideline (or "..") replaced it, and answers introduced
another document's text with 「指針には次のとおり…」."""

import pytest

from assistant.config import Config
from assistant.corpus import load_corpus
from assistant.ingest import IngestError, add_document, stage_document
from helpers import FIXTURE


@pytest.mark.parametrize("name, message", [("指針", "同梱の文書の名前"), ("..", "記号"), ("a/b", "記号"), ("基 準", "記号"), ("", "短い名前")])
def test_shipped_and_unsafe_names_are_refused(tmp_path, name, message):
    cfg = Config(home=tmp_path)
    with pytest.raises(IngestError, match=message):
        stage_document(cfg, FIXTURE, name)
    assert load_corpus(cfg.corpus_dirs).docs["指針"].manifest.version.startswith("seed")


def test_answers_name_the_document_they_quote(tmp_path, assistant):
    from assistant.runtime import open_assistant

    cfg = Config(home=tmp_path)
    add_document(cfg, FIXTURE, "基準", version="fx1")
    a = open_assistant(cfg).ask("基準Ⅲの第二には何と書いてある？")
    assert a.citations[0].doc == "基準" and "指針には" not in a.answer and "（基準）には次のとおり" in a.answer
