"""Each metric on small hand-computed examples."""

import math

import pytest

from eval import metrics as m

ANCESTORS = {"指針第4の2の一": ["指針第4の2", "指針第4"], "指針第3の3": ["指針第3"]}


def test_recall_capped_and_descendants():
    ranked = ["指針第2の1", "指針第4の2の一", "指針第3の3"]
    assert m.recall_at(["指針第4の2"], ranked, 1) == 0.0
    assert m.recall_at(["指針第4の2"], ranked, 2) == 1.0  # a descendant satisfies its ancestor
    assert m.recall_at(["指針第4の2の一", "指針第3の3"], ranked, 1) == 0.0
    assert m.recall_at(["指針第4の2の一", "指針第3の3"], ranked, 2) == 0.5
    assert m.recall_at(["指針第4の2の一", "指針第3の3"], ranked, 5) == 1.0
    assert m.recall_at(["指針第4の2の一"], ["指針第4の2"], 1) == 0.0  # an ancestor does not satisfy a child


def test_mrr_and_ndcg():
    ranked = ["指針第2の1", "指針第3の3", "指針第4の2の一"]
    assert m.mrr(["指針第3"], ranked) == 0.5
    assert m.mrr(["指針第1"], ranked) == 0.0
    # gold at ranks 2 and 3: (1/log2(3) + 1/log2(4)) / (1 + 1/log2(3))
    expected = (1 / math.log2(3) + 0.5) / (1 + 1 / math.log2(3))
    assert m.ndcg_at(["指針第3の3", "指針第4の2"], ranked) == pytest.approx(expected)
    # two descendants of one gold count once
    assert m.ndcg_at(["指針第4"], ["指針第4の1", "指針第4の2"]) == 1.0


def test_citation_precision_and_recall():
    anc = lambda cid: ANCESTORS.get(cid, [])  # noqa: E731
    assert m.citation_precision(["指針第4の2の一"], ["指針第4の2の一", "指針第4の2"], anc) == 1.0  # lead is needed
    assert m.citation_precision(["指針第4の2の一"], ["指針第4の2の一", "指針第2の1"], anc) == 0.5
    assert m.citation_precision(["指針第4の2の一"], [], anc) is None
    assert m.citation_recall(["指針第4の2の一", "指針第3の3"], ["指針第3の3"]) == 0.5


def test_quote_fidelity_catches_fabrication_and_unknown_ids():
    texts = {"指針第3の3": "法第二条第二十四項第一号に掲げる業務から生じるリスクに対して、保険、準備金等により備える対応をしていること。"}
    ok, total, problems = m.quote_check(
        [
            {"clause_id": "指針第3の3", "quote": "保険、準備金等により備える"},  # verbatim
            {"clause_id": "指針第3の3", "quote": "保険、準備金等により　備える"},  # whitespace differs: still verbatim
            {"clause_id": "指針第3の3", "quote": "保険に必ず加入すること"},  # fabricated
            {"clause_id": "指針第9の9", "quote": "保険"},  # no such clause
        ],
        texts.get,
    )
    assert (ok, total) == (2, 4)
    assert any("原文と一致しない" in p for p in problems) and any("存在しない条項ID" in p for p in problems)


def test_must_include_is_nfkc_normalised():
    assert m.must_include_coverage("第４の２の一によれば…必要最低限の措置", ["第4の2の一", "必要最低限"]) == 1.0
    assert m.must_include_coverage("なし", ["保険"]) == 0.0
    assert m.must_include_coverage("なし", []) is None


def test_percentile():
    assert m.percentile([5, 1, 3, 2, 4], 50) == 3
    assert m.percentile(list(range(1, 101)), 95) == 95
    assert m.percentile([], 95) == 0.0
