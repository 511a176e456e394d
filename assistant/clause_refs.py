"""The grammar of clause references: the numerals the documents number their clauses with, the
spelling of a clause ID, the references a person types (第4の2の一, 基準Ⅲの第二の一, 第12条) and
the citations an answer writes (「…」（指針第4の2の一）).

It is one grammar read in three places: the clause parser reads the number that opens a paragraph
(clauses.read_marker), retrieval reads the references in a question, and a follow-up question reads
the citations of the previous answer. Kept here, a new numbering style is taught once.

A clause ID is the document's short name and the labels of its clause's path, joined by の:
指針第4の2の一, 指針第1（第2段落）, 基準Ⅱの第一の①のイ; a lead text (柱書き) is also reached by its
item's ID + の柱書き.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from .textnorm import match_form, nfkc

# -- numerals --------------------------------------------------------------------------------------
KANJI_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
KANJI_NUMERALS = "一二三四五六七八九十"  # the characters of a kanji number up to 99 (十二, 二十三), for a [class]
ARABIC_DIGITS = "0-9０-９"  # a [class] range: ASCII and full-width digits, both typed by people
ROMAN_NUMERALS = ["Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ", "Ⅴ", "Ⅵ", "Ⅶ", "Ⅷ", "Ⅸ", "Ⅹ"]  # the notices' parts; IDs use these
ROMAN = "".join(ROMAN_NUMERALS)  # for a [class]
ROMAN_ASCII = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9, "X": 10}
IROHA = "イロハニホヘトチリヌルヲワカヨタレソツネナラム"
CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"


def kanji_to_int(s: str) -> int:
    """一→1, 十二→12, 二十三→23 (enough for legal numbering)."""
    if "十" not in s:
        value = 0
        for ch in s:
            value = value * 10 + KANJI_DIGITS[ch]
        return value
    tens, _, ones = s.partition("十")
    return (KANJI_DIGITS[tens] if tens else 1) * 10 + (KANJI_DIGITS[ones] if ones else 0)


def ascii_digits(s: str) -> str:
    return s.translate(str.maketrans("０１２３４５６７８９", "0123456789"))


def roman_to_int(s: str) -> int:
    """Ⅲ→3, and the ASCII or full-width letters a PDF may carry instead (III, ＩＶ→4); 0: not a numeral."""
    if s in ROMAN_NUMERALS:
        return ROMAN_NUMERALS.index(s) + 1
    return ROMAN_ASCII.get(s.translate(str.maketrans("ＩＶＸ", "IVX")), 0)


def iroha_to_int(ch: str) -> int:
    """イ→1, ロ→2: the order of the iroha poem, as the notices number their sub-items."""
    return IROHA.index(ch) + 1


def circled_to_int(ch: str) -> int:
    """①→1 … ⑳→20."""
    return CIRCLED.index(ch) + 1


# -- clause IDs ------------------------------------------------------------------------------------
LEAD_ALIAS = "の柱書き"  # 指針第4の1の柱書き: the lead text of 指針第4の1, which sits at that item's own ID


def canonical_id(text: str) -> str:
    """Canonical spelling of a clause ID typed by a person (全角数字, スペース, ローマ数字)."""
    s = match_form(text)
    s = s.replace("(", "（").replace(")", "）")
    s = re.sub(r"[IVX]+(?=の|$|第)", lambda m: ROMAN_NUMERALS[ROMAN_ASCII[m.group(0)] - 1] if m.group(0) in ROMAN_ASCII else m.group(0), s)
    return s


# -- references in a question ----------------------------------------------------------------------
_NUM = ARABIC_DIGITS
_KNUM = KANJI_NUMERALS
# 「第4の2の一」「指針第3の2」; 「法第二条」 (kanji, followed by 条/項/号) is a law article, not a clause.
_GUIDELINE_REF = re.compile(rf"(?:指針)?\s*第\s*([{_NUM}]+)((?:\s*の\s*[{_NUM}{_KNUM}]+)*)(の柱書き)?(?![{_NUM}]|\s*[条項号])")
# 「指針第1の第2段落」「第1（第2段落）」: an unnumbered paragraph, by its place under its part.
_PARAGRAPH_REF = re.compile(rf"(?:指針)?\s*第\s*([{_NUM}]+)\s*(?:の|[（(])\s*第\s*([{_NUM}]+)\s*段落")
# A reference stands alone: a particle, punctuation or the end follows it (「第4の5を」「第7の3は？」), not a
# counter (「第5世代」「第10回」). A reference that resolves to no clause counts only when it stands alone.
_REF_END = re.compile(r"$|[\s、。,.?？!！」』）)]|[をにはのとがでもや]|って")
# A line of a text pasted into the question that opens with its own number (「…\n第1条 従業員は…」) numbers
# that text, as a document numbers its clauses (clauses.read_marker): it is no reference to the documents.
_NUMBERED_LINE = re.compile(r"\n[ 　\t]*$")
# 「第12条」「第三条第二項」: an article (条). The guideline numbers its parts 第1, 第2…, so an article of its own
# is no clause of it; 「法第二条」「…法第2条」「施行令第3条」 is a law's article, which the guideline only mentions.
_ARTICLE_REF = re.compile(rf"(?<![法令則例約])第\s*([{_NUM}{_KNUM}百]+)\s*条")
_STANDARD_PART = re.compile(rf"(?<![A-Za-z])([{ROMAN}]|IV|V|I{{1,3}})(?![A-Za-z])(?:\s*の\s*(?:第[{_KNUM}]+|柱書き))?")
_STANDARD_NAME = re.compile(r"(措置)?基準|告示|standard", re.IGNORECASE)


def _notice_ref(doc: str) -> re.Pattern[str]:
    """「基準Ⅲの第二の一」「基準のⅡの柱書き」: a notice-style reference to the added document ``doc``."""
    return re.compile(
        rf"{re.escape(doc)}\s*の?\s*([{ROMAN}]|IV|V|I{{1,3}})((?:\s*の?\s*(?:第[{_KNUM}]+|[{_KNUM}]+|（[{_KNUM}]+）|（[{_NUM}]+）|[{CIRCLED}]|[イロハニホヘト]))*)(の柱書き)?"
    )


class Documents(Protocol):
    """What reading a reference needs of the loaded documents (the corpus): their short names, and the
    clause an ID names. A protocol, so that the corpus, which spells its IDs with this module, is not
    imported back."""

    @property
    def docs(self) -> Mapping[str, Any]: ...

    def resolve(self, clause_id: str) -> Any: ...


@dataclass(frozen=True)
class Reference:
    """A clause named in a question: as the documents' IDs spell it, and the clause it resolves to
    (None: the loaded documents have no such clause)."""

    written: str
    clause_id: str | None


def _numbers_a_line(text: str, m: re.Match) -> bool:
    """The match opens a line after the first, and a space follows it: a pasted text's own numbering."""
    start = m.start() + len(m.group(0)) - len(m.group(0).lstrip())
    return bool(_NUMBERED_LINE.search(text, 0, start)) and text[m.end():m.end() + 1] in (" ", "　", "\t")


