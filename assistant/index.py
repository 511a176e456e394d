"""Search index versions: dense vectors in chroma, BM25 over Sudachi terms, one writer.

Chroma is the store (and, in a cluster, the server every replica reads); a reader reads a
version's vectors once when it opens it and scores each question in memory by one matrix
product, so a question costs no round trip and no query over every entry.

Layout under ``Config.index_dir`` (inside the shared directory every replica sees):
- ``versions/<vid>.json``: what one index version holds (corpus version, embedder, entries);
- ``CURRENT``: the live version's id, replaced atomically when a new version is published;
- ``chroma-<vid>/``: that version's vectors (embedded chroma), or collection ``tics-<vid>`` in
  a Chroma server (``ASSISTANT_CHROMA_URL``);
- ``vectors-<embedder>.npz``: every vector computed so far, by content hash, so a rebuild
  embeds only what changed.

One writer at a time (a file lock) builds a new version beside the live one and then switches
``CURRENT``. A version is never changed after it is published, so a reader never sees half an
index; readers pick up a new version by reading ``CURRENT`` (live.py). BM25 is rebuilt in
memory by each reader from the same corpus.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterator, Literal

import numpy as np

from .clauses import Clause
from .config import Config
from .corpus import Corpus
from .tokens import Tokenizer

Notify = Callable[[str], None]
CURRENT = "CURRENT"
EMBED_BATCH = 8
GC_AFTER_S = 600  # older versions stay this long, for readers still finishing a request on them


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


QUESTION_ENTRY = "#q"  # entry ids of example questions: f"{clause id}#q{n}"


def entries(corpus: Corpus) -> list[tuple[str, str, str]]:
    """(entry id, clause id, text): each clause once as written, once per plain paraphrase and
    once per example question it answers.

    Paraphrases and questions are extra vectors pointing at the same clause, which bridge everyday
    wording and legal wording without quoting them. A clause scores the best of its text and
    paraphrase vectors; its example questions are scored apart (``Index.similarities``) and only
    help to rank, because a question is nearer to another question than to any legal text.
    """
    out = []
    for c in corpus.content_clauses():
        out.append((f"{c.id}#0", c.id, search_text(c, corpus)))
        for n, text in enumerate(corpus.plain(c.id), start=1):
            out.append((f"{c.id}#p{n}", c.id, text))
        for n, text in enumerate(corpus.questions(c.id), start=1):
            out.append((f"{c.id}{QUESTION_ENTRY}{n}", c.id, text))
    return out


def content_hash(embedder_id: str, text: str) -> str:
    return hashlib.sha256(f"{embedder_id}\n{text}".encode()).hexdigest()


def _slug(text: str) -> str:
    return re.sub(r"[^a-zA-Z0-9._-]", "-", text)[:60]


@dataclass
class BuildReport:
    embedded: int
    removed: int
    unchanged: int
    seconds: float
    version: str = ""
    rebuilt_reason: str | None = None


@dataclass(frozen=True)
class Version:
    vid: str
    corpus_version: str
    embedder: str
    ids: list[str]  # content clauses, in corpus order
    hashes: dict[str, str]  # entry id → content hash
    clause_of: dict[str, str]  # entry id → clause id
    created_at: float

    @classmethod
    def read(cls, path: Path) -> "Version":
        return cls(**json.loads(path.read_text(encoding="utf-8")))


# -- locking and the CURRENT pointer -------------------------------------------------------------
@contextmanager
def writer_lock(index_dir: Path) -> Iterator[None]:
    """One index writer at a time on this machine (the index job, a CLI add/remove, the admin upload)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def current_id(index_dir: Path) -> str | None:
    try:
        vid = (index_dir / CURRENT).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return vid if re.fullmatch(r"[0-9a-z-]{4,40}", vid) else None


def current_version(index_dir: Path) -> Version | None:
    vid = current_id(index_dir)
    if vid is None:
        return None
    try:
        return Version.read(index_dir / "versions" / f"{vid}.json")
    except (OSError, ValueError, TypeError):
        return None


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)  # atomic: a reader sees the old content or the new, never half


