"""Question (+ history) → ranked clauses: explicit references first, then hybrid ranking."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from .asks import asks_meaning, is_asking
from .clause_refs import citations_in, clause_references, standard_references
from .config import RetrievalConfig
from .corpus import Corpus
from .index import Index
from .scoring import fuse
from .textnorm import nfkc

_FOLLOWUP = re.compile(
    r"(それ|その|これ|この(?!指針)|あれ|そこ|そちら|上記|前述|さっき|先ほど|同じ|他には|ほかには|誰が|だれが|\bit\b|\bthat\b|\bthose\b|\bthey\b|\bthem\b|\bthis\b)",
    re.IGNORECASE,
)
_EXCLUDING = re.compile(r"以外|ほかに|他に|他の|別の|other than|besides|apart from", re.IGNORECASE)


@dataclass
class Hit:
    clause_id: str
    score: float
    dense: float = 0.0
    bm25: float = 0.0
    explicit: bool = False


@dataclass
class Retrieval:
    question: str
    hits: list[Hit]
    explicit: list[str] = field(default_factory=list)  # clause IDs named in the question
    standard_refs: list[str] = field(default_factory=list)  # parts of 基準 named in the question
    followup: bool = False
    context_ids: list[str] = field(default_factory=list)  # clauses cited in the previous answer
    part_tops: list[str] = field(default_factory=list)  # best clause of each ask of a compound question
    missing: list[str] = field(default_factory=list)  # clause references the loaded documents do not have


def defined_term(question: str, corpus: Corpus) -> str | None:
    """The defined term a question asks the meaning of (the longest one it names), if any."""
    q = nfkc(question)
    if not asks_meaning(q):
        return None
    named = [t for t in corpus.definitions if t in q]
    return max(named, key=len) if named else None


def _last_answer_ids(history: list[dict], key: str, from_text: Callable[[str], list[str]]) -> list[str]:
    """IDs the last assistant turn holds under ``key`` (the page's turns are data), else the ones
    ``from_text`` reads in its text (a history file or a REST client sends text only)."""
    for turn in reversed(history or []):
        if turn.get("role") == "assistant":
            if isinstance(turn.get(key), list):
                return list(dict.fromkeys(str(x) for x in turn[key]))
            return list(dict.fromkeys(from_text(turn.get("content", ""))))
    return []


def cited_in(history: list[dict]) -> list[str]:
    """Clause IDs cited in the last assistant turn."""
    return _last_answer_ids(history, "citations", citations_in)


# The advice lines an answer writes (texts.json advice.item): 「・M41 …」, in English 「- M41 …」.
_PROPOSED = re.compile(r"(?m)^(?:・|- )(M\d{2,3}) ")


def proposed_in(history: list[dict]) -> list[str]:
    """Measure IDs the last assistant turn proposed."""
    return _last_answer_ids(history, "measures", _PROPOSED.findall)


def last_user_turn(history: list[dict]) -> str:
    for turn in reversed(history or []):
        if turn.get("role") == "user":
            return turn.get("content", "")
    return ""


def is_followup(question: str, history: list[dict]) -> bool:
    return bool(history) and (bool(_FOLLOWUP.search(question)) or len(question.strip()) <= 12)


def _identity(text: str) -> str:
    return text


def rank(index: Index, text: str, cfg: RetrievalConfig, expand: Callable[[str], str] = _identity) -> list[Hit]:
    """Rank every clause for one query text under the configured mode.

    The glossary expansion feeds BM25 only: the embedder already knows that 小さい会社 is
    close to 中小企業者, and a longer query costs embedding time without gaining accuracy.
    """
    dense, examples = index.similarities(text) if cfg.mode in ("dense", "hybrid") else ({}, {})
    bm25 = index.bm25_scores(index.tokenizer.terms(expand(text))) if cfg.mode in ("bm25", "hybrid") else {}
    # The example questions a clause answers rank it beside its own text: a share of its dense score is
    # the better of the text and the nearest example (examples_weight, tuned on eval/guide*, eval/cases).
    w = cfg.examples_weight
    ranked = {cid: (1 - w) * d + w * max(examples.get(cid, -1.0), d) for cid, d in dense.items()}
    if cfg.mode == "dense":
        fused = dict(ranked)
    elif cfg.mode == "bm25":
        fused = dict(bm25)
    else:
        fused = fuse(ranked, bm25, cfg.dense_weight, index.ids)
    hits = [Hit(cid, fused.get(cid, 0.0), dense.get(cid, 0.0), bm25.get(cid, 0.0)) for cid in index.ids]
    hits.sort(key=lambda h: (-h.score, index.position(h.clause_id)))
    return hits


_PART_SPLIT = re.compile(r"(?<=[？?。])|と、|あと、|また、|、それと|、それぞれ|\band also\b|;")
MIN_PART_CHARS = 8


def question_parts(question: str) -> list[str]:
    """The separate asks of a compound question (「Aと、Bについて教えて」), or [] for a simple one.
    Sentences that only set the scene (「社員15人の町工場です。」) are not asks: they stay in the
    whole question's ranking but get no ranking of their own."""
    pieces = [p.strip() for p in _PART_SPLIT.split(question) if p and p.strip()]
    sentences = [p for p in pieces if p[-1] in "？?。"]
    asks = [p for p in pieces if not (p[-1] in "。" and len(sentences) > 1 and not is_asking(p))]
    parts = [p.rstrip("？?。").strip() for p in asks]
    parts = [p for p in parts if len(p) >= MIN_PART_CHARS]
    return parts if len(parts) >= 2 else []


def drill_down(hits: list[Hit], corpus: Corpus, margin: float) -> None:
    """A lead text (「次に掲げる事項に取り組む」) first, with one of its items close behind: the item goes
    first. The item says what is done; its answer quotes the lead text too, and a question about
    the lead is answered by any of its items (eval: ancestors are satisfied by descendants)."""
    if not hits:
        return
    lead = corpus.resolve(hits[0].clause_id)
    if lead is None or not lead.is_lead:
        return
    items = [h for h in hits if h.clause_id in lead.children]
    if items and items[0].score >= hits[0].score - margin:
        items[0].score = hits[0].score + 1e-6
        hits.sort(key=lambda h: -h.score)


def retrieve(
    index: Index,
    question: str,
    cfg: RetrievalConfig,
    history: list[dict] | None = None,
    expand: Callable[[str], str] = _identity,
) -> Retrieval:
    """Rank clauses for a question; ``expand`` adds glossary terms to each query text."""
    history = history or []
    corpus = index.corpus
    hits = rank(index, question, cfg, expand)
    parts = question_parts(question)
    if parts:
        # Each ask of a compound question gets its own ranking; a clause keeps its best score,
        # so the second ask is not drowned by the first.
        by_id = {h.clause_id: h for h in hits}
        part_tops: list[str] = []
        for part in parts:
            ranked = rank(index, part, cfg, expand)
            if ranked[0].clause_id not in part_tops:
                part_tops.append(ranked[0].clause_id)
            for h in ranked:
                by_id[h.clause_id].score = max(by_id[h.clause_id].score, h.score)
        hits.sort(key=lambda h: -h.score)
    else:
        part_tops = []
    followup = bool(history)
    context_ids: list[str] = []
    if followup:
        # A question asked mid-conversation borrows the previous turn's topic: blend the
        # previous question's ranking and favour the section the previous answer cited.
        # Anaphora (それ, その中で…) makes the link certain; without it the pull is halved.
        weight = cfg.history_weight * (1.0 if is_followup(question, history) else 0.5)
        excluding = bool(_EXCLUDING.search(question))
        context_ids = [corpus.resolve(c).id for c in cited_in(history) if corpus.exists(c)]
        previous = last_user_turn(history)
        prev_scores = {h.clause_id: h.score for h in rank(index, previous, cfg, expand)} if previous else {}
        near: set[str] = set()
        for cid in context_ids:
            clause = corpus.resolve(cid)
            if clause.children:  # a lead text: the follow-up is about one of its items
                near.update([clause.id, *corpus.descendants(clause.id)])
            elif clause.parent:  # an item: the follow-up is about it or a sibling
                near.update(corpus.descendants(clause.parent))
        for h in hits:
            h.score += weight * prev_scores.get(h.clause_id, 0.0)
            if h.clause_id in near:
                h.score += weight
            if excluding and h.clause_id in context_ids:
                h.score -= 1.0  # 「ネット以外に」: the user has already seen this one
        hits.sort(key=lambda h: -h.score)
    drill_down(hits, corpus, cfg.drill_margin)
    defined = defined_term(question, corpus)
    if defined:
        # 「技術等情報って何？」: the clause that defines the term answers it.
        for h in hits:
            if h.clause_id == corpus.definitions[defined]:
                h.score += 1.0
        hits.sort(key=lambda h: -h.score)
    refs = clause_references(question, corpus) if cfg.explicit_refs else []
    explicit = [r.clause_id for r in refs if r.clause_id is not None]
    missing = [r.written for r in refs if r.clause_id is None]
    if explicit:
        pinned = []
        for cid in explicit:
            # A heading names a group: pin its content clauses in order.
            targets = [cid] if corpus.resolve(cid).kind != "heading" else corpus.descendants(cid)
            pinned.extend(t for t in targets if t in index.ids and t not in pinned)
        top = max((h.score for h in hits), default=0.0)
        by_id = {h.clause_id: h for h in hits}
        for n, cid in enumerate(pinned):
            by_id[cid].score = top + 1.0 + (len(pinned) - n) * 1e-3
            by_id[cid].explicit = True
        hits.sort(key=lambda h: -h.score)
    return Retrieval(question, hits, explicit, standard_references(question), followup, context_ids, part_tops, missing)
