"""The triage conversation: typed state, the flow (a data file) and pure step functions.

The flow asks only what can still change the result. After the firm questions and the
inventory it asks the decision questions field by field — several items at once where that
is natural ("which of these are under a confidentiality obligation?") — and only for the
items whose status that answer can still change (rules.py). Then, for the items that must be
protected or need confirming, it asks what the plan needs: forms and place, who can reach
them, whether they leave the firm. Items that need nothing are not asked about further.

State is plain data (JSON round-trips), so a consultation can be saved and resumed. Every
step function returns a new state.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from ..limits import LIMITS
from ..textnorm import nfkc, strip_invisible
from .profile import FIELD_LABELS as PROFILE_LABELS
from .profile import options_named
from .rules import TRIAGE_DIR, UNKNOWN, Rubric

ITEM_FIELDS = ("forms", "location", "access", "goes_outside", "competitive", "damage", "public", "confidential_obligation", "legal_control")
FORMS = ("電子データ", "書面", "物品", "人の知識・ノウハウ")
QuestionKind = Literal["text", "choice", "multi", "items", "batch", "forms"]


class TriageError(ValueError):
    """An answer or answers file the flow cannot take; the message names the field."""


@dataclass(frozen=True)
class Question:
    id: str
    field: str
    kind: QuestionKind
    text: str
    options: tuple[str, ...] = ()
    help: str = ""
    item: int | None = None  # the item a per-item question is about
    items: tuple[int, ...] = ()  # the items a batch question covers (checkboxes over the inventory)
    words: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (option, words that name it): free text read as options

    @property
    def unknown_allowed(self) -> bool:
        return self.kind in ("choice", "multi", "batch", "forms")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["options"] = list(self.options) + ([UNKNOWN] if self.unknown_allowed else [])
        d["items"] = list(self.items)
        return d


@dataclass(frozen=True)
class ItemQuestion:
    """One item question of the flow file."""

    id: str
    field: str
    phase: Literal["decision", "plan"]
    kind: QuestionKind
    text: str
    options: tuple[str, ...]
    label: str
    find_out: str
    batch: bool = False
    batch_text: str = ""
    help: str = ""
    also: tuple[str, ...] = ()  # further fields the same question fills (forms → location)
    plan_relevant: bool = False  # a decision question whose answer also shapes the plan (an obligation, export control)

    @property
    def fields(self) -> tuple[str, ...]:
        return (self.field, *self.also)


@dataclass(frozen=True)
class Flow:
    firm_questions: tuple[dict, ...]
    inventory_question: dict
    item_questions: tuple[ItemQuestion, ...]
    typical_items: dict[str, list[str]]
    batch_none: str
    rubric: Rubric

    @classmethod
    def load(cls, path: Path = TRIAGE_DIR / "flow.json", rubric: Rubric | None = None) -> "Flow":
        data = json.loads(path.read_text(encoding="utf-8"))
        questions = tuple(
            ItemQuestion(q["id"], q["field"], q["phase"], q["kind"], q["text"], tuple(q.get("options", ())), q["label"], q["find_out"],
                         q.get("batch", False), q.get("batch_text", ""), q.get("help", ""), tuple(q.get("also", ())), q.get("plan_relevant", False))
            for q in data["item_questions"]
        )
        return cls(tuple(data["firm_questions"]), data["inventory_question"], questions, data["typical_items"], data["batch_none"], rubric or Rubric.load())

    def item_question(self, field_name: str) -> ItemQuestion:
        return next(q for q in self.item_questions if field_name in q.fields)

    @property
    def decision_questions(self) -> tuple[ItemQuestion, ...]:
        return tuple(q for q in self.item_questions if q.phase == "decision")

    @property
    def plan_questions(self) -> tuple[ItemQuestion, ...]:
        return tuple(q for q in self.item_questions if q.phase == "plan")


@dataclass
class TriageState:
    """Everything the user has said so far. ``log`` is the order of the questions asked, for
    going back; its length is the number of questions asked."""

    firm: dict = field(default_factory=dict)
    items: list[dict] = field(default_factory=list)
    inventory_done: bool = False
    log: list[dict] = field(default_factory=list)  # {"q": question id, "items": [indices]}
    progress: dict = field(default_factory=dict)  # measure id → {"status", "owner", "due", "note"}
    previous: str | None = None  # the consultation this one re-assesses

    def to_dict(self) -> dict:
        return copy.deepcopy(asdict(self))

    @classmethod
    def from_dict(cls, data: dict) -> "TriageState":
        log = [_log_entry(e) for e in data.get("log", [])]
        return cls(copy.deepcopy(data.get("firm", {})), copy.deepcopy(data.get("items", [])), bool(data.get("inventory_done")), log,
                   copy.deepcopy(data.get("progress", {})), data.get("previous"))


def _log_entry(entry) -> dict:
    """Records saved before the adaptive flow logged [question id, item index or None]."""
    if isinstance(entry, dict):
        return {"q": entry["q"], "items": list(entry.get("items", []))}
    qid, item = entry[0], entry[1]
    return {"q": qid, "items": [] if item is None else [item]}


# -- which question comes next ---------------------------------------------------------------
def status_of(item: dict, flow: Flow) -> str:
    return flow.rubric.status(item)


def protected(item: dict, flow: Flow) -> bool:
    """Must be protected or needs confirming (treated as must until confirmed)."""
    return status_of(item, flow) != "not_required"


def _decision_targets(state: TriageState, flow: Flow, q: ItemQuestion) -> list[int]:
    """Items whose status this question can still change — or, for a question that also shapes the
    plan (an obligation to a customer, export control), items that may still need a plan."""
    return [i for i, item in enumerate(state.items)
            if q.field not in item and (flow.rubric.relevant(item, q.field) or (q.plan_relevant and _may_need_plan(item, flow)))]


def _plan_targets(state: TriageState, flow: Flow, q: ItemQuestion) -> list[int]:
    return [i for i, item in enumerate(state.items) if q.field not in item and protected(item, flow)]


def _firm_question(q: dict) -> Question:
    words = tuple((o, tuple(ws)) for o, ws in q.get("words", {}).items())
    return Question(q["id"], q["field"], q["kind"], q["text"], tuple(q.get("options", ())), q.get("help", ""), words=words)


def _item_question(q: ItemQuestion, state: TriageState, targets: list[int], flow: Flow) -> Question:
    if q.batch and len(targets) >= 2:
        names = tuple(state.items[i]["name"] for i in targets)
        return Question(q.id, q.field, "batch", q.batch_text, names + (flow.batch_none,), q.help, None, tuple(targets))
    i = targets[0]
    return Question(q.id, q.field, q.kind, q.text.format(item=state.items[i]["name"]), q.options, q.help, i, (i,))


def next_question(state: TriageState, flow: Flow) -> Question | None:
    """The next question that can still change the result, or None when the triage is complete."""
    for q in flow.firm_questions:
        if q["field"] not in state.firm:
            return _firm_question(q)
    if not state.inventory_done:
        q = flow.inventory_question
        suggestions = flow.typical_items.get(state.firm.get("industry")) or flow.typical_items.get("その他", [])
        return Question(q["id"], "items", "items", q["text"], tuple(suggestions), q.get("help", ""))
    for q in flow.decision_questions:  # field by field: one checkbox question covers many items
        targets = _decision_targets(state, flow, q)
        if targets:
            return _item_question(q, state, targets, flow)
    per_item = [q for q in flow.plan_questions if not q.batch]
    for i, item in enumerate(state.items):  # then item by item: what the plan needs
        if not protected(item, flow):
            continue
        for q in per_item:
            if q.field not in item:
                return _item_question(q, state, [i], flow)
    for q in flow.plan_questions:
        if q.batch:
            targets = _plan_targets(state, flow, q)
            if targets:
                return _item_question(q, state, targets, flow)
    return None


def questions_asked(state: TriageState) -> int:
    return len(state.log)


def remaining(state: TriageState, flow: Flow) -> int | None:
    """The most questions still to come with the answers so far (it shrinks as items settle).
    None before the inventory: until the items are named, their questions cannot be counted."""
    if not state.inventory_done:
        return None
    total = 0
    for q in flow.decision_questions:
        targets = _decision_targets(state, flow, q)
        total += (1 if q.batch and len(targets) >= 2 else len(targets))
    for q in flow.plan_questions:
        targets = [i for i, item in enumerate(state.items) if q.field not in item and _may_need_plan(item, flow)]
        total += (1 if q.batch and len(targets) >= 2 else len(targets))
    return total


def _may_need_plan(item: dict, flow: Flow) -> bool:
    return "must" in flow.rubric.outcomes(item) or not flow.rubric.settled(item)


def progress(state: TriageState, flow: Flow) -> tuple[int, int | None]:
    """(questions asked, questions still to come at most; None while the items are not named)."""
    return questions_asked(state), remaining(state, flow)


# -- answering -----------------------------------------------------------------------------------
def answer(state: TriageState, flow: Flow, value, reader=None) -> TriageState:
    """Apply an answer (a button value, a list, a {name: value} map, or free text) to the current question.

    ``reader(question, text)`` may turn free text into an option first (a language model,
    when one is configured); when it returns None the deterministic reader below decides.
    """
    q = next_question(state, flow)
    if q is None:
        raise TriageError("診断はすでに完了しています。結果を確認するか、「戻る」で回答を変更してください。")
    new = TriageState.from_dict(state.to_dict())
    if q.kind == "items":
        names = read_items(value)
        new.items = [it for it in new.items if it["name"] in names]  # keep answers of items kept
        have = {it["name"] for it in new.items}
        new.items += [{"name": n} for n in names if n not in have]
        order = {n: i for i, n in enumerate(names)}
        new.items.sort(key=lambda it: order[it["name"]])
        new.inventory_done = True
    elif q.kind == "batch":
        for i, v in read_batch(q, value, [new.items[i]["name"] for i in q.items], flow.batch_none).items():
            new.items[i][q.field] = v
    elif q.kind == "forms":
        forms, location = read_forms(value)
        new.items[q.item]["forms"] = forms
        new.items[q.item]["location"] = location
    else:
        if reader is not None and isinstance(value, str) and q.kind in ("choice", "multi") and value.strip() and value not in q.options:
            value = reader(q, value) or value
        parsed = read_answer(q, value)
        target = new.firm if q.item is None else new.items[q.item]
        target[q.field] = parsed
    new.log.append({"q": q.id, "items": list(q.items)})
    return new


def prefill(state: TriageState, flow: Flow, known: dict) -> tuple[TriageState, dict]:
    """Firm answers the owner already gave in the chat, applied before the diagnosis asks them: each
    one logged like an answer, so 「戻る」 undoes it and the question is asked after all. Returns the
    new state and what it applied (only options of a question not answered yet)."""
    new = TriageState.from_dict(state.to_dict())
    applied: dict = {}
    for q in flow.firm_questions:
        f, value = q["field"], known.get(q["field"])
        if not value or f in new.firm:
            continue
        options = set(q.get("options", ()))
        if q["kind"] == "multi" and isinstance(value, list) and value and set(value) <= options:
            applied[f] = list(value)
        elif q["kind"] == "choice" and value in options:
            applied[f] = value
        else:
            continue
        new.firm[f] = applied[f]
        new.log.append({"q": q["id"], "items": []})
    return new, applied


def back(state: TriageState, flow: Flow) -> TriageState:
    """Undo the last answer; the question is asked again. At the start, nothing changes."""
    new = TriageState.from_dict(state.to_dict())
    if not new.log:
        return new
    entry = new.log.pop()
    qid = entry["q"]
    if qid == "inventory":
        new.inventory_done = False
    elif qid.startswith("firm."):
        new.firm.pop(qid.split(".", 1)[1], None)
    else:
        fields = flow.item_question(qid.split(".", 1)[1]).fields
        for i in entry["items"]:
            if i < len(new.items):
                for f in fields:
                    new.items[i].pop(f, None)
    return new


# -- reading answers -------------------------------------------------------------------------------
_YES = re.compile(r"^(はい|yes|y|ある|あります|そう|そうです|うん|多い|負っている|対象)")
_NO = re.compile(r"^(いいえ|no|n|ない|ありません|ないです|違う|いや|無い|なし|該当なし|どれも)")
# The words of a 「わからない」 reply, one list for the diagnosis and the chat. In an answer they may stand anywhere,
# as may a question mark or a hedge (「判断できない」「どちらとも」); a typed chat reply must open with one
# (says_unknown), since there a longer text that merely contains one is read as written.
UNKNOWN_WORDS = ("わから", "分から", "不明", "知らない", "unknown")
_UNKNOWN = re.compile("(" + "|".join([*UNKNOWN_WORDS, r"\?", "？", "判断できない", "どちらとも"]) + ")")
_OPENS_UNKNOWN = re.compile("^(" + "|".join(UNKNOWN_WORDS) + ")")
_DAMAGE = [("大", re.compile(r"大|致命|深刻|甚大|large|high")), ("中", re.compile(r"中|そこそこ|ある程度|medium")), ("小", re.compile(r"小|ほとんど|軽微|少し|small|low"))]
_FORM_WORDS = {
    "電子データ": re.compile(r"電子|データ|ファイル|pc|パソコン|サーバ|クラウド|cad|メール|usb|デジタル"),
    "書面": re.compile(r"書面|紙|印刷|書類|ファイリング|ノート|手書き|図面の写し|書庫"),
    "物品": re.compile(r"物品|試作|金型|治具|サンプル|現物|部品|製品そのもの"),
    "人の知識・ノウハウ": re.compile(r"人の|頭|職人|技能|ノウハウ|経験|口頭|勘"),
}
MAX_ITEMS = LIMITS.items
# What each answer is called where people read it (records, the grid, messages): never the field's name.
ANSWER_LABELS = {
    "forms": "態様", "location": "保管場所", "access": "利用できる人", "goes_outside": "社外に渡す",
    "competitive": "競争力の源泉", "damage": "漏えい時の損害", "public": "公開済み・再現容易",
    "confidential_obligation": "秘密保持の義務", "legal_control": "法令上の管理対象",
}
FIELD_LABELS = {**PROFILE_LABELS, **ANSWER_LABELS, "items": "情報の一覧"}


def label_of(field_name: str) -> str:
    return FIELD_LABELS.get(field_name, field_name)


MAX_NAME_CHARS = LIMITS.item_name_chars
MAX_TEXT_CHARS = LIMITS.text_chars


def says_unknown(reply: str) -> bool:
    """Does a typed reply open with a word of 「わからない」 (「わからないです」「不明」)?"""
    return bool(_OPENS_UNKNOWN.match(reply))


def clean(value) -> str:
    """What a user typed, as stored: NFKC, without invisible format characters, trimmed."""
    return strip_invisible(nfkc(str(value))).strip()


def forms_in(text: str) -> list[str]:
    """The forms (態様) a free text speaks of: 「CADデータと紙の図面」 → 電子データ・書面."""
    low = nfkc(text).lower()
    return [f for f, rx in _FORM_WORDS.items() if rx.search(low)]


def read_items(value) -> list[str]:
    if isinstance(value, str):
        value = re.split(r"[,、，\n]", value)
    names = [clean(v) for v in (value or [])]
    names = [n for n in dict.fromkeys(names) if n and n != UNKNOWN]
    for n in names:
        if len(n) > MAX_NAME_CHARS:
            raise TriageError(f"{label_of('items')}: 情報の名前が長すぎます（{n[:20]}…）。{MAX_NAME_CHARS} 文字以内にしてください。")
    if len(names) > MAX_ITEMS:
        raise TriageError(f"{label_of('items')}: 情報は一度に {MAX_ITEMS} 件までです（{len(names)} 件）。似たものはまとめるか、診断を分けてください。")
    return names


def read_batch(q: Question, value, names: list[str], none_label: str) -> dict[int, str]:
    """A checkbox answer over several items → {item index: はい|いいえ|わからない}.

    Checked names are はい and the rest いいえ; 「該当なし」 makes them all いいえ and
    「わからない」 all わからない. A {name: value} map (answers files, the adviser's grid) sets
    each item on its own; free text names the items that apply."""
    index = dict(zip(names, q.items))
    allowed = set(q.options) - {none_label}
    if isinstance(value, dict):
        out = {}
        for name, i in index.items():
            v = clean(value.get(name, UNKNOWN))
            if v not in ("はい", "いいえ", UNKNOWN):
                raise TriageError(f"{label_of(q.field)}: 「{name}」の回答「{v[:20]}」は使えません（はい、いいえ、{UNKNOWN}）。")
            out[i] = v
        return out
    if isinstance(value, str):
        text = clean(value)
        if not text or _UNKNOWN.search(text):
            return {i: UNKNOWN for i in index.values()}
        if _NO.search(text.lower()):
            return {i: "いいえ" for i in index.values()}
        chosen = [n for n in names if n in text]
        if not chosen:
            raise TriageError(f"{label_of(q.field)}: どの情報のことか読み取れませんでした。{'、'.join(names)} の中から選ぶか、「{none_label}」「{UNKNOWN}」で答えてください。")
        value = chosen
    picked = [clean(v) for v in (value or [])]
    if picked == [UNKNOWN]:
        return {i: UNKNOWN for i in index.values()}
    unknown = [p for p in picked if p not in allowed and p != none_label]
    if unknown:
        raise TriageError(f"{label_of(q.field)}: 「{unknown[0][:20]}」は選択肢にありません（{'、'.join(names)}、{none_label}）。")
    if not picked:
        raise TriageError(f"{label_of(q.field)}: 当てはまる情報を選ぶか、「{none_label}」か「{UNKNOWN}」を選んでください。")
    return {i: ("はい" if n in picked else "いいえ") for n, i in index.items()}


def read_forms(value) -> tuple[list[str], str]:
    """Forms (態様) and where the item is kept, from buttons, a map, or one free-text answer
    such as 「CADデータは設計PC、紙の図面は書庫」."""
    location = ""
    if isinstance(value, dict):
        location = _text(value.get("location", ""), "location")
        value = value.get("forms", [UNKNOWN])
    if isinstance(value, str):
        text = clean(value)
        if len(text) > MAX_TEXT_CHARS:
            raise TriageError(f"{label_of('forms')}: {MAX_TEXT_CHARS} 文字以内で入力してください。")
        if not text or _UNKNOWN.fullmatch(text) or text == UNKNOWN:
            return [UNKNOWN], location
        forms = forms_in(text)
        if not forms:
            raise TriageError(f"{label_of('forms')}: どんな形か読み取れませんでした。{'、'.join(FORMS)}、{UNKNOWN} から選ぶか、「紙の図面を書庫に」のように書いてください。")
        return forms, location or text
    chosen = []
    for v in value or []:
        v = clean(v)
        if v in FORMS or v == UNKNOWN:
            chosen.append(v)
        elif v:
            found = forms_in(v)
            if not found:
                raise TriageError(f"{label_of('forms')}: 「{v[:20]}」は選択肢にありません（選択肢: {'、'.join(FORMS)}、{UNKNOWN}）。")
            chosen += found
    chosen = list(dict.fromkeys(chosen))
    if len(chosen) > 1 and UNKNOWN in chosen:
        chosen.remove(UNKNOWN)
    return chosen or [UNKNOWN], location


def _text(value, field_name: str) -> str:
    text = clean(value or "")
    if len(text) > MAX_TEXT_CHARS:
        raise TriageError(f"{label_of(field_name)}: {MAX_TEXT_CHARS} 文字以内で入力してください。")
    return text


def read_answer(q: Question, value):
    """Turn a button value or free text into the question's typed value, or raise TriageError."""
    if q.kind == "text":
        return _text(value, q.field) or UNKNOWN
    if q.kind == "multi":
        if isinstance(value, str) and not _UNKNOWN.search(clean(value)):
            # 「下請け・受託と、顧客と情報を共有」: the options a sentence names (the options contain ・ and と, so
            # the text is not split on them), by the option itself or a word for it.
            named = options_named(clean(value), q.options, dict(q.words))
            if named:
                return named
        values = value if isinstance(value, list) else re.split(r"[,、，\s]+", str(value or ""))
        chosen = []
        for v in values:
            v = clean(v)
            if not v:
                continue
            if v in q.options or v == UNKNOWN:
                chosen.append(v)
            elif _UNKNOWN.search(v):
                chosen.append(UNKNOWN)
            else:
                raise TriageError(f"{label_of(q.field)}: 「{v[:30]}」は選択肢にありません（選択肢: {'、'.join(q.options)}、{UNKNOWN}）。")
        chosen = list(dict.fromkeys(chosen))
        if len(chosen) > 1 and UNKNOWN in chosen:
            chosen.remove(UNKNOWN)
        return chosen or [UNKNOWN]
    # choice
    text = clean(value or "")
    if text in q.options or text == UNKNOWN:
        return text
    low = text.lower()
    if not low or _UNKNOWN.search(low):
        return UNKNOWN
    if q.field == "damage":
        for label, rx in _DAMAGE:
            if rx.search(low):
                return label
    if set(q.options) >= {"はい", "いいえ"}:
        if _NO.search(low):
            return "いいえ"
        if _YES.search(low):
            return "はい"
    for option in q.options:
        if option in text:
            return option
    named = options_named(text, q.options, dict(q.words))
    if len(named) == 1:
        return named[0]
    raise TriageError(f"{label_of(q.field)}: 「{text[:30]}」を読み取れませんでした。{'、'.join(q.options)}、{UNKNOWN} のいずれかで答えてください。")
