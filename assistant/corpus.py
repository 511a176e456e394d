"""Documents, their manifests, and the clause lookup built from them."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from .clause_refs import LEAD_ALIAS, canonical_id
from .clauses import Clause, parse_document

PARSER_VERSION = "1"
PLAIN_FILE = "plain.json"
QUESTIONS_FILE = "questions.json"
# A term right before a parenthesis that ends in 「をいう。」 is being defined there.
_DEFINED = re.compile(r"(?<![一-龥ァ-ヶーの])の?([一-龥ァ-ヶー][一-龥ァ-ヶーの]{1,29})（[^（）]*(?:（[^（）]*）[^（）]*)*?をいう。")
# The last level of a clause ID: 「の2」「の第二」「（第2段落）」「の（一）」.
_LAST_LEVEL = re.compile(r"^(.+?)(の（[^（）]*）|（[^（）]*）|の[^の（）]+)$")
_NAMED = re.compile(r"以下(?:この指針の[^「]*において)?「([^「」]{2,40})」という")


class CorpusError(Exception):
    """A document cannot be used; the message is Japanese and says what to do."""


@dataclass(frozen=True)
class Manifest:
    doc: str  # short name used in clause IDs: 指針, 基準
    title: str
    kind: str  # official | advice
    source: str
    version: str
    sha256: str
    file: str
    date: str | None = None
    forms: dict[str, list[str]] = field(default_factory=dict)  # part → forms (態様), for notices
    original: str | None = None  # the operator's file name, kept beside the text
    original_sha256: str | None = None
    added_at: float = 0.0  # the newest version of a document is the one answers use

    @classmethod
    def read(cls, path: Path) -> "Manifest":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(**data)
        except (OSError, ValueError, TypeError) as exc:
            raise CorpusError(f"マニフェスト {path} を読めません: {exc}") from exc

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Document:
    manifest: Manifest
    title: str
    clauses: list[Clause]
    warnings: list[str]
    joins: list[tuple[str, str]]
    # Product-written plain-language paraphrases per clause (search aid, never quoted).
    plain: dict[str, list[str]] = field(default_factory=dict)
    # Product-written questions each clause answers, in users' words (search aid, never quoted).
    questions: dict[str, list[str]] = field(default_factory=dict)

    @property
    def doc(self) -> str:
        return self.manifest.doc


def load_document(manifest_path: Path) -> Document:
    """Read a document next to its manifest and refuse it if the text changed."""
    manifest = Manifest.read(manifest_path)
    text_path = manifest_path.parent / manifest.file
    try:
        data = text_path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"「{manifest.doc}」の本文ファイル {text_path} が見つかりません。") from exc
    digest = sha256_bytes(data)
    if digest != manifest.sha256:
        raise CorpusError(
            f"「{manifest.doc}」の本文がマニフェストと一致しません（sha256 {digest[:12]}… ≠ {manifest.sha256[:12]}…）。"
            f"本文を元に戻すか、内容を確認したうえでマニフェスト {manifest_path} の sha256 と version を更新してください。"
        )
    text = data.decode("utf-8")
    parsed = parse_document(manifest.doc, text)
    known = {c.id for c in parsed.clauses}
    plain = _read_search_aid(manifest_path.parent / PLAIN_FILE, known)
    questions = _read_search_aid(manifest_path.parent / QUESTIONS_FILE, known)
    return Document(manifest, parsed.title or manifest.title, parsed.clauses, parsed.warnings, parsed.joins, plain, questions)


def _read_search_aid(path: Path, known: set[str]) -> dict[str, list[str]]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))["clauses"]
    except (OSError, ValueError, KeyError) as exc:
        raise CorpusError(f"検索補助ファイル {path} を読めません: {exc}") from exc
    unknown = sorted(set(data) - known)
    if unknown:
        raise CorpusError(f"検索補助ファイル {path} に存在しない条項IDがあります: {', '.join(unknown)}")
    return data


class Corpus:
    """All loaded documents with clause lookup, alias resolution and ancestry.

    Several versions of one document may be loaded; answers use the newest (``active``),
    older ones stay resolvable for records that cited them.
    """

    def __init__(self, documents: list[Document]):
        if not documents:
            raise CorpusError("文書が一つも読み込まれていません。corpus/ を確認してください。")
        self.all_documents = documents
        newest: dict[str, Document] = {}
        for d in documents:
            if d.doc not in newest or d.manifest.added_at >= newest[d.doc].manifest.added_at:
                newest[d.doc] = d
        self.documents = [d for d in documents if newest[d.doc] is d]
        self.docs = {d.doc: d for d in self.documents}
        self.by_id: dict[str, Clause] = {c.id: c for d in self.documents for c in d.clauses}

    @property
    def definitions(self) -> dict[str, str]:
        """Defined term → the clause that defines it (「…（…をいう。）」, 「以下「…」という。」)."""
        if not hasattr(self, "_definitions"):
            found: dict[str, str] = {}
            for c in self.clauses():
                for m in _DEFINED.finditer(c.text):
                    found.setdefault(m.group(1), c.id)
                for m in _NAMED.finditer(c.text):
                    found.setdefault(m.group(1), c.id)
            self._definitions = found
        return self._definitions

    def versions(self, doc: str) -> list[Document]:
        return [d for d in self.all_documents if d.doc == doc]

    def resolve_in(self, clause_id: str, doc: str, version: str) -> Clause | None:
        """A clause as it stood in one version (for saved records that cited it)."""
        cid = canonical_id(clause_id).removesuffix(LEAD_ALIAS)
        for d in self.versions(doc):
            if d.manifest.version == version:
                return next((c for c in d.clauses if c.id == cid), None)
        return None

    @property
    def version(self) -> str:
        parts = [f"{d.doc}@{d.manifest.version}:{d.manifest.sha256[:8]}" for d in self.documents]
        return "+".join(parts) + f"/p{PARSER_VERSION}"

    def has_doc(self, doc: str) -> bool:
        return doc in self.docs

    def clauses(self) -> list[Clause]:
        return [c for d in self.documents for c in d.clauses]

    def content_clauses(self) -> list[Clause]:
        """Clauses that carry statements (headings are context, not evidence)."""
        return [c for c in self.clauses() if c.kind != "heading"]

    def resolve(self, clause_id: str) -> Clause | None:
        """Find a clause by ID, accepting the 柱書き alias and loose spelling."""
        cid = canonical_id(clause_id)
        if cid.endswith(LEAD_ALIAS):
            cid = cid[: -len(LEAD_ALIAS)]
        return self.by_id.get(cid)

    def exists(self, clause_id: str) -> bool:
        return self.resolve(clause_id) is not None

    def nearest(self, clause_id: str) -> list[str]:
        """The clauses nearest to an ID the documents lack: its closest existing ancestor and that one's
        items (the missing clause's would-be siblings), else the top-level parts of its document
        (of the guideline when the ID names no loaded document: 「第12条」)."""
        cid = canonical_id(clause_id).removesuffix(LEAD_ALIAS)
        doc = next((d for d in self.docs if cid.startswith(d)), "指針" if "指針" in self.docs else next(iter(self.docs)))
        path = cid
        while (m := _LAST_LEVEL.match(path)) and len(m.group(1)) > len(doc):
            path = m.group(1).removesuffix("の")
            found = self.by_id.get(path)
            if found is not None:
                return [found.id, *found.children]
        return [c.id for c in self.docs[doc].clauses if c.parent is None]

    def ancestors(self, clause_id: str) -> list[str]:
        out = []
        c = self.resolve(clause_id)
        while c is not None and c.parent:
            out.append(c.parent)
            c = self.by_id.get(c.parent)
        return out

    def descendants(self, clause_id: str) -> list[str]:
        c = self.resolve(clause_id)
        if c is None:
            return []
        out: list[str] = []
        for child in c.children:
            out.append(child)
            out.extend(self.descendants(child))
        return out

    def plain(self, clause_id: str) -> list[str]:
        c = self.resolve(clause_id)
        return self.docs[c.doc].plain.get(c.id, []) if c else []

    def questions(self, clause_id: str) -> list[str]:
        c = self.resolve(clause_id)
        return self.docs[c.doc].questions.get(c.id, []) if c else []


def satisfies(gold: str, cited: str) -> bool:
    """A gold ID is satisfied by itself or any descendant (pure string rule, shared by eval)."""
    g, c = canonical_id(gold), canonical_id(cited)
    if g.endswith(LEAD_ALIAS):
        g = g[: -len(LEAD_ALIAS)]
    if c.endswith(LEAD_ALIAS):
        c = c[: -len(LEAD_ALIAS)]
    return c == g or c.startswith(g + "の") or c.startswith(g + "（")


def load_corpus(dirs: list[Path]) -> Corpus:
    """Load every ``*/manifest.json`` below the given folders."""
    documents = []
    for base in dirs:
        if not base.exists():
            continue
        for manifest_path in sorted(base.glob("*/manifest.json")):
            if manifest_path.parent.name.endswith(".tmp"):
                continue  # an add that did not finish
            documents.append(load_document(manifest_path))
    return Corpus(documents)


