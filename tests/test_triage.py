"""The triage engine: the rubric, the adaptive flow, the plan, the typed result, records and exports."""

import itertools
import json
import os
import subprocess
import sys

import pytest

from assistant.records import RecordError, Records
from assistant.triage import Flow, TriageError, TriageState, answer, back, build_result, next_question, progress, state_from_answers
from assistant.triage.catalogue import FORM_CONTROLS, Catalogue
from assistant.triage.flow import UNKNOWN
from assistant.triage.plan import ProtectedItem, build_plan
from assistant.triage.rules import FIELD_VALUES, Rubric
from assistant.triage.session import TriageServices, TriageSession
from conftest import ROOT

FLOW = Flow.load()
RUBRIC = FLOW.rubric
SCENARIOS = [json.loads(line) for line in (ROOT / "eval" / "triage" / "scenarios.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
BASE = {"name": "図面", "competitive": "いいえ", "damage": "小", "public": "いいえ", "confidential_obligation": "いいえ", "legal_control": "いいえ"}


def corpus_for_tests():
    from assistant.config import SHIPPED_CORPUS
    from assistant.corpus import load_corpus

    return load_corpus([SHIPPED_CORPUS])


CORPUS = corpus_for_tests()


def result_of(answers):
    return build_result(state_from_answers(answers), CORPUS)


# -- the rubric ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "changes, status, rules",
    [
        ({"confidential_obligation": "はい", "public": "はい"}, "must", ["obligation"]),
        ({"legal_control": "はい", "competitive": "はい", "damage": "大"}, "must", ["legal", "core"]),  # every reason kept
        ({"public": "はい", "competitive": "はい", "damage": "大"}, "not_required", ["public"]),
        ({"competitive": "はい", "damage": "中"}, "must", ["core"]),
        ({"competitive": "はい", "damage": "小"}, "not_required", ["minor-core"]),
        ({"damage": "大"}, "must", ["severe"]),
        ({"damage": "中"}, "not_required", ["minor"]),
        ({"competitive": UNKNOWN, "damage": "中"}, "confirm", []),
        ({"public": UNKNOWN}, "not_required", ["minor"]),  # public or not, the answers lead to the same status
    ],
)
def test_each_rule_and_every_reason(changes, status, rules):
    item = {**BASE, **changes}
    assert RUBRIC.status(item) == status
    decided = [r.rule for r in RUBRIC.reasons(item) if r.kind == "decides"]
    assert decided == rules


def test_an_unknown_that_cannot_change_the_status_is_noted_not_confirmed():
    item = {**BASE, "public": UNKNOWN}
    reasons = RUBRIC.reasons(item)
    assert RUBRIC.status(item) == "not_required"
    assert any(r.kind == "unknown" and "公開済み" in r.text for r in reasons)


def test_an_overridden_consideration_is_shown_with_the_decision():
    item = {**BASE, "confidential_obligation": "はい", "public": "はい"}
    texts = [r.text for r in RUBRIC.reasons(item)]
    assert any("公開" in t and "ただし" in t and "確実に守るべき" in t for t in texts)


@pytest.mark.parametrize("combo", list(itertools.product(*FIELD_VALUES.values())))
def test_reasons_never_contradict_the_answers(combo):
    """Every combination of answers: a reason that names the damage names the answered damage, and
    a reason never says a yes/no answer was the opposite of what was answered."""
    item = {"name": "x", **dict(zip(FIELD_VALUES, combo))}
    text = " ".join(r.text for r in RUBRIC.reasons(item) if r.kind == "decides")
    for level in ("大", "中", "小"):
        if f"「{level}」" in text:
            assert item["damage"] == level, (item, text)
    for field, phrase in (("confidential_obligation", "秘密保持の義務を負っている"), ("legal_control", "法令上の管理対象である"),
                          ("public", "公開されているか"), ("competitive", "競争力の源泉であり")):
        if phrase in text:
            assert item[field] == "はい", (item, text)
    assert "R1" not in text and "obligation" not in text  # the firm never reads rule IDs


def test_the_rubric_decides_every_combination_and_refuses_gaps(tmp_path):
    data = json.loads((ROOT / "corpus" / "triage" / "rubric.json").read_text(encoding="utf-8"))
    data["rules"] = [r for r in data["rules"] if r["id"] != "minor"]
    broken = tmp_path / "rubric.json"
    broken.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    from assistant.triage.rules import RubricError

    with pytest.raises(RubricError, match="当てはまらない"):
        Rubric.load(broken)


# -- the adaptive flow -------------------------------------------------------------------------------------------
def walk(values, state=None):
    state = state or TriageState()
    for v in values:
        state = answer(state, FLOW, v)
    return state


def test_items_under_an_obligation_are_settled_by_one_batch_question():
    state = walk(["山田精機", "金属加工", "6〜20人", ["下請け・受託"], "顧客支給図面、加工ノウハウ、見積単価表"])
    q = next_question(state, FLOW)
    assert q.kind == "batch" and q.field == "confidential_obligation" and set(q.options) >= {"顧客支給図面", "加工ノウハウ", "見積単価表", "該当なし"}
    state = answer(state, FLOW, ["顧客支給図面"])
    assert state.items[0]["confidential_obligation"] == "はい" and state.items[1]["confidential_obligation"] == "いいえ"
    q = next_question(state, FLOW)
    assert q.field == "legal_control" and q.items == (0, 1, 2)  # export control still shapes the drawings' plan…
    state = answer(state, FLOW, "該当なし")
    q = next_question(state, FLOW)
    assert q.field == "public" and q.items == (1, 2)  # …but nothing else can change their status: not asked again
    state = walk(["該当なし", ["加工ノウハウ"], "大", "小"], state)
    decisions = {it["name"]: RUBRIC.status(it) for it in state.items}
    assert decisions == {"顧客支給図面": "must", "加工ノウハウ": "must", "見積単価表": "not_required"}
    q = next_question(state, FLOW)
    assert q.kind == "forms" and "顧客支給図面" in q.text  # the plan's questions, only for what must be protected
    state = walk(["CADデータは設計PC、紙の図面は書庫", "部署内", ["人の知識・ノウハウ"], "限られた担当者", ["顧客支給図面"]], state)
    assert next_question(state, FLOW) is None
    assert state.items[0]["forms"] == ["電子データ", "書面"] and state.items[0]["location"] == "CADデータは設計PC、紙の図面は書庫"
    assert "forms" not in state.items[2]  # nothing asked about the estimate sheet's form
    assert len(state.log) == 16  # the old flow asked 4 + 1 + 9 × 3 = 32


def test_remaining_count_shrinks_as_items_settle():
    state = walk(["", "食品製造", "〜5人", ["自社製品"], "レシピ、チラシ原稿"])
    _, before = progress(state, FLOW)
    state = answer(state, FLOW, ["レシピ"])  # under an obligation: settled
    asked, after = progress(state, FLOW)
    assert asked == 6 and after < before


def test_going_back_through_a_batch_question_clears_it_for_every_item():
    state = walk(["", "化学", "21〜50人", ["共同研究開発"], "配合、試験データ"])
    state = answer(state, FLOW, ["配合", "試験データ"])
    assert all(it["confidential_obligation"] == "はい" for it in state.items)
    state = back(state, FLOW)
    assert all("confidential_obligation" not in it for it in state.items) and next_question(state, FLOW).kind == "batch"
    start = back(back(back(back(back(back(state, FLOW), FLOW), FLOW), FLOW), FLOW), FLOW)
    assert next_question(start, FLOW).id == "firm.name"


def test_unknown_everywhere_never_dead_ends_and_lists_what_to_find_out():
    state = TriageState()
    steps = 0
    while (q := next_question(state, FLOW)) is not None:
        state = answer(state, FLOW, UNKNOWN if q.kind != "items" else "図面")
        steps += 1
        assert steps < 40
    r = build_result(state, CORPUS)
    assert r.confirm == ["図面"] and r.must_protect == []
    opened = {q.field for q in r.items[0].open_questions}
    assert {"confidential_obligation", "damage", "forms"} <= opened and all(q.find_out for q in r.items[0].open_questions)
    assert any("態様" in n for n in r.notes)
    data = r.to_dict()
    assert data["open_questions"]["図面"] and data["nothing_to_protect"] is False


def test_free_text_that_cannot_be_read_is_asked_again():
    state = walk(["", "食品製造", "〜5人", ["自社製品"], "レシピ"])
    # The message names the question as the user reads it, never the field's name (#21).
    with pytest.raises(TriageError, match="^秘密保持の義務: 「火曜日」") as e:
        answer(state, FLOW, "火曜日")
    assert "confidential_obligation" not in str(e.value)
    with pytest.raises(TriageError, match="^業種: 「宇宙開発」") as e:
        answer(TriageState(firm={"name": ""}), FLOW, "宇宙開発")
    assert "industry" not in str(e.value)


def test_inventory_is_capped_with_a_clear_message():
    state = walk(["", "その他", "〜5人", ["自社製品"]])
    with pytest.raises(TriageError, match="30 件まで"):
        answer(state, FLOW, [f"情報{n}" for n in range(60000)])


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["id"] for s in SCENARIOS])
def test_no_skipped_question_could_have_changed_the_result(scenario):
    """Answer every skipped question every possible way: the decisions and the plan stay the same."""
    state = state_from_answers(scenario["answers"])
    base = build_result(state, CORPUS)
    statuses = {it.name: it.status for it in base.items}
    plan = [m.id for m in base.measures]
    checked = 0
    for i, item in enumerate(state.items):
        skipped_decisions = [f for f in FIELD_VALUES if f not in item]
        combos = list(itertools.product(*[FIELD_VALUES[f] + (UNKNOWN,) for f in skipped_decisions]))
        for n, values in enumerate(combos):
            changed = dict(item, **dict(zip(skipped_decisions, values)))
            assert RUBRIC.status(changed) == statuses[item["name"]], (scenario["id"], item["name"], values)
            checked += 1
            if n in (0, len(combos) - 1):  # the whole result too, at both ends of the answers' range
                whole = TriageState.from_dict(state.to_dict())
                whole.items[i] = changed
                if RUBRIC.status(changed) == "not_required":  # and the plan questions it skipped, answered
                    whole.items[i] = {"forms": ["電子データ", "書面"], "access": "社外の人も", "goes_outside": "はい", **changed}
                r = build_result(whole, CORPUS)
                assert {it.name: it.status for it in r.items} == statuses and [m.id for m in r.measures] == plan, (scenario["id"], item["name"], values)
    assert checked >= len(state.items)


