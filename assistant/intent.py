"""What a chat turn is: a typed decision over five labels, made from the nearest labelled examples.

The examples (corpus/intents/examples.jsonl, product data) are embedded once; a question is
compared with all of them and the labels of its nearest neighbours vote, weighted by
similarity. A few structural cues (an instruction to the assistant, a named clause, a question
about a particular case's legality) decide before the vote. ``route`` is the pure function
that turns the votes and cues into the label; its thresholds are an ``IntentPolicy``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from .config import SHIPPED_CORPUS

Intent = Literal["documents", "action", "triage", "out_of_scope", "misuse"]
INTENTS: tuple[Intent, ...] = ("documents", "action", "triage", "out_of_scope", "misuse")
EXAMPLES = SHIPPED_CORPUS / "intents" / "examples.jsonl"


class IntentDataError(ValueError):
    pass


@dataclass(frozen=True)
class IntentPolicy:
    """Thresholds of the decision (set on eval/cases; the held-out set is never used to set them)."""

    k: int = 5  # neighbours that vote
    sharpness: float = 100.0  # a vote's weight is exp(sharpness × (similarity − best)): nearer examples count far more
    # Strong evidence that the documents answer the question (a clause close in meaning, and the
    # question in the documents' own vocabulary) outweighs a vote for action, triage or out of scope.
    documents_dense: float = 0.85
    documents_vocabulary: float = 0.6
    followup_share: float = 0.8  # a follow-up keeps the previous turn's label unless the vote is this clear
    # An action question is about protecting information: the documents know some of its terms, or
    # some measure of the catalogue is close to it. Otherwise it is outside what the product covers.
    action_vocabulary: float = 0.25
    action_catalogue_dense: float = 0.85


@dataclass(frozen=True)
class Evidence:
    """How well the loaded documents answer the question, from retrieval (answer.py's signals)."""

    dense: float = 0.0  # best cosine similarity of a clause
    vocabulary: float = 0.0  # share of the question's key terms the documents know
    asks: str | None = None  # the kind of fact asked for (asks.py): amount, period, names…
    catalogue: float = 1.0  # best cosine similarity of a measure of the product's catalogue

    def strong(self, policy: "IntentPolicy") -> bool:
        return self.dense >= policy.documents_dense and self.vocabulary >= policy.documents_vocabulary


@dataclass(frozen=True)
class Cues:
    """Structural signals read from the question itself (guard.py, retrieve.py)."""

    instruction: bool = False  # tells the assistant to change how it answers
    legal_judgement: bool = False  # asks for a ruling on a particular case
    clause_reference: bool = False  # names a clause (「第4の2の一」)
    followup: bool = False  # continues the previous turn (それ、その中で…, or very short)
    previous: Intent | None = None


@dataclass(frozen=True)
class IntentDecision:
    intent: Intent
    votes: dict[str, float] = field(default_factory=dict)  # share of the vote per label
    cue: str | None = None  # the cue that decided, when one did
    neighbours: tuple[tuple[str, str, float], ...] = ()  # (text, label, similarity)


def route(votes: dict[str, float], cues: Cues, evidence: Evidence, policy: IntentPolicy) -> tuple[Intent, str | None]:
    """The label for a turn: cues first, then the vote, weighed against the documents' evidence (a pure function)."""
    if cues.instruction:
        return "misuse", "instruction"
    if cues.legal_judgement:
        return "out_of_scope", "legal_judgement"
    if cues.clause_reference:
        return "documents", "clause_reference"
    best, share = max(votes.items(), key=lambda kv: kv[1])
    if best in ("action", "triage") and evidence.strong(policy):
        return "documents", "evidence"
    if best == "out_of_scope" and evidence.asks is None and evidence.strong(policy):
        return "documents", "evidence"
    if cues.followup and cues.previous in ("documents", "action") and best not in ("misuse", cues.previous) and share < policy.followup_share:
        return cues.previous, "followup"
    if best == "action" and evidence.vocabulary < policy.action_vocabulary and evidence.catalogue < policy.action_catalogue_dense:
        return "out_of_scope", "off_topic"
    return best, None  # type: ignore[return-value]


def load_examples(path: Path = EXAMPLES) -> list[tuple[str, Intent]]:
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise IntentDataError(f"{path}:{n}: JSON として読めません（{exc}）") from exc
        if row.get("intent") not in INTENTS or not isinstance(row.get("text"), str) or not row["text"].strip():
            raise IntentDataError(f"{path}:{n}: text と intent（{', '.join(INTENTS)}）が必要です")
        out.append((row["text"].strip(), row["intent"]))
    return out


class IntentClassifier:
    """Nearest labelled examples in the embedder's space."""

    def __init__(self, examples: list[tuple[str, Intent]], vectors: np.ndarray, embedder, policy: IntentPolicy | None = None):
        self.examples = examples
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        self._matrix = vectors / np.where(norms == 0, 1, norms)
        self._labels = np.array([INTENTS.index(label) for _, label in examples])
        self.embedder = embedder
        self.policy = policy or IntentPolicy()

    def votes(self, question: str) -> tuple[dict[str, float], tuple[tuple[str, str, float], ...]]:
        q = np.asarray(self.embedder.embed_query(question), dtype=np.float32)
        q = q / (np.linalg.norm(q) or 1.0)
        sims = self._matrix @ q
        k = min(self.policy.k, len(sims))
        top = np.argpartition(-sims, k - 1)[:k]
        top = top[np.argsort(-sims[top])]
        weights = np.exp(self.policy.sharpness * (sims[top] - sims[top[0]]))
        totals = np.zeros(len(INTENTS))
        np.add.at(totals, self._labels[top], weights)
        totals /= totals.sum()
        neighbours = tuple((self.examples[i][0], self.examples[i][1], round(float(sims[i]), 4)) for i in top)
        return {label: float(totals[n]) for n, label in enumerate(INTENTS)}, neighbours

    def classify(self, question: str, cues: Cues = Cues(), evidence: Evidence = Evidence()) -> IntentDecision:
        votes, neighbours = self.votes(question)
        intent, cue = route(votes, cues, evidence, self.policy)
        return IntentDecision(intent, votes, cue, neighbours)
