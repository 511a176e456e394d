"""The typed result of a triage: one model, saved in the record, returned as JSON, and the
only source of the Markdown, PDF and Excel exports (report.py, excel.py).

Every field that came from the user (the firm's name, item names, locations, notes) is data
here; the renderers decide how to show it as text.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Literal

from .rules import STATUS_LABELS

ProgressStatus = Literal["todo", "planned", "done", "not_applicable"]
PROGRESS_STATUSES: tuple[ProgressStatus, ...] = ("todo", "planned", "done", "not_applicable")
PROGRESS_LABELS = {"todo": "未着手", "planned": "予定", "done": "完了", "not_applicable": "対象外"}
ADVICE_LABEL = "【製品の助言】この判定と対策は TICS Assistant 独自の目安であり、公式文書の記載ではありません。"
NOTHING_TO_PROTECT = (
    "確実に守るべき技術情報は見つかりませんでした（製品の助言）。挙げた情報がすべて公開済みか、漏れても損害が小さいと回答されています。"
    "図面、ノウハウ、顧客から預かった情報などが本当にないか、年に一度は見直すことをお勧めします。"
)


@dataclass
class Reason:
    rule: str  # internal; never shown in the record
    text: str
    kind: str = "decides"  # decides | confirm | unknown | overridden


@dataclass
class OpenQuestion:
    """A question left at 「わからない」, and what to find out."""

    field: str
    label: str
    find_out: str
    matters: bool  # would the answer change the item's status?


@dataclass
class SkippedQuestion:
    field: str
    label: str
    reason: str


@dataclass
class ItemResult:
    name: str
    status: str  # must | confirm | not_required
    status_label: str
    reasons: list[Reason]
    forms: list[str]
    answers: dict  # the item's answers as given (field → value)
    open_questions: list[OpenQuestion] = field(default_factory=list)
    skipped: list[SkippedQuestion] = field(default_factory=list)

    @property
    def reason_text(self) -> str:
        return " ".join(r.text for r in self.reasons)


@dataclass
class PlanMeasure:
    id: str
    title: str
    what: str
    how_small: str  # how this firm does it: the tip for its size band (size_band), else the small-firm one
    group: str
    group_label: str
    cost_tier: str
    effort: str
    serves: list[str]  # the must-protect (and to-confirm) items it serves
    covers: list[str]  # in words: 「図面（書面）の保管・施錠」, 「責任者」…
    cover_keys: list[list[str]]  # [kind, key, item, form], for checks and the metric
    prerequisites: list[str] = field(default_factory=list)
    standard_clauses: list[str] = field(default_factory=list)  # the operator's mapping, when the standard is loaded
    kind: str = "product_advice"
    size_band: str = ""  # the size band how_small is written for (「6〜20人」); "" for a firm of about five

    @property
    def tip_label(self) -> str:
        return f"{self.size_band}の会社では" if self.size_band else "小さな会社では"


@dataclass
class Progress:
    status: str = "todo"
    owner: str = ""
    due: str = ""  # YYYY-MM-DD
    note: str = ""
    updated_at: str = ""

    @property
    def label(self) -> str:
        return PROGRESS_LABELS.get(self.status, self.status)

    def overdue(self, today: dt.date) -> bool:
        """Past its due date and neither done nor set aside (an older record's free-text date is never overdue)."""
        try:
            return self.status in ("todo", "planned") and dt.date.fromisoformat(self.due) < today
        except ValueError:
            return False


@dataclass
class ComparisonRow:
    measure_id: str
    title: str
    before: str  # progress status in the earlier plan, or "" when the measure is new
    now: str  # progress status now, or "" when the measure left the plan

    @property
    def newly_done(self) -> bool:
        """In the earlier plan, not done then, done now."""
        return bool(self.before) and self.before != "done" and self.now == "done"

    @property
    def change(self) -> str:
        """What happened to the measure since the earlier plan, in words (「」 when nothing did)."""
        if not self.before:
            return "新しい対策"
        if not self.now:
            return "計画から外れた"
        if self.newly_done:
            return "新しく完了"
        return "" if self.now == self.before else f"{PROGRESS_LABELS.get(self.before, self.before)}→{PROGRESS_LABELS.get(self.now, self.now)}"


@dataclass
class ItemChange:
    """An item whose verdict changed since the earlier diagnosis, or that was added or left out."""

    name: str
    before: str  # the earlier verdict (must | confirm | not_required), or "" when the item is new
    now: str  # the verdict now, or "" when the item was not named this time

    @property
    def change(self) -> str:
        if not self.before:
            return f"新しく挙げた情報（{STATUS_LABELS.get(self.now, self.now)}）"
        if not self.now:
            return f"今回は挙げていない情報（前回 {STATUS_LABELS.get(self.before, self.before)}）"
        return f"{STATUS_LABELS.get(self.before, self.before)} → {STATUS_LABELS.get(self.now, self.now)}"


@dataclass
class GroupCount:
    """One plan group in one assessment: how many of its measures were done, of how many planned
    (「対象外」 measures are not counted: they are not work left to do)."""

    group: str
    label: str
    done: int
    total: int

    @property
    def share(self) -> float:
        return self.done / self.total if self.total else 0.0


@dataclass
class Standing:
    """One assessment's progress on its plan, group by group: a point on the re-assessment chart."""

    code: str
    date: str
    groups: list[GroupCount]

    def count(self, group: str) -> GroupCount | None:
        """The group's count, or None when this assessment had no measure in it."""
        return next((c for c in self.groups if c.group == group), None)

    @classmethod
    def from_dict(cls, d: dict) -> "Standing":
        return cls(d["code"], d["date"], [GroupCount(**g) for g in d["groups"]])


STANDINGS_KEPT = 8  # the earlier assessments a re-assessment keeps for its chart: two years of quarterly reviews


@dataclass
class Comparison:
    previous_code: str
    previous_date: str
    rows: list[ComparisonRow]
    items: list[ItemChange] = field(default_factory=list)  # only the items that changed; [] in records made before
    history: list[Standing] = field(default_factory=list)  # the earlier assessments, oldest first; [] in records made before

    @property
    def summary(self) -> dict:
        return {
            "earlier_measures": sum(1 for r in self.rows if r.before),
            "done_before": sum(1 for r in self.rows if r.before == "done"),
            "done_now": sum(1 for r in self.rows if r.now == "done"),
            "new_measures": sum(1 for r in self.rows if not r.before),
            "dropped_measures": sum(1 for r in self.rows if not r.now),
        }


@dataclass
class MinimumSet:
    forms: list[str]
    citation: dict  # {clause_id, doc, quote}: 指針第4の2の一, verbatim
    standard_loaded: bool
    clauses: list[dict] = field(default_factory=list)  # {clause_id, scope, text} from the loaded standard
    structure: list[dict] = field(default_factory=list)  # without the standard: the guideline's description
    version: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TriageResult:  # frozen: the saved code is set by replace(), so no caller changes another's result
    firm: dict
    items: list[ItemResult]
    minimum_set: MinimumSet
    measures: list[PlanMeasure]
    progress: dict[str, Progress]
    notes: list[str]
    questions_asked: int
    corpus_version: str
    documents: dict[str, str]
    catalogue_version: str
    generated_at: str
    code: str | None = None
    comparison: Comparison | None = None
    advice_label: str = ADVICE_LABEL

    def overdue(self, today: dt.date) -> list[tuple[PlanMeasure, Progress]]:
        """The plan's measures past their due date and not yet done."""
        return [(m, p) for m in self.measures if (p := self.progress_of(m.id)).overdue(today)]

    @property
    def must_protect(self) -> list[str]:
        return [i.name for i in self.items if i.status == "must"]

    @property
    def confirm(self) -> list[str]:
        return [i.name for i in self.items if i.status == "confirm"]

    @property
    def nothing_to_protect(self) -> bool:
        return not self.must_protect and not self.confirm

    @property
    def nothing_to_protect_note(self) -> str | None:
        return NOTHING_TO_PROTECT if self.nothing_to_protect and self.items else None

    def progress_of(self, measure_id: str) -> Progress:
        return self.progress.get(measure_id) or Progress()

    def standing(self) -> Standing:
        """This assessment's progress per plan group, in the plan's order (the plan goes group by group)."""
        groups: dict[str, GroupCount] = {}
        for m in self.measures:
            status = self.progress_of(m.id).status
            if status == "not_applicable":
                continue
            g = groups.setdefault(m.group, GroupCount(m.group, m.group_label, 0, 0))
            g.total += 1
            g.done += status == "done"
        return Standing(self.code or "", self.generated_at, list(groups.values()))

    def standings(self) -> list[Standing]:
        """Every assessment this one follows (oldest first) and this one: the chart's points."""
        return [*(self.comparison.history if self.comparison else []), self.standing()]

    def progress_summary(self) -> dict[str, int]:
        counts = {s: 0 for s in PROGRESS_LABELS}
        for m in self.measures:
            counts[self.progress_of(m.id).status] += 1
        return counts

    # -- JSON ----------------------------------------------------------------------------
    def to_dict(self) -> dict:
        items = []
        for it in self.items:
            d = asdict(it)
            d["item"] = d.pop("name")  # the field name ask --json consumers already read
            d["reason"] = it.reason_text
            d["rules"] = [r.rule for r in it.reasons if r.kind == "decides"]
            d["kind"] = "product_advice"
            items.append(d)
        return {
            "firm": dict(self.firm),
            "items": items,
            "must_protect": self.must_protect,
            "confirm": self.confirm,
            "nothing_to_protect": self.nothing_to_protect,
            "nothing_to_protect_note": self.nothing_to_protect_note,
            "open_questions": {it.name: [asdict(q) for q in it.open_questions] for it in self.items if it.open_questions},
            "minimum_set": asdict(self.minimum_set),
            "measures": [asdict(m) for m in self.measures],
            "progress": {k: asdict(v) for k, v in self.progress.items()},
            "progress_summary": self.progress_summary(),
            "comparison": ({**asdict(self.comparison), "summary": self.comparison.summary} if self.comparison else None),
            "notes": list(self.notes),
            "questions_asked": self.questions_asked,
            "advice_label": self.advice_label,
            "corpus_version": self.corpus_version,
            "documents": dict(self.documents),
            "catalogue_version": self.catalogue_version,
            "generated_at": self.generated_at,
            "code": self.code,
        }

    @classmethod
    def from_dict(cls, d: dict) -> "TriageResult":
        items = []
        for it in d["items"]:
            items.append(ItemResult(
                it["item"], it["status"], it["status_label"], [Reason(**r) for r in it.get("reasons", [])], list(it.get("forms", [])),
                dict(it.get("answers", {})), [OpenQuestion(**q) for q in it.get("open_questions", [])],
                [SkippedQuestion(**s) for s in it.get("skipped", [])],
            ))
        comp = d.get("comparison")
        comparison = None
        if comp:
            comparison = Comparison(comp["previous_code"], comp["previous_date"], [ComparisonRow(**r) for r in comp["rows"]],
                                    [ItemChange(**i) for i in comp.get("items", [])], [Standing.from_dict(h) for h in comp.get("history", [])])
        return cls(
            dict(d["firm"]), items, MinimumSet(**d["minimum_set"]), [PlanMeasure(**m) for m in d["measures"]],
            {k: Progress(**v) for k, v in d.get("progress", {}).items()}, list(d.get("notes", [])), int(d.get("questions_asked", 0)),
            d["corpus_version"], dict(d.get("documents", {})), d.get("catalogue_version", ""), d["generated_at"], d.get("code"),
            comparison, d.get("advice_label", ADVICE_LABEL),
        )


def valid_due(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True