def test_skipped_questions_say_why_they_were_not_asked():
    r = result_of({"items": [{"name": "顧客図面", "forms": ["書面"], "confidential_obligation": "はい"},
                             {"name": "チラシ", "public": "はい", "confidential_obligation": "いいえ", "legal_control": "いいえ"}]})
    drawings, flyer = r.items
    assert {s.field for s in drawings.skipped} == {"public", "competitive", "damage"}
    assert all("判定が変わらない" in s.reason for s in drawings.skipped)
    assert {"forms", "access", "goes_outside"} <= {s.field for s in flyer.skipped}
    assert any("計画" in s.reason for s in flyer.skipped if s.field == "forms")


# -- the plan ---------------------------------------------------------------------------------------------------------
def test_the_plan_covers_every_basic_control_of_every_form_and_the_organisation():
    catalogue = Catalogue.load()
    for forms in [("電子データ",), ("書面",), ("物品",), ("人の知識・ノウハウ",), ("電子データ", "書面", "物品", "人の知識・ノウハウ")]:
        chosen, gaps = build_plan([ProtectedItem("x", forms, {})], {"size": "6〜20人", "collaboration": []}, catalogue)
        covered = {(n.kind, n.key, n.form) for c in chosen for n in c.covers}
        for form in forms:
            for control in FORM_CONTROLS[form]:
                assert ("basic", control, form) in covered, (form, control)
        assert {k for kind, k, _ in covered if kind == "org"} == {"responsible", "policy", "inventory", "rules_pledge", "education", "incident", "review"}
        assert gaps == []


