"""Triage scenarios: firm profiles with expected results, scored exactly, by F1, and for the plan.

Scenario format (JSONL, one profile a line):
{"id", "description", "answers": <an answers file, schemas/triage_answers.schema.json>,
 "expect": {"must_protect": [item names], "confirm": [item names], "minimum_forms": [forms],
            "plan": {"organisation": [org topics], "basics": [{"item", "form", "controls": [...]}],
                     "situations": [situation keys], "must_mention": [words], "size": [min, max]}}}

The plan expectations were written from first principles — what a certification-body
adviser expects in a first plan — by a pass that saw neither the engine nor its output.
Each metric is a small pure function named after what it measures.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass
from pathlib import Path

from assistant.jsonl import read_jsonl
from assistant.textnorm import nfkc

OLD_FLOW_FIRM_QUESTIONS = 4 + 1  # the flow before adaptive questions: firm questions and the inventory…
OLD_FLOW_PER_ITEM = 9  # …then all nine item questions for every item


class ScenarioError(ValueError):
    pass


def _n(name: str) -> str:
    return nfkc(name).strip()


# -- metrics (pure) ------------------------------------------------------------------------------------
def f1(expected: list[str], got: list[str]) -> float:
    """Set F1; two empty sets agree perfectly."""
    e, g = {_n(x) for x in expected}, {_n(x) for x in got}
    if not e and not g:
        return 1.0
    tp = len(e & g)
    if tp == 0:
        return 0.0
    p, r = tp / len(g), tp / len(e)
    return 2 * p * r / (p + r)


def basics_covered(expected: list[dict], measures: list[dict]) -> float:
    """Share of the expected (item, form, control) basics that some measure of the plan covers."""
    wanted = {(_n(b["item"]), b["form"], c) for b in expected for c in b["controls"]}
    if not wanted:
        return 1.0
    have = {(_n(item), form, key) for m in measures for kind, key, item, form in m["cover_keys"] if kind == "basic"}
    return len(wanted & have) / len(wanted)


def organisation_covered(expected: list[str], measures: list[dict]) -> float:
    """Share of the expected organisation basics (responsible, policy, …) the plan covers."""
    have = {key for m in measures for kind, key, _, _ in m["cover_keys"] if kind == "org"}
    return (len(set(expected) & have) / len(expected)) if expected else 1.0


def situations_recall(expected: list[str], measures: list[dict]) -> float:
    """Share of the expected situations (customer information, joint R&D, …) the plan addresses."""
    have = {key for m in measures for kind, key, _, _ in m["cover_keys"] if kind == "situation"}
    return (len(set(expected) & have) / len(expected)) if expected else 1.0


def mentions_recall(expected: list[str], measures: list[dict]) -> float:
    """Share of the words an adviser expects to read somewhere in the plan's measures."""
    text = " ".join(f"{m['title']} {m['what']} {m['how_small']}" for m in measures)
    return (sum(1 for w in expected if w in text) / len(expected)) if expected else 1.0


def plan_size_ok(expected: list[int], measures: list[dict]) -> bool:
    """The number of measures lies in the range the adviser finds reasonable."""
    low, high = expected
    return low <= len(measures) <= high


# -- running ----------------------------------------------------------------------------------------------
@dataclass
class ScenarioResult:
    id: str
    description: str
    exact: bool
    must_f1: float
    confirm_f1: float
    forms_ok: bool
    basics: float
    organisation: float
    situations: float
    mentions: float
    size_ok: bool
    plan_size: int
    items: int
    questions_asked: int
    questions_before: int
    got: dict
    expected: dict

    @property
    def plan_ok(self) -> bool:
        return self.basics == 1.0 and self.organisation == 1.0 and self.situations == 1.0 and self.mentions == 1.0 and self.size_ok

    def to_dict(self) -> dict:
        d = asdict(self)
        d["plan_ok"] = self.plan_ok
        return d


def load_scenarios(paths: list[Path]) -> list[dict]:
    out = []
    for path in paths:
        for where, s in read_jsonl(path, ScenarioError):
            if not isinstance(s, dict):
                raise ScenarioError(f"{where}: JSON のオブジェクトが必要です")
            for key in ("id", "answers", "expect"):
                if key not in s:
                    raise ScenarioError(f"{where}: 必須の項目 {key} がありません")
            for key in ("must_protect", "confirm", "minimum_forms"):
                if not isinstance(s["expect"].get(key), list):
                    raise ScenarioError(f"{where}: expect.{key} は配列で指定してください")
            plan = s["expect"].get("plan")
            if not isinstance(plan, dict) or any(k not in plan for k in ("organisation", "basics", "situations", "must_mention", "size")):
                raise ScenarioError(f"{where}: expect.plan には organisation, basics, situations, must_mention, size が必要です")
            s["_where"] = where
            out.append(s)
    return out


def score(scenario: dict, result: dict) -> ScenarioResult:
    exp = scenario["expect"]
    plan = exp["plan"]
    measures = result["measures"]
    got = {
        "must_protect": result["must_protect"], "confirm": result["confirm"], "minimum_forms": result["minimum_set"]["forms"],
        "measures": [m["id"] for m in measures],
    }
    must = f1(exp["must_protect"], got["must_protect"])
    confirm = f1(exp["confirm"], got["confirm"])
    forms_ok = list(exp["minimum_forms"]) == list(got["minimum_forms"])
    n_items = len(scenario["answers"]["items"])
    r = ScenarioResult(
        scenario["id"], scenario.get("description", ""), must == 1.0 and confirm == 1.0 and forms_ok, must, confirm, forms_ok,
        basics_covered(plan["basics"], measures), organisation_covered(plan["organisation"], measures),
        situations_recall(plan["situations"], measures), mentions_recall(plan["must_mention"], measures),
        plan_size_ok(plan["size"], measures), len(measures), n_items, result["questions_asked"],
        OLD_FLOW_FIRM_QUESTIONS + OLD_FLOW_PER_ITEM * n_items, got, {k: v for k, v in exp.items() if k != "plan"} | {"plan": plan},
    )
    return r


def run(scenarios: list[dict], corpus) -> list[ScenarioResult]:
    from assistant.triage import TriageError, build_result, state_from_answers

    results = []
    for s in scenarios:
        try:
            state = state_from_answers(s["answers"])
        except TriageError as exc:
            raise ScenarioError(f"{s['_where']}: {exc}") from exc
        results.append(score(s, build_result(state, corpus).to_dict()))
    return results


def summary(results: list[ScenarioResult]) -> dict:
    n = len(results) or 1
    three = [r.questions_asked for r in results if r.items == 3]
    three_before = [r.questions_before for r in results if r.items == 3]
    return {
        "scenarios": len(results),
        "exact_match": sum(r.exact for r in results) / n,
        "must_protect_f1": sum(r.must_f1 for r in results) / n,
        "confirm_f1": sum(r.confirm_f1 for r in results) / n,
        "minimum_forms_accuracy": sum(r.forms_ok for r in results) / n,
        "basics_covered": sum(r.basics for r in results) / n,
        "organisation_covered": sum(r.organisation for r in results) / n,
        "situations_recall": sum(r.situations for r in results) / n,
        "mentions_recall": sum(r.mentions for r in results) / n,
        "plan_size_ok": sum(r.size_ok for r in results) / n,
        "median_questions_3_items": statistics.median(three) if three else None,
        "median_questions_3_items_before": statistics.median(three_before) if three_before else None,
        "questions_asked_total": sum(r.questions_asked for r in results),
        "questions_before_total": sum(r.questions_before for r in results),
    }
