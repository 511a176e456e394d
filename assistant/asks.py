"""What kind of answer a question asks for, and whether a clause can give it.

A grammar of Japanese and English interrogatives (how much, how long, until when, how many,
which names, what does X mean) and, for each kind, what a clause must contain to answer it
(a money amount, a duration, a date, a count, proper names, the term itself). A clause that
is merely about the topic does not answer "how long is a certificate valid?".
"""

from __future__ import annotations

import re
from typing import Literal

from .textnorm import match_form, nfkc

AskKind = Literal["amount", "period", "date", "count", "names", "definition"]

_N = r"[0-9０-９一二三四五六七八九十百千万億]+"
# The question side: what is asked for. Order matters: a more specific kind first.
_ASKS: list[tuple[AskKind, re.Pattern]] = [
    # 「それにお金はかかるの？」 asks whether there is a price: the same answer (a sum the documents state) decides it.
    ("amount", re.compile(r"いくら|何円|金額|料金|手数料|値段|価格|費用は(どの|どれ)くらい|"
                          r"(お金|費用)(は|が)(かかる|かかります|かかりますか|必要|要る|いる)(の|んです|んでしょう|でしょう|か)*\s*[?？]?\s*$|"
                          r"\bfees?\b|\bprices?\b|\bcosts? of\b|how much (?:does|do|will|would|is|are)\b.{0,40}\b(?:cost|charge|pay)", re.I)),
    ("period", re.compile(r"何年(?!も)|何か月(?!も)|何ヶ月(?!も)|何カ月(?!も)|何ヵ月(?!も)|何日間|何週間|有効期限|有効期間|期間は|更新(の|は)?(頻度|周期|サイクル)|how long (?:is|are|does|do|will)\b.{0,40}\b(?:valid|last|take)|valid for|validity", re.I)),
    ("date", re.compile(r"いつまで|いつから|いつ(?:に|頃|ごろ)?[^もで]|期限|締め?切り?|何月|何日まで|^\s*when\b(?![^,?？]*,)|deadline|by when", re.I)),
    ("count", re.compile(r"何社|何件|何人|何か所|何カ所|何団体|何機関|いくつ|how many|number of", re.I)),
    ("names", re.compile(r"具体的に(は)?どこ(?=[?？]|です|なの|か|が|を)|(名前|名称|社名|一覧|リスト)[^。？?]{0,8}?(教え|知り|挙げ|出し|見せ|ください|下さい)|(名前|名称|社名|一覧|リスト)(は|を)?\s*[?？]|どこ(の|が)(会社|機関|団体|企業)(?!でも)|どの(会社|機関|団体|企業)(が|を)|which (companies|bodies|organi[sz]ations|firms)|names? of|list (of|the) ", re.I)),
    ("definition", re.compile(r"(?<![こもにとう])とは(?:何|なに|どういう|どんな|[？?、。]|\s*$)|(?<![にとう])って(?:何|なに)(?!が|を)|の意味(?!が)|の定義|\bdefine\b|\bdefinition\b|\bmeaning of\b", re.I)),
]
# Wider than the definition kind above: any mention of a meaning (「…って簡単に言うと」「どんな情報」「what is」),
# as retrieval reads it to favour the clause that defines a term the question names (asks_meaning).
_ASKS_MEANING = re.compile(
    r"とは|って何|ってなに|って[、,]?\s*(?:ざっくり|簡単に|要するに)?\s*(?:言うと|いうと)|の意味|の定義|どんな(?:情報|もの|こと)|define|definition|meaning|what (?:is|are) ['\"]?",
    re.IGNORECASE,
)
_DEFINED_TERM = re.compile(r"^(.*?)(?:(?<![こもにとう])とは|(?<![にとう])って(?:何|なに)|の意味|の定義)")
_TERM_FILLER = re.compile(r"^(この指針(で|に)?(いう|言う|おける|の)|指針(で|に)?(いう|言う|の)|いわゆる|そもそも|ところで|ちなみに|あの|その|この)\s*")
# The clause side: what an answer of each kind must contain.
_HAS_AMOUNT = re.compile(rf"{_N}\s*(円|万円|億円|ドル)")
_HAS_PERIOD = re.compile(rf"{_N}\s*(年間|年ごと|年以内|年を超え|か月|ヶ月|カ月|箇月|日間|日以内|週間)|有効期間|有効期限")
_HAS_DATE = re.compile(rf"{_N}\s*年\s*{_N}\s*月|{_N}\s*月\s*{_N}\s*日|までに")
_HAS_COUNT = re.compile(rf"{_N}\s*(社|件|人|か所|団体|機関)")


# A question that asserts what the documents say (「…とありますが本当ですか」「…と決まっているんですよね」):
# the claim is the phrase before the quotative と and a verb of writing, quoted or not (「…ってある？」 asks
# whether something exists: って marks a topic as often as a quote, so it claims nothing); a phrase with an interrogative in it
# asks what is written (「何と書いてある？」「どんな意味があると書いてある？」) and claims nothing.
_WRITTEN = r"\s*と\s*(?:あ(?:る|ります|りました|った)(?![一-龥ァ-ヶ])|書いて(?:あ|い)|書かれて|記載(?:され|があ)|決まって|定められて|定めて(?:あ|い)|規定され)"
_CLAIM_QUOTED = re.compile(rf"[「『]([^「」『』]+)[」』]{_WRITTEN}")
_CLAIM = re.compile(rf"([^、。,.？?！!「」『』]+?){_WRITTEN}")
_INTERROGATIVE = re.compile(r"何|なに|なん|どう|どこ|どの|どれ|どんな|どういう|いつ|誰|だれ|なぜ|いくら|いくつ")


