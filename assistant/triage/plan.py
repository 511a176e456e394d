"""A first plan from the decisions: what must be covered, and the cheapest measures that cover it.

Needs, in the shape advisers use for a first plan:
- organisation basics, once for a firm with anything to protect;
- the basic controls for every form (態様) of every item that must be protected or needs
  confirming (treated as must until confirmed);
- the measures for the firm's situation (customer information, joint R&D, …).
Measures are picked cheapest first (cost tier), preferring one that covers more of what is
still open, then less effort; prerequisites come along. The plan reads organisation first,
then the basic controls, then the situation, cheapest first within each group.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .catalogue import FORM_CONTROLS, GROUPS, LABELS, ORG_TOPICS, Catalogue, Measure
from .rules import UNKNOWN

NeedKind = Literal["org", "basic", "situation"]


@dataclass(frozen=True)
class Need:
    kind: NeedKind
    key: str  # org topic, control, or situation
    item: str = ""  # basic controls: the item
    form: str = ""  # basic controls: its form

    @property
    def label(self) -> str:
        if self.kind == "basic":
            return f"{self.item}（{self.form}）の{LABELS[self.key]}"
        return LABELS[self.key]


@dataclass(frozen=True)
class ProtectedItem:
    """What the plan needs to know about an item that must be protected or needs confirming."""

    name: str
    forms: tuple[str, ...]
    answers: dict

    def answered(self, field: str, *values: str) -> bool:
        return self.answers.get(field) in values


@dataclass(frozen=True)
class Chosen:
    measure: Measure
    covers: tuple[Need, ...]  # every need of this firm the measure covers
    serves: tuple[str, ...]  # the items it serves


def situations_of(items: list[ProtectedItem], firm: dict) -> dict[str, list[str]]:
    """Situation → the items it concerns (product advice; see the README for the triggers)."""
    if not items:
        return {}
    collab = set(firm.get("collaboration") or [])
    names = [it.name for it in items]
    out: dict[str, list[str]] = {}
    obliged = [it.name for it in items if it.answered("confidential_obligation", "はい", UNKNOWN)]
    if obliged or collab & {"下請け・受託", "顧客と情報を共有"}:
        out["customer_supplied"] = obliged or names
    if "共同研究開発" in collab:
        out["joint_rd"] = [it.name for it in items if it.answered("goes_outside", "はい")] or names
    outside = [it.name for it in items if it.answered("goes_outside", "はい") or it.answered("access", "社外の人も")]
    if outside:
        out["outsourcing"] = outside
    if "来客・見学がある" in collab:
        out["visitors"] = [it.name for it in items if {"書面", "物品"} & set(it.forms)] or names
    people = [it.name for it in items if "人の知識・ノウハウ" in it.forms]
    if people or firm.get("size") != "〜5人":
        out["leavers"] = people or names
    controlled = [it.name for it in items if it.answered("legal_control", "はい")]
    if controlled:
        out["export_control"] = controlled
    return out


def needs_of(items: list[ProtectedItem], firm: dict) -> list[Need]:
    if not items:
        return []
    needs = [Need("org", t) for t in ORG_TOPICS]
    for it in items:
        for form in it.forms:
            needs += [Need("basic", c, it.name, form) for c in FORM_CONTROLS.get(form, ())]
    needs += [Need("situation", s) for s in situations_of(items, firm)]
    return needs


def _coverage(m: Measure, needs: list[Need], situations: dict[str, list[str]]) -> frozenset[Need]:
    """The needs a measure covers. A situation's measure (export control: limit who handles the
    data) covers basic controls only for the items of its situation, and only when it applies."""
    scope = None if not m.situations else {item for s in m.situations for item in situations.get(s, [])}
    out = set()
    for n in needs:
        if (n.kind == "org" and n.key in m.org) or (n.kind == "situation" and n.key in m.situations) or (
            n.kind == "basic" and n.key in m.controls_for(n.form) and (scope is None or n.item in scope)
        ):
            out.add(n)
    return frozenset(out)


def build_plan(items: list[ProtectedItem], firm: dict, catalogue: Catalogue) -> tuple[list[Chosen], list[Need]]:
    """(the plan in reading order, needs no measure covers)."""
    needs = needs_of(items, firm)
    situations = situations_of(items, firm)
    coverage = {m.id: _coverage(m, needs, situations) for m in catalogue.measures}
    open_needs = set(needs)
    picked: list[str] = []

    def take(measure_id: str, path: tuple[str, ...] = ()) -> None:
        for pre in catalogue[measure_id].prerequisites:  # prerequisites first, all the way down
            if pre not in picked and pre not in path:
                take(pre, path + (measure_id,))
        if measure_id not in picked:
            picked.append(measure_id)

    while open_needs:
        candidates = [m for m in catalogue.measures if m.id not in picked and coverage[m.id] & open_needs]
        if not candidates:
            break
        # Cheapest tier first; then the one closing more of what is open; then less effort; then
        # the more general rule (a take-out rule for every form before a copy limit for paper).
        best = min(candidates, key=lambda m: (m.cost_key[0], -len(coverage[m.id] & open_needs), m.cost_key[1], -len(m.controls), m.id))
        take(best.id)
        for mid in picked:
            open_needs -= coverage[mid]
    all_items = tuple(it.name for it in items)
    chosen = []
    for mid in _reading_order(picked, catalogue):
        m = catalogue[mid]
        covers = tuple(n for n in needs if n in coverage[mid])
        served = [n.item for n in covers if n.kind == "basic"] + [x for s in m.situations if s in situations for x in situations[s]]
        if m.group == "organisation" or not served:
            served = list(all_items)
        chosen.append(Chosen(m, covers, tuple(dict.fromkeys(served))))
    return chosen, [n for n in needs if n in open_needs]


def _reading_order(picked: list[str], catalogue: Catalogue) -> list[str]:
    """Organisation, then basic controls, then the situation; cheapest first within each,
    and never a measure before its prerequisites."""
    ranked = sorted(picked, key=lambda mid: (GROUPS.index(catalogue[mid].group), catalogue[mid].cost_key, mid))
    out: list[str] = []

    def emit(mid: str) -> None:
        for pre in catalogue[mid].prerequisites:
            if pre in picked and pre not in out:
                emit(pre)
        if mid not in out:
            out.append(mid)

    for mid in ranked:
        emit(mid)
    return out
