"""The must-protect rubric as pure functions (product advice, corpus/triage/rubric.json).

「わからない」 — and a question not asked yet — means "any answer is possible". An item's
status is the one every possible answer leads to; when the possible answers disagree
(must vs not required), the item is 要確認. The same reading tells the flow which questions
can still change an item's status, so it asks only those (flow.py).
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from ..config import SHIPPED_CORPUS

TRIAGE_DIR = SHIPPED_CORPUS / "triage"
UNKNOWN = "わからない"

Status = Literal["must", "confirm", "not_required"]
STATUSES: tuple[Status, ...] = ("must", "confirm", "not_required")
STATUS_LABELS: dict[str, str] = {"must": "確実に守るべき", "confirm": "要確認", "not_required": "優先度は低い"}
# The values a decision question can really take (「わからない」 stands for any of them).
FIELD_VALUES: dict[str, tuple[str, ...]] = {
    "confidential_obligation": ("はい", "いいえ"),
    "legal_control": ("はい", "いいえ"),
    "public": ("はい", "いいえ"),
    "competitive": ("はい", "いいえ"),
    "damage": ("大", "中", "小"),
}
FIELD_LABELS = {
    "confidential_obligation": "秘密保持の義務", "legal_control": "法令上の管理対象", "public": "公開済み・再現容易",
    "competitive": "競争力の源泉", "damage": "漏えい時の損害",
}


class RubricError(ValueError):
    pass


@dataclass(frozen=True)
class Rule:
    id: str
    status: Status
    when: tuple[tuple[str, frozenset[str]], ...]
    reason: str  # a template: {field} is replaced by the answer given
    implied_by: tuple[str, ...] = ()  # its reason is not repeated when one of these also applies

    def matches(self, answers: dict) -> bool:
        """True when the known answers satisfy every condition (an unknown never satisfies one)."""
        return all(answers.get(f) in values for f, values in self.when)


@dataclass(frozen=True)
class Reason:
    """One reason shown to the firm: text generated from its own answers."""

    rule: str  # internal rule id: kept in the JSON for advisers and tests, never shown in the record
    text: str
    kind: Literal["decides", "confirm", "unknown", "overridden"] = "decides"

    def to_dict(self) -> dict:
        return {"rule": self.rule, "text": self.text, "kind": self.kind}


@dataclass(frozen=True, eq=False)  # identity hash: the caches below key on the loaded rubric
class Rubric:
    fields: tuple[str, ...]
    rules: tuple[Rule, ...]
    confirm_reason: str
    unknown_note: str
    overridden_note: str
    standard_forms: dict[str, list[str]]

    @classmethod
    def load(cls, path: Path = TRIAGE_DIR / "rubric.json") -> "Rubric":
        return _load(str(path))

    # -- the status --------------------------------------------------------------------
    def first_rule(self, answers: dict) -> Rule:
        """The rule that decides a complete set of real answers (the first that applies)."""
        for rule in self.rules:
            if rule.matches(answers):
                return rule
        raise RubricError(f"どの規則にも当てはまりません: {answers}")  # load() proves this cannot happen

    def outcomes(self, answers: dict) -> frozenset[str]:
        """Every status the answers can still lead to, the open fields taking each real value."""
        return _outcomes(self, _key(self, answers))

    def status(self, answers: dict) -> Status:
        found = self.outcomes(answers)
        return next(iter(found)) if len(found) == 1 else "confirm"  # type: ignore[return-value]

    def settled(self, answers: dict) -> bool:
        """No answer to an open question can change the status any more."""
        return len(self.outcomes(answers)) == 1

    def relevant(self, answers: dict, field: str) -> bool:
        """Can this open question still change the status? (False for an answered one.)"""
        if _known(answers.get(field)):
            return False
        return _relevant(self, _key(self, answers), field)

    # -- reasons -----------------------------------------------------------------------
    def reasons(self, answers: dict) -> list[Reason]:
        status = self.status(answers)
        known = {f: answers[f] for f in self.fields if _known(answers.get(f))}
        out: list[Reason] = []
        if status == "confirm":
            matter = [FIELD_LABELS[f] for f in self.fields if not _known(answers.get(f)) and self.relevant(answers, f)]
            out.append(Reason("confirm", self.confirm_reason.format(fields="、".join(matter)), "confirm"))
        else:
            applying = [r for r in self.rules if r.status == status and r.matches(known)]
            ids = {r.id for r in applying}
            for r in applying:
                if not ids & set(r.implied_by):
                    out.append(Reason(r.id, r.reason.format(**known)))
            if not applying:  # settled only by the combination of possible answers
                out.append(Reason("combination", f"どの答えの組み合わせでも「{STATUS_LABELS[status]}」になります。"))
            label = STATUS_LABELS[status]
            for r in self.rules:
                if r.status != status and r.matches(known):
                    out.append(Reason(r.id, self.overridden_note.format(reason=r.reason.format(**known), status=label), "overridden"))
            idle = [FIELD_LABELS[f] for f in self.fields if answers.get(f) == UNKNOWN]
            if idle:
                out.append(Reason("unknown", self.unknown_note.format(fields="」「".join(idle)), "unknown"))
        return out


def _known(value) -> bool:
    return value is not None and value != UNKNOWN


def _key(rubric: Rubric, answers: dict) -> tuple:
    return tuple(answers.get(f) if _known(answers.get(f)) else None for f in rubric.fields)


def _completions(rubric: Rubric, key: tuple):
    choices = [(v,) if v is not None else FIELD_VALUES[f] for f, v in zip(rubric.fields, key)]
    for combo in itertools.product(*choices):
        yield dict(zip(rubric.fields, combo))


@lru_cache(maxsize=4096)
def _outcomes(rubric: Rubric, key: tuple) -> frozenset[str]:
    return frozenset(rubric.first_rule(c).status for c in _completions(rubric, key))


@lru_cache(maxsize=8192)
def _relevant(rubric: Rubric, key: tuple, field: str) -> bool:
    i = rubric.fields.index(field)
    pinned = key[:i] + (FIELD_VALUES[field][0],) + key[i + 1 :]  # the other open fields vary; this one below
    for completion in _completions(rubric, pinned):
        seen = {rubric.first_rule({**completion, field: v}).status for v in FIELD_VALUES[field]}
        if len(seen) > 1:
            return True
    return False


@lru_cache(maxsize=8)
def _load(path: str) -> Rubric:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    fields = tuple(data["decision_fields"])
    if set(fields) != set(FIELD_VALUES):
        raise RubricError(f"decision_fields は {', '.join(FIELD_VALUES)} です")
    rules = []
    for r in data["rules"]:
        if r["status"] not in ("must", "not_required"):
            raise RubricError(f"規則 {r['id']} の判定は must か not_required です（要確認は「わからない」から導きます）")
        unknown = set(r["when"]) - set(fields)
        if unknown:
            raise RubricError(f"規則 {r['id']} に知らない項目があります: {unknown}")
        rules.append(Rule(r["id"], r["status"], tuple((f, frozenset(v)) for f, v in r["when"].items()), r["reason"], tuple(r.get("implied_by", []))))
    rubric = Rubric(fields, tuple(rules), data["confirm_reason"], data["unknown_note"], data["overridden_note"], data.get("standard_forms", {}))
    # Every complete set of real answers must be decided by some rule: no dead ends.
    for completion in _completions(rubric, (None,) * len(fields)):
        if not any(r.matches(completion) for r in rules):
            raise RubricError(f"どの規則にも当てはまらない回答の組み合わせがあります: {completion}")
    return rubric
