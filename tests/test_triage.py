"""The triage engine: each rule, the flow (back, 「わからない」, free text), results, records, exports."""

import json
import os
import subprocess
import sys

import pytest

from assistant.records import RecordError, Records
from assistant.triage import Flow, TriageError, TriageState, answer, back, build_result, next_question, progress, state_from_answers
from assistant.triage.rules import Measure, Rubric, decide, needs_of, order_measures
from conftest import ROOT

RUBRIC = Rubric.load()
BASE = {"name": "図面", "forms": ["電子データ"], "access": "限られた担当者", "goes_outside": "いいえ", "competitive": "いいえ",
        "damage": "小", "public": "いいえ", "confidential_obligation": "いいえ", "legal_control": "いいえ"}


@pytest.mark.parametrize(
    "changes, status, rule",
    [
        ({"confidential_obligation": "はい", "public": "はい"}, "must", "R1-obligation"),
        ({"legal_control": "はい", "public": "はい"}, "must", "R2-legal"),
        ({"public": "はい", "competitive": "はい", "damage": "大"}, "not_required", "R3-public"),
        ({"competitive": "はい", "damage": "中"}, "must", "R4-core"),
        ({"competitive": "はい", "damage": "小"}, "not_required", "R7-default"),
        ({"damage": "大"}, "must", "R5-severe"),
        ({"competitive": "わからない"}, "confirm", "R6-unknown"),
        ({"damage": "わからない"}, "confirm", "R6-unknown"),
        ({"public": "わからない"}, "confirm", "R6-unknown"),
        ({}, "not_required", "R7-default"),
    ],
)
def test_each_rule(changes, status, rule):
    d = decide({**BASE, **changes}, RUBRIC)
    assert (d.status, d.rule) == (status, rule)
    assert d.rule_path[-1] == rule and d.rule_path[0] == "R1-obligation"  # the path says why
    assert d.reason


def test_risks_follow_forms_and_sharing():
    d = decide({**BASE, "forms": ["書面", "人の知識・ノウハウ"], "goes_outside": "はい", "access": "社員全員", "damage": "大"}, RUBRIC)
    assert set(d.risks) == {"紛失・盗難", "無断持ち出し", "退職者・転職者による流出", "取引先・委託先経由の流出", "内部の無許可アクセス"}
    assert ("書面", "取引先・委託先経由の流出") in needs_of([d])


def test_measures_are_ordered_cheapest_first_with_prerequisites():
    cat = [
        Measure("A", "高いが広い", "", ("電子データ",), ("r1", "r2"), "〜10万円", "低"),
        Measure("B", "無料で一つ", "", ("電子データ",), ("r1",), "無料", "中", ("C",)),
        Measure("C", "前提", "", ("書面",), ("r9",), "〜1万円", "低"),
        Measure("D", "無料で二つ目", "", ("電子データ",), ("r2",), "無料", "高"),
    ]
    got = [m.id for m, _ in order_measures([("電子データ", "r1"), ("電子データ", "r2")], cat)]
    assert got == ["C", "B", "D"]  # B is cheapest; its prerequisite C comes first; D beats A on cost


FLOW = Flow.load()


def walk(values):
    state = TriageState()
    for v in values:
        state = answer(state, FLOW, v)
    return state


def test_whole_conversation_with_buttons_free_text_and_unknown():
    state = walk(["山田精機", "金属加工", "6〜20人", ["下請け・受託"], "顧客支給図面、加工ノウハウ"])
    q = next_question(state, FLOW)
    assert q.id == "item.forms" and "顧客支給図面" in q.text and "わからない" in q.to_dict()["options"]
    state = walk(["山田精機", "金属加工", "6〜20人", ["下請け・受託"], "顧客支給図面、加工ノウハウ",
                  "CADデータと紙の図面", "設計PC", "部署内", "いいえ", "いいえ", "大きい", "いいえ", "はい、NDAがあります", "わからない",
                  ["人の知識・ノウハウ"], "わからない", "社員全員", "わからない", "そうです", "中", "いいえ", "いいえ", "いいえ"])
    assert next_question(state, FLOW) is None
    assert state.items[0]["forms"] == ["電子データ", "書面"] and state.items[0]["damage"] == "大"
    assert state.items[0]["confidential_obligation"] == "はい" and state.items[0]["legal_control"] == "わからない"
    result = build_result(state, corpus_for_tests())
    assert result["must_protect"] == ["顧客支給図面", "加工ノウハウ"]
    done, total = progress(state, FLOW)
    assert done == total