def test_the_plan_reads_organisation_then_basics_then_situation_cheapest_first_with_prerequisites_first():
    r = result_of({"firm": {"collaboration": ["下請け・受託"], "size": "6〜20人"},
                   "items": [{"name": "顧客図面", "forms": ["電子データ", "書面"], "confidential_obligation": "はい", "goes_outside": "はい"}]})
    groups = [m.group for m in r.measures]
    assert groups == sorted(groups, key=["organisation", "basic", "situation"].index)
    ids = [m.id for m in r.measures]
    for m in r.measures:
        for pre in m.prerequisites:
            if pre in ids:
                assert ids.index(pre) < ids.index(m.id)
    assert all(m.serves == ["顧客図面"] for m in r.measures)


def test_nothing_to_protect_is_in_the_json_with_its_sentence():
    r = result_of({"items": [{"name": "会社案内", "forms": ["書面"], "public": "はい", "confidential_obligation": "いいえ", "legal_control": "いいえ"}]})
    data = r.to_dict()
    assert data["nothing_to_protect"] is True and "見つかりませんでした" in data["nothing_to_protect_note"] and data["measures"] == []


def test_operator_mapping_of_measures_to_clauses_is_shown_and_checked(tmp_path):
    from assistant.config import Config
    from assistant.corpus import load_corpus
    from assistant.ingest import add_document

    cfg = Config(home=tmp_path)
    add_document(cfg, ROOT / "tests" / "fixtures" / "fictional_standard.txt", "基準", version="fx1")
    (tmp_path / "measure_map.json").write_text(json.dumps({"M01": ["基準Ⅰの第二"], "M02": ["基準Ⅰの第九"], "M99": ["基準Ⅰの第一"]}, ensure_ascii=False), encoding="utf-8")
    corpus = load_corpus(cfg.corpus_dirs)
    services = TriageServices.load(lambda: corpus, tmp_path)
    session = TriageSession(services).from_answers({"items": [{"name": "図面", "forms": ["書面"], "damage": "大"}]})
    r = session.result()
    m01 = next(m for m in r.measures if m.id == "M01")
    assert m01.standard_clauses == ["基準Ⅰの第二"]
    assert next(m for m in r.measures if m.id == "M02").standard_clauses == []
    assert any("基準Ⅰの第九" in n for n in r.notes) and any("M99" in n for n in r.notes)


