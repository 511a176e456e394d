"""Triage scenarios: firm profiles with expected results, scored exactly and by F1.

Scenario format (JSONL, one profile a line):
{"id", "description", "answers": <an answers file, schemas/triage_answers.schema.json>,
 "expect": {"must_protect": [item names], "confirm": [item names], "minimum_forms": [forms],
            "top_measures": [measure ids expected among the first 5 recommended]}}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

TOP_N = 5


class ScenarioError(ValueError):
    pass


@dataclass
class ScenarioResult:
    id: str
    description: str
    exact: bool
    must_f1: float
    confirm_f1: float
    forms_ok: bool
    measures_recall: float
    got: dict
    expected: dict

    def to_dict(self) -> dict:
        return {
            "id": self.id, "description": self.description, "exact": self.exact, "must_f1": round(self.must_f1, 3),
            "confirm_f1": round(self.confirm_f1, 3), "forms_ok": self.forms_ok, "measures_recall": round(self.measures_recall, 3),
            "got": self.got, "expected": self.expected,
        }


def f1(expected: list[str], got: list[str]) -> float:
    """Set F1; two empty sets agree perfectly."""
    e, g = set(expected), set(got)
    if not e and not g:
        return 1.0
    if not e or not g:
        return 0.0
    tp = len(e & g)
    if tp == 0:
        return 0.0
    p, r = tp / len(g), tp / len(e)
    return 2 * p * r / (p + r)


def load_scenarios(paths: list[Path]) -> list[dict]:
    out = []
    for path in paths:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                s = json.loads(line)
            except ValueError as exc:
                raise ScenarioError(f"{path}:{n}: JSON として読めません（{exc}）") from exc
            for key in ("id", "answers", "expect"):
                if key not in s:
                    raise ScenarioError(f"{path}:{n}: 必須の項目 {key} がありません")
            for key in ("must_protect", "confirm", "minimum_forms", "top_measures"):
                if not isinstance(s["expect"].get(key), list):
                    raise ScenarioError(f"{path}:{n}: expect.{key} は配列で指定してください")
            s["_where"] = f"{path}:{n}"
            out.append(s)
    return out


def score(scenario: dict, result: dict) -> ScenarioResult:
    exp = scenario["expect"]
    got = {
        "must_protect": result["must_protect"],
        "confirm": result["confirm"],
        "minimum_forms": result["minimum_set"]["forms"],
        "top_measures": [m["id"] for m in result["measures"][:TOP_N]],
    }
    must = f1(exp["must_protect"], got["must_protect"])
    confirm = f1(exp["confirm"], got["confirm"])
    forms_ok = list(exp["minimum_forms"]) == list(got["minimum_forms"])
    wanted = exp["top_measures"]
    recall = (sum(1 for m in wanted if m in got["top_measures"]) / len(wanted)) if wanted else (1.0 if not got["top_measures"] else 0.0)
    exact = must == 1.0 and confirm == 1.0 and forms_ok and recall == 1.0
    return ScenarioResult(scenario["id"], scenario.get("description", ""), exact, must, confirm, forms_ok, recall, got, exp)


def run(scenarios: list[dict], corpus) -> list[ScenarioResult]:
    from assistant.triage import TriageError, build_result, state_from_answers

    results = []
    for s in scenarios:
        try:
            state = state_from_answers(s["answers"])
        except TriageError as exc:
            raise ScenarioError(f"{s['_where']}: {exc}") from exc
        results.append(score(s, build_result(state, corpus)))
    return results


def summary(results: list[ScenarioResult]) -> dict:
    n = len(results) or 1
    return {
        "scenarios": len(results),
        "exact_match": sum(r.exact for r in results) / n,
        "must_protect_f1": sum(r.must_f1 for r in results) / n,
        "confirm_f1": sum(r.confirm_f1 for r in results) / n,
        "minimum_forms_accuracy": sum(r.forms_ok for r in results) / n,
        "top_measures_recall": sum(r.measures_recall for r in results) / n,
    }