# -- where vectors live ---------------------------------------------------------------------------------
class EmbeddedStore:
    """Embedded chroma: one folder per version, written once by the writer, then only read."""

    def __init__(self, index_dir: Path):
        self.index_dir = index_dir

    def _path(self, vid: str) -> Path:
        return self.index_dir / f"chroma-{vid}"

    def _client(self, vid: str):
        import chromadb
        from chromadb.config import Settings

        return chromadb.PersistentClient(path=str(self._path(vid)), settings=Settings(anonymized_telemetry=False, allow_reset=False))

    def write(self, vid: str, ids: list[str], vectors: list[list[float]], metadatas: list[dict], documents: list[str]) -> None:
        collection = self._client(vid).create_collection("clauses", embedding_function=None, metadata={"hnsw:space": "cosine"})
        for i in range(0, len(ids), 256):
            collection.add(ids=ids[i : i + 256], embeddings=vectors[i : i + 256], metadatas=metadatas[i : i + 256], documents=documents[i : i + 256])
        self.release(vid)

    def open(self, vid: str):
        if not self._path(vid).is_dir():
            raise FileNotFoundError(self._path(vid))
        return self._client(vid).get_collection("clauses", embedding_function=None)

    def release(self, vid: str) -> None:
        """Drop chroma's in-process handle on a version folder (chroma caches one system per path)."""
        from chromadb.api.shared_system_client import SharedSystemClient

        path = str(self._path(vid))
        system = SharedSystemClient._identifier_to_system.pop(path, None)
        SharedSystemClient._identifier_to_refcount.pop(path, None)
        if system is not None:
            try:
                system.stop()
            except Exception:  # a broken store may fail to stop cleanly; it is being dropped anyway
                pass

    def drop(self, vid: str) -> None:
        self.release(vid)
        shutil.rmtree(self._path(vid), ignore_errors=True)

    def versions(self) -> list[str]:
        return [p.name.removeprefix("chroma-") for p in self.index_dir.glob("chroma-*") if p.is_dir()]


class ServerStore:
    """A Chroma server (``chroma run``): one collection per version, shared by every replica."""

    def __init__(self, url: str, token: str = ""):
        from urllib.parse import urlparse

        u = urlparse(url)
        self.host, self.port, self.ssl = u.hostname or "127.0.0.1", u.port or (443 if u.scheme == "https" else 8000), u.scheme == "https"
        self._headers = {"Authorization": f"Bearer {token}"} if token else None
        self._client_obj = None

    def _client(self):
        if self._client_obj is None:
            import chromadb
            from chromadb.config import Settings

            self._client_obj = chromadb.HttpClient(host=self.host, port=self.port, ssl=self.ssl, headers=self._headers, settings=Settings(anonymized_telemetry=False))
        return self._client_obj

    def write(self, vid: str, ids, vectors, metadatas, documents) -> None:
        collection = self._client().create_collection(f"tics-{vid}", embedding_function=None, metadata={"hnsw:space": "cosine"})
        for i in range(0, len(ids), 256):
            collection.add(ids=ids[i : i + 256], embeddings=vectors[i : i + 256], metadatas=metadatas[i : i + 256], documents=documents[i : i + 256])

    def open(self, vid: str):
        return self._client().get_collection(f"tics-{vid}", embedding_function=None)

    def release(self, vid: str) -> None:
        pass

    def drop(self, vid: str) -> None:
        try:
            self._client().delete_collection(f"tics-{vid}")
        except Exception:  # already gone
            pass

    def versions(self) -> list[str]:
        return [c.name.removeprefix("tics-") for c in self._client().list_collections() if c.name.startswith("tics-")]


def make_store(cfg: Config):
    return ServerStore(cfg.chroma_url, cfg.chroma_token) if cfg.chroma_url else EmbeddedStore(cfg.index_dir)


# -- the vector cache ---------------------------------------------------------------------------------------
def _cache_path(index_dir: Path, embedder_id: str) -> Path:
    return index_dir / f"vectors-{_slug(embedder_id)}.npz"


