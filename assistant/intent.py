"""What a chat turn is: a typed decision over five labels, made from the nearest labelled examples.

The examples (corpus/intents/examples.jsonl, product data) are embedded once; a question is
compared with all of them and the labels of its nearest neighbours vote, weighted by
similarity. A linear (softmax) model fitted on the same examples votes beside them: the
neighbours follow the wording of the nearest examples, the linear model the directions that
separate the labels overall, and new wording is usually caught by one of the two. A few
structural cues (an instruction to the assistant, a named clause, a question about a
particular case's legality) decide before the vote. ``route`` is the pure function
that turns the votes and cues into the label; its thresholds are an ``IntentPolicy``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from .config import SHIPPED_CORPUS
from .jsonl import read_jsonl

Intent = Literal["documents", "action", "triage", "out_of_scope", "misuse"]
INTENTS: tuple[Intent, ...] = ("documents", "action", "triage", "out_of_scope", "misuse")
EXAMPLES = SHIPPED_CORPUS / "intents" / "examples.jsonl"


class IntentDataError(ValueError):
    pass


@dataclass(frozen=True)
class IntentPolicy:
    """Thresholds of the decision (set on eval/cases and eval/guide, guide2, guide3; the held-out set is never used to set them)."""

    k: int = 5  # neighbours that vote
    linear_share: float = 0.5  # the linear model's share of the vote (the neighbours have the rest)
    linear_c: float = 16.0  # inverse strength of the linear model's L2 penalty (as scikit-learn's C)
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
    # ... unless the vote for action is this clear: an English question uses few of the Japanese documents' words.
    action_confident: float = 0.8
    # Refusing an honest question costs the owner more than one more look costs us: misuse must win at
    # least this share of the vote, else the next label decides (injection is caught by the cue above).
    misuse_share: float = 0.5
    # ... and both voters must see it: the neighbours alone follow a shared topic (a leaver, a customer's
    # drawings) and the linear model alone a shared direction; refusing takes each giving misuse this share.
    misuse_agreement: float = 0.35


@dataclass(frozen=True)
class Evidence:
    """How well the loaded documents answer the question, from retrieval (answer.py's signals)."""

    dense: float = 0.0  # best cosine similarity of a clause
    vocabulary: float = 0.0  # share of the question's key terms the documents know
    asks: str | None = None  # the kind of fact asked for (asks.py): amount, period, names…
    catalogue: float = 1.0  # best cosine similarity of a measure of the product's catalogue

    def strong(self, policy: IntentPolicy) -> bool:
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
    least: dict[str, float] = field(default_factory=dict)  # per label, the smaller share of the two voters


def route(votes: dict[str, float], cues: Cues, evidence: Evidence, policy: IntentPolicy,
          least: dict[str, float] | None = None) -> tuple[Intent, str | None]:
    """The label for a turn: cues first, then the vote, weighed against the documents' evidence (a pure function).
    ``least`` is, per label, the smaller share the two voters gave it (the blended vote when absent)."""
    if cues.instruction:
        return "misuse", "instruction"
    if cues.legal_judgement:
        return "out_of_scope", "legal_judgement"
    if cues.clause_reference:
        return "documents", "clause_reference"
    best, share = max(votes.items(), key=lambda kv: kv[1])
    least = least if least is not None else votes
    if best == "misuse" and (share < policy.misuse_share or least.get("misuse", 0.0) < policy.misuse_agreement):
        best, share = max(((k, v) for k, v in votes.items() if k != "misuse"), key=lambda kv: kv[1])
    if best in ("action", "triage") and evidence.strong(policy):
        return "documents", "evidence"
    if best == "out_of_scope" and evidence.asks is None and evidence.strong(policy):
        return "documents", "evidence"
    if cues.followup and cues.previous in ("documents", "action") and best not in ("misuse", cues.previous) and share < policy.followup_share:
        return cues.previous, "followup"
    if (best == "action" and share < policy.action_confident and evidence.vocabulary < policy.action_vocabulary
            and evidence.catalogue < policy.action_catalogue_dense):
        return "out_of_scope", "off_topic"
    return best, None  # type: ignore[return-value]


def load_examples(path: Path = EXAMPLES) -> list[tuple[str, Intent]]:
    out = []
    for where, row in read_jsonl(path, IntentDataError):
        if not isinstance(row, dict) or row.get("intent") not in INTENTS or not isinstance(row.get("text"), str) or not row["text"].strip():
            raise IntentDataError(f"{where}: text と intent（{', '.join(INTENTS)}）が必要です")
        out.append((row["text"].strip(), row["intent"]))
    return out


def fit_softmax(x: np.ndarray, labels: np.ndarray, classes: int, c: float) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression: minimise ½‖W‖² + c·Σ cross-entropy (bias unpenalised).
    Deterministic (L-BFGS from zeros), and fast enough to fit at start-up on a few hundred examples."""
    from scipy.optimize import minimize

    n, d = x.shape
    onehot = np.eye(classes)[labels]

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[: d * classes].reshape(d, classes), theta[d * classes:]
        z = x @ w + b
        z -= z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        p = np.exp(logp)
        # Divided by c·n (the same minimum) so that the stopping tolerance does not depend on n.
        value = (0.5 * float((w * w).sum()) / c - float((onehot * logp).sum())) / n
        g = (p - onehot) / n
        return value, np.concatenate([(x.T @ g + w / (c * n)).ravel(), g.sum(axis=0)])

    theta = minimize(loss, np.zeros(d * classes + classes), jac=True, method="L-BFGS-B",
                     options={"maxiter": 1000, "gtol": 1e-4}).x
    return theta[: d * classes].reshape(d, classes), theta[d * classes:]


def linear_model(x: np.ndarray, labels: np.ndarray, c: float, cache_dir: Path | None = None, write: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The fitted linear model, from a cache file keyed by its inputs (``assistant index`` writes it,
    so that a start-up reads it instead of fitting: about a second saved on two cores)."""
    import hashlib

    key = hashlib.sha256(np.ascontiguousarray(x, dtype=np.float32).tobytes() + labels.astype(np.int64).tobytes() + repr(c).encode()).hexdigest()[:16]
    path = cache_dir / f"intent-linear-{key}.npz" if cache_dir else None
    if path and path.exists():
        try:
            with np.load(path) as f:
                return f["w"], f["b"]
        except (OSError, ValueError, KeyError):
            pass  # damaged: fitted again below
    w, b = fit_softmax(x.astype(np.float64), labels, len(INTENTS), c)
    if path and write:
        cache_dir.mkdir(parents=True, exist_ok=True)
        for old in cache_dir.glob("intent-linear-*.npz"):
            old.unlink(missing_ok=True)
        tmp = cache_dir / f".intent-linear.{os.getpid()}.tmp.npz"
        np.savez(tmp, w=w, b=b)
        tmp.replace(path)
    return w, b


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


class IntentClassifier:
    """Nearest labelled examples in the embedder's space, and a linear model fitted on them."""

    def __init__(self, examples: list[tuple[str, Intent]], vectors: np.ndarray, embedder, policy: IntentPolicy | None = None,
                 cache_dir: Path | None = None, write_cache: bool = False):
        self.examples = examples
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        self._matrix = vectors / np.where(norms == 0, 1, norms)
        self._labels = np.array([INTENTS.index(label) for _, label in examples])
        self.embedder = embedder
        self.policy = policy or IntentPolicy()
        self._w, self._b = linear_model(self._matrix, self._labels, self.policy.linear_c, cache_dir, write_cache)

    def votes(self, question: str) -> tuple[dict[str, float], tuple[tuple[str, str, float], ...], dict[str, float]]:
        """(the blended vote, the nearest examples, per label the smaller share the two voters gave)."""
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
        share = self.policy.linear_share
        linear = softmax(q.astype(np.float64) @ self._w + self._b)
        least = np.minimum(totals, linear)
        totals = (1 - share) * totals + share * linear
        neighbours = tuple((self.examples[i][0], self.examples[i][1], round(float(sims[i]), 4)) for i in top)
        return ({label: float(totals[n]) for n, label in enumerate(INTENTS)}, neighbours,
                {label: float(least[n]) for n, label in enumerate(INTENTS)})

    def classify(self, question: str, cues: Cues = Cues(), evidence: Evidence = Evidence()) -> IntentDecision:
        votes, neighbours, least = self.votes(question)
        intent, cue = route(votes, cues, evidence, self.policy, least)
        return IntentDecision(intent, votes, cue, neighbours, least)
