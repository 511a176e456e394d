"""Persistent search index: a chroma collection (dense) and a BM25 index (Sudachi terms).

The index lives under ``Config.index_dir``. ``state.json`` records what was built
(corpus version, embedder, per-clause content hashes) so a rebuild touches only
changed clauses, and so a damaged or stale index is noticed when it is opened.
Only one process builds at a time (a file lock); readers never write.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import re
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from .clauses import Clause
from .config import Config
from .corpus import Corpus
from .tokens import Tokenizer

Notify = Callable[[str], None]
STATE_FILE = "state.json"
EMBED_BATCH = 8


class IndexUnavailable(Exception):
    """The index cannot be opened or built; the message is Japanese."""


def _quiet(_: str) -> None:
    pass


def context_path(clause: Clause, corpus: Corpus) -> list[str]:
    """Ancestors in full (a sub-item's lead text says who must act), then the clause."""
    chain = []
    parent = corpus.resolve(clause.parent) if clause.parent else None
    while parent is not None:
        chain.append(f"{parent.label} {parent.text}")
        parent = corpus.resolve(parent.parent) if parent.parent else None
    return list(reversed(chain))


def search_text(clause: Clause, corpus: Corpus) -> str:
    """What is embedded and BM25-indexed for a clause: its context path and its text."""
    return " › ".join(context_path(clause, corpus) + [clause.text])


def entries(corpus: Corpus) -> list[tuple[str, str, str]]:
    """(entry id, clause id, text): each clause once as written, once per plain paraphrase.

    Paraphrases are extra vectors pointing at the same clause; a clause scores the best of
    its vectors, which bridges everyday wording and legal wording without quoting them.
    """
    out = []
    for c in corpus.content_clauses():
        out.append((f"{c.id}#0", c.id, search_text(c, corpus)))
        for n, text in enumerate(corpus.plain(c.id), start=1):
            out.append((f"{c.id}#p{n}", c.id, text))
    return out


def _content_hash(embedder_id: str, text: str) -> str:
    return hashlib.sha256(f"{embedder_id}\n{text}".encode()).hexdigest()


def collection_name(embedder_id: str) -> str:
    return "clauses-" + re.sub(r"[^a-zA-Z0-9._-]", "-", embedder_id)[:60]


@dataclass
class BuildReport:
    embedded: int
    removed: int
    unchanged: int
    seconds: float
    rebuilt_reason: str | None = None


@contextmanager
def _lock(index_dir: Path) -> Iterator[None]:
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _client(path: Path):
    import chromadb
    from chromadb.config import Settings

    return chromadb.PersistentClient(path=str(path), settings=Settings(anonymized_telemetry=False, allow_reset=False))


def _forget_client(path: Path) -> None:
    """Drop chroma's in-process handle on a store we are about to delete.

    chroma caches one system per directory; without this, a rebuild after deleting a damaged
    store would reuse the handle on the old (broken) database file.
    """
    from chromadb.api.shared_system_client import SharedSystemClient

    system = SharedSystemClient._identifier_to_system.pop(str(path), None)
    SharedSystemClient._identifier_to_refcount.pop(str(path), None)
    if system is not None:
        try:
            system.stop()
        except Exception:  # a broken store may fail to stop cleanly; it is being deleted anyway
            pass


class Index:
    """Read-only search over one corpus version."""

    def __init__(self, corpus: Corpus, embedder, tokenizer: Tokenizer, collection, bm25, ids: list[str], n_entries: int):
        self.corpus = corpus
        self.embedder = embedder
        self.tokenizer = tokenizer
        self._collection = collection
        self._bm25 = bm25
        self.ids = ids
        self._n_entries = n_entries

    def dense_scores(self, query: str) -> dict[str, float]:
        """Cosine similarity of the question to every clause (best of the clause's vectors)."""
        vector = self.embedder.embed_query(query)
        res = self._collection.query(
            query_embeddings=[vector], n_results=self._n_entries, include=["distances", "metadatas"]
        )
        scores = {cid: -1.0 for cid in self.ids}
        for meta, dist in zip(res["metadatas"][0], res["distances"][0]):
            cid = meta["clause_id"]
            scores[cid] = max(scores[cid], 1.0 - float(dist))
        return scores

    def bm25_scores(self, terms: list[str]) -> dict[str, float]:
        if not terms:
            return {cid: 0.0 for cid in self.ids}
        scores = self._bm25.get_scores(terms)
        return {cid: float(s) for cid, s in zip(self.ids, scores)}


def build_index(cfg: Config, corpus: Corpus, embedder, tokenizer: Tokenizer, notify: Notify = _quiet) -> BuildReport:
    """Bring the index up to date with the corpus; embeds only changed clauses."""
    with _lock(cfg.index_dir):
        return _build_locked(cfg, corpus, embedder, tokenizer, notify)


def _build_locked(cfg: Config, corpus: Corpus, embedder, tokenizer: Tokenizer, notify: Notify) -> BuildReport:
    import bm25s

    start = time.perf_counter()
    clauses = corpus.content_clauses()
    rows = entries(corpus)
    wanted = {eid: _content_hash(embedder.id, text) for eid, _, text in rows}
    client = _client(cfg.index_dir / "chroma")
    collection = client.get_or_create_collection(
        collection_name(embedder.id), embedding_function=None, metadata={"hnsw:space": "cosine", "embedder": embedder.id}
    )
    have = {}
    existing = collection.get(include=["metadatas"])
    for cid, meta in zip(existing["ids"], existing["metadatas"]):
        have[cid] = (meta or {}).get("hash")
    stale = [cid for cid in have if cid not in wanted]
    todo = [row for row in rows if have.get(row[0]) != wanted[row[0]]]
    if stale:
        collection.delete(ids=stale)
    for i in range(0, len(todo), EMBED_BATCH):
        batch = todo[i : i + EMBED_BATCH]
        vectors = embedder.embed_documents([text for _, _, text in batch])
        collection.upsert(
            ids=[eid for eid, _, _ in batch],
            embeddings=vectors,
            documents=[text for _, _, text in batch],
            metadatas=[{"hash": wanted[eid], "clause_id": cid} for eid, cid, _ in batch],
        )
        notify(f"埋め込み {min(i + EMBED_BATCH, len(todo))}/{len(todo)} 件")

    ids = [c.id for c in clauses]
    retriever = bm25s.BM25()
    bm25_docs = [" ".join([search_text(c, corpus), *corpus.plain(c.id)]) for c in clauses]
    retriever.index([tokenizer.terms(d) for d in bm25_docs], show_progress=False)
    bm25_dir = cfg.index_dir / "bm25"
    if bm25_dir.exists():
        shutil.rmtree(bm25_dir)
    retriever.save(str(bm25_dir), show_progress=False)
    state = {
        "corpus_version": corpus.version,
        "embedder": embedder.id,
        "collection": collection_name(embedder.id),
        "ids": ids,
        "hashes": wanted,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    tmp = cfg.index_dir / (STATE_FILE + ".tmp")
    tmp.write_text(json.dumps(state, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(cfg.index_dir / STATE_FILE)  # atomic: a reader never sees half a state
    return BuildReport(len(todo), len(stale), len(rows) - len(todo), time.perf_counter() - start)


def _read_state(index_dir: Path) -> dict | None:
    try:
        return json.loads((index_dir / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _try_open(cfg: Config, corpus: Corpus, embedder, tokenizer: Tokenizer) -> tuple[Index | None, str | None]:
    """Open the index, or say in Japanese why it cannot be used as it is."""
    import bm25s

    state = _read_state(cfg.index_dir)
    if state is None:
        return None, "索引がまだないか、状態ファイルが読めません"
    if state.get("embedder") != embedder.id:
        return None, f"埋め込みモデルが変わりました（{state.get('embedder')} → {embedder.id}）"
    wanted = {eid: _content_hash(embedder.id, text) for eid, _, text in entries(corpus)}
    if state.get("corpus_version") != corpus.version or state.get("hashes") != wanted:
        return None, "文書の内容が索引作成時から変わりました"
    ids = state["ids"]
    try:
        client = _client(cfg.index_dir / "chroma")
        collection = client.get_collection(state["collection"], embedding_function=None)
        got = collection.get(include=["metadatas"])
        hashes = {eid: (m or {}).get("hash") for eid, m in zip(got["ids"], got["metadatas"])}
        if hashes != state["hashes"]:
            return None, "ベクトル索引の内容が状態ファイルと一致しません（破損の可能性）"
        retriever = bm25s.BM25.load(str(cfg.index_dir / "bm25"), show_progress=False)
        if retriever.scores["num_docs"] != len(ids):
            return None, "BM25 索引の件数が一致しません（破損の可能性）"
    except Exception as exc:  # chroma and bm25s raise many kinds on damaged files
        return None, f"索引ファイルを読めません（破損の可能性: {type(exc).__name__}）"
    return Index(corpus, embedder, tokenizer, collection, retriever, ids, len(hashes)), None


def open_index(cfg: Config, corpus: Corpus, embedder, tokenizer: Tokenizer, notify: Notify = _quiet) -> Index:
    """Open the index; build or repair it first when it is missing, stale or damaged."""
    index, problem = _try_open(cfg, corpus, embedder, tokenizer)
    if index is not None:
        return index
    with _lock(cfg.index_dir):
        index, problem = _try_open(cfg, corpus, embedder, tokenizer)  # another process may have fixed it
        if index is not None:
            return index
        notify(f"{problem}。索引を作り直します…")
        if "破損" in (problem or ""):
            # A damaged store cannot be trusted for an incremental update: start it afresh.
            _forget_client(cfg.index_dir / "chroma")
            for part in ("chroma", "bm25", STATE_FILE):
                p = cfg.index_dir / part
                if p.is_dir():
                    shutil.rmtree(p, ignore_errors=True)
                elif p.exists():
                    p.unlink()
        report = _build_locked(cfg, corpus, embedder, tokenizer, notify)
        notify(f"索引を作成しました（埋め込み {report.embedded} 件、{report.seconds:.1f} 秒）")
    index, problem = _try_open(cfg, corpus, embedder, tokenizer)
    if index is None:
        raise IndexUnavailable(f"索引を作り直しても開けません: {problem}。{cfg.index_dir} を削除して再実行してください。")
    return index
