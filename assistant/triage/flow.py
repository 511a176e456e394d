"""The triage conversation: typed state, the flow (a data file) and pure step functions.

State is plain data (JSON round-trips), so a consultation can be saved and resumed. Every
step function returns a new state; nothing here decides must-protect status (rules.py does).
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..config import SHIPPED_CORPUS
from ..textnorm import nfkc

TRIAGE_DIR = SHIPPED_CORPUS / "triage"
UNKNOWN = "わからない"
ITEM_FIELDS = ("forms", "location", "access", "goes_outside", "competitive", "damage", "public", "confidential_obligation", "legal_control")


class TriageError(ValueError):
    """An answer or answers file the flow cannot take; the message names the field."""


@dataclass(frozen=True)
class Question:
    id: str
    field: str
    kind: str  # text | choice | multi | items
    text: str
    options: tuple[str, ...] = ()
    help: str = ""
    item: int | None = None  # index of the item the question is about

    def to_dict(self) -> dict:
        d = asdict(self)
        d["options"] = list(self.options) + ([UNKNOWN] if self.kind in ("choice", "multi") else [])
        return d


@dataclass(frozen=True)
class Flow:
    firm_questions: tuple[dict, ...]
    inventory_question: dict
    item_questions: tuple[dict, ...]
    typical_items: dict[str, list[str]]

    @classmethod
    def load(cls, path: Path = TRIAGE_DIR / "flow.json") -> "Flow":
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(tuple(data["firm_questions"]), data["inventory_question"], tuple(data["item_questions"]), data["typical_items"])

    def item_question(self, field_name: str) -> dict:
        return next(q for q in self.item_questions if q["field"] == field_name)

    def firm_question(self, field_name: str) -> dict:
        return next(q for q in self.firm_questions if q["field"] == field_name)


@dataclass
class TriageState:
    """Everything the user has said so far. ``log`` is the answer order, for going back."""

    firm: dict = field(default_factory=dict)
    items: list[dict] = field(default_factory=list)
    inventory_done: bool = False
    log: list[list] = field(default_factory=list)  # [question id, item index or None]

    def to_dict(self) -> dict:
        return copy.deepcopy(asdict(self))

    @classmethod
    def from_dict(cls, data: dict) -> "TriageState":
        return cls(copy.deepcopy(data.get("firm", {})), copy.deepcopy(data.get("items", [])), bool(data.get("inventory_done")), copy.deepcopy(data.get("log", [])))


def next_question(state: TriageState, flow: Flow) -> Question | None:
    """The first unanswered question, or None when the triage is complete."""
    for q in flow.firm_questions:
        if q["field"] not in state.firm:
            return Question(q["id"], q["field"], q["kind"], q["text"], tuple(q.get("options", ())), q.get("help", ""))
    if not state.inventory_done:
        q = flow.inventory_question
        industry = state.firm.get("industry")
        suggestions = flow.typical_items.get(industry) or flow.typical_items.get("その他", [])
        return Question(q["id"], "items", "items", q["text"], tuple(suggestions), q.get("help", ""))
    for i, item in enumerate(state.items):
        for q in flow.item_questions:
            if q["field"] not in item:
                return Question(q["id"], q["field"], q["kind"], q["text"].format(item=item["name"]), tuple(q.get("options", ())), q.get("help", ""), i)
    return None


def progress(state: TriageState, flow: Flow) -> tuple[int, int]:
    """(answered, total) questions, for a progress indicator."""
    total = len(flow.firm_questions) + 1 + len(state.items) * len(flow.item_questions)
    done = sum(1 for q in flow.firm_questions if q["field"] in state.firm) + int(state.inventory_done)
    done += sum(1 for item in state.items for q in flow.item_questions if q["field"] in item)
    return done, total


def answer(state: TriageState, flow: Flow, value, reader=None) -> TriageState:
    """Apply an answer (a button value, a list, or free text) to the current question.

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
        new.items.sort(key=lambda it: names.index(it["name"]))
        new.inventory_done = True
    else:
        if reader is not None and isinstance(value, str) and q.kind in ("choice", "multi") and value.strip() and value not in q.options:
            value = reader(q, value) or value
        parsed = read_answer(q, value)
        target = new.firm if q.item is None else new.items[q.item]
        target[q.field] = parsed
    new.log.append([q.id, q.item])
    return new