def clause_references(question: str, corpus: Documents) -> list[Reference]:
    """Every clause reference in the question (one grammar: 指針第4の2の一, 指針第1の第2段落, 基準Ⅲの第二の一,
    第12条), resolved against the corpus; those that resolve to nothing are kept, to be declined."""
    q = nfkc(question)
    out: list[Reference] = []

    def add(cid: str, resolved, alone: bool = True, m: re.Match | None = None, text: str = q) -> None:
        if m is not None and _numbers_a_line(text, m):
            return
        if resolved is not None:
            ref = Reference(cid, resolved.id)
        elif alone:
            ref = Reference(cid, None)
        else:
            return
        if all(r.written != ref.written and (ref.clause_id is None or r.clause_id != ref.clause_id) for r in out):
            out.append(ref)

    for m in _PARAGRAPH_REF.finditer(q):
        cid = f"指針第{m.group(1)}（第{m.group(2)}段落）"
        add(cid, corpus.resolve(cid))
    if out:
        return out
    for doc in corpus.docs:
        if doc == "指針":
            continue
        for m in _notice_ref(doc).finditer(question):
            rest = re.sub(r"\s", "", m.group(2))
            rest = re.sub(rf"(?<!の)(第|（|[{CIRCLED}])", r"の\1", rest) if rest and not rest.startswith("の") else rest
            cid = canonical_id(f"{doc}{m.group(1)}{rest}")
            add(cid, corpus.resolve(cid), bool(_REF_END.match(question, m.end())), m, question)
    for m in _GUIDELINE_REF.finditer(q):
        cid = canonical_id(f"指針第{m.group(1)}{m.group(2)}")
        add(cid, corpus.resolve(cid + (LEAD_ALIAS if m.group(3) else "")), bool(_REF_END.match(q, m.end())), m)
    for m in _ARTICLE_REF.finditer(q):
        cid = canonical_id(re.sub(r"\s", "", m.group(0)))
        add(cid, next((c for d in corpus.docs if (c := corpus.resolve(f"{d}{cid}")) is not None), None), m=m)
    return out


def explicit_references(question: str, corpus: Documents) -> list[str]:
    """Clause IDs of the loaded documents named in the question, resolved against the corpus."""
    return [r.clause_id for r in clause_references(question, corpus) if r.clause_id is not None]


def standard_references(question: str) -> list[str]:
    """Parts or items of the standard (基準Ⅲの第二…) the question names, as written."""
    text = question
    if not _STANDARD_NAME.search(nfkc(text)) and not re.search(rf"[{ROMAN}]", text):
        return []
    refs = [m.group(0) for m in _STANDARD_PART.finditer(text)]
    refs += re.findall(rf"(?:基準|告示)の?\s*第[{_KNUM}]+", text)
    return refs


# -- citations in an answer ------------------------------------------------------------------------
# A citation names its clause in parentheses after the quote; a follow-up question finds them back,
# whichever parentheses (full-width or ASCII) the text came with.
_CITED = re.compile(r"[（(]((?:指針|基準)[^）)、,\s]+)[）)]")


def cite(quote: str, clause_id: str) -> str:
    """A verbatim quote with its clause: 「…」（指針第4の2の一）."""
    return f"「{quote}」（{clause_id}）"


def citations_in(text: str) -> list[str]:
    """The clause IDs a text cites, in order of first citation, each once."""
    return list(dict.fromkeys(_CITED.findall(nfkc(text).replace("(", "（").replace(")", "）"))))
