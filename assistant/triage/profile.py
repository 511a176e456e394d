"""What an owner says about the firm in passing (「金属部品の下請けで社員12人です」), read as the
diagnosis' firm answers, so the diagnosis does not ask again what the owner already said (#21).

Pure functions over the flow's data: the options of the firm questions and the words that name
each option (``words`` in corpus/triage/flow.json, product rules). Only what the text clearly
states is read: an industry when exactly one is named, a size from a head count, the ways the firm
works with others that it names. The same reading serves a free-text answer to a multi-choice
question (「下請け・受託と、顧客と情報を共有」).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from ..clause_refs import kanji_to_int
from ..textnorm import nfkc

# Head-count bands of the size question, by their upper bounds (a firm over 300 people is no SME here).
SIZE_BANDS: tuple[tuple[int, str], ...] = ((5, "〜5人"), (20, "6〜20人"), (50, "21〜50人"), (300, "51〜300人"))
FIELD_LABELS = {"name": "会社名", "industry": "業種", "size": "従業員の人数", "collaboration": "他社や社外の人との関わり"}
PROFILE_FIELDS = ("industry", "size", "collaboration")

_COUNT = r"(\d{1,4}|[一二三四五六七八九十]{1,3})"
# 「社員12人」「従業員は4名」「スタッフ総勢8人」, or a count that describes the firm: 「12人の会社」「10人でやっている町工場」.
_STAFF_COUNT = re.compile(rf"(?:社員|従業員|スタッフ|従業者|人数|総勢|全部で|全員で)[はがも]?\s*(?:約|およそ|だいたい)?\s*{_COUNT}\s*(?:人|名)")
_FIRM_COUNT = re.compile(rf"{_COUNT}\s*(?:人|名)\s*(?:ほど|くらい|ぐらい)?\s*(?:の|で)\s*(?:会社|町工場|工場|事務所|企業|規模|小さな|やって|運営|営業)")
_ENGLISH_COUNT = re.compile(r"(\d{1,4})[- ](?:person|people|employee|staff|strong)|(\d{1,4}) (?:people|employees|staff)", re.IGNORECASE)


def _number(s: str) -> int:
    return int(s) if s.isdigit() else kanji_to_int(s)


def size_band(count: int) -> str | None:
    return next((band for upper, band in SIZE_BANDS if count <= upper), None)


def head_count(text: str) -> int | None:
    """The number of people the firm has, when the text says it."""
    t = nfkc(text)
    for rx in (_STAFF_COUNT, _FIRM_COUNT):
        m = rx.search(t)
        if m:
            return _number(m.group(1))
    m = _ENGLISH_COUNT.search(t)
    if m:
        return int(m.group(1) or m.group(2))
    return None


def options_named(text: str, options: Sequence[str], words: Mapping[str, Sequence[str]]) -> list[str]:
    """The options a text names, by the option itself or one of its words, in the options' order."""
    t = nfkc(text).lower()
    return [o for o in options if nfkc(o).lower() in t or any(nfkc(w).lower() in t for w in words.get(o, ()))]


def firm_profile(text: str, firm_questions: Sequence[Mapping]) -> dict:
    """The firm answers a text states: {"industry": …, "size": …, "collaboration": […]}; a field the
    text does not clearly state is absent."""
    out: dict = {}
    by_field = {q["field"]: q for q in firm_questions}
    if "industry" in by_field:
        q = by_field["industry"]
        named = [o for o in options_named(text, q.get("options", ()), q.get("words", {})) if o != "その他"]
        if len(named) == 1:  # two industries named: the text does not say which the firm is
            out["industry"] = named[0]
    if "size" in by_field:
        count = head_count(text)
        band = size_band(count) if count else None
        if band in by_field["size"].get("options", ()):
            out["size"] = band
    if "collaboration" in by_field:
        q = by_field["collaboration"]
        named = options_named(text, q.get("options", ()), q.get("words", {}))
        if named:
            out["collaboration"] = named
    return out


def profile_line(profile: Mapping) -> str:
    """「業種: 金属加工、従業員の人数: 6〜20人」: what was understood, shown back for confirmation."""
    parts = []
    for f in PROFILE_FIELDS:
        v = profile.get(f)
        if v:
            parts.append(f"{FIELD_LABELS[f]}: {'・'.join(v) if isinstance(v, list) else v}")
    return "、".join(parts)