def back(state: TriageState) -> TriageState:
    """Undo the last answer; the question is asked again. At the start, nothing changes."""
    new = TriageState.from_dict(state.to_dict())
    if not new.log:
        return new
    qid, item = new.log.pop()
    if qid == "inventory":
        new.inventory_done = False
    elif item is None:
        new.firm.pop(qid.split(".", 1)[1], None)
    elif item < len(new.items):
        new.items[item].pop(qid.split(".", 1)[1], None)
    return new


# -- the deterministic reader for free-text answers --------------------------------------
_YES = re.compile(r"^(はい|yes|y|ある|あります|そう|そうです|うん|多い|負っている|対象)")
_NO = re.compile(r"^(いいえ|no|n|ない|ありません|ないです|違う|いや|無い|なし)")
_UNKNOWN = re.compile(r"(わから|分から|不明|知らない|unknown|\?|？|判断できない|どちらとも)")
_DAMAGE = [("大", re.compile(r"大|致命|深刻|甚大|large|high")), ("中", re.compile(r"中|そこそこ|ある程度|medium")), ("小", re.compile(r"小|ほとんど|軽微|少し|small|low"))]
_FORM_WORDS = {
    "電子データ": re.compile(r"電子|データ|ファイル|pc|パソコン|サーバ|クラウド|cad|メール|usb|デジタル"),
    "書面": re.compile(r"書面|紙|印刷|書類|ファイリング|ノート|手書き|図面の写し"),
    "物品": re.compile(r"物品|試作|金型|治具|サンプル|現物|部品|製品そのもの"),
    "人の知識・ノウハウ": re.compile(r"人|頭|職人|技能|ノウハウ|経験|口頭|勘"),
}


def read_items(value) -> list[str]:
    if isinstance(value, str):
        value = re.split(r"[,、，\n]", value)
    names = [nfkc(str(v)).strip() for v in (value or [])]
    names = [n for n in dict.fromkeys(names) if n and n != UNKNOWN]
    for n in names:
        if len(n) > 60:
            raise TriageError(f"items: 情報の名前が長すぎます（{n[:20]}…）。60 文字以内にしてください。")
    return names


def read_answer(q: Question, value):
    """Turn a button value or free text into the question's typed value, or raise TriageError."""
    if q.kind == "text":
        text = nfkc(str(value or "")).strip()
        if len(text) > 200:
            raise TriageError(f"{q.field}: 200 文字以内で入力してください。")
        return text or UNKNOWN
    if q.kind == "multi":
        values = value if isinstance(value, list) else re.split(r"[,、，\s]+", str(value or ""))
        chosen = []
        for v in values:
            v = nfkc(str(v)).strip()
            if not v:
                continue
            if v in q.options or v == UNKNOWN:
                chosen.append(v)
            elif _UNKNOWN.search(v):
                chosen.append(UNKNOWN)
            elif q.field == "forms":
                chosen += [f for f, rx in _FORM_WORDS.items() if rx.search(v.lower())]
            else:
                raise TriageError(f"{q.field}: 「{v}」は選択肢にありません（選択肢: {'、'.join(q.options)}、{UNKNOWN}）。")
        chosen = list(dict.fromkeys(chosen))
        if len(chosen) > 1 and UNKNOWN in chosen:
            chosen.remove(UNKNOWN)
        return chosen or [UNKNOWN]
    # choice
    text = nfkc(str(value or "")).strip()
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
    raise TriageError(f"{q.field}: 「{text[:30]}」を読み取れませんでした。{'、'.join(q.options)}、{UNKNOWN} のいずれかで答えてください。")