def corpus_for_tests():
    from assistant.corpus import load_corpus
    from assistant.config import SHIPPED_CORPUS

    return load_corpus([SHIPPED_CORPUS])


def test_unknown_is_accepted_everywhere_and_never_dead_ends():
    state = TriageState()
    steps = 0
    while (q := next_question(state, FLOW)) is not None:
        state = answer(state, FLOW, "わからない" if q.kind != "items" else "図面")
        steps += 1
        assert steps < 100
    result = build_result(state, corpus_for_tests())
    assert result["confirm"] == ["図面"] and result["must_protect"] == []
    assert any("態様" in n for n in result["notes"])  # forms unknown: said plainly


def test_going_back_changes_an_answer():
    state = walk(["", "食品製造", "〜5人", ["自社製品"], "レシピ", ["書面"]])
    assert state.items[0]["forms"] == ["書面"]
    state = back(state)
    assert "forms" not in state.items[0] and next_question(state, FLOW).id == "item.forms"
    state = answer(state, FLOW, ["電子データ"])
    assert state.items[0]["forms"] == ["電子データ"]
    state = back(back(state))  # back into the inventory keeps the items answered so far
    assert next_question(state, FLOW).id == "inventory"
    start = back(back(back(back(back(state)))))
    assert next_question(back(start), FLOW).id == "firm.name"  # back at the start stays at the start


def test_free_text_that_cannot_be_read_is_asked_again():
    state = walk(["", "食品製造", "〜5人", ["自社製品"], "レシピ", ["書面"], "冷蔵庫の横", "限られた担当者"])
    with pytest.raises(TriageError, match="goes_outside"):
        answer(state, FLOW, "火曜日")
    with pytest.raises(TriageError, match="industry"):
        answer(TriageState(firm={"name": ""}), FLOW, "宇宙開発")


def test_profile_with_no_technical_information():
    result = build_result(state_from_answers({"firm": {"industry": "その他"}, "items": []}), corpus_for_tests())
    assert result["must_protect"] == [] and result["measures"] == []
    assert result["minimum_set"]["forms"] == [] and "技術情報が挙げられていない" in result["notes"][0]


@pytest.mark.parametrize(
    "answers, field",
    [
        ({"items": [{"name": "図面", "damage": "とても大きい"}]}, "items[0].damage"),
        ({"items": [{"forms": ["電子データ"]}]}, "items[0]"),
        ({"firm": {"size": "1000人"}, "items": []}, "firm.size"),
        ({"firm": {}}, "（ファイル全体）"),
        ({"items": [{"name": "図面", "colour": "red"}]}, "items[0]"),
        ({"items": [{"name": "図面"}, {"name": "図面"}]}, "同じ name"),
    ],
)
def test_invalid_answer_files_name_the_field(answers, field):
    with pytest.raises(TriageError, match=field.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(").replace(")", r"\)")):
        state_from_answers(answers)


def test_minimum_set_without_the_standard_gives_the_guideline_structure():
    result = build_result(state_from_answers({"items": [{"name": "図面", "forms": ["書面", "電子データ"], "damage": "大"}]}), corpus_for_tests())
    ms = result["minimum_set"]
    assert ms["standard_loaded"] is False and ms["forms"] == ["電子データ", "書面"] and ms["clauses"] == []
    assert ms["citation"]["clause_id"] == "指針第4の2の一" and ms["citation"]["quote"].startswith("必要最低限の措置の部分（")
    assert "読み込まれていない" in ms["notes"][0]
    assert all(m["kind"] == "product_advice" for m in result["measures"]) and "製品の助言" in result["advice_label"]


