"""The harness end to end: the shipped config passes the gate, a weaker one fails it, bad files are clear errors."""

import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT


def run_eval(args, home):
    env = dict(os.environ, ASSISTANT_HOME=str(home))
    return subprocess.run([sys.executable, "-m", "eval", *args], cwd=ROOT, env=env, capture_output=True, timeout=900)


@pytest.fixture(scope="module")
def built(home, assistant):
    return home


def test_shipped_config_passes_the_gate(built, tmp_path):
    cases = sorted(str(p) for p in (ROOT / "eval" / "cases").glob("*.jsonl"))
    p = run_eval(["--cases", *cases, "--json", str(tmp_path / "r.json"), "--md", str(tmp_path / "r.md"), "--quiet"], built)
    out = p.stdout.decode()
    assert p.returncode == 0, out + p.stderr.decode()
    assert "Recall@1" in out and "合格" in out
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    s = report["configs"]["hybrid"]["summary"]
    assert s["answerable"] >= 80 and s["refusal_cases"] >= 20
    assert s["quote_fidelity"] == 1.0 and s["unknown_clause_ids"] == 0
    assert (tmp_path / "r.md").read_text(encoding="utf-8").startswith("# 忠実性評価レポート")
    assert (tmp_path / "r.svg").read_text(encoding="utf-8").startswith("<svg")


def test_the_guiding_chat_passes_its_gate_and_reports_per_intent(built, tmp_path):
    cases = sorted(str(p) for p in (ROOT / "eval" / "guide").glob("*.jsonl"))
    p = run_eval(["--cases", *cases, "--gate-table", "guide_gate", "--json", str(tmp_path / "g.json"), "--quiet"], built)
    out = p.stdout.decode()
    assert p.returncode == 0, out + p.stderr.decode()
    assert "意図ごとの指標" in out
    s = json.loads((tmp_path / "g.json").read_text(encoding="utf-8"))["configs"]["hybrid"]["summary"]
    assert set(s["per_intent"]) == {"documents", "action", "triage", "out_of_scope", "misuse"}
    assert s["quote_fidelity"] == 1.0 and s["intent_accuracy"] >= 0.9
    # --baseline lists what changed case by case: against a doctored earlier run, one case is "fixed"
    report = json.loads((tmp_path / "g.json").read_text(encoding="utf-8"))
    run = report["configs"]["hybrid"]
    passing = next(c for c in run["per_case"] if not c["failed"])
    run["failures"].append({"id": passing["id"]})
    (tmp_path / "old.json").write_text(json.dumps(report, ensure_ascii=False), encoding="utf-8")
    p = run_eval(["--cases", *cases, "--gate-table", "guide_gate", "--baseline", str(tmp_path / "old.json"), "--quiet", "--no-gate"], built)
    assert f"直った: {passing['id']}" in p.stdout.decode()


@pytest.mark.parametrize("folder, table, at_least", [("guide2", "guide2_gate", 50), ("guide3", "guide3_gate", 80)])
def test_each_later_dev_set_passes_its_gate(built, tmp_path, folder, table, at_least):
    """New wording written after each round of tuning (eval/README.md): its own floors (thresholds.toml)."""
    cases = sorted(str(p) for p in (ROOT / "eval" / folder).glob("*.jsonl"))
    assert cases
    p = run_eval(["--cases", *cases, "--gate-table", table, "--json", str(tmp_path / "g.json"), "--quiet"], built)
    assert p.returncode == 0, p.stdout.decode() + p.stderr.decode()
    s = json.loads((tmp_path / "g.json").read_text(encoding="utf-8"))["configs"]["hybrid"]["summary"]
    assert s["cases"] >= at_least and s["quote_fidelity"] == 1.0


def test_a_weaker_config_fails_the_gate(built, tmp_path):
    """Dense-only retrieval (no explicit references, no glossary) misses the thresholds: exit 1."""
    p = run_eval(["--cases", str(ROOT / "eval" / "cases" / "guideline.jsonl"), "--config", "dense", "--quiet"], built)
    assert p.returncode == 1
    assert "ゲート不合格" in p.stderr.decode()
    assert "失敗したケース" in p.stdout.decode()


def test_compare_runs_configs_side_by_side(built, tmp_path):
    small = tmp_path / "small.jsonl"
    lines = (ROOT / "eval" / "cases" / "guideline.jsonl").read_text(encoding="utf-8").splitlines()[:6]
    small.write_text("\n".join(lines), encoding="utf-8")
    p = run_eval(["--cases", str(small), "--compare", "hybrid,dense,bm25", "--no-gate", "--json", str(tmp_path / "c.json")], built)
    assert p.returncode == 0, p.stderr.decode()
    report = json.loads((tmp_path / "c.json").read_text(encoding="utf-8"))
    assert list(report["configs"]) == ["hybrid", "dense", "bm25"]
    assert all(len(c["per_case"]) == 6 for c in report["configs"].values())


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"id": "x", "question": "q"}', "必須の項目 gold_clauses"),
        ("not json", "JSON として読めません"),
        ('{"id": "x", "question": "q", "gold_clauses": ["指針第9の9"], "must_include": [], "expect_refusal": false}', "存在しない条項ID"),
        ('{"id": "x", "question": "q", "gold_clauses": [], "must_include": [], "expect_refusal": "no"}', "型が違います"),
    ],
)
def test_bad_case_files_are_clear_errors(built, tmp_path, content, message):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(content, encoding="utf-8")
    p = run_eval(["--cases", str(bad)], built)
    assert p.returncode == 2
    assert message in p.stderr.decode() and "Traceback" not in p.stderr.decode()


def test_triage_scenarios_pass_their_gate_and_a_wrong_expectation_fails(built, tmp_path):
    scenarios = ROOT / "eval" / "triage" / "scenarios.jsonl"
    p = run_eval(["--triage", str(scenarios), "--json", str(tmp_path / "t.json")], built)
    assert p.returncode == 0, p.stdout.decode() + p.stderr.decode()
    t = json.loads((tmp_path / "t.json").read_text(encoding="utf-8"))["triage"]
    assert t["summary"]["scenarios"] >= 20 and t["summary"]["exact_match"] == 1.0 and t["summary"]["basics_covered"] == 1.0
    assert t["summary"]["median_questions_3_items"] <= 16 < t["summary"]["median_questions_3_items_before"]
    first = json.loads(scenarios.read_text(encoding="utf-8").splitlines()[0])
    first["expect"]["must_protect"] = first["expect"]["must_protect"][:-1] or ["存在しない情報"]
    wrong = tmp_path / "wrong.jsonl"
    wrong.write_text(json.dumps(first, ensure_ascii=False), encoding="utf-8")
    p = run_eval(["--triage", str(wrong)], built)
    assert p.returncode == 1 and "triage" in p.stderr.decode()
    assert "×" in p.stdout.decode()


def test_assistant_eval_is_the_same_harness(built, tmp_path):
    small = tmp_path / "s.jsonl"
    small.write_text((ROOT / "eval" / "cases" / "guideline.jsonl").read_text(encoding="utf-8").splitlines()[0], encoding="utf-8")
    env = dict(os.environ, ASSISTANT_HOME=str(built))
    p = subprocess.run([sys.executable, "-m", "assistant", "eval", "--cases", str(small), "--no-gate", "--quiet"], cwd=ROOT, env=env, capture_output=True, timeout=600)
    assert p.returncode == 0, p.stderr.decode()
    assert "Recall@1" in p.stdout.decode()
