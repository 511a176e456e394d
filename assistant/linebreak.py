"""Japanese line breaking (禁則処理) for the PDF: where a line of a given width may end.

fpdf2 breaks Japanese text at any character, so 「。」 or 「）」 could open a line and a date such as
2026-01-31 could split as 「2026-01-3」「1」. Here a text is cut into units (a run of Latin letters,
digits and the marks inside numbers and codes stays one unit; every other character is its own),
units fill a line greedily, and two rules are kept:

- a closing mark (。、」）… and small kana) never opens a line: 。 and 、 hang past the edge
  (ぶら下げ) when ``hang`` allows it, other closers pull the previous unit down with them (追い出し);
- an opening mark (「（…) never ends a line: it moves to the next one.

Pure: ``measure`` gives a string's width in the caller's units (fpdf's get_string_width).
"""

from __future__ import annotations

import re
from collections.abc import Callable

# 行頭禁則: may not open a line.
NO_START = set("、。，．,.）)」』】〕〉》］]｝}！？!?：；:;・ーぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ々ゝゞ〜％%")
HANGING = set("、。，．,.")  # may hang past the line's end
# 行末禁則: may not end a line.
NO_END = set("（(「『【〔〈《［[｛{")
_UNIT = re.compile(r"[A-Za-z0-9０-９Ａ-Ｚａ-ｚ][A-Za-z0-9０-９Ａ-Ｚａ-ｚ\-_/.:@+#]*|.", re.DOTALL)


def units(text: str) -> list[str]:
    """A text's breakable units: a Latin word, a number or a date (2026-01-31) is one unit."""
    return _UNIT.findall(text)


def _split_long(unit: str, width: float, measure: Callable[[str], float]) -> list[str]:
    """A unit wider than a whole line (a long URL or code) is cut by characters, as a last resort."""
    out, line = [], ""
    for ch in unit:
        if line and measure(line + ch) > width:
            out.append(line)
            line = ""
        line += ch
    return out + ([line] if line else [])


def lines(text: str, width: float, measure: Callable[[str], float], hang: bool = True) -> list[str]:
    """The lines of ``text`` (its own newlines kept) so that none is wider than ``width``, except by a
    hanging 。 or 、 when ``hang``; no line opens with a closing mark or ends with an opening one."""
    out: list[str] = []
    for paragraph in text.split("\n"):
        out += _paragraph(paragraph, width, measure, hang)
    return out


def _paragraph(text: str, width: float, measure: Callable[[str], float], hang: bool) -> list[str]:
    if not text:
        return [""]
    out: list[str] = []
    line: list[str] = []
    pending = [u for raw in units(text) for u in (_split_long(raw, width, measure) if measure(raw) > width else [raw])]
    i = 0
    while i < len(pending):
        u = pending[i]
        if not line or measure("".join(line) + u) <= width:
            line.append(u)
            i += 1
            continue
        # u does not fit: break before it, keeping the rules.
        if u in NO_START:
            if hang and u in HANGING:
                line.append(u)  # ぶら下げ: the comma or full stop stays on this line, past the edge
                i += 1
                out.append("".join(line))
                line = []
                continue
            # 追い出し: the last unit of this line goes down with the closer, and the one before it when
            # that unit is a closer too (」。); a line of one unit keeps it (there is nothing to move).
            if len(line) > 1:
                moved = [line.pop()]
                while len(line) > 1 and moved[0] in NO_START:
                    moved.insert(0, line.pop())
                if moved[0] not in NO_START:
                    out.append("".join(line))
                    line = moved
                    continue
                line += moved
        while len(line) > 1 and line[-1] in NO_END:
            u2 = line.pop()  # an opening mark moves to the next line
            pending.insert(i, u2)
        out.append("".join(line))
        line = []
    if line:
        out.append("".join(line))
    return out