def test_minimum_set_with_a_loaded_standard_lists_its_clauses(tmp_path):
    from pathlib import Path

    from assistant.config import Config
    from assistant.corpus import load_corpus
    from assistant.ingest import add_document

    cfg = Config(home=tmp_path)
    add_document(cfg, Path(__file__).parent / "fixtures" / "fictional_standard.txt", "基準", version="fx1")
    state = state_from_answers({"items": [{"name": "図面", "forms": ["書面", "人の知識・ノウハウ"], "damage": "大"}]})
    ms = build_result(state, load_corpus(cfg.corpus_dirs))["minimum_set"]
    assert [c["clause_id"] for c in ms["clauses"]][-2:] == ["基準Ⅱ", "基準Ⅳ"]
    assert ms["version"] == "fx1" and any("人の知識・ノウハウ" in n for n in ms["notes"])


def test_records_resume_after_restart(tmp_path):
    path = tmp_path / "r.sqlite3"
    state = walk(["", "化学", "21〜50人", ["共同研究開発"], "配合"])
    code = Records(path).save_consultation(None, state.to_dict(), None, "v1")
    reopened = Records(path)  # a new process would do the same
    saved = reopened.load_consultation(code.lower())
    resumed = TriageState.from_dict(saved["state"])
    assert next_question(resumed, FLOW).id == "item.forms" and resumed.items == [{"name": "配合"}]
    with pytest.raises(RecordError, match="見つかりません"):
        reopened.load_consultation("NOPE1234")


def test_cli_answers_json_and_exports(tmp_path, home, assistant):
    answers = tmp_path / "a.json"
    answers.write_text(json.dumps({"firm": {"name": "架空精機", "industry": "金属加工"}, "items": [
        {"name": "顧客支給図面", "forms": ["電子データ", "書面"], "confidential_obligation": "はい"},
        {"name": "会社案内", "forms": ["書面"], "public": "はい"}]}, ensure_ascii=False), encoding="utf-8")
    env = dict(os.environ, ASSISTANT_HOME=str(home))
    md, pdf = tmp_path / "r.md", tmp_path / "r.pdf"
    p = subprocess.run([sys.executable, "-m", "assistant", "triage", "--answers", str(answers), "--json", "--md", str(md), "--pdf", str(pdf)],
                       cwd=ROOT, env=env, capture_output=True, timeout=300)
    assert p.returncode == 0, p.stderr.decode()
    result = json.loads(p.stdout)
    assert result["must_protect"] == ["顧客支給図面"] and result["code"]
    text = md.read_text(encoding="utf-8")
    assert "## 2. 必要最低限の措置（指針第4の2の一）" in text and "顧客支給図面" in text and "製品の助言" in text
    from pypdf import PdfReader

    extracted = "".join(page.extract_text() for page in PdfReader(str(pdf)).pages)
    for heading in ("見極め診断の記録", "必要最低限の措置", "指針第4の2の一", "顧客支給図面", "費用の低い順"):
        assert heading in extracted, heading
    bad = tmp_path / "bad.json"
    bad.write_text('{"items": [{"name": "x", "damage": "huge"}]}', encoding="utf-8")
    p = subprocess.run([sys.executable, "-m", "assistant", "triage", "--answers", str(bad)], cwd=ROOT, env=env, capture_output=True, timeout=300)
    assert p.returncode == 2 and "items[0].damage" in p.stderr.decode() and "Traceback" not in p.stderr.decode()


def test_cli_interactive_conversation_and_resume(tmp_path, home, assistant):
    env = dict(os.environ, ASSISTANT_HOME=str(home))
    typed = "\n".join(["テスト商店", "2", "1", "2", "レシピ", "中断"]) + "\n"
    p = subprocess.run([sys.executable, "-m", "assistant", "triage"], cwd=ROOT, env=env, input=typed.encode(), capture_output=True, timeout=300)
    out = p.stdout.decode()
    assert p.returncode == 0, p.stderr.decode()
    code = out.split("相談コード ")[1].split(" ")[0]
    rest = "\n".join(["1", "冷蔵庫", "1", "2", "1", "1", "2", "2", "2"]) + "\n"
    p = subprocess.run([sys.executable, "-m", "assistant", "triage", "--resume", code], cwd=ROOT, env=env, input=rest.encode(), capture_output=True, timeout=300)
    out = p.stdout.decode()
    assert p.returncode == 0, p.stderr.decode()
    assert "レシピ: 確実に守るべき" in out and "費用の低い順の対策" in out