def asserted_claim(question: str) -> str | None:
    """What the question says the documents state: 「指針には、Xとありますが本当？」 → X."""
    q = nfkc(question)
    m = _CLAIM_QUOTED.search(q) or _CLAIM.search(q)
    if not m or _INTERROGATIVE.search(m.group(1)):
        return None
    return m.group(1).strip() or None


def claim_share(claim_terms: list[str], clause_terms: set[str], synonyms) -> float:
    """Share of a claim's key terms a clause holds, as written or as the documents' term for it (the glossary)."""
    if not claim_terms:
        return 1.0
    held = sum(1 for t in claim_terms if t in clause_terms or any(x in clause_terms for x in synonyms(t)))
    return held / len(claim_terms)


# A sentence that asks (a question or a request), as opposed to one that gives context
# (「従業員25人の樹脂成形の会社です。」): interrogatives, question endings, requests, wishes.
_ASKING = re.compile(
    r"[?？]|か[。．\s]*$|かな|かね|でしょうか|ますか|ですか|のか|っけ|何|なに|なん|どう|どこ|どの|どれ|どんな|どういう|いつ|誰|だれ|なぜ|"
    r"いくら|いくつ|教えて|ください|下さい|ほしい|欲しい|知りたい|したい|たいです|たいの|べき|ばいい|ばよい|たらいい|"
    r"\b(what|how|which|when|where|who|why|whether|should|can|could|do|does|is|are|please|tell|explain)\b",
    re.I,
)


# A direct question (「見極めって何？」, 「…ですか」): narrower than an ask. During the diagnosis free
# text is usually an answer, so only a direct question is taken as a side question.
_QUESTION = re.compile(r"[？?]\s*$|とは|って(何|なに|どう)|ですか|ますか|でしょうか|教えて|\b(what|how|why|which|who|when)\b", re.I)


def is_question(text: str) -> bool:
    return bool(_QUESTION.search(text))


def is_asking(sentence: str) -> bool:
    """Does this sentence ask something (rather than only set the scene)?"""
    return bool(_ASKING.search(nfkc(sentence)))


def asks_for(question: str) -> AskKind | None:
    q = nfkc(question)
    for kind, rx in _ASKS:
        if rx.search(q):
            return kind
    return None


def asks_meaning(question: str) -> bool:
    """Does the question speak of what something means? Loose on purpose: it only lets a defined term the
    question names pull its defining clause up the ranking, where asks_for's definition kind decides an answer."""
    return bool(_ASKS_MEANING.search(nfkc(question)))


def asked_term(question: str) -> str | None:
    """The term a definition question asks about: 「営業秘密とは？」 → 営業秘密."""
    q = nfkc(question).strip()
    m = _DEFINED_TERM.search(q)
    if not m:
        return None
    head = m.group(1)
    quoted = re.findall(r"[「『\"]([^」』\"]{1,30})[」』\"]", head)
    if quoted:
        return quoted[-1]
    term = _TERM_FILLER.sub("", head).strip(" 、,.。「」『』\"'（）()")
    term = re.split(r"[、,。\s]", term)[-1] if term else term
    return term or None


def term_is_used(term: str, corpus_text: str, known_terms) -> bool:
    """The documents use the term: as written, or all of its key terms appear (技術情報 ~ 技術等情報)."""
    if match_form(term) in corpus_text:
        return True
    parts = [t for t in known_terms(term) if len(t) > 1 or not t.isascii()]
    return bool(parts) and all(t in corpus_text for t in parts)


def clause_answers(kind: AskKind, clause_text: str, proper_nouns) -> bool:
    """Can a clause with this text give an answer of this kind?"""
    text = nfkc(clause_text)
    if kind == "amount":
        return bool(_HAS_AMOUNT.search(text))
    if kind == "period":
        return bool(_HAS_PERIOD.search(text))
    if kind == "date":
        return bool(_HAS_DATE.search(text))
    if kind == "count":
        return bool(_HAS_COUNT.search(text))
    if kind == "names":
        return bool(proper_nouns(text))
    return True  # definitions are checked on the term (term_is_used), not on one clause


# 「2番目のは」「二つ目の」「最初のやつ」「最後の」: a follow-up that points at one item of the previous answer's list.
_ORDINAL = re.compile(r"([1-9]|[一二三四五六七八九])\s*(?:番目|つ目|個目)|(最初|一番上|はじめ)の|(最後|一番下)の")
_KANJI_ORDINAL = "一二三四五六七八九"


def ordinal_in(question: str) -> int | None:
    """The place in a list a follow-up points at: 1 for the first, 2 for the second, -1 for the last."""
    m = _ORDINAL.search(nfkc(question))
    if not m:
        return None
    if m.group(1):
        n = m.group(1)
        return int(n) if n.isdigit() else _KANJI_ORDINAL.index(n) + 1
    return 1 if m.group(2) else -1
