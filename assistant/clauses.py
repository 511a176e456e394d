"""Clause parser for Japanese legal text (指針, 告示).

The parser turns plain text into a tree of numbered clauses. Numbering styles
are recognised by the marker at the start of a paragraph; the nesting order is
learned from the order in which styles first appear (as a reader would), so the
same code handles the guideline (第1 › 1 › 一) and notices (Ⅰ › 第一 › 一 › （一）…).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .clause_refs import (
    ARABIC_DIGITS,
    CIRCLED,
    IROHA,
    KANJI_NUMERALS,
    ROMAN,
    ROMAN_NUMERALS,
    ascii_digits,
    circled_to_int,
    iroha_to_int,
    kanji_to_int,
    roman_to_int,
)
from .textnorm import ends_sentence, normalize

# The numerals are the grammar of clause references (clause_refs); what opens a paragraph is the parser's.
_KNUM = rf"[{KANJI_NUMERALS}]{{1,4}}"
_ANUM = rf"[{ARABIC_DIGITS}]{{1,3}}"
_SPACE = "[ 　\t]+"

# Order matters: the more specific pattern first (第一 before 一, （一） before 一).
_MARKERS: list[tuple[str, re.Pattern[str]]] = [
    ("dai_arabic", re.compile(rf"^第(?P<n>{_ANUM}){_SPACE}")),
    ("dai_kanji", re.compile(rf"^第(?P<n>{_KNUM}){_SPACE}")),
    ("roman", re.compile(rf"^(?P<n>[{ROMAN}]|[IVXＩＶＸ]{{1,4}})(?:{_SPACE}|[.．]{_SPACE}?)")),
    ("paren_kanji", re.compile(rf"^[（(](?P<n>{_KNUM})[）)]{_SPACE}?")),
    ("paren_arabic", re.compile(rf"^[（(](?P<n>{_ANUM})[）)]{_SPACE}?")),
    ("circled", re.compile(rf"^(?P<n>[{CIRCLED}]){_SPACE}?")),
    ("arabic", re.compile(rf"^(?P<n>{_ANUM})(?:{_SPACE}|[.．]{_SPACE}?)")),
    ("kanji", re.compile(rf"^(?P<n>{_KNUM}){_SPACE}")),
    ("iroha", re.compile(rf"^(?P<n>[{IROHA}]){_SPACE}")),
]


@dataclass(frozen=True)
class Marker:
    kind: str
    label: str  # canonical form used in clause IDs (第4, 2, 一, Ⅲ, （一）, ①, イ)
    value: int  # ordinal, for gap/repeat checks
    length: int  # characters of the raw line taken by the marker


def read_marker(line: str) -> Marker | None:
    for kind, pattern in _MARKERS:
        m = pattern.match(line)
        if not m:
            continue
        n = m.group("n")
        if kind == "dai_arabic":
            value = int(ascii_digits(n))
            label = f"第{value}"
        elif kind == "dai_kanji":
            value, label = kanji_to_int(n), f"第{n}"
        elif kind == "roman":
            value = roman_to_int(n)
            if not value:
                continue
            label = ROMAN_NUMERALS[value - 1]
        elif kind == "paren_kanji":
            value, label = kanji_to_int(n), f"（{n}）"
        elif kind == "paren_arabic":
            value = int(ascii_digits(n))
            label = f"（{value}）"
        elif kind == "circled":
            value, label = circled_to_int(n), n
        elif kind == "arabic":
            value = int(ascii_digits(n))
            label = str(value)
        elif kind == "kanji":
            value, label = kanji_to_int(n), n
        else:
            value, label = iroha_to_int(n), n
        return Marker(kind, label, value, m.end())
    return None


@dataclass
class Clause:
    """One node of a document's clause tree."""

    id: str
    doc: str
    label: str  # marker label, or （第n段落） for unnumbered paragraphs
    kind: str  # heading | item | paragraph
    text: str  # exact original text (quotes are taken from here)
    heading_path: list[str] = field(default_factory=list)
    parent: str | None = None
    children: list[str] = field(default_factory=list)
    order: int = 0
    title: str = ""  # a part's heading when its own text is a lead text (Ⅱ 見出し + 柱書き)

    @property
    def norm(self) -> str:
        return normalize(self.text)

    @property
    def is_lead(self) -> bool:
        """An item whose own text introduces its sub-items (柱書き)."""
        return self.kind == "item" and bool(self.children)

    def to_dict(self) -> dict:
        return {
            "clause_id": self.id,
            "doc": self.doc,
            "kind": self.kind,
            "label": self.label,
            "heading_path": list(self.heading_path),
            "parent": self.parent,
            "children": list(self.children),
            "text": self.text,
        }


@dataclass
class ParseResult:
    title: str
    clauses: list[Clause]
    joins: list[tuple[str, str]]  # (end of first fragment, start of second) for each repaired break
    warnings: list[str]


@dataclass
class _Block:
    marker: Marker | None
    text: str
    title: bool = False


def _is_title(marker: Marker | None, text: str) -> bool:
    # Headings carry no sentence end and no comma; a cut sentence almost always has one.
    return marker is not None and not ends_sentence(text) and "、" not in text and len(text) <= 80


