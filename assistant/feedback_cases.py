"""Feedback becomes eval cases: the answers users rated 👎, as draft cases in the eval's JSONL format.

A draft is for an evaluator to review, never a case by itself: the answer was rated bad, so its
citations are not the gold. Each draft leaves ``gold_clauses`` empty and ``expect_refusal`` false, which
the eval's loader refuses (「回答すべきケースには gold_clauses が必要です」) until the evaluator writes the
clauses that answer the question, or sets ``expect_refusal`` when the documents do not hold the answer.
What the user saw and said stays beside it under ``review`` (the loader ignores it).
"""

from __future__ import annotations

import json
from typing import Iterable

REVIEW_TODO = ("gold_clauses に、この質問に答える条項IDを書いてください（文書に答えがない場合は expect_refusal を true に）。"
               "must_include には回答に必ず含まれるべき語句を書きます。review は確認が済んだら消してください。")


def draft_case(row: dict) -> dict:
    """One 👎 feedback row (Records.list_feedback(rating="bad", with_answer=True)) as a draft case."""
    return {
        "id": f"feedback-{row['id']}",
        "question": row["question"],
        "gold_clauses": [],
        "must_include": [],
        "expect_refusal": False,
        "review": {
            "todo": REVIEW_TODO,
            "rated": row["rating"],
            "comment": row.get("comment", ""),
            "answer": row.get("answer", ""),
            "cited": list(row.get("citations", [])),
            "corpus_version": row.get("corpus_version", ""),
            "created_at": row.get("created_at", ""),
        },
    }


def drafts_jsonl(rows: Iterable[dict]) -> str:
    """The drafts, one JSON object per line, oldest first (as a case file reads)."""
    drafts = [draft_case(r) for r in sorted(rows, key=lambda r: r["id"]) if r["rating"] == "bad"]
    return "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in drafts)
