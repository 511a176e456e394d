"""From a finished triage state to the result: must-protect list, minimum set, measures."""

from __future__ import annotations

import json
import time
from pathlib import Path

from ..config import PACKAGE_ROOT
from ..corpus import Corpus
from .flow import ITEM_FIELDS, UNKNOWN, Flow, TriageError, TriageState
from .rules import Rubric, decide, load_measures, needs_of, order_measures, uncovered

ANSWERS_SCHEMA = PACKAGE_ROOT / "schemas" / "triage_answers.schema.json"
STANDARD_DOC = "基準"
ADVICE_LABEL = "【製品の助言】この判定と対策は TICS Assistant 独自の目安であり、公式文書の記載ではありません。"
FORM_ORDER = ("電子データ", "書面", "物品", "人の知識・ノウハウ")


def state_from_answers(answers: object) -> TriageState:
    """Validate an answers file (JSON Schema) and turn it into a finished state.

    Fields left out are 「わからない」, so a partial file still gives a result.
    """
    import jsonschema

    schema = json.loads(ANSWERS_SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(answers), key=lambda e: list(e.absolute_path))
    if errors:
        e = errors[0]
        where = "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else str(p)) for i, p in enumerate(e.absolute_path)) or "（ファイル全体）"
        raise TriageError(f"回答ファイルの {where} が不正です: {_schema_message(e)}")
    firm = {"name": "", "industry": UNKNOWN, "size": UNKNOWN, "collaboration": [UNKNOWN]}
    firm.update(answers.get("firm", {}))
    names = [it["name"] for it in answers["items"]]
    if len(set(names)) != len(names):
        raise TriageError("回答ファイルの items に同じ name が複数あります。情報ごとに別の名前を付けてください。")
    items = []
    for it in answers["items"]:
        item = {"name": it["name"]}
        for f in ITEM_FIELDS:
            item[f] = it.get(f, [UNKNOWN] if f == "forms" else UNKNOWN)
        if item["forms"] == []:
            item["forms"] = [UNKNOWN]
        items.append(item)
    return TriageState(firm, items, True, [])


def _schema_message(e) -> str:
    if e.validator == "enum":
        return f"「{e.instance}」は使えません（使える値: {'、'.join(map(str, e.validator_value))}）"
    if e.validator == "required":
        return f"必須の項目がありません（{e.message.split(' ')[0]}）"
    if e.validator == "type":
        return f"型が違います（{e.validator_value} が必要）"
    if e.validator == "additionalProperties":
        return f"知らない項目があります（{e.message}）"
    return e.message


def forms_needed(decisions) -> list[str]:
    found = {f for d in decisions if d.status != "not_required" for f in d.forms}
    return [f for f in FORM_ORDER if f in found]


def minimum_set_section(corpus: Corpus, forms: list[str], rubric: Rubric) -> dict:
    """The minimum set for the forms found: real clauses when the standard is loaded,
    otherwise what 指針第4の2の一 says, with a clear note that the standard is not loaded."""
    from ..minimum import guideline_quote

    cid, doc_name, quote = guideline_quote(corpus)
    citation = {"clause_id": cid, "doc": doc_name, "quote": quote}
    section = {"forms": forms, "citation": citation, "standard_loaded": corpus.has_doc(STANDARD_DOC), "clauses": [], "notes": []}
    if not section["standard_loaded"]:
        section["structure"] = [
            {"part": "Ⅰの第一から第三まで", "scope": "whole"},
            {"part": "Ⅰの第四から第六までの柱書き", "scope": "lead"},
            {"part": "Ⅱの柱書き", "scope": "lead"},
            {"part": "技術等情報の態様に応じてⅢ、Ⅳ及びⅤの柱書き", "scope": "lead", "forms": forms},
        ]
        section["notes"].append(
            "技術等情報漏えい防止措置基準（告示）の本文は読み込まれていないため、条文は表示できません。"
            "上の構成は指針第4の2の一の記載によるものです。運用者が公式の告示ファイルを assistant corpus add ファイル --doc 基準 で追加すると、該当する条文が表示されます。"
        )
        return section
    from ..minimum import MinimumSetError, known_forms, minimum_set

    doc = corpus.docs[STANDARD_DOC]
    available = known_forms(doc)
    mapped, unmapped = [], []
    for f in forms:
        names = [n for n in [f, *rubric.standard_forms.get(f, [])] if n in available]
        (mapped.extend(names) if names else unmapped.append(f))
    try:
        result = minimum_set(corpus, STANDARD_DOC, list(dict.fromkeys(mapped)))
    except MinimumSetError as exc:
        section["notes"].append(str(exc))
        return section
    section["version"] = result.version
    section["clauses"] = result.clauses
    section["notes"] += result.notes
    for f in unmapped:
        section["notes"].append(f"「{f}」に対応する部分を、読み込んだ基準の見出しから特定できませんでした。該当するかどうかは認証機関にご確認ください。")
    return section


def build_result(state: TriageState, corpus: Corpus, rubric: Rubric | None = None, measures=None) -> dict:
    """The whole result of a finished triage, as plain data (saved, exported, shown)."""
    rubric = rubric or Rubric.load()
    measures = measures if measures is not None else load_measures()
    decisions = [decide(item, rubric) for item in state.items]
    needs = needs_of(decisions)
    chosen = order_measures(needs, measures)
    notes = []
    if not state.items:
        notes.append("技術情報が挙げられていないため、確実に守るべき情報は見つかりませんでした。図面、ノウハウ、顧客から預かった情報などがないか、もう一度確認することをお勧めします。")
    no_forms = [d.item for d in decisions if d.status != "not_required" and not d.forms]
    if no_forms:
        notes.append(f"次の情報は態様（電子データ・書面など）が「わからない」ため、対策を選べませんでした: {'、'.join(no_forms)}")
    gaps = uncovered(needs, chosen)
    if gaps:
        notes.append("カタログに対策がない組み合わせ: " + "、".join(f"{f}／{r}" for f, r in gaps))
    return {
        "firm": dict(state.firm),
        "items": [d.to_dict() for d in decisions],
        "must_protect": [d.item for d in decisions if d.status == "must"],
        "confirm": [d.item for d in decisions if d.status == "confirm"],
        "minimum_set": minimum_set_section(corpus, forms_needed(decisions), rubric),
        "measures": [m.to_dict(cov) for m, cov in chosen],
        "notes": notes,
        "advice_label": ADVICE_LABEL,
        "corpus_version": corpus.version,
        "documents": {d.doc: d.manifest.version for d in corpus.documents},
        "generated_at": time.strftime("%Y-%m-%d %H:%M"),
    }


def load_answers(path: Path) -> TriageState:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TriageError(f"回答ファイル {path} を読めません: {exc}") from exc
    except ValueError as exc:
        raise TriageError(f"回答ファイル {path} は JSON として読めません: {exc}") from exc
    return state_from_answers(data)


def finished(state: TriageState, flow: Flow) -> bool:
    from .flow import next_question

    return next_question(state, flow) is None
