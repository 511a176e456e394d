"""From a finished triage state to the typed result: decisions with reasons, the minimum set,
the plan, progress, and the comparison with an earlier plan."""

from __future__ import annotations

import json
import time
from pathlib import Path

from ..config import PACKAGE_ROOT
from ..corpus import Corpus
from .catalogue import GROUP_LABELS, Catalogue
from .flow import FORMS, ITEM_FIELDS, Flow, TriageError, TriageState, answer, clean, next_question, protected, questions_asked
from .model import (
    PROGRESS_STATUSES, STANDINGS_KEPT, Comparison, ComparisonRow, ItemChange, ItemResult, MinimumSet, OpenQuestion, PlanMeasure, Progress, Reason,
    SkippedQuestion, TriageResult, valid_due,
)
from .plan import ProtectedItem, build_plan
from .rules import STATUS_LABELS, UNKNOWN, Rubric

ANSWERS_SCHEMA = PACKAGE_ROOT / "schemas" / "triage_answers.schema.json"
STANDARD_DOC = "基準"
MAX_NOTE_CHARS = 500
MAX_OWNER_CHARS = 60


# -- answers files and the adviser's grid ---------------------------------------------------------
class AnswersError(TriageError):
    """An answers file (or the grid) that does not fit: where (the JSON path) and what is wrong, so the
    grid can name its row and column and the CLI the field, each in its own words."""

    def __init__(self, path: tuple, problem: str):
        self.path, self.problem = path, problem
        where = "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else str(p)) for i, p in enumerate(path)) or "（ファイル全体）"
        super().__init__(f"回答ファイルの {where} が不正です: {problem}")


def validate_answers(answers: object) -> None:
    """Check an answers file (or grid) against the JSON Schema; the error names the field."""
    import jsonschema

    schema = json.loads(ANSWERS_SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(answers), key=lambda e: list(e.absolute_path))
    if errors:
        raise AnswersError(tuple(errors[0].absolute_path), _schema_message(errors[0]))
    names = [it["name"] for it in answers["items"]]
    if len(set(names)) != len(names):
        raise AnswersError(("items",), "同じ name が複数あります。情報ごとに別の名前を付けてください")


def _schema_message(e) -> str:
    if e.validator == "enum":
        return f"「{e.instance}」は使えません（使える値: {'、'.join(map(str, e.validator_value))}）"
    if e.validator == "required":
        return f"必須の項目がありません（{e.message.split(' ')[0]}）"
    if e.validator == "type":
        return f"型が違います（{e.validator_value} が必要）"
    if e.validator == "additionalProperties":
        return f"知らない項目があります（{e.message}）"
    if e.validator in ("maxLength", "maxItems"):
        return f"長すぎます（上限 {e.validator_value}）"
    if e.validator == "pattern":
        return "形式が違います（期限は YYYY-MM-DD）"
    return e.message


def state_from_answers(answers: object, flow: Flow | None = None) -> TriageState:
    """Run the conversation on the answers of a file (or the adviser's grid).

    The flow asks its questions in order and takes each answer from the file; what the file
    leaves out is 「わからない」. The state is the one the conversation would reach, so the
    result and the record are the same, and the log counts the questions it would have asked.
    """
    validate_answers(answers)
    flow = flow or Flow.load()
    firm = answers.get("firm", {})
    items = {clean(it["name"]): it for it in answers["items"]}  # the flow keeps names in NFKC
    if len(items) != len(answers["items"]):
        raise TriageError("回答ファイルの items に同じ name が複数あります（全角と半角の違いだけの名前も同じとみなします）。")
    state = TriageState()
    while (q := next_question(state, flow)) is not None:
        if q.kind == "items":
            value = list(items)
        elif q.item is None and q.kind != "batch":
            value = firm.get(q.field, "" if q.kind == "text" else ([UNKNOWN] if q.kind == "multi" else UNKNOWN))
        elif q.kind == "batch":
            value = {state.items[i]["name"]: items[state.items[i]["name"]].get(q.field, UNKNOWN) for i in q.items}
        elif q.kind == "forms":
            given = items[state.items[q.item]["name"]]
            value = {"forms": given.get("forms") or [UNKNOWN], "location": given.get("location", "")}
        else:
            value = items[state.items[q.item]["name"]].get(q.field, UNKNOWN)
        state = answer(state, flow, value)
    state.progress = check_progress(answers.get("progress", {}))
    state.previous = answers.get("previous")
    return state


