"""The scoring formulas, one place each: score fusion for hybrid search, and percentiles.

Used by clause retrieval, catalogue advice, the eval report, the benchmark, the load test
and the app's metrics, so that every number called "p95" means the same thing.
"""

from __future__ import annotations

import math


def minmax(scores: dict[str, float]) -> dict[str, float]:
    """Scale to 0..1 over the candidates (all equal: all 0)."""
    if not scores:
        return {}
    lo, hi = min(scores.values()), max(scores.values())
    if hi - lo < 1e-9:
        return {k: 0.0 for k in scores}
    return {k: (v - lo) / (hi - lo) for k, v in scores.items()}


def scaled_bm25(scores: dict[str, float]) -> dict[str, float]:
    """BM25 divided by its best score (no match anywhere: all 0), so a weak best stays visible as weak."""
    hi = max(scores.values(), default=0.0)
    return {k: (v / hi if hi > 0 else 0.0) for k, v in scores.items()}


def fuse(dense: dict[str, float], bm25: dict[str, float], dense_weight: float, keys) -> dict[str, float]:
    """Score fusion, not rank fusion: on paraphrased questions BM25's ranks are noisy, and
    min-max scaled scores keep how sure each side is."""
    d, b = minmax(dense), scaled_bm25(bm25)
    return {k: dense_weight * d.get(k, 0.0) + (1 - dense_weight) * b.get(k, 0.0) for k in keys}


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]
