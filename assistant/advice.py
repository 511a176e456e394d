"""The product's measures for a situation an owner asks about, found in the catalogue.

Hybrid search over the catalogue (dense vectors of each measure's text, and BM25 over its
Sudachi terms), the same fusion as clause retrieval. A question that names nothing concrete
("where do we start?") gets the first steps of every plan: the organisation basics, cheapest
first. Everything here is product advice and is labelled so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .guard import is_english
from .scoring import fuse
from .tokens import Tokenizer
from .triage.catalogue import ORG_TOPICS, Catalogue, Measure
from .triage.flow import forms_in

ADVICE_LABEL = "製品の助言"


@dataclass(frozen=True)
class AdvicePolicy:
    """Thresholds for catalogue advice (set on eval/cases; never on the held-out set)."""

    dense_weight: float = 0.6
    count: int = 3  # measures shown for one question
    # A question that names nothing the catalogue knows (low best BM25) and is close to no
    # measure in meaning (low best cosine) gets the first steps instead of a forced match.
    generic_bm25: float = 3.5
    generic_dense: float = 0.875
    # An English question sits further from every measure in meaning (the catalogue is Japanese, with
    # an English summary per measure): the same test, at the level English questions reach.
    generic_dense_english: float = 0.85
    keep_ratio: float = 0.75  # measures scoring under this share of the best are not shown
    # A question that names the form of its information (「メールで」: electronic data) is not about a
    # measure for other forms only (FAX and post are for paper): such a measure keeps this share.
    other_form_share: float = 0.7


@dataclass(frozen=True)
class Advice:
    measure_id: str
    title: str
    cost_tier: str
    effort: str
    keys: tuple[str, ...]  # what it covers (org topics, controls, situations), for the eval
    label: str = ADVICE_LABEL

    def to_json(self) -> dict:
        return {"measure_id": self.measure_id, "title": self.title, "cost_tier": self.cost_tier, "label": self.label}


def _advice(m: Measure) -> Advice:
    return Advice(m.id, m.title, m.cost_tier, m.effort, m.keys)


class Advisor:
    def __init__(self, catalogue: Catalogue, vectors: np.ndarray, embedder, tokenizer: Tokenizer, policy: AdvicePolicy | None = None):
        import bm25s

        self.catalogue = catalogue
        self.embedder = embedder
        self.tokenizer = tokenizer
        self.policy = policy or AdvicePolicy()
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        self._matrix = vectors / np.where(norms == 0, 1, norms)
        self._ids = [m.id for m in catalogue.measures]
        self._bm25 = bm25s.BM25()
        self._bm25.index([tokenizer.terms(f"{m.text} {m.en}") for m in catalogue.measures], show_progress=False)

    @staticmethod
    def texts(catalogue: Catalogue) -> list[str]:
        """Each measure's Japanese text, then its English summary: a measure is as close to a question
        as the nearer of the two, so an English question finds what its Japanese twin finds."""
        return [m.text for m in catalogue.measures] + [m.en or m.text for m in catalogue.measures]

    def one(self, measure_id: str) -> Advice:
        return _advice(self.catalogue[measure_id])

    def first_steps(self) -> list[Advice]:
        """Where every first plan starts: the organisation basics in their order (who is responsible,
        the list of what to protect, rules and pledges…), the cheapest measure for each."""
        chosen: list[Measure] = []
        for topic in ORG_TOPICS:
            if len(chosen) == self.policy.count or any(topic in m.org for m in chosen):
                continue
            options = [m for m in self.catalogue.measures if m.group == "organisation" and topic in m.org]
            if options:
                chosen.append(min(options, key=lambda m: (m.cost_key, -len(m.org), m.id)))
        return [_advice(m) for m in chosen]

    def _dense(self, question: str) -> dict[str, float]:
        q = np.asarray(self.embedder.embed_query(question), dtype=np.float32)
        scores = self._matrix @ (q / (np.linalg.norm(q) or 1.0))
        n = len(self._ids)
        if len(scores) == 2 * n:  # Japanese text and English summary per measure (texts)
            scores = np.maximum(scores[:n], scores[n:])
        return dict(zip(self._ids, scores.tolist()))

    def closeness(self, question: str) -> float:
        """How close the nearest measure is in meaning (is the question about protecting information at all?)."""
        return max(self._dense(question).values(), default=0.0)

    def advise(self, question: str) -> list[Advice]:
        dense = self._dense(question)
        terms = self.tokenizer.terms(question)
        raw = self._bm25.get_scores(terms) if terms else np.zeros(len(self._ids))
        bm25 = dict(zip(self._ids, map(float, raw)))
        p = self.policy
        generic_dense = p.generic_dense_english if is_english(question) else p.generic_dense
        if max(bm25.values(), default=0.0) < p.generic_bm25 and max(dense.values(), default=0.0) < generic_dense:
            return self.first_steps()
        fused = fuse(dense, bm25, self.policy.dense_weight, self._ids)
        named = set(forms_in(question))
        if named:
            for m in self.catalogue.measures:
                forms = {f for f, _ in m.controls}
                if forms and not forms & named:
                    fused[m.id] *= p.other_form_share
        ranked = sorted(self._ids, key=lambda mid: -fused[mid])
        best = fused[ranked[0]] or 1.0
        chosen = [mid for mid in ranked[: self.policy.count] if fused[mid] >= self.policy.keep_ratio * best]
        return [_advice(self.catalogue[mid]) for mid in chosen]


def lead(measures: list[Measure], english: bool = False) -> str | None:
    """An action answer's first sentences, built for this question: the best-ranked measure and what
    doing it means, then the next one by name (product advice; the caller labels it as such)."""
    from .texts import text

    if not measures:
        return None
    first = measures[0]
    out = text("lead.action", english, title=first.title, what=first.what)
    if len(measures) > 1:
        out += text("lead.action_next", english, title=measures[1].title)
    return out