def read_vectors(index_dir: Path, embedder_id: str) -> dict[str, np.ndarray]:
    try:
        with np.load(_cache_path(index_dir, embedder_id), allow_pickle=False) as data:
            return dict(zip(data["hashes"].tolist(), data["vectors"]))
    except (OSError, ValueError, KeyError):
        return {}


def vectors_for(index_dir: Path, embedder, texts: list[str], write: bool, notify: Notify = _quiet, as_query: bool = False) -> np.ndarray:
    """Vectors for texts, from the cache where it has them. Passages by default; ``as_query`` for
    texts compared with questions as equals (labelled example utterances). Only a writer adds to
    the cache; a reader computes what is missing in memory (``assistant index`` fills it ahead)."""
    cache = read_vectors(index_dir, embedder.id)
    kind = "query" if as_query else "passage"
    hashes = [content_hash(f"{embedder.id}#{kind}" if as_query else embedder.id, t) for t in texts]
    missing = [i for i, h in enumerate(hashes) if h not in cache]
    batch_size = 64 if as_query else EMBED_BATCH
    embed = embedder.embed_queries if as_query else embedder.embed_documents
    for start in range(0, len(missing), batch_size):
        batch = missing[start : start + batch_size]
        for i, vector in zip(batch, embed([texts[i] for i in batch])):
            cache[hashes[i]] = np.asarray(vector, dtype=np.float32)
        notify(f"埋め込み {min(start + batch_size, len(missing))}/{len(missing)} 件")
    if missing and write:
        index_dir.mkdir(parents=True, exist_ok=True)
        keys = sorted(cache)
        tmp = index_dir / f".vectors.{os.getpid()}.tmp.npz"
        np.savez(tmp, hashes=np.array(keys), vectors=np.stack([cache[k] for k in keys]))
        tmp.replace(_cache_path(index_dir, embedder.id))
    dim = len(next(iter(cache.values()))) if cache else 0
    return np.stack([cache[h] for h in hashes]) if texts else np.zeros((0, dim), dtype=np.float32)


# -- the index a reader uses --------------------------------------------------------------------------------
@dataclass(frozen=True)
class EntryVectors:
    """One version's entry vectors in memory, read once when the version is opened: a question is
    scored by one matrix product instead of a query that asks the store for every entry."""

    matrix: np.ndarray  # (entries, dims), rows of unit length
    clause: np.ndarray  # the position (in Index.ids) of each row's clause
    example: np.ndarray  # True where the row is an example question (``#q``), not clause text

    @classmethod
    def from_store(cls, got: dict, ids: list[str]) -> "EntryVectors":
        order = {cid: n for n, cid in enumerate(ids)}
        rows = [(n, order[(m or {}).get("clause_id")]) for n, m in enumerate(got["metadatas"]) if (m or {}).get("clause_id") in order]
        matrix = np.asarray([got["embeddings"][n] for n, _ in rows], dtype=np.float32)
        matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
        return cls(matrix, np.asarray([c for _, c in rows], dtype=np.int64),
                   np.asarray([QUESTION_ENTRY in got["ids"][n] for n, _ in rows], dtype=bool))