def check_progress(progress: dict) -> dict:
    """Validate progress entries ({measure id: {status, owner, due, note}}) as plain data."""
    out = {}
    for mid, p in (progress or {}).items():
        status = p.get("status", "todo")
        if status not in PROGRESS_STATUSES:
            raise TriageError(f"progress.{mid}.status: 「{status}」は使えません（{'、'.join(PROGRESS_STATUSES)}）。")
        due = str(p.get("due") or "")
        if due and not valid_due(due):
            raise TriageError(f"progress.{mid}.due: 期限は YYYY-MM-DD の形で書いてください（{due[:20]}）。")
        owner, note = str(p.get("owner") or ""), str(p.get("note") or "")
        if len(owner) > MAX_OWNER_CHARS or len(note) > MAX_NOTE_CHARS:
            raise TriageError(f"progress.{mid}: 担当者は {MAX_OWNER_CHARS} 文字、メモは {MAX_NOTE_CHARS} 文字までです。")
        out[mid] = {"status": status, "owner": owner, "due": due, "note": note, "updated_at": str(p.get("updated_at") or "")}
    return out


def load_answers(path: Path, flow: Flow | None = None) -> TriageState:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TriageError(f"回答ファイル {path} を読めません: {exc}") from exc
    except ValueError as exc:
        raise TriageError(f"回答ファイル {path} は JSON として読めません: {exc}") from exc
    return state_from_answers(data, flow)


# -- the minimum set ----------------------------------------------------------------------------------
def forms_needed(items: list[ItemResult]) -> list[str]:
    found = {f for it in items if it.status != "not_required" for f in it.forms}
    return [f for f in FORMS if f in found]


def minimum_set_section(corpus: Corpus, forms: list[str], rubric: Rubric) -> MinimumSet:
    """The minimum set for the forms found: real clauses when the standard is loaded,
    otherwise what 指針第4の2の一 says, with a clear note that the standard is not loaded."""
    from ..minimum import guideline_quote

    cid, doc_name, quote = guideline_quote(corpus)
    section = MinimumSet(forms, {"clause_id": cid, "doc": doc_name, "quote": quote}, corpus.has_doc(STANDARD_DOC))
    if not section.standard_loaded:
        section.structure = [
            {"part": "Ⅰの第一から第三まで", "scope": "whole"},
            {"part": "Ⅰの第四から第六までの柱書き", "scope": "lead"},
            {"part": "Ⅱの柱書き", "scope": "lead"},
            {"part": "技術等情報の態様に応じてⅢ、Ⅳ及びⅤの柱書き", "scope": "lead", "forms": forms},
        ]
        section.notes.append(
            "技術等情報漏えい防止措置基準（告示）の本文は読み込まれていないため、条文は表示できません。"
            "上の構成は指針第4の2の一の記載によるものです。アプリの運用者が公式の告示ファイルを読み込むと、該当する条文が表示されます。"
        )
        return section
    from ..minimum import MinimumSetError, known_forms, minimum_set

    available = known_forms(corpus.docs[STANDARD_DOC])
    mapped, unmapped = [], []
    for f in forms:
        names = [n for n in [f, *rubric.standard_forms.get(f, [])] if n in available]
        (mapped.extend(names) if names else unmapped.append(f))
    try:
        found = minimum_set(corpus, STANDARD_DOC, list(dict.fromkeys(mapped)))
    except MinimumSetError as exc:
        section.notes.append(str(exc))
        return section
    section.version = found.version
    section.clauses = found.clauses
    section.notes += found.notes
    for f in unmapped:
        section.notes.append(f"「{f}」に対応する部分を、読み込んだ基準の見出しから特定できませんでした。該当するかどうかは認証機関にご確認ください。")
    return section


