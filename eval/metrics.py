"""Deterministic fidelity metrics: one pure function per metric, all on plain data.

Definitions (also in eval/README.md):
- A gold ID is satisfied by a clause ID equal to it or a descendant of it.
- Recall@k: gold IDs satisfied within the top k, divided by min(k, number of gold IDs)
  (capped recall, so a two-clause question can still score 1.0 at k=1).
- MRR: 1 / rank of the first retrieved clause that satisfies any gold ID.
- nDCG@5: binary gain, each gold ID counted once.
- Citation precision: cited clauses that satisfy a gold ID or are an ancestor of one
  (the lead text a sub-item needs) over all cited clauses; recall: gold IDs cited.
- Quote fidelity: quotes that are verbatim in their cited clause; a cited ID that does
  not exist is a hard failure.
"""

from __future__ import annotations

import math
from typing import Callable

from assistant.corpus import satisfies
from assistant.scoring import percentile  # noqa: F401 - one formula for every p95 (the harness reads it from here)
from assistant.textnorm import match_form, is_verbatim


def _satisfied(gold: list[str], ids: list[str]) -> set[str]:
    return {g for g in gold if any(satisfies(g, i) for i in ids)}


def recall_at(gold: list[str], ranked: list[str], k: int) -> float:
    if not gold:
        return 0.0
    return len(_satisfied(gold, ranked[:k])) / min(k, len(gold))


def mrr(gold: list[str], ranked: list[str]) -> float:
    for rank, cid in enumerate(ranked, start=1):
        if any(satisfies(g, cid) for g in gold):
            return 1.0 / rank
    return 0.0


def ndcg_at(gold: list[str], ranked: list[str], k: int = 5) -> float:
    if not gold:
        return 0.0
    seen: set[str] = set()
    dcg = 0.0
    for i, cid in enumerate(ranked[:k]):
        new = [g for g in gold if g not in seen and satisfies(g, cid)]
        if new:
            seen.add(new[0])
            dcg += 1.0 / math.log2(i + 2)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(k, len(gold))))
    return dcg / ideal


def citation_precision(gold: list[str], cited: list[str], ancestors: Callable[[str], list[str]]) -> float | None:
    """None when nothing was cited (precision is undefined, not zero)."""
    if not cited:
        return None
    needed = {a for g in gold for a in ancestors(g)}
    good = sum(1 for c in cited if any(satisfies(g, c) for g in gold) or c in needed)
    return good / len(cited)


def citation_recall(gold: list[str], cited: list[str]) -> float:
    if not gold:
        return 0.0
    return len(_satisfied(gold, cited)) / len(gold)


def quote_check(citations: list[dict], clause_text: Callable[[str], str | None]) -> tuple[int, int, list[str]]:
    """(verbatim quotes, all quotes, problems). A missing clause is reported as a problem."""
    ok = 0
    problems: list[str] = []
    for c in citations:
        text = clause_text(c["clause_id"])
        if text is None:
            problems.append(f"存在しない条項ID: {c['clause_id']}")
        elif is_verbatim(c["quote"], text):
            ok += 1
        else:
            problems.append(f"原文と一致しない引用: {c['clause_id']} 「{c['quote'][:30]}」")
    return ok, len(citations), problems


def must_include_coverage(answer: str, must: list[str]) -> float | None:
    if not must:
        return None
    text = match_form(answer)
    return sum(1 for m in must if match_form(m) in text) / len(must)


def advice_recall(expected_keys: list[str], advice_keys: list[str]) -> float:
    """Share of the measure keys an adviser expects that the product's advice covers."""
    if not expected_keys:
        return 1.0
    return sum(1 for k in expected_keys if k in set(advice_keys)) / len(expected_keys)