class Index:
    """Read-only search over one published version."""

    def __init__(self, corpus: Corpus, embedder, tokenizer: Tokenizer, vectors: EntryVectors, bm25, ids: list[str], version: str = ""):
        self.corpus = corpus
        self.embedder = embedder
        self.tokenizer = tokenizer
        self._vectors = vectors
        self._bm25 = bm25
        self.ids = ids
        self.version = version
        self._order = {cid: n for n, cid in enumerate(ids)}

    def position(self, clause_id: str) -> int:
        return self._order.get(clause_id, len(self._order))

    def similarities(self, query: str) -> tuple[dict[str, float], dict[str, float]]:
        """(text, examples): per clause, the best cosine similarity of the question to the clause's
        text and paraphrases, and to the example questions it answers (-1 where it has none).

        The two stay apart because a question is nearer to another question than to any legal
        text: the thresholds on ``text`` (is the question close in meaning to what a clause says?)
        keep their meaning, and the examples only help to rank. One matrix product over the vectors
        read when the version was opened; a chat turn retrieves once (conversation.Routing)."""
        v = np.asarray(self.embedder.embed_query(query), dtype=np.float32)
        sims = self._vectors.matrix @ (v / max(float(np.linalg.norm(v)), 1e-12))  # cosine similarity, as the store's 1 - distance
        out = []
        for wanted in (~self._vectors.example, self._vectors.example):  # (clause text and paraphrases, example questions)
            best = np.full(len(self.ids), -1.0)
            np.maximum.at(best, self._vectors.clause[wanted], sims[wanted].astype(np.float64))
            out.append({cid: float(x) for cid, x in zip(self.ids, best)})
        return out[0], out[1]

    def bm25_scores(self, terms: list[str]) -> dict[str, float]:
        if not terms:
            return {cid: 0.0 for cid in self.ids}
        scores = self._bm25.get_scores(terms)
        return {cid: float(s) for cid, s in zip(self.ids, scores)}


def bm25_for(corpus: Corpus, tokenizer: Tokenizer):
    """BM25 over each clause's context path, text, paraphrases and example questions, built in memory (milliseconds)."""
    import bm25s

    retriever = bm25s.BM25()
    docs = [" ".join([search_text(c, corpus), *corpus.plain(c.id), *corpus.questions(c.id)]) for c in corpus.content_clauses()]
    retriever.index([tokenizer.terms(d) for d in docs], show_progress=False)
    return retriever


# -- writing a version ---------------------------------------------------------------------------------------------
def build_index(cfg: Config, corpus: Corpus, embedder, tokenizer: Tokenizer, notify: Notify = _quiet) -> BuildReport:
    """Publish an index version for the corpus (embedding only changed text); nothing when it is current."""
    with writer_lock(cfg.index_dir):
        return _build_locked(cfg, corpus, embedder, notify)


def _build_locked(cfg: Config, corpus: Corpus, embedder, notify: Notify, force: bool = False) -> BuildReport:
    start = time.perf_counter()
    index_dir = cfg.index_dir
    rows = entries(corpus)
    wanted = {eid: content_hash(embedder.id, text) for eid, _, text in rows}
    cached = read_vectors(index_dir, embedder.id)
    todo = sum(1 for h in wanted.values() if h not in cached)
    vectors = vectors_for(index_dir, embedder, [text for _, _, text in rows], True, notify)
    live = current_version(index_dir)
    store = make_store(cfg)
    if not force and live and live.embedder == embedder.id and live.corpus_version == corpus.version and live.hashes == wanted:
        return BuildReport(todo, 0, len(rows) - todo, time.perf_counter() - start, live.vid)
    vid = f"{int(time.time() * 1000):x}-{hashlib.sha256((corpus.version + embedder.id).encode()).hexdigest()[:6]}"
    store.write(vid, [eid for eid, _, _ in rows], vectors.tolist(), [{"hash": wanted[eid], "clause_id": cid} for eid, cid, _ in rows],
                [text for _, _, text in rows])
    version = Version(vid, corpus.version, embedder.id, [c.id for c in corpus.content_clauses()], wanted,
                      {eid: cid for eid, cid, _ in rows}, time.time())
    (index_dir / "versions").mkdir(parents=True, exist_ok=True)
    _atomic_write(index_dir / "versions" / f"{vid}.json", json.dumps(asdict(version), ensure_ascii=False))
    _atomic_write(index_dir / CURRENT, vid)  # the switch: readers move to the new version
    removed = len(set(live.hashes) - set(wanted)) if live else 0
    collect_garbage(cfg, store, keep={vid, live.vid if live else ""})
    notify(f"索引の版 {vid} を公開しました")
    return BuildReport(todo, removed, len(rows) - todo, time.perf_counter() - start, vid)


