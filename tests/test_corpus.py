"""Manifests: a document that changed without a manifest update is refused."""

import json

import pytest

from assistant.corpus import CorpusError, load_corpus


def test_shipped_manifest_verifies(corpus):
    m = corpus.docs["指針"].manifest
    assert (m.doc, m.kind) == ("指針", "official")
    assert corpus.version.startswith("指針@")


def test_changed_text_is_refused(corpus_copy):
    text = corpus_copy / "guideline" / "shishin.txt"
    text.write_text(text.read_text(encoding="utf-8").replace("主務省", "主務庁", 1), encoding="utf-8")
    with pytest.raises(CorpusError, match="マニフェストと一致しません"):
        load_corpus([corpus_copy])


def test_missing_text_is_refused(corpus_copy):
    (corpus_copy / "guideline" / "shishin.txt").unlink()
    with pytest.raises(CorpusError, match="見つかりません"):
        load_corpus([corpus_copy])


@pytest.mark.parametrize("name", ["plain.json", "questions.json"])
def test_search_aid_file_with_unknown_clause_is_refused(corpus_copy, name):
    path = corpus_copy / "guideline" / name
    data = json.loads(path.read_text(encoding="utf-8"))
    data["clauses"]["指針第9の9"] = ["存在しない条項"]
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CorpusError, match="指針第9の9"):
        load_corpus([corpus_copy])


def test_example_questions_are_product_data_never_quoted(corpus):
    """questions.json: every content clause of the guideline has questions it answers, in users' words."""
    for c in corpus.content_clauses():
        qs = corpus.questions(c.id)
        assert len(qs) >= 5, c.id
        assert all(q not in c.text for q in qs)  # questions, not excerpts of the official text
    from assistant.config import SHIPPED_CORPUS

    about = json.loads((SHIPPED_CORPUS / "guideline" / "questions.json").read_text(encoding="utf-8"))["_about"]
    assert "公式文書ではなく" in about
