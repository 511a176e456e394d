"""Feedback becomes eval cases (#22): 👎 answers as draft cases an evaluator reviews before they count."""

import json

import pytest

from assistant.feedback_cases import drafts_jsonl
from assistant.records import Records
from eval.harness import CaseError, load_cases


@pytest.fixture()
def rated(tmp_path):
    from cryptography.fernet import Fernet

    records = Records(tmp_path / "records.sqlite3", key=Fernet.generate_key().decode())
    records.add_feedback("認証の費用はいくら？", "指針第3の2によれば…", "bad", "費用のことは書いていないはず", ["指針第3の2"], "v1")
    records.add_feedback("責任者は誰がなる？", "指針第4の2の一…", "good", "", ["指針第4の2の一"], "v1")
    records.add_feedback("図面の持ち出しは？", "…", "bad", "", [], "v1")
    return records


def test_only_bad_answers_become_drafts_with_what_the_user_saw(rated):
    lines = drafts_jsonl(rated.list_feedback(rating="bad", with_answer=True)).splitlines()
    drafts = [json.loads(line) for line in lines]
    assert [d["question"] for d in drafts] == ["認証の費用はいくら？", "図面の持ち出しは？"]  # oldest first, no 👍
    first = drafts[0]
    assert first["id"].startswith("feedback-") and first["review"]["comment"] == "費用のことは書いていないはず"
    assert first["review"]["answer"] == "指針第3の2によれば…" and first["review"]["cited"] == ["指針第3の2"]
    # The rated answer's citations are not the gold: an evaluator writes it
    assert first["gold_clauses"] == [] and first["expect_refusal"] is False


def test_a_draft_counts_only_once_an_evaluator_has_reviewed_it(rated, tmp_path):
    path = tmp_path / "drafts.jsonl"
    path.write_text(drafts_jsonl(rated.list_feedback(rating="bad", with_answer=True)), encoding="utf-8")
    with pytest.raises(CaseError, match="gold_clauses が必要"):
        load_cases([path])
    reviewed = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    reviewed[0] |= {"expect_refusal": True}  # the guideline states no fee
    reviewed[1] |= {"gold_clauses": ["指針第4の2の一"]}
    path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in reviewed), encoding="utf-8")
    cases = load_cases([path])
    assert [c.expect_refusal for c in cases] == [True, False] and cases[1].gold_clauses == ["指針第4の2の一"]


def test_the_filter_and_the_answer_are_read_only_when_asked(rated):
    assert {f["rating"] for f in rated.list_feedback(rating="good")} == {"good"}
    assert "answer" not in rated.list_feedback()[0]  # the admin table shows no answers
    assert len(rated.list_feedback()) == 3