def collect_garbage(cfg: Config, store, keep: set[str]) -> None:
    """Drop versions that are neither live nor just replaced, once readers have had time to move on."""
    versions_dir = cfg.index_dir / "versions"
    now = time.time()
    for path in versions_dir.glob("*.json") if versions_dir.exists() else []:
        vid = path.stem
        if vid in keep or now - path.stat().st_mtime < GC_AFTER_S:
            continue
        store.drop(vid)
        path.unlink(missing_ok=True)
    known = {p.stem for p in versions_dir.glob("*.json")} if versions_dir.exists() else set()
    for vid in store.versions():
        if vid not in known and vid not in keep:
            store.drop(vid)  # written by a writer that died before publishing


# -- opening the live version --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OpenProblem:
    """Why the live version cannot be used as it is. ``damaged``: its files cannot be trusted, so the
    rebuild drops the version instead of reusing what it holds (the other kinds only need new entries)."""

    kind: Literal["missing", "embedder", "stale", "damaged"]
    text: str  # in Japanese, for the operator

    def __str__(self) -> str:
        return self.text


def _try_open(cfg: Config, corpus: Corpus, embedder, tokenizer: Tokenizer) -> tuple[Index | None, OpenProblem | None]:
    """Open the live version for this corpus, or say why it cannot be used as it is."""
    live = current_version(cfg.index_dir)
    if live is None:
        return None, OpenProblem("missing", "索引がまだないか、状態ファイルが読めません")
    if live.embedder != embedder.id:
        return None, OpenProblem("embedder", f"埋め込みモデルが変わりました（{live.embedder} → {embedder.id}）")
    wanted = {eid: content_hash(embedder.id, text) for eid, _, text in entries(corpus)}
    if live.corpus_version != corpus.version or live.hashes != wanted:
        return None, OpenProblem("stale", "文書の内容が索引作成時から変わりました")
    try:
        collection = make_store(cfg).open(live.vid)
        got = collection.get(include=["metadatas", "embeddings"])  # read once: questions are scored in memory
        hashes = {eid: (m or {}).get("hash") for eid, m in zip(got["ids"], got["metadatas"])}
        if hashes != live.hashes:
            return None, OpenProblem("damaged", "ベクトル索引の内容が状態ファイルと一致しません（破損の可能性）")
        vectors = EntryVectors.from_store(got, live.ids)
    except Exception as exc:  # chroma raises many kinds on damaged files or an unreachable server
        return None, OpenProblem("damaged", f"索引ファイルを読めません（破損の可能性: {type(exc).__name__}）")
    return Index(corpus, embedder, tokenizer, vectors, bm25_for(corpus, tokenizer), live.ids, live.vid), None


def open_index(cfg: Config, corpus: Corpus, embedder, tokenizer: Tokenizer, notify: Notify = _quiet, repair: bool = True) -> Index:
    """Open the live version; with ``repair`` (the embedded default, where this process may write),
    build a new version first when it is missing, stale or damaged."""
    index, problem = _try_open(cfg, corpus, embedder, tokenizer)
    if index is not None:
        return index
    if not repair:
        raise IndexUnavailable(f"{problem}。索引の作成（assistant index）が終わるまでお待ちください。")
    with writer_lock(cfg.index_dir):
        index, problem = _try_open(cfg, corpus, embedder, tokenizer)  # another process may have fixed it
        if index is not None:
            return index
        notify(f"{problem}。索引を作り直します…")
        damaged = problem is not None and problem.kind == "damaged"
        if damaged:
            live = current_id(cfg.index_dir)
            if live:
                make_store(cfg).drop(live)  # a damaged version cannot be trusted: write a fresh one
        report = _build_locked(cfg, corpus, embedder, notify, force=damaged)
        notify(f"索引を作成しました（埋め込み {report.embedded} 件、{report.seconds:.1f} 秒）")
    index, problem = _try_open(cfg, corpus, embedder, tokenizer)
    if index is None:
        raise IndexUnavailable(f"索引を作り直しても開けません: {problem}。{cfg.index_dir} を削除して再実行してください。")
    return index