# -- answers files, progress, re-assessment, records ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "answers, field",
    [
        ({"items": [{"name": "図面", "damage": "とても大きい"}]}, "items[0].damage"),
        ({"items": [{"forms": ["電子データ"]}]}, "items[0]"),
        ({"firm": {"size": "1000人"}, "items": []}, "firm.size"),
        ({"firm": {}}, "（ファイル全体）"),
        ({"items": [{"name": "図面", "colour": "red"}]}, "items[0]"),
        ({"items": [{"name": "図面"}, {"name": "図面"}]}, "同じ name"),
        ({"items": [{"name": "図面"}], "progress": {"M01": {"status": "finished"}}}, "progress.M01.status"),
        ({"items": [{"name": "図面"}], "progress": {"M01": {"due": "来週"}}}, "progress.M01.due"),
        ({"items": [{"name": f"x{n}"} for n in range(31)]}, "items"),
    ],
)
def test_invalid_answer_files_name_the_field(answers, field):
    with pytest.raises(TriageError, match=field.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(").replace(")", r"\)")):
        state_from_answers(answers)


def test_progress_is_saved_and_reloaded_and_compared_on_reassessment(tmp_path):
    services = TriageServices.load(lambda: CORPUS)
    records = Records(tmp_path / "r.sqlite3")
    session = TriageSession(services).from_answers({"firm": {"size": "6〜20人"}, "items": [{"name": "図面", "forms": ["書面"], "damage": "大"}]})
    first = session.result().measures[0].id
    session = session.set_progress(first, "done", "社長", "2026-12-31", "済み")
    with pytest.raises(TriageError, match="来月末 のように"):  # a month, not a day
        session.set_progress(first, "done", due="来月")
    code, secret = records.create_consultation(session.state.to_dict(), session.result().to_dict(), CORPUS.version)
    saved = records.load_consultation(code)
    reopened = TriageSession(services, TriageState.from_dict(saved.state), saved.code)
    p = reopened.result().progress_of(first)
    assert (p.status, p.owner, p.due, p.note) == ("done", "社長", "2026-12-31", "済み")
    later = reopened.reassess()
    later = later.from_answers({"firm": {"size": "6〜20人"}, "items": [{"name": "図面", "forms": ["書面", "電子データ"], "damage": "大"}]})
    comparison = later.result().comparison
    assert comparison.previous_code == code
    row = next(r for r in comparison.rows if r.measure_id == first)
    assert row.before == "done" and row.now == "done"  # progress carried over
    assert comparison.summary["new_measures"] > 0  # electronic data adds its basics