# -- decisions -----------------------------------------------------------------------------------------
def item_result(item: dict, flow: Flow) -> ItemResult:
    rubric = flow.rubric
    status = rubric.status(item)
    reasons = [Reason(r.rule, r.text, r.kind) for r in rubric.reasons(item)]
    open_questions, skipped = [], []
    for q in flow.item_questions:
        value = item.get(q.field)
        if value is None:
            if q.phase == "decision":
                why = f"ほかの回答から「{STATUS_LABELS[status]}」と決まり、この質問の答えでは判定が変わらないため聞いていません。"
            else:
                why = "優先度は低いと判定された情報のため、対策の計画に使う質問は聞いていません。"
            skipped.append(SkippedQuestion(q.field, q.label, why))
        elif value == UNKNOWN or value == [UNKNOWN]:
            matters = rubric.relevant(item, q.field) if q.phase == "decision" else q.field in ("forms", "goes_outside")
            open_questions.append(OpenQuestion(q.field, q.label, q.find_out, matters))
    forms = [f for f in item.get("forms", []) if f != UNKNOWN]
    answers = {k: item[k] for k in ITEM_FIELDS if k in item}
    return ItemResult(item["name"], status, STATUS_LABELS[status], reasons, forms, answers, open_questions, skipped)


def build_result(
    state: TriageState,
    corpus: Corpus,
    flow: Flow | None = None,
    catalogue: Catalogue | None = None,
    measure_map: dict[str, list[str]] | None = None,
    previous: TriageResult | None = None,
    extra_notes: list[str] | None = None,
) -> TriageResult:
    """The whole result of a finished triage."""
    flow = flow or Flow.load()
    catalogue = catalogue or Catalogue.load()
    items = [item_result(item, flow) for item in state.items]
    guarded = [ProtectedItem(it.name, tuple(it.forms), it.answers) for it, raw in zip(items, state.items) if protected(raw, flow)]
    chosen, gaps = build_plan(guarded, state.firm, catalogue)
    measures = [
        PlanMeasure(
            c.measure.id, c.measure.title, c.measure.what, tip, c.measure.group, GROUP_LABELS[c.measure.group],
            c.measure.cost_tier, c.measure.effort, list(c.serves), list(dict.fromkeys(n.label for n in c.covers)),
            [[n.kind, n.key, n.item, n.form] for n in c.covers], list(c.measure.prerequisites), list((measure_map or {}).get(c.measure.id, [])),
            size_band=band,
        )
        for c in chosen
        for tip, band in [c.measure.tip_for(state.firm.get("size"))]
    ]
    notes = list(extra_notes or [])
    if not state.items:
        notes.append("技術情報が挙げられていないため、確実に守るべき情報は見つかりませんでした。図面、ノウハウ、顧客から預かった情報などがないか、もう一度確認することをお勧めします。")
    no_forms = [it.name for it in items if it.status != "not_required" and not it.forms]
    if no_forms:
        notes.append(f"次の情報は態様（電子データ・書面など）が「わからない」ため、基本の管理を選べませんでした: {'、'.join(no_forms)}")
    if gaps:
        notes.append("カタログに対策がない組み合わせ: " + "、".join(n.label for n in gaps))
    progress = {mid: Progress(**p) for mid, p in state.progress.items() if any(m.id == mid for m in measures)}
    comparison = compare(previous, progress, measures, items) if previous is not None else None
    return TriageResult(
        dict(state.firm), items, minimum_set_section(corpus, forms_needed(items), flow.rubric), measures, progress, notes,
        questions_asked(state), corpus.version, {d.doc: d.manifest.version for d in corpus.documents}, catalogue.version,
        time.strftime("%Y-%m-%d %H:%M"), comparison=comparison,
    )


def compare(previous: TriageResult, progress: dict[str, Progress], measures: list[PlanMeasure], items: list[ItemResult] = ()) -> Comparison:
    """Now against the earlier diagnosis: the items whose verdict changed (or that were added or left
    out), and measure by measure, what its progress was and what it is."""
    before_items, now_items = {i.name: i.status for i in previous.items}, {i.name: i.status for i in items}
    changed = [ItemChange(name, before_items.get(name, ""), now_items.get(name, ""))
               for name in dict.fromkeys([*before_items, *now_items]) if before_items.get(name) != now_items.get(name)]
    rows = []
    now_ids = [m.id for m in measures]
    titles = {m.id: m.title for m in previous.measures} | {m.id: m.title for m in measures}
    for mid in list(dict.fromkeys([m.id for m in previous.measures] + now_ids)):
        before = previous.progress_of(mid).status if any(m.id == mid for m in previous.measures) else ""
        now = (progress.get(mid) or Progress()).status if mid in now_ids else ""
        rows.append(ComparisonRow(mid, titles[mid], before, now))
    return Comparison(previous.code or "", previous.generated_at, rows, changed, previous.standings()[-STANDINGS_KEPT:])


def finished(state: TriageState, flow: Flow) -> bool:
    return next_question(state, flow) is None