def _blocks(text: str, furniture: re.Pattern[str] | None) -> tuple[str, list[_Block], list[tuple[str, str]]]:
    """Group lines into paragraphs, re-joining sentences cut by page or line breaks."""
    title = ""
    blocks: list[_Block] = []
    joins: list[tuple[str, str]] = []
    blank_before = True
    for raw in text.splitlines():
        line = raw.strip().replace("\ufeff", "")
        if not line or (furniture is not None and furniture.fullmatch(line)):
            blank_before = blank_before or not line
            continue
        marker = read_marker(line)
        body = line[marker.length :].strip() if marker else line
        prev = blocks[-1] if blocks else None
        if prev is None and marker is None and (not title or not blank_before):
            # Everything before the first numbered line and the first blank line is the
            # title, which a PDF may wrap over several lines.
            title += line
            blank_before = False
            continue
        if marker is None and prev is not None and not prev.title and not ends_sentence(prev.text):
            if blank_before:
                joins.append((prev.text[-8:], body[:8]))
            prev.text += body
        elif (
            marker is None and prev is not None and prev.title and not blank_before
            and "、" not in body and not ends_sentence(body)
        ):
            prev.text += body  # a heading wrapped onto a second line
        elif marker is None and prev is not None and not prev.title and not blank_before and not raw.startswith(("　", " ")):
            # A wrapped line that happens to follow a sentence end within one paragraph.
            prev.text += body
        else:
            blocks.append(_Block(marker, body))
        blocks[-1].title = _is_title(blocks[-1].marker, blocks[-1].text)
        blank_before = False
    return title, blocks, joins


def _short(text: str, limit: int = 36) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def parse_document(doc: str, text: str, furniture: re.Pattern[str] | None = None) -> ParseResult:
    """Parse ``text`` into clauses whose IDs start with the document's short name ``doc``."""
    title, blocks, joins = _blocks(text, furniture)
    clauses: list[Clause] = []
    by_id: dict[str, Clause] = {}
    warnings: list[str] = []
    stack: list[tuple[str, Clause]] = []  # (marker kind, clause)
    last_value: dict[str, int] = {}
    para_count: dict[str | None, int] = {}

    def add(clause: Clause) -> None:
        if clause.id in by_id:
            warnings.append(f"番号の重複: {clause.id}")
            clause.id = f"{clause.id}（重複{len(clauses)}）"
        clause.order = len(clauses)
        clauses.append(clause)
        by_id[clause.id] = clause
        if clause.parent:
            by_id[clause.parent].children.append(clause.id)

    for block in blocks:
        if block.marker is None:
            parent = stack[-1][1] if stack else None
            key = parent.id if parent else None
            n = para_count.get(key, 0) + 1
            if parent is not None and parent.kind == "item" and n == 1:
                n = 2  # the item's own text is its first paragraph
            para_count[key] = n
            base = parent.id if parent else doc
            path = (parent.heading_path + [_path_label(parent)]) if parent else []
            add(Clause(f"{base}（第{n}段落）", doc, f"（第{n}段落）", "paragraph", block.text, path, key))
            continue
        m = block.marker
        kinds = [k for k, _ in stack]
        if m.kind in kinds:
            del stack[kinds.index(m.kind) :]
            expected = last_value.get(_scope_key(stack, m.kind), 0) + 1
        else:
            expected = 1
        scope = _scope_key(stack, m.kind)
        if m.value != expected:
            warnings.append(f"番号の飛び・重複: {m.label}（{expected}番目を想定）")
        last_value[scope] = m.value
        parent = stack[-1][1] if stack else None
        cid = f"{parent.id}の{m.label}" if parent else f"{doc}{m.label}"
        path = (parent.heading_path + [_path_label(parent)]) if parent else []
        kind = "heading" if block.title else "item"
        clause = Clause(cid, doc, m.label, kind, block.text, path, parent.id if parent else None)
        add(clause)
        stack.append((m.kind, clause))

    clauses = _fold_part_leads(clauses, by_id)
    for c in clauses:
        if c.kind != "heading" and not ends_sentence(c.text):
            warnings.append(f"文の途中で終わる条項: {c.id}")
    return ParseResult(title, clauses, joins, warnings)


def _fold_part_leads(clauses: list[Clause], by_id: dict[str, Clause]) -> list[Clause]:
    """A titled part with an unnumbered paragraph before its numbered items: that paragraph
    is the part's lead text (柱書き) and sits at the part's own ID (基準Ⅱ, alias 基準Ⅱの柱書き)."""
    drop: set[str] = set()
    for c in clauses:
        if c.kind != "heading" or not c.children:
            continue
        kids = [by_id[k] for k in c.children]
        leads = []
        for k in kids:
            if k.kind != "paragraph" or k.children:
                break
            leads.append(k)
        if not leads or len(leads) == len(kids):
            continue  # only paragraphs (指針第1): they keep their （第n段落） IDs
        c.title, c.text, c.kind = c.text, "".join(k.text for k in leads), "item"
        c.children = [k for k in c.children if k not in {x.id for x in leads}]
        drop.update(k.id for k in leads)
    return [c for c in clauses if c.id not in drop]


def _scope_key(stack: list[tuple[str, Clause]], kind: str) -> str:
    return (stack[-1][1].id if stack else "") + "|" + kind


def _path_label(clause: Clause) -> str:
    if clause.title:
        return f"{clause.label} {clause.title}"
    if clause.kind == "heading":
        return f"{clause.label} {clause.text}"
    if clause.kind == "paragraph":
        return clause.label
    return f"{clause.label} {_short(clause.text)}"