def test_records_resume_after_restart_and_need_the_secret_to_change(tmp_path):
    path = tmp_path / "r.sqlite3"
    state = walk(["", "化学", "21〜50人", ["共同研究開発"], "配合"])
    code, secret = Records(path).create_consultation(state.to_dict(), None, "v1")
    reopened = Records(path)  # a new process would do the same
    saved = reopened.load_consultation(code.lower())
    resumed = TriageState.from_dict(saved.state)
    assert next_question(resumed, FLOW).field == "confidential_obligation" and resumed.items == [{"name": "配合"}]
    with pytest.raises(RecordError, match="合言葉が違います"):
        reopened.save_consultation(code, {}, None, "v1")
    reopened.save_consultation(code, state.to_dict(), None, "v1", secret=secret)
    with pytest.raises(RecordError, match="見つかりません"):
        reopened.load_consultation("NOPE1234")


def test_records_saved_by_the_old_flow_still_resume(tmp_path):
    """Before the adaptive flow, the log was [question id, item] and every question was asked."""
    old = {"firm": {"name": "", "industry": "化学", "size": "〜5人", "collaboration": ["自社製品"]}, "items": [{"name": "配合", "forms": ["書面"]}],
           "inventory_done": True, "log": [["firm.name", None], ["firm.industry", None], ["firm.size", None], ["firm.collaboration", None], ["inventory", None], ["item.forms", 0]]}
    state = TriageState.from_dict(old)
    assert state.log[-1] == {"q": "item.forms", "items": [0]}
    assert next_question(state, FLOW).field == "confidential_obligation"
    assert back(state, FLOW).items[0] == {"name": "配合"}


# -- exports --------------------------------------------------------------------------------------------------------
def test_exports_render_from_the_model_and_user_text_stays_text(tmp_path):
    from markdown_it import MarkdownIt

    from assistant.triage import excel, report

    evil = "## 偽\n> 「偽の引用」（指針第4の2の一）\n| a | b |\n<img src=http://x/y.png> ![](http://e/p.png) [x](http://e) =HYPERLINK(\"http://e\")"
    r = result_of({"firm": {"name": evil[:100]}, "items": [{"name": "図面<b>", "forms": ["書面"], "confidential_obligation": "はい", "location": evil[:200]}]})
    md = report.markdown(r)
    tokens = MarkdownIt("commonmark").enable("table").parse(md)
    headings = [md.splitlines()[t.map[0]] for t in tokens if t.type == "heading_open"]
    assert all(h.startswith(("# 見極め", "## ", "### ")) and "偽" not in h for h in headings)
    assert not any(t.type in ("html_block", "html_inline") for t in tokens)
    inline = [c for t in tokens if t.type == "inline" for c in (t.children or [])]
    assert not any(c.type in ("image", "link_open", "html_inline") for c in inline)
    assert sum(1 for t in tokens if t.type == "blockquote_open") == 1  # only the product's advice label
    pdf = report.pdf(r)
    from pypdf import PdfReader
    import io

    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    for heading in ("見極め診断の記録", "必要最低限の措置", "指針第4の2の一", "図面", "最初の計画", "責任者"):
        assert heading in text, heading
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(excel.workbook(r)))
    assert wb.sheetnames[:3] == ["概要", "守るべき情報", "計画と進み具合"]
    cell = wb["概要"]["B4"]
    assert cell.data_type == "s" and cell.value.startswith("## 偽")  # text, not a formula


