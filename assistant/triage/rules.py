"""Pure decision functions: the must-protect rubric, risks per item, and measure ordering.

The rubric and the measures catalogue are the product's own advice, kept in data files
(corpus/triage/rubric.json, corpus/measures.json) and always shown as such.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..config import SHIPPED_CORPUS
from .flow import TRIAGE_DIR, UNKNOWN

STATUSES = ("must", "confirm", "not_required")
STATUS_LABELS = {"must": "確実に守るべき", "confirm": "要確認", "not_required": "優先度は低い"}
COST_TIERS = ("無料", "〜1万円", "〜10万円", "それ以上")
EFFORTS = ("低", "中", "高")


class RubricError(ValueError):
    pass


@dataclass(frozen=True)
class Rule:
    id: str
    status: str
    reason: str
    when: dict  # every field must take one of the values
    when_any: dict  # at least one field must take one of the values

    def matches(self, item: dict) -> bool:
        if self.when_any and not any(item.get(k) in v for k, v in self.when_any.items()):
            return False
        return all(item.get(k) in v for k, v in self.when.items())


@dataclass(frozen=True)
class Rubric:
    rules: tuple[Rule, ...]
    risks_by_form: dict[str, list[str]]
    extra_risks: tuple[dict, ...]
    standard_forms: dict[str, list[str]]

    @classmethod
    def load(cls, path: Path = TRIAGE_DIR / "rubric.json") -> "Rubric":
        data = json.loads(path.read_text(encoding="utf-8"))
        rules = tuple(Rule(r["id"], r["status"], r["reason"], r.get("when", {}), r.get("when_any", {})) for r in data["rules"])
        unknown = [r.id for r in rules if r.status not in STATUSES]
        if unknown:
            raise RubricError(f"不明な判定: {unknown}")
        if rules[-1].when or rules[-1].when_any:
            raise RubricError("最後の規則は無条件（既定）にしてください。判定が行き止まりにならないためです。")
        return cls(rules, data["risks_by_form"], tuple(data["extra_risks"]), data["standard_forms"])


@dataclass(frozen=True)
class Decision:
    item: str
    status: str
    rule: str
    reason: str
    rule_path: tuple[str, ...]  # rules tried, in order, ending with the one that decided
    forms: tuple[str, ...]
    risks: tuple[str, ...]
    pairs: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict:
        return {
            "item": self.item,
            "status": self.status,
            "status_label": STATUS_LABELS[self.status],
            "rule": self.rule,
            "reason": self.reason,
            "rule_path": list(self.rule_path),
            "forms": list(self.forms),
            "risks": list(self.risks),
            "kind": "product_advice",
        }


def classify(item: dict, rubric: Rubric) -> tuple[str, Rule, tuple[str, ...]]:
    """(status, deciding rule, rules tried). The first matching rule decides."""
    tried = []
    for rule in rubric.rules:
        tried.append(rule.id)
        if rule.matches(item):
            return rule.status, rule, tuple(tried)
    raise RubricError("どの規則にも当てはまりません")  # unreachable: the last rule is unconditional


def item_forms(item: dict) -> tuple[str, ...]:
    return tuple(f for f in item.get("forms", []) if f != UNKNOWN)


def pairs_of(item: dict, rubric: Rubric) -> tuple[tuple[str, str], ...]:
    """(form, risk) pairs of one item: each form's own risks, plus the risks that come from
    how the item is shared (社外に渡す, 社員全員), which apply to every form it takes."""
    extras = [e["risk"] for e in rubric.extra_risks if all(item.get(k) in v for k, v in e["when"].items())]
    pairs = [(form, risk) for form in item_forms(item) for risk in [*rubric.risks_by_form.get(form, []), *extras]]
    return tuple(dict.fromkeys(pairs))


def risks_of(item: dict, rubric: Rubric) -> tuple[str, ...]:
    return tuple(dict.fromkeys(r for _, r in pairs_of(item, rubric)))


def decide(item: dict, rubric: Rubric) -> Decision:
    status, rule, tried = classify(item, rubric)
    return Decision(item["name"], status, rule.id, rule.reason, tried, item_forms(item), risks_of(item, rubric), pairs_of(item, rubric))


def needs_of(decisions: list[Decision]) -> list[tuple[str, str]]:
    """(form, risk) pairs to address: those of must-protect and to-confirm items."""
    return list(dict.fromkeys(p for d in decisions if d.status != "not_required" for p in d.pairs))


@dataclass(frozen=True)
class Measure:
    id: str
    title: str
    what: str
    forms: tuple[str, ...]
    risks: tuple[str, ...]
    cost_tier: str
    effort: str
    prerequisites: tuple[str, ...] = ()

    def covers(self, pair: tuple[str, str]) -> bool:
        return pair[0] in self.forms and pair[1] in self.risks

    def to_dict(self, covered: list[tuple[str, str]] | None = None) -> dict:
        return {
            "id": self.id, "title": self.title, "what": self.what, "forms": list(self.forms), "risks": list(self.risks),
            "cost_tier": self.cost_tier, "effort": self.effort, "prerequisites": list(self.prerequisites),
            "covers": [f"{f}／{r}" for f, r in (covered or [])], "kind": "product_advice",
        }


def load_measures(path: Path = SHIPPED_CORPUS / "measures.json") -> list[Measure]:
    data = json.loads(path.read_text(encoding="utf-8"))
    measures = [
        Measure(m["id"], m["title"], m["what"], tuple(m["forms"]), tuple(m["risks"]), m["cost_tier"], m["effort"], tuple(m.get("prerequisites", [])))
        for m in data["measures"]
    ]
    ids = {m.id for m in measures}
    for m in measures:
        if m.cost_tier not in COST_TIERS or m.effort not in EFFORTS or not set(m.prerequisites) <= ids:
            raise RubricError(f"対策カタログの {m.id} の値が不正です")
    return measures


def _cost_key(m: Measure) -> tuple[int, int]:
    return COST_TIERS.index(m.cost_tier), EFFORTS.index(m.effort)


def order_measures(needs: list[tuple[str, str]], measures: list[Measure]) -> list[tuple[Measure, list[tuple[str, str]]]]:
    """Cheapest first: repeatedly take the cheapest measure (cost tier, then effort) that covers
    something still uncovered, preferring the one that covers more. A measure's prerequisites
    are placed before it. Returns (measure, pairs it newly covers)."""
    uncovered = list(needs)
    chosen: list[tuple[Measure, list[tuple[str, str]]]] = []
    by_id = {m.id: m for m in measures}
    while uncovered:
        candidates = [(m, [p for p in uncovered if m.covers(p)]) for m in measures if m not in [c for c, _ in chosen]]
        candidates = [(m, cov) for m, cov in candidates if cov]
        if not candidates:
            break
        m, cov = min(candidates, key=lambda mc: (*_cost_key(mc[0]), -len(mc[1]), mc[0].id))

        def place(measure: Measure, seen: tuple[str, ...] = ()) -> None:
            # Prerequisites first, all the way down (M23 needs M22, which needs M01).
            for pre in measure.prerequisites:
                if pre not in seen and by_id[pre] not in [c for c, _ in chosen]:
                    place(by_id[pre], seen + (measure.id,))
            if measure not in [c for c, _ in chosen]:
                chosen.append((measure, [p for p in uncovered if measure.covers(p)]))

        place(m)
        uncovered = [p for p in uncovered if not any(c.covers(p) for c, _ in chosen)]
    return chosen


def uncovered(needs: list[tuple[str, str]], chosen: list[tuple[Measure, list]]) -> list[tuple[str, str]]:
    return [p for p in needs if not any(m.covers(p) for m, _ in chosen)]
