"""Check a generated answer against the clauses it was given, before anyone sees it.

Rules: every cited clause ID must exist and be one of the clauses given to the model;
every 「quoted」 span must be verbatim in a clause the sentence cites; a sentence without a
citation is dropped. A fabricated quote or an unknown or ungiven clause ID rejects the
whole answer (the caller falls back to the extractive composer); so does an answer with
no supported sentence left.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .corpus import Corpus
from .textnorm import is_verbatim, nfkc

_CITE = re.compile(r"[\[［【]\s*([^\[\]［］【】]{2,40}?)\s*[\]］】]")  # [指針第4の2の一]
_QUOTE = re.compile(r"「([^「」]{4,})」")
_SENTENCE_END = re.compile(r"(?<=[。！？!?\n])")
REFUSAL_MARK = "答えられません"


@dataclass
class Verified:
    ok: bool
    text: str = ""
    cited: list[str] = field(default_factory=list)  # clause IDs, in order of first citation
    quotes: dict[str, str] = field(default_factory=dict)  # clause ID → a verbatim span from it
    dropped: list[tuple[str, str]] = field(default_factory=list)  # (sentence, why)
    reason: str | None = None  # why the whole answer was rejected
    refused: bool = False


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def verify(text: str, given: list[str], corpus: Corpus) -> Verified:
    text = (text or "").strip()
    if not text:
        return Verified(False, reason="モデルの出力が空でした")
    if REFUSAL_MARK in text and not _CITE.search(text):
        return Verified(True, text=text, refused=True)
    allowed = set(given)
    kept: list[str] = []
    out = Verified(False)
    for sentence in sentences(text):
        ids = [nfkc(m).replace(" ", "") for m in _CITE.findall(sentence)]
        if not ids:
            out.dropped.append((sentence, "出典の条項IDがない"))
            continue
        for cid in ids:
            clause = corpus.resolve(cid)
            if clause is None:
                return Verified(False, reason=f"存在しない条項ID {cid} を引用しました", dropped=out.dropped)
            if clause.id not in allowed:
                return Verified(False, reason=f"渡していない条項 {clause.id} を引用しました", dropped=out.dropped)
        resolved = [corpus.resolve(c).id for c in ids]
        for quote in _QUOTE.findall(sentence):
            home = next((c for c in resolved if is_verbatim(quote, corpus.resolve(c).text)), None)
            if home is None:
                return Verified(False, reason=f"原文にない引用「{quote[:30]}」がありました", dropped=out.dropped)
            out.quotes.setdefault(home, quote)
        for c in resolved:
            if c not in out.cited:
                out.cited.append(c)
        kept.append(sentence)
    if not kept:
        return Verified(False, reason="出典の付いた文が一つもありませんでした", dropped=out.dropped)
    out.ok = True
    out.text = "\n".join(kept)
    return out