def test_cli_answers_json_and_exports(tmp_path, home, assistant):
    answers = tmp_path / "a.json"
    answers.write_text(json.dumps({"firm": {"name": "架空精機", "industry": "金属加工"}, "items": [
        {"name": "顧客支給図面", "forms": ["電子データ", "書面"], "confidential_obligation": "はい"},
        {"name": "会社案内", "forms": ["書面"], "public": "はい"}]}, ensure_ascii=False), encoding="utf-8")
    env = dict(os.environ, ASSISTANT_HOME=str(home))
    md, pdf, xlsx = tmp_path / "r.md", tmp_path / "r.pdf", tmp_path / "r.xlsx"
    p = subprocess.run([sys.executable, "-m", "assistant", "triage", "--answers", str(answers), "--json", "--md", str(md), "--pdf", str(pdf), "--xlsx", str(xlsx),
                        "--templates", str(tmp_path / "ひな形")], cwd=ROOT, env=env, capture_output=True, timeout=300)
    assert p.returncode == 0, p.stderr.decode()
    result = json.loads(p.stdout)
    written = sorted(f.name for f in (tmp_path / "ひな形").iterdir())
    assert f"ひな形_預かり図面・データ台帳_{result['code']}.xlsx" in written and f"ひな形_基本方針（1枚）_{result['code']}.docx" in written
    assert result["must_protect"] == ["顧客支給図面"] and result["code"] and result["edit_secret"]
    assert result["questions_asked"] < 4 + 1 + 9 * 2 and result["nothing_to_protect"] is False
    assert "## 2. 必要最低限の措置（指針第4の2の一）" in md.read_text(encoding="utf-8")
    assert pdf.read_bytes().startswith(b"%PDF") and xlsx.read_bytes().startswith(b"PK")
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
    # obligation: いいえ, legal: いいえ, public: いいえ, competitive: はい, damage: 大, then forms, access, leaves the firm
    rest = "\n".join(["2", "2", "2", "1", "1", "2", "1", "2"]) + "\n"
    p = subprocess.run([sys.executable, "-m", "assistant", "triage", "--resume", code], cwd=ROOT, env=env, input=rest.encode(), capture_output=True, timeout=300)
    out = p.stdout.decode()
    assert p.returncode == 0, p.stderr.decode()
    assert "レシピ: 確実に守るべき" in out and "最初の計画" in out and "質問の数" in out


# -- tips sized to the firm (#22) ----------------------------------------------------------------------------
def _plan_for(size: str):
    item = {**BASE, "name": "顧客図面", "confidential_obligation": "はい", "forms": ["書面", "電子データ"], "location": "事務所"}
    firm = {"name": "架空工業", "industry": "金属加工", "size": size, "collaboration": ["下請け・受託"]}
    return result_of({"firm": firm, "items": [item]})


@pytest.mark.parametrize("size", ["6〜20人", "21〜50人", "51〜300人"])
def test_a_larger_firm_is_told_how_a_firm_of_its_size_does_it(size):
    from assistant.triage import report

    result = _plan_for(size)
    m01 = next(m for m in result.measures if m.id == "M01")  # every plan has a responsible person and a policy
    assert m01.size_band == size and "5人" not in m01.how_small
    md = report.markdown(result)
    assert f"{size}の会社では:" in md
    # No tip speaks to a firm of five when the firm has more people
    assert "5人の会社なら" not in md and "5人なら" not in md


def test_a_firm_of_five_keeps_the_small_firm_tips():
    from assistant.triage import report

    result = _plan_for("〜5人")
    m01 = next(m for m in result.measures if m.id == "M01")
    assert m01.size_band == "" and "5人の会社なら" in m01.how_small
    assert "小さな会社では: 5人の会社なら" in report.markdown(result)


def test_old_records_without_a_size_band_still_load():
    from assistant.triage.model import TriageResult

    d = _plan_for("6〜20人").to_dict()
    for m in d["measures"]:
        m.pop("size_band")
    again = TriageResult.from_dict(d)
    assert all(m.size_band == "" for m in again.measures) and again.measures[0].tip_label == "小さな会社では"
